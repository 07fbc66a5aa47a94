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
  the connection (DNS rebinding) is refused too. Through an HTTP proxy (from
  the engine's environment) the connection goes to the proxy, so the first
  two are what applies.

The options are read on every check, so that a change takes effect at once;
their parsed networks, the verdict on each address and what is parsed of
each URL are kept, keyed by what they were computed from.

A webhook URL can hold a secret (Slack and Teams put their tokens in the path
or the query), so only a URL's host ever appears in a log line, an error or a
receipt.

Deliveries go through urllib3's connection pools (what requests uses
underneath, without its per-request work): certificates are verified with
requests' CA bundle, or ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``; the
``http_proxy``, ``https_proxy``, ``all_proxy`` and ``no_proxy`` variables
apply as requests reads them; credentials in a URL are sent as basic
authentication; redirects are not followed and no cookie is kept.
"""

import base64
import collections
import email.utils
import functools
import ipaddress
import json
import logging as std_logging
import os
import socket
import threading
import time
import urllib.parse
import urllib.request

from requests import utils as requests_utils
import urllib3
from urllib3 import connection as urllib3_connection
from urllib3 import connectionpool as urllib3_connectionpool
from urllib3 import exceptions as urllib3_exceptions
from urllib3.util import retry as urllib3_retry

from notifier.drivers import base
from notifier import exception


MAX_URL = 2048
# Response headers whose value identifies the request at the receiver; the
# first one present goes into the receipt.
RESPONSE_ID_HEADERS = ('X-Request-Id', 'Request-Id', 'X-Correlation-Id',
                       'X-Ms-Request-Id', 'X-Ms-Workflow-Run-Id',
                       'X-Amzn-RequestId')
USER_AGENT = 'OpenStack-Notifier'
# What every delivery sends besides its own headers: requests' defaults.
DEFAULT_HEADERS = {
    'User-Agent': USER_AGENT,
    'Accept-Encoding': ', '.join(urllib3.util.make_headers(
        accept_encoding=True)['accept-encoding'].split(',')),
    'Accept': '*/*',
    'Connection': 'keep-alive',
}
JSON_HEADERS = {'Content-Type': 'application/json'}
# Statuses worth another attempt later; every other 4xx is permanent.
RETRYABLE_STATUSES = frozenset([408, 425, 429])


class AddressNotAllowed(Exception):
    """A URL's host is, or resolves to, an address the policy refuses."""


class InvalidRequest(ValueError):
    """A request that cannot be sent: its text says why, without the URL."""


@functools.lru_cache(maxsize=64)
def _networks(option, values):
    """The networks of ``values``, the value of ``option`` as a tuple."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(),
                                                 strict=False))
        except ValueError:
            raise exception.Invalid(
                '[driver_webhook] %s has %r, which is not an IP network in '
                'CIDR notation such as 10.0.0.0/8 or fd00::/8; correct the '
                'option.' % (option, value))
    return tuple(networks)


def check_policy(conf):
    """Raise :class:`exception.Invalid` naming a malformed network option."""
    opts = conf.driver_webhook
    _networks('allowed_networks', tuple(opts.allowed_networks))
    _networks('denied_networks', tuple(opts.denied_networks))


def refusal(conf, address):
    """Why ``address`` may not be reached, or None if it may."""
    opts = conf.driver_webhook
    return _refusal(address, tuple(opts.denied_networks),
                    tuple(opts.allowed_networks))


@functools.lru_cache(maxsize=1024)
def _refusal(address, denied, allowed):
    ip = ipaddress.ip_address(address.split('%', 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for network in _networks('denied_networks', denied):
        if ip.version == network.version and ip in network:
            return ('address %s is in %s, which [driver_webhook] '
                    'denied_networks refuses' % (ip, network))
    allowed = _networks('allowed_networks', allowed)
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


@functools.lru_cache(maxsize=1024)
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


# What a delivery needs of a URL, parsed once per URL (see _target).
_Target = collections.namedtuple('_Target', [
    'problem',        # what is wrong with the URL itself, or None
    'host',           # the host (and port) as it may be shown
    'hostname',       # the host to resolve
    'port',           # the port to resolve it for
    'address',        # the address, if the host is an IP address
    'hidden',         # the URL's parts that can hold a secret
    'invalid',        # why it cannot be sent (as requests said), or None
    'scheme', 'pool_host', 'pool_port', 'request_uri',
    'proxy_url',      # the URL to send through a proxy: no credentials
    'authorization',  # Basic authentication from its credentials, or None
], defaults=(None,) * 13)


def _basic_auth(username, password):
    """An ``Authorization`` value, as requests makes it."""
    return 'Basic ' + base64.b64encode(b'%s:%s' % (
        username.encode('latin1'), password.encode('latin1'))).decode()


@functools.lru_cache(maxsize=1024)
def _target(url):
    """What :func:`_url_problem` and :class:`Session` need of ``url``."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        # Not quoted: the text would show part of the URL.
        return _Target(
            problem='is not valid: check its port and any IPv6 address',
            hidden=(url,))
    problem = None
    if len(url) > MAX_URL:
        problem = 'is longer than %d characters' % MAX_URL
    elif parts.scheme not in ('http', 'https') or not parts.hostname:
        problem = 'must be an http:// or https:// URL with a host name'
    elif any(c.isspace() or ord(c) < 0x20 for c in url):
        problem = 'must not contain spaces or control characters'
    host = parts.hostname
    try:
        address = str(ipaddress.ip_address((host or '').split('%', 1)[0]))
    except ValueError:
        address = None
    invalid = authorization = pool = None
    if problem is None:
        try:
            if host.startswith(('*', '.')):
                raise ValueError(host)
            pool = urllib3.util.parse_url(url)
        except ValueError:
            invalid = 'InvalidURL'
        credentials = requests_utils.get_auth_from_url(url)
        try:
            if any(credentials):
                authorization = _basic_auth(*credentials)
        except UnicodeEncodeError as e:
            invalid = type(e).__name__
    return _Target(
        problem=problem, host=host_of(url), hostname=host,
        port=port or (443 if parts.scheme == 'https' else 80),
        address=address, hidden=(url, parts.path, parts.query),
        invalid=invalid, scheme=parts.scheme,
        pool_host=pool and pool.host, pool_port=pool and pool.port,
        request_uri=pool and pool.request_uri,
        proxy_url=pool and pool._replace(auth=None, fragment=None).url,
        authorization=authorization)


def _url_problem(conf, url):
    """What is wrong with ``url`` for a delivery, or None.

    A host that does not resolve is not a problem here: the delivery fails
    (and is retried) when it connects.
    """
    target = _target(url)
    if target.problem is not None:
        return target.problem
    host = target.hostname
    if target.address is not None:
        addresses = [target.address]
    else:
        try:
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(
                host, target.port, type=socket.SOCK_STREAM)})
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


def _checked_pool_classes(address_check):
    check = {'address_check': staticmethod(address_check)}
    return {
        'http': type('HTTPConnectionPool',
                     (urllib3_connectionpool.HTTPConnectionPool,),
                     {'ConnectionCls': type('HTTPConnection',
                                            (_CheckedHTTPConnection,),
                                            check)}),
        'https': type('HTTPSConnectionPool',
                      (urllib3_connectionpool.HTTPSConnectionPool,),
                      {'ConnectionCls': type('HTTPSConnection',
                                             (_CheckedHTTPSConnection,),
                                             check)}),
    }


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
# As requests' default: no retry inside urllib3 (the engine retries, and
# records each attempt), and a failed read raised as it is.
_NO_RETRIES = urllib3_retry.Retry(0, read=False)
# requests' number of receivers (hosts) whose connections are kept.
_POOLS = 10


class Session:
    """The HTTP client of deliveries to tenants' URLs, to use with
    :func:`post`.

    Every connection it opens directly is checked against the network
    policy; urllib3's debug lines of its requests do not show paths; a
    receiver's pool is as large as the engine's delivery thread pool, so
    that connections to one receiver are reused across deliveries. The
    proxies and the CA bundle are those of the environment when it is
    made.
    """

    def __init__(self, conf):
        def address_check(address):
            reason = refusal(conf, address)
            if reason is not None:
                raise AddressNotAllowed(reason)

        for name in ('urllib3.connectionpool', 'urllib3.connection'):
            logger = std_logging.getLogger(name)
            if _REDACT not in logger.filters:
                logger.addFilter(_REDACT)
        bundle = (os.environ.get('REQUESTS_CA_BUNDLE') or
                  os.environ.get('CURL_CA_BUNDLE') or
                  requests_utils.DEFAULT_CA_BUNDLE_PATH)
        self.ca_bundle = bundle
        self._pool_kw = {
            'num_pools': _POOLS, 'maxsize': conf.engine.delivery_threads,
            'cert_reqs': 'CERT_REQUIRED',
            'ca_cert_dir' if os.path.isdir(bundle) else 'ca_certs': bundle}
        self._direct = urllib3.PoolManager(**self._pool_kw)
        self._direct.pool_classes_by_scheme = _checked_pool_classes(
            address_check)
        self.proxies = urllib.request.getproxies()
        self._proxied = {}
        self._lock = threading.Lock()

    def post(self, url, body, headers=None, timeout=None):
        """POST ``body`` to ``url``; the urllib3 response, its body read.
        Raises urllib3's errors, OSError, ValueError for a request that
        cannot be sent, and :class:`AddressNotAllowed`."""
        target = _target(url)
        if target.invalid is not None:
            raise InvalidRequest(target.invalid)
        all_headers = dict(DEFAULT_HEADERS)
        if headers:
            all_headers.update(headers)
        if target.authorization is not None:
            all_headers['Authorization'] = target.authorization
        kwargs = {'body': body, 'headers': all_headers,
                  'retries': _NO_RETRIES, 'redirect': False,
                  'timeout': urllib3.Timeout(connect=timeout, read=timeout)}
        proxy = self._proxy(url) if self.proxies else None
        _sending.active = True
        try:
            if proxy is not None:
                return self._proxy_manager(proxy).urlopen(
                    'POST', target.proxy_url, **kwargs)
            pool = self._direct.connection_from_host(
                target.pool_host, port=target.pool_port,
                scheme=target.scheme)
            return pool.urlopen('POST', target.request_uri,
                                assert_same_host=False, **kwargs)
        finally:
            _sending.active = False

    def _proxy(self, url):
        """The proxy of the environment for ``url``, or None: as requests
        chooses it."""
        if requests_utils.should_bypass_proxies(url, no_proxy=None):
            return None
        proxy = requests_utils.select_proxy(url, self.proxies)
        return proxy and requests_utils.prepend_scheme_if_needed(proxy,
                                                                 'http')

    def _proxy_manager(self, proxy):
        with self._lock:
            manager = self._proxied.get(proxy)
            if manager is not None:
                return manager
            username, password = requests_utils.get_auth_from_url(proxy)
            if proxy.lower().startswith('socks'):
                try:
                    from urllib3.contrib import socks
                except ImportError:  # PySocks is not installed
                    raise InvalidRequest('InvalidSchema')
                manager = socks.SOCKSProxyManager(
                    proxy, username=username, password=password,
                    **self._pool_kw)
            else:
                manager = urllib3.ProxyManager(
                    proxy, proxy_headers={
                        'Proxy-Authorization': _basic_auth(username,
                                                           password)}
                    if username else None, **self._pool_kw)
            self._proxied[proxy] = manager
            return manager

    def close(self):
        """Close every kept connection; the session stays usable."""
        self._direct.clear()
        with self._lock:
            for manager in self._proxied.values():
                manager.clear()


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
    """A short reason for an exception of :meth:`Session.post`, without its
    URL (the exception's text would include the path and query)."""
    if isinstance(e, urllib3_exceptions.MaxRetryError) and e.reason:
        e = e.reason
    if isinstance(e, (urllib3_exceptions.TimeoutError, TimeoutError)) and (
            not isinstance(e, urllib3_exceptions.NewConnectionError)):
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


def _text(response):
    """A response's body as text, in the charset it declares (UTF-8 if it
    declares none or one unknown)."""
    charset = 'utf-8'
    for param in response.headers.get('Content-Type', '').split(';')[1:]:
        name, _, value = param.partition('=')
        if name.strip().lower() == 'charset':
            charset = value.strip().strip('"\'') or charset
    try:
        return response.data.decode(charset, 'replace')
    except LookupError:
        return response.data.decode('utf-8', 'replace')


def json_body(value):
    """``value`` as the body of a JSON request (with :data:`JSON_HEADERS`),
    encoded as requests' ``json=`` did."""
    return json.dumps(value, allow_nan=False).encode()


def post(conf, http, url, what, timeout, body, headers=None, hidden=()):
    """POST ``body`` to a tenant's ``url`` with ``http``, a
    :class:`Session`, and turn the outcome into a :class:`base.Result` or a
    delivery error.

    ``what`` names the receiver in messages ("webhook", "Teams workflow");
    ``hidden`` lists secrets to take out of quoted response bodies, besides
    the URL's path and query.
    2xx is success; 408, 425, 429 and 5xx are worth a retry (after
    Retry-After if given); 410 and every other status are permanent.
    """
    check_url(conf, url)
    target = _target(url)
    host = target.host or '(no host)'
    hidden = target.hidden + tuple(hidden)
    try:
        response = http.post(url, body, headers, timeout)
    except AddressNotAllowed as e:
        raise exception.PermanentDeliveryError(
            'Not delivered to the %s at %s: the connection reached %s. Use a '
            'URL whose host is on a network the operator allows.' % (
                what, host, e))
    except (urllib3_exceptions.LocationValueError, InvalidRequest) as e:
        raise exception.PermanentDeliveryError(
            'Not delivered to the %s at %s: the request is invalid '
            '(%s).' % (what, host, e if isinstance(e, InvalidRequest)
                       else 'InvalidURL'))
    except (urllib3_exceptions.HTTPError, OSError) as e:
        raise exception.RetryableDeliveryError(
            'Could not deliver to the %s at %s: %s.' % (
                what, host, _connection_failure(e)))
    except ValueError as e:  # a header that cannot be sent
        raise exception.PermanentDeliveryError(
            'Not delivered to the %s at %s: the request is invalid '
            '(%s).' % (what, host, type(e).__name__))
    status = response.status
    if 200 <= status < 300:
        receipt = 'HTTP %d' % status
        for name in RESPONSE_ID_HEADERS:
            value = response.headers.get(name)
            if value:
                receipt += ' %s=%s' % (name, _excerpt(value, hidden, 128))
                break
        return base.Result(receipt=receipt)
    body = _excerpt(_text(response), hidden)
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
