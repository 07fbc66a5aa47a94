"""What each driver reports as a delivery's recipients for the ledger,
against receivers on loopback: where it went, never a secret."""

from notifier.drivers import log
from notifier.drivers import msteams
from notifier.drivers import slack
from notifier.drivers import webhook
from notifier.tests.functional.drivers import base
from notifier.tests.functional.drivers import receivers
from notifier.tests.functional.drivers import test_slack

TOKEN_PATH = '/services/T0001/B0002/webhooksecret0123456789'


def ok(request):
    if request.path.startswith('/api/'):
        return test_slack.slack_web_api(request)
    return 200, {}, b'ok'


class TestRecipients(base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.receiver = self.useFixture(receivers.HTTPReceiver(ok))

    def recipients(self, driver, settings):
        self.addCleanup(driver.close)
        result = self.deliver(driver, settings)
        self.outputs.extend(result.recipients)
        return result.recipients

    def test_webhook_shows_its_url_without_credentials_or_query(self):
        self.keep_secret('pa55word-xyz', 's3cret-query-token')
        url = self.receiver.url.replace(
            'http://', 'http://user:pa55word-xyz@') + (
                '/alerts/v1?token=s3cret-query-token')
        self.assertEqual(
            (self.receiver.url + '/alerts/v1',),
            self.recipients(webhook.WebhookDriver(self.conf), {'url': url}))

    def test_slack_and_teams_webhooks_show_only_their_host(self):
        self.keep_secret(TOKEN_PATH, 'webhooksecret0123456789')
        url = self.receiver.url + TOKEN_PATH
        for driver in (slack.SlackDriver(self.conf),
                       msteams.MSTeamsDriver(self.conf)):
            self.assertEqual((self.receiver.url,), self.recipients(
                driver, {'webhook_url': url}))

    def test_slack_channel_is_the_recipient(self):
        self.keep_secret(test_slack.TOKEN)
        self.flags(group='driver_slack', token=test_slack.TOKEN,
                   base_url=self.receiver.url + '/api/')
        self.assertEqual(('#alerts',), self.recipients(
            slack.SlackDriver(self.conf), {'channel': '#alerts'}))

    def test_log_driver_names_the_engine_log(self):
        self.assertEqual(('engine log',),
                         self.recipients(log.LogDriver(self.conf), {}))
