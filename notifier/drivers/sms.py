"""The ``sms`` driver: SMS through an email-to-SMS gateway.

A destination holds a ``phone_number`` in international form, checked with
phonenumbers (Google's libphonenumber) and stored in E.164. Each SMS is an
email, sent with the email driver's :class:`~notifier.drivers.email.Mailer`
and ``[driver_email]`` options, to ``[driver_sms] gateway_address`` with the
number appended to its local part: ``sms@example.com`` and ``+4791234567``
make ``sms+4791234567@example.com``. The mail is text/plain only, subject
and text as rendered; what the gateway makes of them is its own business.
"""

import phonenumbers

from notifier.drivers import base
from notifier.drivers import email as email_driver
from notifier import exception


def normalise_number(value):
    """``value`` in E.164 (``+4791234567``), or ValueError saying why it is
    not a valid phone number in international form."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as e:
        error = phonenumbers.NumberParseException
        if e.error_type == error.INVALID_COUNTRY_CODE:
            raise ValueError('give the number in international form, '
                             'starting with + and the country code, such '
                             'as +4791234567')
        raise ValueError('this is not a phone number: %s' % e)
    if not phonenumbers.is_valid_number(number):
        raise ValueError('this is not a valid number for its country code; '
                         'check the digits and the country code')
    return phonenumbers.format_number(number,
                                      phonenumbers.PhoneNumberFormat.E164)


def gateway_recipient(gateway_address, number):
    """The gateway's address with ``number`` (E.164) appended to its local
    part with a '+' (which E.164 numbers start with)."""
    local, _, domain = gateway_address.rpartition('@')
    return '%s%s@%s' % (local, number, domain)


class SMSDriver(base.Driver):

    settings_schema = {
        'title': 'SMS destination settings',
        'description': 'The mobile number the SMS goes to.',
        'type': 'object',
        'properties': {
            'phone_number': {
                'type': 'string', 'minLength': 3, 'maxLength': 32,
                'description': 'Phone number in international form: + '
                               'and the country code, then the number, '
                               'such as +4791234567 (spaces and dashes are '
                               'accepted and removed). Stored in E.164.',
            },
        },
        'required': ['phone_number'],
        'additionalProperties': False,
    }
    secret_settings = ()

    def __init__(self, conf):
        super().__init__(conf)
        self.mailer = email_driver.Mailer(conf)

    def check_configured(self):
        gateway = self.conf.driver_sms.gateway_address
        if not gateway:
            raise exception.Invalid(
                'SMS is not configured: set [driver_sms] gateway_address to '
                'the email address of the SMS gateway, and the '
                '[driver_email] options of its SMTP server.')
        try:
            email_driver.parse_address(gateway)
        except ValueError as e:
            raise exception.Invalid(
                '[driver_sms] gateway_address %r is not a valid email '
                'address: %s' % (gateway, e))
        self.mailer.check_configured()

    def validate_settings(self, settings):
        value = settings['phone_number']
        try:
            return {'phone_number': normalise_number(value)}
        except ValueError as e:
            raise exception.ValidationError(
                detail='Invalid input for field settings.phone_number '
                       '(value %r): %s.' % (value, e), field='phone_number')

    def deliver(self, message, settings):
        try:
            self.check_configured()
            number = normalise_number(settings.get('phone_number') or '')
        except (exception.Invalid, ValueError) as e:
            raise exception.PermanentDeliveryError('SMS not sent: %s' % e)
        recipient = gateway_recipient(self.conf.driver_sms.gateway_address,
                                      number)
        sent = self.mailer.send(message, [recipient], html=False)
        # The ledger names the phone number, not the gateway's address.
        return base.Result(receipt=sent.receipt, recipients=(number,))
