"""The ``email`` driver: mail through the operator's SMTP server.

A destination names one address (``email_address``) or several
(``email_addresses``), checked with email-validator without DNS look-ups.
Each delivery is one SMTP session: text/plain, or multipart/alternative with
text/html when the message has an HTML body; a ``Message-ID`` made from the
delivery id, so that a retried delivery is recognisably the same mail; the
server's reply to the message data (``250 2.0.0 Ok: queued as ...``) is the
receipt, and the envelope recipients the server accepted are the result's
``recipients``. An engine process has at most ``[driver_email]
max_connections`` sessions open, for email and SMS together.

A message's template may address it (``Message.addressing``): ``to``
replaces the destination's own recipients, ``cc`` and ``bcc`` add some (Bcc
only in the envelope), ``from`` becomes the From header and ``reply_to`` the
Reply-To header. The envelope sender stays ``[driver_email] from_address``
(bounces come back to the service) and, when the From header differs, it is
the Sender header, as RFC 5322 asks when the author is not the sender.

SMTP 4xx replies, timeouts and lost connections are transient; 5xx replies
and refused recipients are permanent. Failures of the service's own set-up
(login refused, TLS not offered or not trusted) are transient too: the
delivery is not at fault and succeeds once the operator fixes the
``[driver_email]`` options.

:class:`Mailer` is the SMTP side, shared with the ``sms`` driver.
"""

import datetime
import email.headerregistry
import email.message
import email.policy
import email.utils
import smtplib
import socket
import ssl
import threading

import email_validator
from oslo_log import log as logging

from notifier.drivers import base
from notifier import exception

LOG = logging.getLogger(__name__)
MAX_RECIPIENTS = 20

# The SMTP sessions of this process, email and sms together, by the
# [driver_email] max_connections they were opened under.
_SESSIONS = {}
_SESSIONS_LOCK = threading.Lock()


def _session_slots(limit):
    with _SESSIONS_LOCK:
        slots = _SESSIONS.get(limit)
        if slots is None:
            slots = _SESSIONS[limit] = threading.BoundedSemaphore(limit)
        return slots


def one_line(text, width=None):
    """``text`` with every run of white space, line breaks included, made
    one space; cut to ``width`` characters if given."""
    text = ' '.join((text or '').split())
    if width is not None and len(text) > width:
        text = text[:width - 3] + '...'
    return text


def parse_address(value):
    return email_validator.validate_email(value, check_deliverability=False)


def validate_address(value, field):
    """The normalised form of the address ``value`` or
    :class:`exception.ValidationError` naming ``field`` and the reason."""
    try:
        return parse_address(value).normalized
    except email_validator.EmailNotValidError as e:
        raise exception.ValidationError(
            detail='Invalid input for field settings.%s (value %r): %s' % (
                field, value, e), field=field)


def _wire_address(value):
    """``(address, needs_smtputf8)`` of an address for SMTP: its ASCII form
    (an internationalised domain in IDNA) when it has one."""
    validated = parse_address(value)
    if validated.ascii_email:
        return validated.ascii_email, False
    return validated.normalized, True


class Mailer:
    """Sends mail through the SMTP server of ``[driver_email]``."""

    def __init__(self, conf):
        self.conf = conf

    @property
    def _opts(self):
        return self.conf.driver_email

    def check_configured(self):
        if not self._opts.smtp_host:
            raise exception.Invalid(
                'Email is not configured: set [driver_email] smtp_host (and '
                'from_address) to the SMTP server that relays mail for '
                'Notifier.')
        if self._opts.username and self._opts.password is None:
            raise exception.Invalid(
                '[driver_email] username is set without [driver_email] '
                'password; set both, or neither to send without logging '
                'in.')
        if self._opts.from_address:
            self._sender()

    def _sender(self):
        """``(header Address, envelope address, domain)`` of the sender."""
        configured = self._opts.from_address
        if not configured:
            address = 'notifier@%s' % socket.getfqdn()
            return (email.headerregistry.Address(addr_spec=address),
                    address, address.rpartition('@')[2])
        name, address = email.utils.parseaddr(configured)
        try:
            validated = parse_address(address)
        except email_validator.EmailNotValidError as e:
            raise exception.Invalid(
                '[driver_email] from_address %r is not a valid sender: %s '
                'Set it to an address such as notifier@example.com.' % (
                    configured, e))
        wire = validated.ascii_email or validated.normalized
        return (email.headerregistry.Address(display_name=one_line(name),
                                             addr_spec=wire),
                wire, validated.ascii_domain)

    def build(self, message, recipients, html=True, cc=(), author=None,
              reply_to=None, charset=None):
        """The :class:`email.message.EmailMessage` for ``message``.

        ``recipients`` and ``cc`` are the To and Cc headers; ``author``
        (an address, possibly with a display name) the From header instead
        of the service's sender, which then becomes the Sender header.
        Header values are single lines: the subject's line breaks become
        spaces, and the policy refuses any CR or LF left in a header.
        """
        header_from, _, domain = self._sender()
        mime = email.message.EmailMessage(policy=email.policy.SMTP)
        if author:
            author = _header_address(author)
            mime['From'] = author
            if author.addr_spec.lower() != header_from.addr_spec.lower():
                mime['Sender'] = header_from
        else:
            mime['From'] = header_from
        if reply_to:
            mime['Reply-To'] = _header_address(reply_to)
        if recipients:
            mime['To'] = [email.headerregistry.Address(addr_spec=r)
                          for r in recipients]
        else:
            mime['To'] = email.headerregistry.Group('undisclosed-recipients')
        if cc:
            mime['Cc'] = [email.headerregistry.Address(addr_spec=r)
                          for r in cc]
        mime['Subject'] = one_line(message.subject)
        mime['Date'] = email.utils.format_datetime(
            datetime.datetime.now(datetime.timezone.utc))
        mime['Message-ID'] = '<%s@%s>' % (message.delivery_id,
                                          domain or 'notifier')
        # RFC 3834: no vacation replies or other auto-answers, please.
        mime['Auto-Submitted'] = 'auto-generated'
        charset = _charset(charset, message.text, message.html)
        mime.set_content(message.text, charset=charset)
        if html and message.html:
            mime.add_alternative(message.html, subtype='html',
                                 charset=charset)
        return mime

    def send(self, message, recipients, html=True, cc=(), bcc=(),
             author=None, reply_to=None, charset=None):
        """Mail ``message`` to ``recipients`` (To), ``cc`` and ``bcc`` in
        one SMTP session; see :meth:`build` for ``author``.

        :returns: :class:`base.Result` with the server's reply to the data
                  and the envelope recipients it accepted
        :raises: :class:`exception.RetryableDeliveryError`,
                 :class:`exception.PermanentDeliveryError`
        """
        try:
            self.check_configured()
        except exception.Invalid as e:
            raise exception.PermanentDeliveryError(str(e))
        server = '%s:%d' % (self._opts.smtp_host, self._opts.smtp_port)
        headers, wire, utf8 = {'to': [], 'cc': []}, [], False
        for field, addresses in (('to', recipients), ('cc', cc),
                                 ('bcc', bcc)):
            for recipient in addresses:
                try:
                    address, needs = _wire_address(recipient)
                except email_validator.EmailNotValidError as e:
                    raise exception.PermanentDeliveryError(
                        'Not mailed: the recipient %r is not a valid '
                        'address: %s' % (recipient, e))
                if field in headers:
                    headers[field].append(address)
                if address.lower() not in (w.lower() for w in wire):
                    wire.append(address)
                utf8 = utf8 or needs
        if not wire:
            raise exception.PermanentDeliveryError(
                'Not mailed: the message has no recipient.')
        _, sender, _ = self._sender()
        mime = self.build(message, headers['to'], html=html,
                          cc=headers['cc'], author=author, reply_to=reply_to,
                          charset=charset)
        try:
            # The relay's limit of connections from one client is the
            # engine's, whatever its delivery threads: the others wait.
            with _session_slots(self._opts.max_connections):
                smtp = self._connect()
                try:
                    return self._transaction(smtp, mime, sender, wire, utf8,
                                             server)
                finally:
                    _close(smtp)
        except smtplib.SMTPAuthenticationError as e:
            raise exception.RetryableDeliveryError(
                'The SMTP server %s refused the login of [driver_email] '
                'username (%d %s); check [driver_email] username and '
                'password.' % (server, e.smtp_code, _reply_text(e.smtp_error)))
        except smtplib.SMTPNotSupportedError as e:
            raise exception.RetryableDeliveryError(
                'The SMTP server %s does not support what [driver_email] '
                'asks of it (%s); check [driver_email] security and '
                'username.' % (server, e))
        except smtplib.SMTPResponseException as e:
            raise _reply_error(server, e.smtp_code, e.smtp_error)
        except ssl.SSLError as e:
            raise exception.RetryableDeliveryError(
                'TLS with the SMTP server %s failed (%s); check '
                '[driver_email] security and ca_file.' % (
                    server, one_line(str(e), 200)))
        except (OSError, smtplib.SMTPException) as e:
            raise exception.RetryableDeliveryError(
                'Could not mail through the SMTP server %s: %s.' % (
                    server, one_line(str(e), 200) or type(e).__name__))

    def _tls_context(self):
        return ssl.create_default_context(cafile=self._opts.ca_file)

    def _connect(self):
        opts = self._opts
        if opts.security == 'tls':
            smtp = smtplib.SMTP_SSL(opts.smtp_host, opts.smtp_port,
                                    timeout=opts.timeout,
                                    context=self._tls_context())
        else:
            smtp = smtplib.SMTP(opts.smtp_host, opts.smtp_port,
                                timeout=opts.timeout)
        try:
            if opts.security == 'starttls':
                smtp.ehlo()
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if opts.username:
                smtp.login(opts.username, opts.password)
        except BaseException:
            _close(smtp)
            raise
        return smtp

    def _transaction(self, smtp, mime, sender, recipients, utf8, server):
        smtp.ehlo_or_helo_if_needed()
        options = []
        if utf8:
            if not smtp.has_extn('smtputf8'):
                raise exception.PermanentDeliveryError(
                    'Not mailed: a recipient address has non-ASCII '
                    'characters and the SMTP server %s does not support '
                    'SMTPUTF8.' % server)
            options.append('SMTPUTF8')
        if smtp.has_extn('8bitmime'):
            options.append('BODY=8BITMIME')
        code, reply = smtp.mail(sender, options)
        if code != 250:
            smtp.rset()
            raise _reply_error(server, code, reply, 'the sender %s' % sender)
        accepted, refused = [], []
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code in (250, 251):
                accepted.append(recipient)
            else:
                refused.append((recipient, code, reply))
        if not accepted:
            smtp.rset()
            reasons = '; '.join('%s: %d %s' % (r, c, _reply_text(t))
                                for r, c, t in refused)
            error = (exception.RetryableDeliveryError
                     if all(400 <= c < 500 for _, c, _ in refused)
                     else exception.PermanentDeliveryError)
            raise error('The SMTP server %s refused every recipient (%s).'
                        % (server, reasons),
                        receipt='%d %s' % (refused[-1][1],
                                           _reply_text(refused[-1][2])))
        policy = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP
        # smtplib raises if DATA is refused, not if the message is: the
        # final reply is the outcome, and the receipt.
        code, reply = smtp.data(mime.as_bytes(policy=policy))
        if code != 250:
            raise _reply_error(server, code, reply)
        receipt = '%d %s' % (code, _reply_text(reply))
        if refused:
            receipt += '; refused: ' + '; '.join(
                '%s (%d %s)' % (r, c, _reply_text(t)) for r, c, t in refused)
            LOG.warning('Message %(id)s was mailed to %(ok)d of %(n)d '
                        'recipients; the SMTP server %(server)s refused the '
                        'others.', {'id': mime['Message-ID'],
                                    'ok': len(accepted),
                                    'n': len(recipients), 'server': server})
        return base.Result(receipt=receipt, recipients=tuple(accepted))


def _header_address(value):
    """The header Address of "Name <a@b.example>" or "a@b.example"."""
    name, address = email.utils.parseaddr(value)
    try:
        wire, _ = _wire_address(address)
    except email_validator.EmailNotValidError as e:
        raise exception.PermanentDeliveryError(
            'Not mailed: the template\'s address %r is not valid: %s' % (
                value, e))
    return email.headerregistry.Address(display_name=one_line(name),
                                        addr_spec=wire)


def _charset(charset, *texts):
    """The template's charset if it can encode the message, else UTF-8."""
    if not charset:
        return 'utf-8'
    try:
        for text in texts:
            (text or '').encode(charset)
    except (LookupError, UnicodeError):
        LOG.warning('The message cannot be encoded in the template\'s '
                    'charset %s; sending it in UTF-8', charset)
        return 'utf-8'
    return charset


def _reply_text(reply):
    if isinstance(reply, bytes):
        reply = reply.decode('utf-8', 'replace')
    return one_line(reply, 300)


def _reply_error(server, code, reply, what='the message'):
    retryable = 400 <= code < 500
    error = (exception.RetryableDeliveryError if retryable
             else exception.PermanentDeliveryError)
    return error('The SMTP server %s refused %s with %d %s%s' % (
        server, what, code, _reply_text(reply),
        '; retrying later.' if retryable else '.'),
        receipt='%d %s' % (code, _reply_text(reply)))


def _close(smtp):
    """End the session; the outcome is already known, so errors here do
    not matter."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class EmailDriver(base.Driver):

    settings_schema = {
        'title': 'Email destination settings',
        'description': 'Where the email goes: give exactly one of '
                       'email_address and email_addresses.',
        'type': 'object',
        'properties': {
            'email_address': {
                'type': 'string', 'minLength': 3, 'maxLength': 254,
                'description': 'The recipient\'s address, such as '
                               'oncall@example.com.',
            },
            'email_addresses': {
                'type': 'array', 'minItems': 1,
                'maxItems': MAX_RECIPIENTS, 'uniqueItems': True,
                'items': {'type': 'string', 'minLength': 3,
                          'maxLength': 254},
                'description': 'Several recipients of one email, at most '
                               '%d; each sees the others in To.'
                               % MAX_RECIPIENTS,
            },
        },
        'additionalProperties': False,
    }
    secret_settings = ()

    def __init__(self, conf):
        super().__init__(conf)
        self.mailer = Mailer(conf)

    def check_configured(self):
        self.mailer.check_configured()

    def validate_settings(self, settings):
        given = [k for k in ('email_address', 'email_addresses')
                 if k in settings]
        if len(given) != 1:
            raise exception.ValidationError(
                detail='Invalid input for field settings: give exactly one '
                       'of email_address (one recipient) and '
                       'email_addresses (a list), not %s.' % (
                           ' and '.join(given) or 'neither'),
                field='settings')
        if 'email_address' in settings:
            return {'email_address': validate_address(
                settings['email_address'], 'email_address')}
        addresses = []
        for i, value in enumerate(settings['email_addresses']):
            address = validate_address(value, 'email_addresses.%d' % i)
            if address.lower() not in (a.lower() for a in addresses):
                addresses.append(address)
        return {'email_addresses': addresses}

    def deliver(self, message, settings):
        addressing = message.addressing or {}
        recipients = settings.get('email_addresses') or [
            a for a in [settings.get('email_address')] if a]
        if 'to' in addressing:  # the template replaces the destination's
            recipients = addressing['to']
        cc, bcc = addressing.get('cc') or (), addressing.get('bcc') or ()
        if not (recipients or cc or bcc):
            raise exception.PermanentDeliveryError(
                'Not mailed: the destination has no email_address.')
        return self.mailer.send(
            message, recipients, cc=cc, bcc=bcc,
            author=addressing.get('from'),
            reply_to=addressing.get('reply_to'),
            charset=addressing.get('charset'))
