import logging
import os
import time

import fixtures

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
    """requests' per-request look at the environment is skipped unless a
    proxy is configured there."""

    def setUp(self):
        super().setUp()
        for name in list(os.environ):
            if name.lower().endswith('_proxy') or name in (
                    'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
                self.useFixture(fixtures.EnvironmentVariable(name))

    def test_no_proxy_configured_skips_the_environment(self):
        session = net.session(self.conf)
        self.assertFalse(session.trust_env)
        self.assertIs(True, session.verify)

    def test_ca_bundle_variable_is_still_honoured(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'REQUESTS_CA_BUNDLE', '/etc/notifier/ca.pem'))
        self.assertEqual('/etc/notifier/ca.pem',
                         net.session(self.conf).verify)

    def test_a_proxy_in_the_environment_is_used(self):
        self.useFixture(fixtures.EnvironmentVariable(
            'https_proxy', 'http://proxy.example.com:3128'))
        session = net.session(self.conf)
        self.assertTrue(session.trust_env)
        self.assertEqual(
            {'https': 'http://proxy.example.com:3128'},
            session.merge_environment_settings(
                'https://hooks.example.com/x', {}, None, None,
                None)['proxies'])
