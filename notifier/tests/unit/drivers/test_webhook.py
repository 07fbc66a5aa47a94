import base64
import datetime
import json

from cloudevents.core.bindings import http as ce_http
import standardwebhooks

from notifier.drivers import webhook
from notifier.tests.unit.drivers import base

SECRET = 'whsec_' + base64.b64encode(b'k' * 32).decode()
NOW = 1795428000


class TestCloudEvent(base.DriverUnitTestCase):

    def test_shape(self):
        event = webhook.cloud_event(base.message(), '/notifier')
        self.assertEqual({
            'specversion': '1.0',
            'id': '6f1c2a7e-2b1d-4c5e-9f00-1a2b3c4d5e6f',
            'source': '/notifier',
            'type': 'org.openstack.notifier.notification.COMPUTE_HOST',
            'time': '2026-11-23T10:00:00Z',
            'datacontenttype': 'application/json',
            'data': base.message().event,
        }, event)

    def test_time_with_a_zone_is_converted_to_utc(self):
        self.assertEqual('2026-11-23T09:00:00.500000Z', webhook.event_time(
            {'generated_time': '2026-11-23T10:00:00.5+01:00'}))

    def test_structured_request_parses_as_a_cloudevent(self):
        headers, body = webhook.build_request(
            base.message(), {'url': 'https://x.example'}, '/notifier')
        self.assertEqual('application/cloudevents+json',
                         headers['Content-Type'])
        event = ce_http.from_http_event(ce_http.HTTPMessage(headers, body))
        self.assertEqual('6f1c2a7e-2b1d-4c5e-9f00-1a2b3c4d5e6f',
                         event.get_id())
        self.assertEqual(base.message().event, event.get_data())

    def test_binary_request_puts_attributes_in_headers(self):
        headers, body = webhook.build_request(
            base.message(), {'url': 'https://x.example', 'mode': 'binary'},
            '/notifier region "one"')
        self.assertEqual('application/json', headers['Content-Type'])
        self.assertEqual('1.0', headers['ce-specversion'])
        self.assertEqual('/notifier%20region%20%22one%22',
                         headers['ce-source'])
        self.assertEqual(base.message().event, json.loads(body))
        event = ce_http.from_http_event(ce_http.HTTPMessage(headers, body))
        self.assertEqual('/notifier region "one"', event.get_source())

    def test_bearer_token(self):
        headers, _ = webhook.build_request(
            base.message(), {'url': 'https://x.example', 'auth_token': 't0k'},
            '/notifier')
        self.assertEqual('Bearer t0k', headers['Authorization'])

    def test_no_auth_no_signature_headers_by_default(self):
        headers, _ = webhook.build_request(
            base.message(), {'url': 'https://x.example'}, '/notifier')
        self.assertEqual({'Content-Type'}, set(headers))


class TestSignature(base.DriverUnitTestCase):

    def signed(self, secret, mode='structured'):
        return webhook.build_request(
            base.message(), {'url': 'https://x.example',
                             'signing_secret': secret, 'mode': mode},
            '/notifier')

    def test_standardwebhooks_verifies_the_signature(self):
        for mode in ('structured', 'binary'):
            headers, body = self.signed(SECRET, mode)
            self.assertEqual(base.message().delivery_id,
                             headers['webhook-id'])
            standardwebhooks.Webhook(SECRET).verify(body, headers)

    def test_secret_without_prefix_is_the_same_key(self):
        headers, body = self.signed(SECRET[len('whsec_'):])
        standardwebhooks.Webhook(SECRET).verify(body, headers)

    def test_signature_is_hmac_of_id_timestamp_body(self):
        signature = webhook.signature(b'k' * 32, 'msg_1', NOW, b'{}')
        expected = standardwebhooks.Webhook(SECRET).sign(
            'msg_1',
            datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc),
            '{}')
        self.assertEqual(expected, signature)

    def test_tampered_body_fails_verification(self):
        headers, body = self.signed(SECRET)
        self.assertRaises(standardwebhooks.WebhookVerificationError,
                          standardwebhooks.Webhook(SECRET).verify,
                          body.replace(b'compute-1', b'compute-2'), headers)

    def test_unusable_secrets_are_refused(self):
        driver = webhook.WebhookDriver(self.conf)
        self.addCleanup(driver.close)
        short = 'whsec_' + base64.b64encode(b'k' * 16).decode()
        message = self.invalid(driver, {'url': 'https://203.0.113.9/h',
                                        'signing_secret': short})
        self.assertIn('settings.signing_secret', message)
        self.assertIn('24 to 64 bytes', message)
        self.assertNotIn(short, message)
        self.assertIn('settings.signing_secret', self.invalid(driver, {
            'url': 'https://203.0.113.9/h',
            'signing_secret': 'not base64 at all, but long enough!'}))


class TestWebhookSettings(base.DriverUnitTestCase):

    def setUp(self):
        super().setUp()
        self.driver = webhook.WebhookDriver(self.conf)
        self.addCleanup(self.driver.close)

    def test_full_settings(self):
        settings = {'url': 'https://203.0.113.9/hook', 'auth_token': 'abc',
                    'signing_secret': SECRET, 'mode': 'binary'}
        self.assertEqual(settings, self.validate(self.driver, settings))

    def test_secrets(self):
        self.assertEqual(('auth_token', 'signing_secret'),
                         self.driver.secret_settings)

    def test_metadata_address_is_refused(self):
        message = self.invalid(self.driver, {
            'url': 'http://169.254.169.254/latest/meta-data/'})
        self.assertIn('settings.url', message)
        self.assertIn('[driver_webhook] denied_networks', message)

    def test_host_resolving_to_link_local_is_refused(self):
        self.dns['sneaky.example'] = ['fe80::1']
        self.assertIn('fe80::1', self.invalid(self.driver, {
            'url': 'https://sneaky.example/hook'}))

    def test_operator_lists_apply(self):
        self.flags(group='driver_webhook',
                   allowed_networks=['203.0.113.0/24'])
        self.validate(self.driver, {'url': 'https://203.0.113.9/hook'})
        self.assertIn('allowed_networks', self.invalid(self.driver, {
            'url': 'https://198.51.100.9/hook'}))

    def test_token_with_a_line_break_cannot_inject_a_header(self):
        message = self.invalid(self.driver, {
            'url': 'https://203.0.113.9/hook',
            'auth_token': 'abc\r\nX-Injected: 1'})
        self.assertIn('settings.auth_token', message)
        self.assertNotIn('X-Injected', message)

    def test_unknown_mode(self):
        self.assertIn('settings.mode', self.invalid(self.driver, {
            'url': 'https://203.0.113.9/hook', 'mode': 'batch'}))
