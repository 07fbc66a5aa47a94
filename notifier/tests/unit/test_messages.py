"""What a direct message needs from the operator's configuration."""

from notifier.engine import messages
from notifier import exception
from notifier.tests import base


class TestEmailFields(base.TestCase):

    def test_request_fields_win_over_the_defaults(self):
        self.flags(email_from='d@example.org', email_to=['d@example.org'],
                   group='messages')
        self.assertEqual(
            ('a@example.com', ['b@example.com', 'c@example.com'], 'S', 'B'),
            messages.email_fields(self.conf, {
                'm_from': 'a@example.com',
                'm_to': ' b@example.com ,c@example.com,', 'm_subject': 'S',
                'm_body': 'B'}))

    def test_sender_falls_back_to_the_drivers_from_address(self):
        self.flags(from_address='relay@example.org', group='driver_email')
        self.assertEqual('relay@example.org', messages.email_fields(
            self.conf, {'m_to': 'b@example.com', 'm_body': 'B'})[0])

    def test_every_missing_field_is_named_with_its_option(self):
        self.flags(email_subject='', group='messages')
        e = self.assertRaises(exception.ValidationError,
                              messages.email_fields, self.conf, {})
        self.assertEqual(
            'Missing m_from, m_to, m_subject, m_body: give them in the '
            'request or ask the operator to set [messages] email_from, '
            '[messages] email_to, [messages] email_subject.', str(e))


class TestSlackSettings(base.TestCase):

    def test_channel_needs_the_bot_token(self):
        self.assertRaises(exception.Invalid, messages.slack_settings,
                          self.conf, '#ops')
        self.flags(token='xoxb-1', group='driver_slack')
        self.assertEqual({'channel': '#ops'},
                         messages.slack_settings(self.conf, '#ops'))

    def test_default_channel_then_webhook(self):
        self.flags(token='xoxb-1', default_channel='#drv',
                   group='driver_slack')
        self.assertEqual({'channel': '#drv'},
                         messages.slack_settings(self.conf))
        self.flags(slack_channel='#msg', group='messages')
        self.assertEqual({'channel': '#msg'},
                         messages.slack_settings(self.conf))
        self.flags(token=None, group='driver_slack')
        self.flags(slack_webhook_url='https://hooks.example.com/x',
                   group='messages')
        self.assertEqual({'webhook_url': 'https://hooks.example.com/x'},
                         messages.slack_settings(self.conf))


class TestConfiguredMedia(base.TestCase):

    def test_unconfigured_media_are_skipped_in_the_operators_order(self):
        self.flags(fallback_media=['email', 'slack'], group='messages')
        self.assertEqual([], messages.configured_media(self.conf,
                                                       {'m_body': 'x'}))
        self.flags(token='xoxb-1', default_channel='#ops',
                   group='driver_slack')
        self.assertEqual(['slack'], messages.configured_media(
            self.conf, {'m_body': 'x'}))
        self.flags(smtp_host='127.0.0.1', group='driver_email')
        self.assertEqual(['slack'], messages.configured_media(
            self.conf, {'m_body': 'x'}), 'email needs recipients and sender')
        self.flags(from_address='relay@example.org', group='driver_email')
        self.flags(email_to=['noc@example.org'], group='messages')
        self.assertEqual(['email', 'slack'], messages.configured_media(
            self.conf, {'m_body': 'x'}))
