"""The email driver honours a template's addressing, against a real SMTP
server (aiosmtpd): From/Sender, Reply-To, To/Cc headers, Bcc in the
envelope only, the charset, and the envelope recipients in the result."""

import dataclasses
import email
import email.policy

from notifier.drivers import email as email_driver
from notifier.drivers import sms as sms_driver
from notifier import exception
from notifier.tests.functional.drivers import base
from notifier.tests.functional.drivers import receivers

OWN = {'email_address': 'oncall@example.org'}


class TestEmailAddressing(base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.smtp = self.useFixture(receivers.SMTPServer())
        self.flags(group='driver_email', smtp_host='127.0.0.1',
                   smtp_port=self.smtp.port, timeout=5,
                   from_address='Notifier <notifier@example.org>')
        self.driver = email_driver.EmailDriver(self.conf)

    def send(self, settings=OWN, **addressing):
        message = dataclasses.replace(base.message(html='<p>\u00e9t\u00e9</p>'),
                                      addressing=addressing)
        result = self.driver.deliver(message, settings)
        [received] = self.smtp.messages
        return result, received, email.message_from_bytes(
            received.content, policy=email.policy.default)

    def test_no_addressing_keeps_the_destination_and_the_sender(self):
        result, received, mail = self.send()
        self.assertEqual(('oncall@example.org',), result.recipients)
        self.assertEqual('Notifier <notifier@example.org>', mail['From'])
        self.assertIsNone(mail['Sender'])
        self.assertIsNone(mail['Cc'])

    def test_template_addressing(self):
        result, received, mail = self.send(
            **{'from': 'Cloud Ops <ops@example.org>',
               'reply_to': 'noc@example.org',
               'to': ['a@example.org'], 'cc': ['b@example.org'],
               'bcc': ['hidden@example.org', 'A@example.org']})
        self.assertEqual('notifier@example.org', received.mail_from)
        self.assertEqual(['a@example.org', 'b@example.org',
                          'hidden@example.org'],
                         received.rcpt_tos)
        self.assertEqual(tuple(received.rcpt_tos), result.recipients)
        self.assertEqual('Cloud Ops <ops@example.org>', mail['From'])
        self.assertEqual('Notifier <notifier@example.org>', mail['Sender'])
        self.assertEqual('noc@example.org', mail['Reply-To'])
        self.assertEqual('a@example.org', mail['To'])
        self.assertEqual('b@example.org', mail['Cc'])
        self.assertIsNone(mail['Bcc'])
        self.assertNotIn(b'hidden@', received.content)

    def test_bcc_only_is_undisclosed(self):
        _, received, mail = self.send(to=[], bcc=['c@example.org'])
        self.assertEqual(['c@example.org'], received.rcpt_tos)
        self.assertEqual('undisclosed-recipients:;', mail['To'])

    def test_template_charset(self):
        _, _, mail = self.send(charset='iso-8859-1')
        self.assertEqual('iso-8859-1',
                         mail.get_body(('html',)).get_content_charset())
        self.assertIn('\u00e9t\u00e9', mail.get_body(('html',)).get_content())

    def test_no_recipient_at_all_is_permanent(self):
        message = dataclasses.replace(base.message(), addressing={'to': []})
        self.assertRaises(exception.PermanentDeliveryError,
                          self.driver.deliver, message, OWN)
        self.assertEqual([], self.smtp.messages)

    def test_sms_names_the_number_and_ignores_addressing(self):
        self.flags(group='driver_sms', gateway_address='sms@example.com')
        driver = sms_driver.SMSDriver(self.conf)
        message = dataclasses.replace(base.message(), addressing={
            'to': ['a@example.org']})
        result = driver.deliver(message, {'phone_number': '+4722222222'})
        self.assertEqual(('+4722222222',), result.recipients)
        [received] = self.smtp.messages
        self.assertEqual(['sms+4722222222@example.com'], received.rcpt_tos)
