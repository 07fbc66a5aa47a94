import ipaddress
import logging
import os
import time
from unittest import mock

import fixtures
import requests
import urllib3

from notifier.drivers import net
from notifier import exception
from notifier.tests.unit.drivers import base


class TestAddressPolicy(base.DriverUnitTestCase):

    def test_metadata_address_is_denied_by_default(self):
        reason = net.refusal(self.conf, '169.254.169.254')
        self.assertIn('169.254.169.254', reason)
        self.assertIn('[driver_webhook] denied_networks', reason)

    def test_link_local_is_denied_by_default(self):
        self.assertIsNotNone(net.refusal(self.conf, '169.254.10.1'))
        self.assertIsNotNone(net.refusal(self.conf, 'fe80::1'))
        self.assertIsNotNone(net.refusal(self.conf, 'fe80::1%eth0'))

    def test_ipv4_mapped_ipv6_is_checked_as_ipv4(self):
        self.assertIsNotNone(net.refusal(self.conf, '::ffff:169.254.169.254'))

    def test_everything_else_is_allowed_by_default(self):
        for address in ('203.0.113.7', '10.1.2.3', '127.0.0.1',
                        '2001:db8::1'):
            self.assertIsNone(net.refusal(self.conf, address), address)

    def test_allowed_networks_allow_only_themselves(self):
        self.flags(group='driver_webhook',
                   allowed_networks=['203.0.113.0/24', '2001:db8::/32'])
        self.assertIsNone(net.refusal(self.conf, '203.0.113.7'))
        self.assertIsNone(net.refusal(self.conf, '2001:db8::1'))
        reason = net.refusal(self.conf, '198.51.100.1')
        self.assertIn('is not in [driver_webhook] allowed_networks', reason)

    def test_denied_wins_over_allowed(self):
        self.flags(group='driver_webhook', allowed_networks=['10.0.0.0/8'],
                   denied_networks=['10.9.0.0/16'])
        self.assertIsNone(net.refusal(self.conf, '10.1.0.1'))
        self.assertIn('denied_networks', net.refusal(self.conf, '10.9.0.1'))

    def test_malformed_network_option_names_the_option(self):
        self.flags(group='driver_webhook', denied_networks=['10.0.0.0/33'])
        error = self.assertRaises(exception.Invalid, net.check_policy,
                                  self.conf)
        self.assertIn('[driver_webhook] denied_networks', str(error))
        self.assertIn('10.0.0.0/33', str(error))

    def test_malformed_options_make_deliveries_wait(self):
        self.flags(group='driver_webhook', allowed_networks=['nowhere'])
        error = self.assertRaises(exception.RetryableDeliveryError,
                                  net.check_url, self.conf,
                                  'https://203.0.113.9/h')
        self.assertIn('[driver_webhook] allowed_networks', str(error))
        self.flags(group='driver_webhook', allowed_networks=['0.0.0.0/0'])
        net.check_url(self.conf, 'https://203.0.113.9/h')

    def test_a_changed_option_applies_at_once(self):
        self.assertIsNone(net.refusal(self.conf, '10.9.0.1'))
        self.flags(group='driver_webhook', denied_networks=['10.9.0.0/16'])
        self.assertIn('denied_networks', net.refusal(self.conf, '10.9.0.1'))
        self.flags(group='driver_webhook', denied_networks=['10.8.0.0/16'],
                   allowed_networks=['192.0.2.0/24'])
        self.assertIn('allowed_networks',
                      net.refusal(self.conf, '10.9.0.1'))
        self.conf_fixture.conf.clear_override('allowed_networks',
                                              group='driver_webhook')
        self.assertIsNone(net.refusal(self.conf, '10.9.0.1'))

    def test_networks_are_parsed_once_per_value(self):
        net._networks.cache_clear()
        self.flags(group='driver_webhook', denied_networks=['10.77.0.0/16'])
        with mock.patch('ipaddress.ip_network',
                        wraps=ipaddress.ip_network) as parse:
            for address in ('10.77.0.1', '10.78.0.1', '10.77.0.1'):
                net.refusal(self.conf, address)
            net.check_policy(self.conf)
        self.assertEqual(1, parse.call_count)


class TestURLChecks(base.DriverUnitTestCase):

    def test_metadata_url_is_refused_without_showing_the_path(self):
        error = self.assertRaises(
            exception.ValidationError, net.validate_url, self.conf,
            'http://169.254.169.254/latest/meta-data?token=s3cr3t', 'url')
        self.assertIn('settings.url', str(error))
        self.assertIn('169.254.169.254', str(error))
        self.assertNotIn('s3cr3t', str(error))
        self.assertNotIn('meta-data', str(error))

    def test_host_name_resolving_to_a_denied_address_is_refused(self):
        self.dns['metadata.example'] = ['203.0.113.5', '169.254.169.254']
        error = self.assertRaises(
            exception.ValidationError, net.validate_url, self.conf,
            'https://metadata.example/hook', 'url')
        self.assertIn('host metadata.example resolves to address '
                      '169.254.169.254', str(error))

    def test_host_name_that_does_not_resolve_is_accepted(self):
        # It may resolve from the engine; the delivery checks again.
        net.validate_url(self.conf, 'https://hooks.example.net/x', 'url')

    def test_ipv6_literal_link_local_is_refused(self):
        self.assertRaises(exception.ValidationError, net.validate_url,
                          self.conf, 'http://[fe80::1]:8080/hook', 'url')

    def test_other_schemes_are_refused(self):
        for url in ('ftp://example.com/x', 'file:///etc/passwd',
                    'http:///nohost'):
            error = self.assertRaises(exception.ValidationError,
                                      net.validate_url, self.conf, url, 'url')
            self.assertIn('http:// or https://', str(error))

    def test_check_before_delivery_is_permanent(self):
        self.flags(group='driver_webhook', denied_networks=['10.0.0.0/8'])
        self.dns['internal.example'] = ['10.0.0.5']
        error = self.assertRaises(exception.PermanentDeliveryError,
                                  net.check_url, self.conf,
                                  'https://internal.example/hook?key=abc123')
        self.assertIn('10.0.0.5', str(error))
        self.assertNotIn('abc123', str(error))

    def test_host_of_shows_host_and_port_only(self):
        self.assertEqual('hooks.slack.com', net.host_of(
            'https://hooks.slack.com/services/T/B/secret'))
        self.assertEqual('[2001:db8::1]:8443', net.host_of(
            'https://user:pw@[2001:db8::1]:8443/x?sig=1'))


class TestRetryAfter(base.DriverUnitTestCase):

    def test_seconds(self):
        self.assertEqual(120.0, net.parse_retry_after('120'))

    def test_http_date(self):
        now = time.time()
        value = time.strftime('%a, %d %b %Y %H:%M:%S GMT',
                              time.gmtime(now + 90))
        self.assertAlmostEqual(90, net.parse_retry_after(value, now=now),
                               delta=1)

    def test_date_in_the_past_is_now(self):
        self.assertEqual(0.0, net.parse_retry_after(
            'Wed, 21 Oct 2015 07:28:00 GMT'))

    def test_absent_or_garbage_is_none(self):
        for value in (None, '', 'soon', '-5'):
            self.assertIsNone(net.parse_retry_after(value), value)


class TestLogRedaction(base.DriverUnitTestCase):

    def record(self):
        return logging.LogRecord(
            'urllib3.connectionpool', logging.DEBUG, __file__, 1,
            '%s://%s:%s "%s %s %s" %s %s',
            ('https', 'hooks.example.com', 443, 'POST',
             '/services/T/B/secret?sig=xyz', 'HTTP/1.1', 200, 2), None)

    def test_urllib3_request_lines_hide_the_path_while_delivering(self):
        record = self.record()
        net._sending.active = True
        self.addCleanup(setattr, net._sending, 'active', False)
        net._REDACT.filter(record)
        self.assertNotIn('secret', record.getMessage())
        self.assertIn('hooks.example.com', record.getMessage())

    def test_other_requests_are_left_alone(self):
        record = self.record()
        net._REDACT.filter(record)
        self.assertIn('/services/T/B/secret', record.getMessage())


class TestPublicURL(base.DriverUnitTestCase):

    def test_without_credentials_or_query(self):
        self.assertEqual('https://[2001:db8::1]:8443/x/y', net.public_url(
            'https://user:pw@[2001:db8::1]:8443/x/y?sig=1#frag'))

    def test_without_path_for_webhooks_whose_path_is_a_token(self):
        self.assertEqual('https://hooks.slack.com', net.public_url(
            'https://hooks.slack.com/services/T/B/secret', path=False))

    def test_no_host_is_none(self):
        self.assertIsNone(net.public_url('not a url'))


class TestSessionEnvironment(base.DriverUnitTestCase):
    """The proxies and CA bundle of the environment, read once when a
    session is made."""

    def setUp(self):
        super().setUp()
        for name in list(os.environ):
            if name.lower().endswith('_proxy') or name in (
                    'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
                self.useFixture(fixtures.EnvironmentVariable(name))

    def session(self):
        session = net.Session(self.conf)
        self.addCleanup(session.close)
        return session

    def test_no_proxy_configured(self):
        session = self.session()
        self.assertEqual({}, session.proxies)
        self.assertEqual(requests.utils.DEFAULT_CA_BUNDLE_PATH,
                         session.ca_bundle)

    def test_ca_bundle_variables_are_honoured(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'CURL_CA_BUNDLE', '/etc/notifier/curl.pem'))
        self.assertEqual('/etc/notifier/curl.pem', self.session().ca_bundle)
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', '/etc/notifier/ca.pem'))
        self.assertEqual('/etc/notifier/ca.pem', self.session().ca_bundle)

    def test_proxies_are_chosen_as_requests_does(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'https_proxy', 'proxy.example.com:3128'))
        self.useFixture(fixtures.EnvironmentVariable(
            'no_proxy', 'internal.example.com,192.0.2.0/24'))
        session = self.session()
        self.assertEqual('http://proxy.example.com:3128',
                         session._proxy('https://hooks.example.com/x'))
        self.assertIsNone(session._proxy('http://hooks.example.com/x'))
        self.assertIsNone(session._proxy('https://internal.example.com/x'))
        self.assertIsNone(session._proxy('https://192.0.2.7/x'))


class TestPostErrors(base.DriverUnitTestCase):
    """What :func:`net.post` makes of what the session raises."""

    def post_fails(self, error, raised, url='https://203.0.113.9/h?k=s3cr3t'):
        http = mock.Mock(spec=net.Session)
        http.post.side_effect = raised
        return str(self.assertRaises(error, net.post, self.conf, http, url,
                                     'webhook', 10, b'{}'))

    def test_read_timeout_is_retryable(self):
        message = self.post_fails(
            exception.RetryableDeliveryError,
            urllib3.exceptions.ReadTimeoutError(None, '/h?k=s3cr3t', 'x'))
        self.assertIn('203.0.113.9: timed out', message)
        self.assertNotIn('s3cr3t', message)

    def test_connect_timeout_is_retryable(self):
        self.assertIn('timed out', self.post_fails(
            exception.RetryableDeliveryError,
            urllib3.exceptions.MaxRetryError(
                None, '/h?k=s3cr3t', urllib3.exceptions.ConnectTimeoutError(
                    None, 'timed out connecting'))))

    def test_connection_failure_gives_the_system_error(self):
        error = ConnectionRefusedError(111, 'Connection refused')
        failure = urllib3.exceptions.NewConnectionError(None, 'failed')
        failure.__cause__ = error
        message = self.post_fails(
            exception.RetryableDeliveryError,
            urllib3.exceptions.MaxRetryError(None, '/h?k=s3cr3t', failure))
        self.assertIn('203.0.113.9: Connection refused.', message)
        self.assertNotIn('s3cr3t', message)

    def test_header_that_cannot_be_sent_is_permanent(self):
        self.assertIn('the request is invalid (ValueError)', self.post_fails(
            exception.PermanentDeliveryError,
            ValueError('Invalid header value')))

    def test_host_that_cannot_be_encoded_is_permanent(self):
        http = net.Session(self.conf)
        self.addCleanup(http.close)
        message = str(self.assertRaises(
            exception.PermanentDeliveryError, net.post, self.conf, http,
            'https://.example.net/h', 'webhook', 10, b'{}'))
        self.assertIn('the request is invalid (InvalidURL)', message)
