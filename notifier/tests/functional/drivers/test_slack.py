"""The Slack driver against a Slack-compatible HTTP server on loopback."""

import json

from notifier.drivers import slack
from notifier import exception
from notifier.tests.functional.drivers import base
from notifier.tests.functional.drivers import receivers

TOKEN = 'xoxb-1111-2222-notifiertesttoken'
WEBHOOK_PATH = '/services/T0001/B0002/webhooksecret0123456789'


def slack_web_api(request):
    """chat.postMessage as Slack answers it."""
    if request.path != '/api/chat.postMessage':
        return 404, {}, {'ok': False, 'error': 'unknown_method'}
    if request.headers.get('Authorization') != 'Bearer %s' % TOKEN:
        return 200, {}, {'ok': False, 'error': 'invalid_auth'}
    if not request.headers.get('Content-Type', '').startswith(
            'application/json'):
        return 200, {}, {'ok': False, 'error': 'invalid_form_data'}
    body = request.json()
    if body['channel'] == '#nowhere':
        return 200, {}, {'ok': False, 'error': 'channel_not_found'}
    if body['channel'] == '#busy':
        return 429, {'Retry-After': '7'}, {'ok': False,
                                           'error': 'ratelimited'}
    if body['channel'] == '#broken':
        return 503, {}, b'<html>Service Unavailable</html>'
    return 200, {}, {'ok': True, 'channel': 'C0123ALERTS',
                     'ts': '1700000000.000100',
                     'message': {'text': body['text']}}


def slack_webhook(request):
    """An incoming webhook as Slack answers it."""
    if request.path != WEBHOOK_PATH:
        return 404, {}, b'no_service'
    if 'text' not in request.json():
        return 400, {}, b'invalid_payload'
    return 200, {}, b'ok'


class TestSlackWebAPI(base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.keep_secret(TOKEN)
        self.slack = self.useFixture(receivers.HTTPReceiver(slack_web_api))
        self.flags(group='driver_slack', token=TOKEN,
                   base_url=self.slack.url + '/api/', timeout=5)
        self.driver = slack.SlackDriver(self.conf)
        self.addCleanup(self.driver.close)

    def test_post_to_a_channel_returns_slacks_ts_and_channel(self):
        result = self.deliver(self.driver, {'channel': '#alerts'},
                              base.message(subject='<!channel> & co'))
        self.assertEqual('ok ts=1700000000.000100 channel=C0123ALERTS',
                         result.receipt)
        [request] = self.slack.requests
        self.assertEqual('Bearer %s' % TOKEN,
                         request.headers['Authorization'])
        body = request.json()
        self.assertEqual('#alerts', body['channel'])
        self.assertEqual('&lt;!channel&gt; &amp; co\nHost compute-1 '
                         'stopped.\nPayload: {"event": "STOPPED"}',
                         body['text'])
        self.assertFalse(body['unfurl_links'])

    def test_default_channel_is_used_when_the_destination_has_none(self):
        self.flags(group='driver_slack', default_channel='#ops')
        self.deliver(self.driver, {})
        self.assertEqual('#ops', self.slack.requests[0].json()['channel'])

    def test_rate_limited_is_retryable_after_slacks_retry_after(self):
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver, {'channel': '#busy'})
        self.assertEqual(7.0, error.retry_after)
        self.assertIn('rate limiting', str(error))

    def test_channel_not_found_is_permanent(self):
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, {'channel': '#nowhere'})
        self.assertIn('channel_not_found', str(error))
        self.assertIn('#nowhere', str(error))

    def test_wrong_token_is_permanent_invalid_auth(self):
        self.flags(group='driver_slack', token='xoxb-wrong-token-123456')
        self.keep_secret('xoxb-wrong-token-123456')
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, {'channel': '#alerts'})
        self.assertIn('invalid_auth', str(error))
        self.assertIn('[driver_slack] token', str(error))

    def test_server_error_is_retryable(self):
        self.deliver_fails(exception.RetryableDeliveryError, self.driver,
                           {'channel': '#broken'})

    def test_slack_unreachable_is_retryable(self):
        self.flags(group='driver_slack', base_url='http://127.0.0.1:%d/api/'
                   % receivers.free_port())
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver, {'channel': '#alerts'})
        self.assertIn('Could not reach Slack at 127.0.0.1', str(error))


class TestSlackIncomingWebhook(base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.keep_secret(WEBHOOK_PATH, 'webhooksecret0123456789')
        self.hook = self.useFixture(receivers.HTTPReceiver(slack_webhook))
        self.driver = slack.SlackDriver(self.conf)
        self.addCleanup(self.driver.close)

    def test_post_through_an_incoming_webhook(self):
        result = self.deliver(self.driver,
                              {'webhook_url': self.hook.url + WEBHOOK_PATH})
        self.assertEqual('HTTP 200', result.receipt)
        [request] = self.hook.requests
        self.assertNotIn('Authorization', request.headers)
        self.assertEqual(
            {'text': '[COMPUTE_HOST] STOPPED on compute-1\nHost compute-1 '
                     'stopped.\nPayload: {"event": "STOPPED"}'},
            json.loads(request.body))
        # urllib3 did log the request; the path is hidden.
        self.assertIn('(path hidden)', self.logs.output)

    def test_unknown_webhook_is_permanent_and_names_only_the_host(self):
        url = self.hook.url + '/services/T0001/B0002/webhooksecretXXXXXXXX'
        self.keep_secret('webhooksecretXXXXXXXX')
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, {'webhook_url': url})
        self.assertIn('127.0.0.1:%d answered HTTP 404 (no_service)'
                      % self.hook.port, str(error))
