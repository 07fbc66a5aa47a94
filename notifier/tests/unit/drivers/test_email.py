import email
import email.policy

from notifier.drivers import email as email_driver
from notifier.drivers import sms
from notifier import exception
from notifier.tests.unit.drivers import base


class TestEmailSettings(base.DriverUnitTestCase):

    def setUp(self):
        super().setUp()
        self.driver = email_driver.EmailDriver(self.conf)

    def test_address_is_normalised(self):
        self.assertEqual(
            {'email_address': 'Oncall@example.com'},
            self.validate(self.driver,
                          {'email_address': 'Oncall@EXAMPLE.com'}))

    def test_bad_address_names_the_field_and_the_reason(self):
        message = self.invalid(self.driver, {'email_address': 'oncall@'})
        self.assertIn('settings.email_address', message)
        self.assertIn('something after the @-sign', message)

    def test_address_with_a_line_break_is_refused(self):
        message = self.invalid(self.driver, {
            'email_address': 'a@example.com\r\nBcc: thief@example.com'})
        self.assertIn('settings.email_address', message)

    def test_several_addresses(self):
        self.assertEqual(
            {'email_addresses': ['a@example.com', 'b@example.net']},
            self.validate(self.driver, {'email_addresses': [
                'a@example.com', 'b@example.net', 'A@example.com']}))

    def test_bad_address_in_a_list_is_named_by_position(self):
        message = self.invalid(self.driver, {'email_addresses': [
            'a@example.com', 'not-an-address']})
        self.assertIn('settings.email_addresses.1', message)

    def test_exactly_one_of_the_two_fields(self):
        self.assertIn('neither', self.invalid(self.driver, {}))
        self.assertIn('exactly one', self.invalid(self.driver, {
            'email_address': 'a@example.com',
            'email_addresses': ['b@example.com']}))

    def test_unknown_field_is_refused_by_the_schema(self):
        message = self.invalid(self.driver, {'email_address': 'a@example.com',
                                             'cc': 'b@example.com'})
        self.assertIn("'cc' was unexpected", message)

    def test_too_many_recipients(self):
        addresses = ['u%d@example.com' % i
                     for i in range(email_driver.MAX_RECIPIENTS + 1)]
        self.invalid(self.driver, {'email_addresses': addresses})


class TestEmailConfiguration(base.DriverUnitTestCase):

    def test_not_configured_without_smtp_host(self):
        driver = email_driver.EmailDriver(self.conf)
        error = self.assertRaises(exception.Invalid, driver.check_configured)
        self.assertIn('[driver_email] smtp_host', str(error))

    def test_bad_from_address_names_the_option(self):
        self.flags(group='driver_email', smtp_host='mail.example.com',
                   from_address='notifier')
        driver = email_driver.EmailDriver(self.conf)
        error = self.assertRaises(exception.Invalid, driver.check_configured)
        self.assertIn('[driver_email] from_address', str(error))

    def test_username_without_password(self):
        self.flags(group='driver_email', smtp_host='mail.example.com',
                   username='notifier')
        driver = email_driver.EmailDriver(self.conf)
        error = self.assertRaises(exception.Invalid, driver.check_configured)
        self.assertIn('[driver_email] password', str(error))

    def test_delivery_when_not_configured_is_permanent(self):
        driver = email_driver.EmailDriver(self.conf)
        error = self.assertRaises(exception.PermanentDeliveryError,
                                  driver.deliver, base.message(),
                                  {'email_address': 'a@example.com'})
        self.assertIn('[driver_email] smtp_host', str(error))


class TestEmailMessage(base.DriverUnitTestCase):

    def setUp(self):
        super().setUp()
        self.flags(group='driver_email', smtp_host='mail.example.com',
                   from_address='Notifier <notifier@example.org>')
        self.mailer = email_driver.Mailer(self.conf)

    def parse(self, mime):
        return email.message_from_bytes(mime.as_bytes(),
                                        policy=email.policy.default)

    def test_html_makes_multipart_alternative(self):
        mail = self.parse(self.mailer.build(
            base.message(html='<p>stopped</p>'), ['a@example.com']))
        self.assertEqual('multipart/alternative', mail.get_content_type())
        self.assertEqual(['text/plain', 'text/html'],
                         [p.get_content_type() for p in mail.iter_parts()])

    def test_no_html_is_text_plain_only(self):
        mail = self.parse(self.mailer.build(base.message(),
                                            ['a@example.com']))
        self.assertEqual('text/plain', mail.get_content_type())

    def test_html_can_be_left_out(self):
        mail = self.parse(self.mailer.build(base.message(html='<p>x</p>'),
                                            ['a@example.com'], html=False))
        self.assertEqual('text/plain', mail.get_content_type())

    def test_message_id_is_the_delivery_id_at_the_senders_domain(self):
        mail = self.parse(self.mailer.build(base.message(delivery_id='d-1'),
                                            ['a@example.com']))
        self.assertEqual('<d-1@example.org>', mail['Message-ID'])

    def test_line_breaks_in_the_subject_cannot_inject_headers(self):
        mime = self.mailer.build(
            base.message(subject='Hi\r\nBcc: thief@example.com\r\n\r\nbody'),
            ['a@example.com'])
        raw = mime.as_bytes()
        self.assertNotIn(b'\r\nBcc:', raw)
        mail = self.parse(mime)
        self.assertIsNone(mail['Bcc'])
        self.assertEqual('Hi Bcc: thief@example.com body', mail['Subject'])

    def test_the_policy_refuses_a_header_with_a_line_break(self):
        mime = self.mailer.build(base.message(), ['a@example.com'])
        self.assertRaises(ValueError, mime.__setitem__, 'X-Test',
                          'a\r\nBcc: thief@example.com')

    def test_long_subject_is_folded_not_broken(self):
        subject = 'word ' * 60
        mail = self.parse(self.mailer.build(base.message(subject=subject),
                                            ['a@example.com']))
        self.assertEqual(subject.strip(), mail['Subject'])

    def test_internationalised_domain_is_sent_in_idna(self):
        self.assertEqual(('user@xn--exmple-cua.com', False),
                         email_driver._wire_address('user@exämple.com'))
        self.assertEqual(('ü@exämple.com', True),
                         email_driver._wire_address('ü@exämple.com'))


class TestSMTPReplies(base.DriverUnitTestCase):

    def test_4xx_is_retryable(self):
        error = email_driver._reply_error('mail:25', 451, b'4.3.0 try later')
        self.assertIsInstance(error, exception.RetryableDeliveryError)
        self.assertEqual('451 4.3.0 try later', error.receipt)

    def test_5xx_is_permanent(self):
        error = email_driver._reply_error('mail:25', 550, b'5.1.1 unknown')
        self.assertIsInstance(error, exception.PermanentDeliveryError)


class TestSMS(base.DriverUnitTestCase):

    def setUp(self):
        super().setUp()
        self.driver = sms.SMSDriver(self.conf)

    def test_gateway_address_gets_the_number_in_its_local_part(self):
        # The rule and example of the SMS-as-email gateway (Argus).
        self.assertEqual('sms+345656787643@example.com',
                         sms.gateway_recipient('sms@example.com',
                                               '+345656787643'))

    def test_number_is_normalised_to_e164(self):
        self.assertEqual({'phone_number': '+4791234567'},
                         self.validate(self.driver,
                                       {'phone_number': '+47 912 34 567'}))
        self.assertEqual({'phone_number': '+16502530000'},
                         self.validate(self.driver,
                                       {'phone_number': '+1 (650) 253-0000'}))

    def test_number_without_country_code_is_refused_with_how_to_fix(self):
        message = self.invalid(self.driver, {'phone_number': '91234567'})
        self.assertIn('settings.phone_number', message)
        self.assertIn('international form', message)

    def test_invalid_number_is_refused(self):
        message = self.invalid(self.driver, {'phone_number': '+4712'})
        self.assertIn('not a valid number', message)
        self.invalid(self.driver, {'phone_number': 'call me'})

    def test_phone_number_is_required(self):
        self.assertIn("'phone_number' is a required property",
                      self.invalid(self.driver, {}))

    def test_not_configured_without_gateway(self):
        self.flags(group='driver_email', smtp_host='mail.example.com')
        error = self.assertRaises(exception.Invalid,
                                  self.driver.check_configured)
        self.assertIn('[driver_sms] gateway_address', str(error))

    def test_not_configured_without_smtp_host(self):
        self.flags(group='driver_sms', gateway_address='sms@example.com')
        error = self.assertRaises(exception.Invalid,
                                  self.driver.check_configured)
        self.assertIn('[driver_email] smtp_host', str(error))

    def test_configured(self):
        self.flags(group='driver_sms', gateway_address='sms@example.com')
        self.flags(group='driver_email', smtp_host='mail.example.com')
        self.driver.check_configured()
