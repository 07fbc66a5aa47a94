"""Where tenants' URLs may point, and the HTTP delivery they share.

Webhook, Slack (``webhook_url``) and Teams destinations carry a URL chosen by
a tenant, which the engine then calls from inside the cloud. The operator's
``[driver_webhook] allowed_networks`` and ``denied_networks`` say which
addresses such a URL may reach; by default everything except link-local
addresses and the metadata service. The policy is checked three times:

* when a destination is validated (the URL's host, resolved if it can be),
* before each delivery (the host resolved again, every address checked),
* on every connection the engine opens for a delivery (the address the
  socket actually reached), so that a name re-pointed between the check and
  the connection (DNS rebinding) is refused too. Through an HTTP proxy this
  last check sees the proxy, so the first two are what applies.

A webhook URL can hold a secret (Slack and Teams put their tokens in the path
or the query), so only a URL's host ever appears in a log line, an error or a
receipt.
"""

import email.utils
import ipaddress
import logging as std_logging
import os
import socket
import threading
import time
import urllib.parse
import urllib.request

import requests
import requests.adapters
from urllib3 import connection as urllib3_connection
from urllib3 import connectionpool as urllib3_connectionpool

from notifier.drivers import base
from notifier import exception


MAX_URL = 2048
# Response headers whose value identifies the request at the receiver; the
# first one present goes into the receipt.
RESPONSE_ID_HEADERS = ('X-Request-Id', 'Request-Id', 'X-Correlation-Id',
                       'X-Ms-Request-Id', 'X-Ms-Workflow-Run-Id',
                       'X-Amzn-RequestId')
USER_AGENT = 'OpenStack-Notifier'
# Statuses worth another attempt later; every other 4xx is permanent.
RETRYABLE_STATUSES = frozenset([408, 425, 429])


class AddressNotAllowed(Exception):
    """A URL's host is, or resolves to, an address the policy refuses."""


def _parse_networks(conf, option):
    networks = []
    for value in getattr(conf.driver_webhook, option):
        try:
            networks.append(ipaddress.ip_network(value.strip(),
                                                 strict=False))
        except ValueError:
            raise exception.Invalid(
                '[driver_webhook] %s has %r, which is not an IP network in '
                'CIDR notation such as 10.0.0.0/8 or fd00::/8; correct the '
                'option.' % (option, value))
    return networks


def check_policy(conf):
    """Raise :class:`exception.Invalid` naming a malformed network option."""
    _parse_networks(conf, 'allowed_networks')
    _parse_networks(conf, 'denied_networks')


def refusal(conf, address):
    """Why ``address`` may not be reached, or None if it may."""
    ip = ipaddress.ip_address(address.split('%', 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network in _parse_networks(conf, 'denied_networks'):
        if ip.version == network.version and ip in network:
            return ('address %s is in %s, which [driver_webhook] '
                    'denied_networks refuses' % (ip, network))
    allowed = _parse_networks(conf, 'allowed_networks')
    if allowed and not any(ip.version == n.version and ip in n
                           for n in allowed):
        return ('address %s is not in [driver_webhook] allowed_networks'
                % ip)
    return None


def host_of(url):
    """The host (and port, if any) of ``url``: what may be shown of it;
    None if it has none."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    if ':' in host:
        host = '[%s]' % host
    return '%s:%s' % (host, port) if port else host


def public_url(url, path=True):
    """What the ledger may show of ``url`` as a delivery's recipient: its
    scheme, host and port, and its path if ``path`` (not for Slack or
    Teams webhooks, whose path is their token); never the user and
    password nor the query string, which can hold a token. None if it
    has no host."""
    host = host_of(url)
    if host is None:
        return None
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(
        (parts.scheme, host, parts.path if path else '', '', ''))


def _url_problem(conf, url):
    """What is wrong with ``url`` for a delivery, or None.

    A host that does not resolve is not a problem here: the delivery fails
    (and is retried) when it connects.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        # Not quoted: the text would show part of the URL.
        return 'is not valid: check its port and any IPv6 address'
    if len(url) > MAX_URL:
        return 'is longer than %d characters' % MAX_URL
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        return 'must be an http:// or https:// URL with a host name'
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        return 'must not contain spaces or control characters'
    host = parts.hostname
    port = port or (443 if parts.scheme == 'https' else 80)
    try:
        addresses = [str(ipaddress.ip_address(host.split('%', 1)[0]))]
    except ValueError:
        try:
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM)})
        except (OSError, UnicodeError):
            return None
    for address in addresses:
        reason = refusal(conf, address)
        if reason is not None:
            if address != host:
                reason = 'host %s resolves to %s' % (host, reason)
            return ('is refused: %s. Use a URL whose host is on a network '
                    'the operator allows' % reason)
    return None


def validate_url(conf, url, field):
    """Raise :class:`exception.ValidationError` if a destination's URL is
    malformed or points where deliveries are refused."""
    problem = _url_problem(conf, url)
    if problem is not None:
        host = host_of(url)
        raise exception.ValidationError(
            detail='Invalid input for field settings.%s: the URL%s %s.' % (
                field, ' of host %s' % host if host else '', problem),
            field=field)


def check_url(conf, url):
    """Raise :class:`exception.PermanentDeliveryError` if a delivery may
    not go to ``url`` (the policy may have changed since validation), or
    :class:`exception.RetryableDeliveryError` if the policy options are
    malformed (the operator can correct them)."""
    try:
        problem = _url_problem(conf, url)
    except exception.Invalid as e:
        raise exception.RetryableDeliveryError(
            'Not delivered to %s: %s' % (host_of(url) or 'its host', e))
    if problem is not None:
        raise exception.PermanentDeliveryError(
            'Not delivered to %s: the destination URL %s.' % (
                host_of(url) or 'its host', problem))


# Connections that check the address they reached. A class attribute holds
# the check, set on a subclass made per session.

class _CheckedConnectionMixin:
    address_check = None

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            self.address_check(sock.getpeername()[0])
        except BaseException:
            sock.close()
            raise
        return sock


class _CheckedHTTPConnection(_CheckedConnectionMixin,
                             urllib3_connection.HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnectionMixin,
                              urllib3_connection.HTTPSConnection):
    pass


# urllib3 logs each request's path and query at DEBUG; for a webhook they
# can hold the destination's token. While a delivery is being sent on this
# thread, those arguments are replaced in urllib3's records.
_sending = threading.local()


class _RedactURLs(std_logging.Filter):

    def filter(self, record):
        if getattr(_sending, 'active', False) and isinstance(record.args,
                                                             tuple):
            record.args = tuple(
                '(path hidden)' if isinstance(arg, str) and (
                    arg.startswith('/') or '://' in arg) else arg
                for arg in record.args)
        return True


_REDACT = _RedactURLs()


class _PolicyAdapter(requests.adapters.HTTPAdapter):

    def __init__(self, address_check, **kwargs):
        self._address_check = address_check
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        check = {'address_check': staticmethod(self._address_check)}
        http = type('HTTPConnectionPool',
                    (urllib3_connectionpool.HTTPConnectionPool,),
                    {'ConnectionCls': type('HTTPConnection',
                                           (_CheckedHTTPConnection,), check)})
        https = type('HTTPSConnectionPool',
                     (urllib3_connectionpool.HTTPSConnectionPool,),
                     {'ConnectionCls': type('HTTPSConnection',
                                            (_CheckedHTTPSConnection,),
                                            check)})
        self.poolmanager.pool_classes_by_scheme = {'http': http,
                                                   'https': https}

    def send(self, *args, **kwargs):
        _sending.active = True
        try:
            return super().send(*args, **kwargs)
        finally:
            _sending.active = False


def session(conf):
    """A :class:`requests.Session` for deliveries to tenants' URLs, to use
    with :func:`post`: every connection it opens is checked against the
    network policy, urllib3's debug lines of its requests do not show
    paths, and its pool is as large as the engine's delivery thread pool,
    so that connections to one receiver are reused across deliveries."""
    def address_check(address):
        reason = refusal(conf, address)
        if reason is not None:
            raise AddressNotAllowed(reason)

    for name in ('urllib3.connectionpool', 'urllib3.connection'):
        logger = std_logging.getLogger(name)
        if _REDACT not in logger.filters:
            logger.addFilter(_REDACT)
    s = requests.Session()
    s.headers['User-Agent'] = USER_AGENT
    if not urllib.request.getproxies():
        # With trust_env, requests scans the whole environment for proxy
        # variables on every request (a good part of a delivery's CPU).
        # No proxy is configured: read the CA bundle variables once, and
        # never send the engine's ~/.netrc credentials to tenants' URLs.
        s.trust_env = False
        bundle = os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get(
            'CURL_CA_BUNDLE')
        if bundle:
            s.verify = bundle
    adapter = _PolicyAdapter(address_check,
                             pool_maxsize=conf.engine.delivery_threads)
    s.mount('http://', adapter)
    s.mount('https://', adapter)
    return s


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (seconds or an HTTP date),
    or None if it is absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _excerpt(text, hidden=(), width=200):
    """One line of at most ``width`` characters of a response body, with
    the ``hidden`` strings (secrets) taken out."""
    text = ' '.join((text or '').split())
    for secret in hidden:
        if secret and len(secret) >= 8:
            text = text.replace(secret, '***')
    return text if len(text) <= width else text[:width - 3] + '...'


def _connection_failure(e):
    """A short reason for a requests exception, without its URL (the
    exception's text would include the path and query)."""
    if isinstance(e, requests.exceptions.Timeout):
        return 'timed out'
    reason, seen = e, set()
    while id(reason) not in seen:
        seen.add(id(reason))
        inner = getattr(reason, 'reason', None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in getattr(reason, 'args', ())
                          if isinstance(a, BaseException)), None)
        if inner is None:
            break
        reason = inner
    cause = reason.__cause__ or reason.__context__
    for candidate in (reason, cause):
        if isinstance(candidate, OSError) and candidate.strerror:
            return candidate.strerror
        if isinstance(candidate, socket.gaierror):
            return 'the host name does not resolve'
    return type(reason).__name__


def post(conf, http, url, what, timeout, hidden=(), **kwargs):
    """POST to a tenant's ``url`` with the ``http`` session of :func:`session`
    and turn the outcome into a :class:`base.Result` or a delivery error.

    ``what`` names the receiver in messages ("webhook", "Teams workflow");
    ``hidden`` lists secrets to take out of quoted response bodies, besides
    the URL's path and query.
    2xx is success; 408, 425, 429 and 5xx are worth a retry (after
    Retry-After if given); 410 and every other status are permanent.
    """
    host = host_of(url) or '(no host)'
    check_url(conf, url)
    parts = urllib.parse.urlsplit(url)
    hidden = (url, parts.path, parts.query) + tuple(hidden)
    try:
        response = http.post(url, timeout=timeout, allow_redirects=False,
                             **kwargs)
    except AddressNotAllowed as e:
        raise exception.PermanentDeliveryError(
            'Not delivered to the %s at %s: the connection reached %s. Use a '
            'URL whose host is on a network the operator allows.' % (
                what, host, e))
    except requests.exceptions.RequestException as e:
        if isinstance(e, ValueError):  # InvalidURL, InvalidHeader, ...
            raise exception.PermanentDeliveryError(
                'Not delivered to the %s at %s: the request is invalid '
                '(%s).' % (what, host, type(e).__name__))
        raise exception.RetryableDeliveryError(
            'Could not deliver to the %s at %s: %s.' % (
                what, host, _connection_failure(e)))
    with response:
        status = response.status_code
        if 200 <= status < 300:
            receipt = 'HTTP %d' % status
            for name in RESPONSE_ID_HEADERS:
                value = response.headers.get(name)
                if value:
                    receipt += ' %s=%s' % (name, _excerpt(value, hidden, 128))
                    break
            return base.Result(receipt=receipt)
        body = _excerpt(response.text, hidden)
        detail = '%s answered HTTP %d%s' % (
            host, status, ' (%s)' % body if body else '')
        receipt = 'HTTP %d' % status
    if status in RETRYABLE_STATUSES or status >= 500:
        retry_after = parse_retry_after(response.headers.get('Retry-After'))
        raise exception.RetryableDeliveryError(
            'The %s at %s; retrying%s.' % (
                what, detail, ' after %.0f s as asked' % retry_after
                if retry_after is not None else ''),
            retry_after=retry_after, receipt=receipt)
    if status == 410:
        raise exception.DestinationGone(
            'The %s at %s: the endpoint is gone; the destination needs a new '
            'URL.' % (what, detail), receipt=receipt)
    if 300 <= status < 400:
        raise exception.PermanentDeliveryError(
            'The %s at %s, a redirect, which is not followed; update the '
            'destination with the final URL.' % (what, detail),
            receipt=receipt)
    raise exception.PermanentDeliveryError(
        'The %s at %s and refused the delivery.' % (what, detail),
        receipt=receipt)
