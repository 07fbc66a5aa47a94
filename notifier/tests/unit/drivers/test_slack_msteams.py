from slack_sdk.web import slack_response

from notifier.drivers import msteams
from notifier.drivers import slack
from notifier import exception
from notifier.tests.unit.drivers import base


def slack_error(status, data, headers=None):
    return slack_response.SlackResponse(
        client=None, http_verb='POST', api_url='https://slack.example/api/x',
        req_args={}, data=data, headers=headers or {}, status_code=status)


class TestSlackSettings(base.DriverUnitTestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='driver_slack', token='xoxb-test')
        self.driver = slack.SlackDriver(self.conf)
        self.addCleanup(self.driver.close)

    def test_channel(self):
        self.assertEqual({'channel': '#alerts'},
                         self.validate(self.driver, {'channel': '#alerts'}))

    def test_channel_with_spaces_is_refused(self):
        self.assertIn('settings.channel',
                      self.invalid(self.driver, {'channel': 'my alerts'}))

    def test_no_channel_needs_a_default_channel(self):
        message = self.invalid(self.driver, {})
        self.assertIn('[driver_slack] default_channel', message)
        self.flags(group='driver_slack', default_channel='#ops')
        self.validate(self.driver, {})

    def test_channel_needs_the_token(self):
        self.flags(group='driver_slack', token=None)
        message = self.invalid(self.driver, {'channel': '#alerts'})
        self.assertIn('webhook_url', message)
        self.assertIn('[driver_slack] token', message)

    def test_webhook_url_or_channel_not_both(self):
        self.assertIn('not both', self.invalid(self.driver, {
            'channel': '#a', 'webhook_url': 'https://hooks.slack.com/x'}))

    def test_webhook_url_on_a_denied_network_is_refused_without_its_path(self):
        self.dns['hooks.evil.example'] = ['169.254.169.254']
        message = self.invalid(self.driver, {
            'webhook_url': 'https://hooks.evil.example/services/T/B/s3cr3t'})
        self.assertIn('settings.webhook_url', message)
        self.assertIn('169.254.169.254', message)
        self.assertNotIn('s3cr3t', message)

    def test_webhook_url_is_secret(self):
        self.assertEqual(('webhook_url',), self.driver.secret_settings)

    def test_usable_without_token_through_webhooks(self):
        self.flags(group='driver_slack', token=None)
        self.driver.check_configured()


class TestSlackMessages(base.DriverUnitTestCase):

    def test_text_is_subject_newline_text_escaped(self):
        text = slack.slack_text(base.message(subject='<!channel> a & b'))
        self.assertEqual('&lt;!channel&gt; a &amp; b\nHost compute-1 '
                         'stopped.\nPayload: {"event": "STOPPED"}', text)

    def test_rate_limited_is_retryable_with_retry_after(self):
        error = slack.SlackDriver._api_error('#a', slack_error(
            429, {'ok': False, 'error': 'ratelimited'},
            {'retry-after': '30'}))
        self.assertIsInstance(error, exception.RetryableDeliveryError)
        self.assertEqual(30.0, error.retry_after)

    def test_channel_not_found_is_permanent(self):
        error = slack.SlackDriver._api_error('#a', slack_error(
            200, {'ok': False, 'error': 'channel_not_found'}))
        self.assertIsInstance(error, exception.PermanentDeliveryError)
        self.assertIn('channel_not_found', str(error))

    def test_invalid_auth_is_permanent(self):
        error = slack.SlackDriver._api_error('#a', slack_error(
            200, {'ok': False, 'error': 'invalid_auth'}))
        self.assertIsInstance(error, exception.PermanentDeliveryError)

    def test_slack_internal_error_is_retryable(self):
        for status, code in ((200, 'internal_error'), (503, 'whatever')):
            error = slack.SlackDriver._api_error('#a', slack_error(
                status, {'ok': False, 'error': code}))
            self.assertIsInstance(error, exception.RetryableDeliveryError)


class TestTeams(base.DriverUnitTestCase):

    def setUp(self):
        super().setUp()
        self.driver = msteams.MSTeamsDriver(self.conf)
        self.addCleanup(self.driver.close)

    def test_adaptive_card(self):
        body = msteams.adaptive_card_message(base.message())
        self.assertEqual('message', body['type'])
        [attachment] = body['attachments']
        self.assertEqual('application/vnd.microsoft.card.adaptive',
                         attachment['contentType'])
        card = attachment['content']
        self.assertEqual(('AdaptiveCard', '1.4'),
                         (card['type'], card['version']))
        title, text = card['body']
        self.assertEqual('[COMPUTE_HOST] STOPPED on compute-1',
                         title['text'])
        self.assertEqual('Bolder', title['weight'])
        self.assertTrue(text['wrap'])
        self.assertEqual(base.message().text, text['text'])

    def test_webhook_url_is_required_and_secret(self):
        self.assertIn("'webhook_url' is a required property",
                      self.invalid(self.driver, {}))
        self.assertEqual(('webhook_url',), self.driver.secret_settings)

    def test_link_local_webhook_url_is_refused(self):
        self.assertIn('169.254.', self.invalid(self.driver, {
            'webhook_url': 'https://169.254.1.1/workflows/x?sig=y'}))

    def test_public_webhook_url(self):
        self.dns['prod-00.westus.logic.azure.com'] = ['20.42.0.1']
        self.validate(self.driver, {'webhook_url': (
            'https://prod-00.westus.logic.azure.com/workflows/x/triggers/'
            'manual/paths/invoke?api-version=2016-06-01&sig=abc')})
