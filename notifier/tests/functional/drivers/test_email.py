"""The email and SMS drivers against a real SMTP server (aiosmtpd)."""

import email
import email.policy

import futurist

from notifier.drivers import email as email_driver
from notifier.drivers import sms as sms_driver
from notifier import exception
from notifier.tests.functional.drivers import base
from notifier.tests.functional.drivers import receivers

DELIVERY_ID = '6f1c2a7e-2b1d-4c5e-9f00-1a2b3c4d5e6f'


class EmailTestCase(base.DriverTestCase):

    def start_server(self, **kwargs):
        self.smtp = self.useFixture(receivers.SMTPServer(**kwargs))
        self.flags(group='driver_email', smtp_host='127.0.0.1',
                   smtp_port=self.smtp.port, timeout=5,
                   from_address='Notifier <notifier@example.org>')
        driver = email_driver.EmailDriver(self.conf)
        self.addCleanup(driver.close)
        return driver

    def parsed(self, received):
        return email.message_from_bytes(received.content,
                                        policy=email.policy.default)


class TestEmailDelivery(EmailTestCase):

    def test_html_message_is_multipart_alternative_to_every_recipient(self):
        driver = self.start_server()
        result = self.deliver(
            driver, {'email_addresses': ['oncall@example.com',
                                         'lead@example.net']},
            base.message(html='<p>Host <b>compute-1</b> stopped.</p>'))

        self.assertEqual('250 2.0.0 Ok: queued as 4BX3KQ', result.receipt)
        [received] = self.smtp.messages
        self.assertEqual('notifier@example.org', received.mail_from)
        self.assertEqual(['oncall@example.com', 'lead@example.net'],
                         received.rcpt_tos)
        mail = self.parsed(received)
        self.assertEqual('multipart/alternative', mail.get_content_type())
        self.assertEqual(['text/plain', 'text/html'],
                         [p.get_content_type() for p in mail.iter_parts()])
        self.assertIn('Host compute-1 stopped.',
                      mail.get_body(('plain',)).get_content())
        self.assertIn('<b>compute-1</b>',
                      mail.get_body(('html',)).get_content())
        self.assertEqual('<%s@example.org>' % DELIVERY_ID,
                         mail['Message-ID'])
        self.assertEqual('[COMPUTE_HOST] STOPPED on compute-1',
                         mail['Subject'])
        self.assertEqual('Notifier <notifier@example.org>', mail['From'])
        self.assertEqual('oncall@example.com, lead@example.net', mail['To'])
        self.assertEqual('auto-generated', mail['Auto-Submitted'])
        self.assertIsNotNone(mail['Date'])

    def test_message_without_html_is_text_plain(self):
        driver = self.start_server()
        self.deliver(driver, {'email_address': 'oncall@example.com'})
        mail = self.parsed(self.smtp.messages[0])
        self.assertEqual('text/plain', mail.get_content_type())
        self.assertFalse(mail.is_multipart())

    def test_retried_delivery_has_the_same_message_id(self):
        driver = self.start_server()
        for _ in range(2):
            self.deliver(driver, {'email_address': 'oncall@example.com'})
        ids = [self.parsed(m)['Message-ID'] for m in self.smtp.messages]
        self.assertEqual(['<%s@example.org>' % DELIVERY_ID] * 2, ids)

    def test_subject_with_line_breaks_cannot_add_headers(self):
        driver = self.start_server()
        self.deliver(driver, {'email_address': 'oncall@example.com'},
                     base.message(subject='Alert\r\nBcc: thief@example.com'
                                          '\nX-Injected: yes'))
        received = self.smtp.messages[0]
        self.assertEqual(['oncall@example.com'], received.rcpt_tos)
        mail = self.parsed(received)
        self.assertIsNone(mail['Bcc'])
        self.assertIsNone(mail['X-Injected'])
        self.assertEqual('Alert Bcc: thief@example.com X-Injected: yes',
                         mail['Subject'])

    def test_recipient_refused_with_5xx_is_permanent(self):
        driver = self.start_server()
        self.smtp.handler.rcpt_replies['nobody@example.com'] = (
            '550 5.1.1 <nobody@example.com>: Recipient address rejected')
        error = self.deliver_fails(exception.PermanentDeliveryError, driver,
                                   {'email_address': 'nobody@example.com'})
        self.assertIn('550 5.1.1', str(error))
        self.assertIn('nobody@example.com', str(error))
        self.assertTrue(error.receipt.startswith('550 '))
        self.assertEqual([], self.smtp.messages)

    def test_recipient_refused_with_4xx_is_retryable(self):
        driver = self.start_server()
        self.smtp.handler.rcpt_replies['busy@example.com'] = (
            '450 4.2.1 Mailbox busy, try again')
        self.deliver_fails(exception.RetryableDeliveryError, driver,
                           {'email_address': 'busy@example.com'})

    def test_one_refused_recipient_of_two_is_in_the_receipt(self):
        driver = self.start_server()
        self.smtp.handler.rcpt_replies['gone@example.com'] = (
            '550 5.1.1 User unknown')
        result = self.deliver(driver, {'email_addresses': [
            'oncall@example.com', 'gone@example.com']})
        self.assertEqual(['oncall@example.com'],
                         self.smtp.messages[0].rcpt_tos)
        self.assertIn('250 2.0.0 Ok', result.receipt)
        self.assertIn('refused: gone@example.com (550 5.1.1 User unknown)',
                      result.receipt)

    def test_data_refused_with_451_is_retryable(self):
        driver = self.start_server()
        self.smtp.handler.data_reply = (
            '451 4.3.0 Temporary local problem, try again')
        error = self.deliver_fails(exception.RetryableDeliveryError, driver,
                                   {'email_address': 'oncall@example.com'})
        self.assertIn('451 4.3.0', str(error))
        self.assertEqual('451 4.3.0 Temporary local problem, try again',
                         error.receipt)

    def test_data_refused_with_550_is_permanent(self):
        driver = self.start_server()
        self.smtp.handler.data_reply = '550 5.7.1 Message rejected as spam'
        error = self.deliver_fails(exception.PermanentDeliveryError, driver,
                                   {'email_address': 'oncall@example.com'})
        self.assertIn('550 5.7.1 Message rejected as spam', str(error))

    def test_server_down_is_retryable(self):
        self.flags(group='driver_email', smtp_host='127.0.0.1',
                   smtp_port=receivers.free_port(), timeout=5)
        driver = email_driver.EmailDriver(self.conf)
        error = self.deliver_fails(exception.RetryableDeliveryError, driver,
                                   {'email_address': 'oncall@example.com'})
        self.assertIn('127.0.0.1', str(error))


class TestSessionLimit(EmailTestCase):

    def test_email_and_sms_share_the_limit_of_open_sessions(self):
        driver = self.start_server()
        self.flags(group='driver_email', max_connections=2)
        self.flags(group='driver_sms', gateway_address='sms@example.com')
        sms = sms_driver.SMSDriver(self.conf)
        self.smtp.handler.data_delay = 0.2
        sends = [(driver, {'email_address': 'oncall%d@example.com' % i})
                 for i in range(4)] + [
                     (sms, sms.validate_settings(
                         {'phone_number': '+479123456%d' % i}))
                     for i in range(4)]
        with futurist.ThreadPoolExecutor(max_workers=len(sends)) as pool:
            results = [f.result() for f in [
                pool.submit(d.deliver, base.message(), settings)
                for d, settings in sends]]
        self.assertEqual(8, len(self.smtp.messages))
        self.assertTrue(all(r.receipt.startswith('250 ') for r in results))
        self.assertEqual(2, self.smtp.handler.most_in_data)


class TestEmailOverTLS(EmailTestCase):

    def setUp(self):
        super().setUp()
        self.certificate = self.useFixture(receivers.Certificate())

    def test_starttls_and_login_with_a_trusted_self_signed_certificate(self):
        password = 'smtp-pass-8d41c0'
        self.keep_secret(password)
        driver = self.start_server(certificate=self.certificate,
                                   starttls=True,
                                   users={b'notifier': password.encode()})
        self.flags(group='driver_email', security='starttls',
                   ca_file=self.certificate.cert_file, username='notifier',
                   password=password)
        result = self.deliver(driver,
                              {'email_address': 'oncall@example.com'})
        self.assertTrue(result.receipt.startswith('250 '))
        [received] = self.smtp.messages
        self.assertTrue(received.tls)
        self.assertEqual(b'notifier', received.login)

    def test_wrong_password_is_retryable_and_names_the_options(self):
        password = 'not-the-password-77'
        self.keep_secret(password)
        driver = self.start_server(certificate=self.certificate,
                                   starttls=True,
                                   users={b'notifier': b'right'})
        self.flags(group='driver_email', security='starttls',
                   ca_file=self.certificate.cert_file, username='notifier',
                   password=password)
        error = self.deliver_fails(exception.RetryableDeliveryError, driver,
                                   {'email_address': 'oncall@example.com'})
        self.assertIn('[driver_email] username and password', str(error))

    def test_untrusted_certificate_is_refused(self):
        driver = self.start_server(certificate=self.certificate,
                                   starttls=True)
        self.flags(group='driver_email', security='starttls')
        error = self.deliver_fails(exception.RetryableDeliveryError, driver,
                                   {'email_address': 'oncall@example.com'})
        self.assertIn('ca_file', str(error))
        self.assertEqual([], self.smtp.messages)

    def test_implicit_tls(self):
        driver = self.start_server(certificate=self.certificate,
                                   implicit_tls=True)
        self.flags(group='driver_email', security='tls',
                   ca_file=self.certificate.cert_file)
        result = self.deliver(driver,
                              {'email_address': 'oncall@example.com'})
        self.assertTrue(result.receipt.startswith('250 '))
        self.assertEqual(1, len(self.smtp.messages))


class TestSMSDelivery(EmailTestCase):

    def test_sms_is_mailed_to_the_gateway_with_the_number(self):
        self.start_server()
        self.flags(group='driver_sms', gateway_address='sms@example.com')
        sms = sms_driver.SMSDriver(self.conf)
        settings = sms.validate_settings({'phone_number': '+47 912 34 567'})

        result = self.deliver(sms, settings,
                              base.message(html='<p>ignored</p>'))

        self.assertTrue(result.receipt.startswith('250 '))
        [received] = self.smtp.messages
        self.assertEqual(['sms+4791234567@example.com'], received.rcpt_tos)
        mail = self.parsed(received)
        self.assertEqual('text/plain', mail.get_content_type())
        self.assertEqual('[COMPUTE_HOST] STOPPED on compute-1',
                         mail['Subject'])

    def test_sms_refused_by_the_gateway_is_permanent(self):
        self.start_server()
        self.flags(group='driver_sms', gateway_address='sms@example.com')
        self.smtp.handler.rcpt_replies['sms+4791234567@example.com'] = (
            '550 5.1.1 Unknown subscriber')
        sms = sms_driver.SMSDriver(self.conf)
        self.deliver_fails(exception.PermanentDeliveryError, sms,
                           {'phone_number': '+4791234567'})
