"""The webhook driver against a CloudEvents receiver on loopback that
checks what it gets with the cloudevents and standardwebhooks libraries."""

import base64
import email.utils
import os
import time

from cloudevents.core.bindings import http as ce_http
import fixtures
import standardwebhooks

from notifier.drivers import net
from notifier.drivers import webhook
from notifier import exception
from notifier.tests.functional.drivers import base
from notifier.tests.functional.drivers import receivers

TOKEN = 'nac-bearer-token-5f0e9d'
SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
DELIVERY_ID = '6f1c2a7e-2b1d-4c5e-9f00-1a2b3c4d5e6f'


class Receiver(receivers.HTTPReceiver):
    """Answers ``answer`` to requests that carry ``token`` and are signed
    with ``secret`` (each when set); 401 otherwise. ``events`` are the
    CloudEvents it parsed."""

    def __init__(self, token=None, secret=None):
        super().__init__(self.receive)
        self.token = token
        self.secret = secret
        self.answer = (200, {'X-Request-Id': 'req-42'}, b'')
        self.events = []
        self.delay = 0

    def receive(self, request):
        time.sleep(self.delay)
        if self.token and request.headers.get(
                'Authorization') != 'Bearer %s' % self.token:
            return 401, {}, b'bad token'
        if self.secret:
            try:
                standardwebhooks.Webhook(self.secret).verify(
                    request.body, request.headers)
            except standardwebhooks.WebhookVerificationError as e:
                return 401, {}, str(e).encode()
        self.events.append(ce_http.from_http_event(ce_http.HTTPMessage(
            headers=request.headers, body=request.body)))
        return self.answer


class WebhookTestCase(base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.keep_secret(TOKEN, SECRET, SECRET[len('whsec_'):])
        self.receiver = self.useFixture(Receiver(token=TOKEN, secret=SECRET))
        self.driver = webhook.WebhookDriver(self.conf)
        self.addCleanup(self.driver.close)
        self.settings = {'url': self.receiver.url + '/hooks/notifier',
                         'auth_token': TOKEN, 'signing_secret': SECRET}


class TestWebhookDelivery(WebhookTestCase):

    def check_event(self, event):
        self.assertEqual('1.0', event.get_specversion())
        self.assertEqual(DELIVERY_ID, event.get_id())
        self.assertEqual('/notifier', event.get_source())
        self.assertEqual('org.openstack.notifier.notification.COMPUTE_HOST',
                         event.get_type())
        self.assertEqual('2026-11-23T10:00:00+00:00',
                         event.get_time().isoformat())
        self.assertEqual('application/json', event.get_datacontenttype())
        self.assertEqual(base.message().event, event.get_data())

    def test_structured_cloudevent_signed_with_bearer_token(self):
        result = self.deliver(self.driver, self.settings)
        self.assertEqual('HTTP 200 X-Request-Id=req-42', result.receipt)
        [request] = self.receiver.requests
        self.assertEqual('application/cloudevents+json',
                         request.headers['Content-Type'])
        self.assertEqual(DELIVERY_ID, request.headers['webhook-id'])
        self.assertFalse(any(h.lower().startswith('ce-')
                             for h in request.headers))
        self.check_event(self.receiver.events[0])

    def test_binary_cloudevent(self):
        self.deliver(self.driver, dict(self.settings, mode='binary'))
        [request] = self.receiver.requests
        self.assertEqual('application/json', request.headers['Content-Type'])
        self.assertEqual(DELIVERY_ID, request.headers['ce-id'])
        self.assertEqual(base.message().event, request.json())
        self.check_event(self.receiver.events[0])

    def test_secret_without_whsec_prefix_signs_the_same_way(self):
        self.deliver(self.driver, dict(self.settings,
                                       signing_secret=SECRET[6:]))
        self.assertEqual(1, len(self.receiver.events))

    def test_retry_carries_the_same_webhook_id(self):
        for _ in range(2):
            self.deliver(self.driver, self.settings)
        self.assertEqual([DELIVERY_ID] * 2,
                         [r.headers['webhook-id']
                          for r in self.receiver.requests])

    def test_wrong_bearer_token_is_refused_permanently(self):
        error = self.deliver_fails(
            exception.PermanentDeliveryError, self.driver,
            dict(self.settings, auth_token='other-token-aaaa'))
        self.assertIn('HTTP 401', str(error))
        self.assertEqual([], self.receiver.events)

    def test_wrong_signing_secret_fails_verification(self):
        self.deliver_fails(
            exception.PermanentDeliveryError, self.driver,
            dict(self.settings,
                 signing_secret='whsec_' + 'A' * 32))
        self.assertEqual([], self.receiver.events)

    def test_503_is_retryable_after_retry_after_seconds(self):
        self.receiver.answer = (503, {'Retry-After': '30'}, b'maintenance')
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver, self.settings)
        self.assertEqual(30.0, error.retry_after)
        self.assertEqual('HTTP 503', error.receipt)
        self.assertIn('maintenance', str(error))

    def test_429_is_retryable_after_retry_after_date(self):
        when = email.utils.formatdate(time.time() + 120, usegmt=True)
        self.receiver.answer = (429, {'Retry-After': when}, b'')
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver, self.settings)
        self.assertTrue(100 < error.retry_after <= 120, error.retry_after)

    def test_410_is_permanent_and_says_gone(self):
        self.receiver.answer = (410, {}, b'')
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, self.settings)
        self.assertIn('gone', str(error))

    def test_400_is_permanent(self):
        self.receiver.answer = (400, {}, {'error': 'bad event'})
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, self.settings)
        self.assertIn('bad event', str(error))

    def test_redirect_is_not_followed(self):
        self.receiver.answer = (307, {'Location': '/elsewhere'}, b'')
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, self.settings)
        self.assertIn('redirect', str(error))
        self.assertEqual(1, len(self.receiver.requests))

    def test_timeout_is_retryable(self):
        self.flags(group='driver_webhook', timeout=1)
        self.receiver.delay = 1.5
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver, self.settings)
        self.assertIn('timed out', str(error))

    def test_receiver_down_is_retryable(self):
        url = 'http://127.0.0.1:%d/hooks' % receivers.free_port()
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver, dict(self.settings, url=url))
        self.assertIn('Connection refused', str(error))


class TestNetworkPolicy(WebhookTestCase):

    def test_denied_network_is_refused_before_sending(self):
        self.flags(group='driver_webhook',
                   denied_networks=['127.0.0.0/8'])
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, self.settings)
        self.assertIn('127.0.0.1', str(error))
        self.assertIn('[driver_webhook] denied_networks', str(error))
        self.assertEqual([], self.receiver.requests)

    def test_host_name_is_resolved_and_checked(self):
        self.flags(group='driver_webhook', allowed_networks=['10.0.0.0/8'])
        url = 'http://localhost:%d/hooks' % self.receiver.port
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, dict(self.settings, url=url))
        self.assertIn('host localhost resolves to', str(error))
        self.assertIn('[driver_webhook] allowed_networks', str(error))
        self.assertEqual([], self.receiver.requests)

    def test_each_connection_is_checked_where_it_lands(self):
        # What DNS rebinding would do: the check before sending saw an
        # allowed address, the connection reaches a denied one.
        receiver = self.useFixture(receivers.HTTPReceiver(
            lambda request: (204, {}, b'')))
        http = net.Session(self.conf)
        self.addCleanup(http.close)
        self.assertEqual(204, http.post(receiver.url + '/hooks', b'{}',
                                        timeout=5).status)
        self.flags(group='driver_webhook', denied_networks=['127.0.0.0/8'])
        http.close()  # no kept-alive connection: a new one is checked
        self.assertRaises(net.AddressNotAllowed, http.post,
                          receiver.url + '/hooks', b'{}', timeout=5)
        self.assertEqual(1, len(receiver.requests))

    def test_https_connections_are_checked_too(self):
        certificate = self.useFixture(receivers.Certificate())
        receiver = self.useFixture(receivers.HTTPReceiver(
            lambda request: (204, {}, b''), certificate=certificate))
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', certificate.cert_file))
        http = net.Session(self.conf)
        self.addCleanup(http.close)
        url = receiver.url + '/hooks'
        self.assertEqual(204, http.post(url, b'{}', timeout=5).status)
        http.close()
        self.flags(group='driver_webhook', denied_networks=['127.0.0.1/32'])
        self.assertRaises(net.AddressNotAllowed, http.post, url, b'{}',
                          timeout=5)
        self.assertEqual(1, len(receiver.requests))

    def test_a_kept_connection_is_reused(self):
        # Connections are checked when opened: one connection for several
        # deliveries to the same receiver.
        ports = []
        receiver = self.useFixture(receivers.HTTPReceiver(
            lambda request: (204, {}, b'')))
        http = net.Session(self.conf)
        self.addCleanup(http.close)
        check = net.refusal
        self.useFixture(fixtures.MockPatch(
            'notifier.drivers.net.refusal',
            side_effect=lambda conf, address: ports.append(address) or
            check(conf, address)))
        for _ in range(3):
            self.assertEqual(204, http.post(receiver.url + '/h', b'{}',
                                            timeout=5).status)
        self.assertEqual(['127.0.0.1'], ports)


class TestTransport(base.DriverTestCase):
    """What a receiver sees of the HTTP client, and the environment it
    takes its proxies and CA bundle from (read when a driver starts)."""

    def setUp(self):
        super().setUp()
        for name in list(os.environ):
            if name.lower().endswith('_proxy') or name in (
                    'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
                self.useFixture(fixtures.EnvironmentVariable(name))
        self.answer = (200, {}, b'')
        self.receiver = self.useFixture(receivers.HTTPReceiver(
            lambda request: self.answer))

    def driver(self):
        driver = webhook.WebhookDriver(self.conf)
        self.addCleanup(driver.close)
        return driver

    def test_request_headers(self):
        self.deliver(self.driver(), {'url': self.receiver.url + '/h'})
        [request] = self.receiver.requests
        self.assertEqual('OpenStack-Notifier', request.headers['User-Agent'])
        self.assertEqual(str(len(request.body)),
                         request.headers['Content-Length'])
        self.assertEqual('*/*', request.headers['Accept'])
        self.assertNotIn('Cookie', request.headers)

    def test_credentials_in_the_url_are_sent_as_basic_auth(self):
        self.keep_secret('pa55word-xyz')
        url = self.receiver.url.replace(
            'http://', 'http://us%40er:pa55word-xyz@') + '/h'
        self.deliver(self.driver(), {'url': url})
        [request] = self.receiver.requests
        self.assertEqual(
            'Basic %s' % base64.b64encode(b'us@er:pa55word-xyz').decode(),
            request.headers['Authorization'])
        self.assertEqual('/h', request.path)

    def test_cookies_are_not_sent_back(self):
        # A receiver shared by several tenants must not get back what it
        # set for another one.
        self.answer = (200, {'Set-Cookie': 'tenant=a; Path=/'}, b'')
        driver = self.driver()
        for _ in range(2):
            self.deliver(driver, {'url': self.receiver.url + '/h'})
        self.assertEqual([None, None], [r.headers.get('Cookie')
                                        for r in self.receiver.requests])

    def test_https_is_verified_with_the_ca_bundle_variable(self):
        certificate = self.useFixture(receivers.Certificate())
        receiver = self.useFixture(receivers.HTTPReceiver(
            lambda request: (204, {}, b''), certificate=certificate))
        settings = {'url': receiver.url + '/h'}
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver(), settings)
        self.assertIn('CERTIFICATE_VERIFY_FAILED', str(error))
        self.assertEqual([], receiver.requests)
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', certificate.cert_file))
        self.assertEqual('HTTP 204',
                         self.deliver(self.driver(), settings).receipt)
        self.assertEqual(1, len(receiver.requests))

    def test_the_environments_proxy_is_used(self):
        # The receiver plays the proxy: it gets the URL in absolute form.
        self.useFixture(fixtures.EnvironmentVariable(
            'http_proxy', self.receiver.url))
        url = 'http://localhost:%d/hooks?key=abc' % receivers.free_port()
        self.assertEqual('HTTP 200', self.deliver(
            self.driver(), {'url': url}).receipt)
        [request] = self.receiver.requests
        self.assertEqual(url, request.path)

    def test_proxy_credentials_go_to_the_proxy(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'http_proxy', self.receiver.url.replace('://', '://px:pw@')))
        url = 'http://localhost:%d/hooks' % receivers.free_port()
        self.deliver(self.driver(), {'url': url})
        [request] = self.receiver.requests
        self.assertEqual('Basic %s' % base64.b64encode(b'px:pw').decode(),
                         request.headers['Proxy-Authorization'])

    def test_no_proxy_hosts_are_reached_directly(self):
        proxy = self.useFixture(receivers.HTTPReceiver(
            lambda request: (502, {}, b'')))
        self.useFixture(fixtures.EnvironmentVariable('http_proxy',
                                                     proxy.url))
        self.useFixture(fixtures.EnvironmentVariable('no_proxy',
                                                     '127.0.0.1'))
        self.deliver(self.driver(), {'url': self.receiver.url + '/h'})
        self.assertEqual(['/h'], [r.path for r in self.receiver.requests])
        self.assertEqual([], proxy.requests)
