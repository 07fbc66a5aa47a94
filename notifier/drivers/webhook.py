"""The ``webhook`` driver: a CloudEvent POSTed to a tenant's URL.

Each delivery is a CloudEvents 1.0 event: ``id`` the delivery id (the same on
every attempt, so a receiver can drop duplicates), ``source``
``[driver_webhook] source``, ``type`` the message's event type, ``time``
when the notification was generated, and the notification itself as
``data`` (JSON). In the ``structured`` mode (the default) the body is the
whole event as ``application/cloudevents+json``; in the ``binary`` mode the
attributes are ``ce-*`` headers and the body is the data.

A destination may add:

* ``auth_token``, sent as ``Authorization: Bearer <auth_token>``;
* ``signing_secret``, to sign each request as Standard Webhooks do: headers
  ``webhook-id`` (the delivery id), ``webhook-timestamp`` (Unix seconds) and
  ``webhook-signature`` ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.
  The secret is 24 to 64 random bytes in base64, with or without the
  ``whsec_`` prefix (``whsec_`` + base64 is what the standardwebhooks
  libraries generate and take), so that a receiver verifies with
  ``standardwebhooks.Webhook(secret).verify(body, headers)``.

2xx is success; 408, 429 and 5xx are retried after Retry-After when given;
410 (gone) and every other answer are permanent. Redirects are not followed.
"""

import base64
import binascii
import dataclasses
import datetime
import functools
import hashlib
import hmac
import json
import time
import urllib.parse


from notifier.drivers import base
from notifier.drivers import net
from notifier import exception

SPECVERSION = '1.0'
STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json'
DATA_CONTENT_TYPE = 'application/json'
SECRET_PREFIX = 'whsec_'
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
MAX_TOKEN = 4096
# CloudEvents HTTP binding: header values percent-encode space, '"', '%'
# and everything outside printable ASCII.
_HEADER_SAFE = ''.join(chr(c) for c in range(0x21, 0x7f)
                       if chr(c) not in ' "%')


def signing_key(secret):
    """The HMAC key of a ``signing_secret``, or ValueError saying why the
    secret is not usable."""
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(
        SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded + '=' * (-len(encoded) % 4),
                               validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('it must be base64, optionally after "whsec_"')
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError('it must encode %d to %d bytes, not %d' % (
            MIN_SECRET_BYTES, MAX_SECRET_BYTES, len(key)))
    return key


def signature(key, msg_id, timestamp, body):
    """The Standard Webhooks ``webhook-signature`` value."""
    signed = b'%s.%d.%s' % (msg_id.encode(), timestamp, body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return 'v1,' + base64.b64encode(digest).decode()


def event_time(event):
    """RFC 3339 time of the notification's ``generated_time`` (UTC when it
    has no zone), or of now if it has none."""
    value = event.get('generated_time')
    if isinstance(value, str):
        when = _rfc3339(value)
        if when is not None:
            return when
    return _utc(datetime.datetime.now(datetime.timezone.utc))


# The deliveries of a notification share its time: parsed once.
@functools.lru_cache(maxsize=256)
def _rfc3339(value):
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return _utc(when)


def _utc(when):
    return when.astimezone(datetime.timezone.utc).isoformat().replace(
        '+00:00', 'Z')


def cloud_event(message, source):
    """The CloudEvent of ``message`` as a dict of attributes and data."""
    return {
        'specversion': SPECVERSION,
        'id': message.delivery_id,
        'source': source,
        'type': message.event_type,
        'time': event_time(message.event),
        'datacontenttype': DATA_CONTENT_TYPE,
        'data': message.event,
    }


def _dumps(value):
    return json.dumps(value, separators=(',', ':')).encode()


def build_request(message, settings, source, now=None):
    """``(headers, body)`` of the POST that delivers ``message``."""
    event = cloud_event(message, source)
    if settings.get('mode', 'structured') == 'binary':
        data = event.pop('data')
        headers = {'Content-Type': event.pop('datacontenttype')}
        headers.update(('ce-%s' % name, urllib.parse.quote(
            value, safe=_HEADER_SAFE)) for name, value in event.items())
        body = _dumps(data)
    else:
        headers = {'Content-Type': STRUCTURED_CONTENT_TYPE}
        body = _dumps(event)
    if settings.get('auth_token'):
        headers['Authorization'] = 'Bearer %s' % settings['auth_token']
    if settings.get('signing_secret'):
        timestamp = int(time.time() if now is None else now)
        headers['webhook-id'] = message.delivery_id
        headers['webhook-timestamp'] = str(timestamp)
        headers['webhook-signature'] = signature(
            signing_key(settings['signing_secret']), message.delivery_id,
            timestamp, body)
    return headers, body


class WebhookDriver(base.Driver):

    settings_schema = {
        'title': 'Webhook destination settings',
        'description': 'An HTTP endpoint that receives each notification '
                       'as a CloudEvent (JSON) in a POST request.',
        'type': 'object',
        'properties': {
            'url': {
                'type': 'string', 'minLength': 10, 'maxLength': 2048,
                'pattern': '^https?://',
                'description': 'http:// or https:// URL the events are '
                               'POSTed to. Anyone who can read the '
                               'destination sees it: put credentials in '
                               'auth_token, not in the URL.',
            },
            # auth_token and signing_secret are secrets: checked by
            # validate_settings, whose errors do not quote them, rather
            # than by the schema, whose errors would.
            'auth_token': {
                'type': 'string',
                'description': 'Token sent as "Authorization: Bearer '
                               '<auth_token>": 1 to %d printable ASCII '
                               'characters without spaces. A secret, '
                               'write-only.' % MAX_TOKEN,
            },
            'signing_secret': {
                'type': 'string',
                'description': 'Standard Webhooks secret to sign each '
                               'request with (headers webhook-id, '
                               'webhook-timestamp, webhook-signature): 24 '
                               'to 64 random bytes in base64, with or '
                               'without the "whsec_" prefix, such as the '
                               'output of: python3 -c "import base64, '
                               'secrets; print(\'whsec_\' + '
                               'base64.b64encode(secrets.token_bytes(32))'
                               '.decode())". A secret, write-only.',
            },
            'mode': {
                'type': 'string', 'enum': ['structured', 'binary'],
                'default': 'structured',
                'description': 'CloudEvents HTTP content mode: '
                               '"structured" sends the whole event as '
                               'application/cloudevents+json; "binary" '
                               'sends the attributes as ce-* headers and '
                               'the data as application/json.',
            },
        },
        'required': ['url'],
        'additionalProperties': False,
    }
    secret_settings = ('auth_token', 'signing_secret')
    # The CloudEvent's data is the notification: no template applies.
    renders = False

    def __init__(self, conf):
        super().__init__(conf)
        self._http = net.Session(conf)

    @property
    def _opts(self):
        return self.conf.driver_webhook

    def check_configured(self):
        net.check_policy(self.conf)

    def validate_settings(self, settings):
        net.validate_url(self.conf, settings['url'], 'url')
        token = settings.get('auth_token')
        if token is not None and not (
                0 < len(token) <= MAX_TOKEN and
                all('!' <= c <= '~' for c in token)):
            raise exception.ValidationError(
                detail='Invalid input for field settings.auth_token: it '
                       'must be 1 to %d printable ASCII characters without '
                       'spaces or line breaks.' % MAX_TOKEN,
                field='auth_token')
        if 'signing_secret' in settings:
            try:
                signing_key(settings['signing_secret'])
            except ValueError as e:
                raise exception.ValidationError(
                    detail='Invalid input for field settings.signing_secret'
                           ': %s.' % e, field='signing_secret')
        return settings

    def deliver(self, message, settings):
        opts = self._opts
        try:
            headers, body = build_request(message, settings, opts.source)
        except ValueError as e:
            raise exception.PermanentDeliveryError(
                'Not delivered: the destination\'s signing_secret is not '
                'usable: %s.' % e)
        result = net.post(self.conf, self._http, settings['url'],
                          'webhook', opts.timeout, body,
                          headers=headers,
                          hidden=(settings.get('auth_token'),
                                  settings.get('signing_secret')))
        return dataclasses.replace(
            result, recipients=(net.public_url(settings['url']),))

    def close(self):
        self._http.close()
