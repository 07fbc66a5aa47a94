"""API microversions, read from ``OpenStack-API-Version``.

Both our service type, ``notification``, and masakari's, ``instance-ha``,
are honoured, so that unmodified masakari clients get the version they ask
for. The answer names the service type the client used.
"""

import functools

import microversion_parse
import webob
import webob.headers

from notifier import exception

SERVICE_TYPES = ('notification', 'instance-ha')

# One line per version; mirrored in api-ref's version history. The minimum
# is never raised.
VERSIONS = [
    '1.0',  # Masakari-compatible notifications, and hosts.
    '1.1',  # Notification show adds recovery_workflow_details (masakari 1.1).
    '1.2',  # No change to Notifier's resources (masakari 1.2: segments).
    '1.3',  # No change to Notifier's resources (masakari 1.3: vmoves).
    '1.4',  # Create notification accepts project_id: a service user posts
            # alerts for the project that owns the host.
    '1.5',  # Destinations (with test send) and subscriptions; notification
            # show adds deliveries with their attempts.
    '1.6',  # Templates (system defaults, project overrides, preview), the
            # delivery ledger with resend, and destination health.
    '1.7',  # Direct messages (/v1/messages: Slack, email, a destination or
            # the fallback media) and broadcasts to child projects.
]
MIN_VERSION = microversion_parse.parse_version_string(VERSIONS[0])
MAX_VERSION = microversion_parse.parse_version_string(VERSIONS[-1])
ENV_KEY = 'notifier.microversion'


class VersionNotAcceptable(exception.NotifierException):
    msg_fmt = ('Version %(version)s is not supported by the API. Minimum is '
               '%(min)s and maximum is %(max)s.')


def _get_version(headers, service_type):
    """microversion_parse.get_version, cheaply for a webob request.

    get_version copies every header of the request (through webob's
    environ view) on each call, and a request asks it up to four times;
    the one header it reads is looked up directly instead.
    """
    if isinstance(headers, webob.headers.EnvironHeaders):
        value = headers.get(microversion_parse.STANDARD_HEADER)
        if value is None:
            return None
        headers = {microversion_parse.STANDARD_HEADER: value}
    return microversion_parse.get_version(headers, service_type)


@functools.lru_cache(maxsize=None)
def _parse(version):
    """A handler's version bound, parsed once rather than per request."""
    return microversion_parse.parse_version_string(version)


def service_type(headers):
    """The service type the client named in OpenStack-API-Version."""
    for candidate in SERVICE_TYPES:
        if _get_version(headers, candidate) is not None:
            return candidate
    return SERVICE_TYPES[0]


def extract(headers):
    """(Version, service type) requested; the minimum when none is."""
    for service_type in SERVICE_TYPES:
        value = _get_version(headers, service_type)
        if value is not None:
            break
    else:
        return MIN_VERSION, SERVICE_TYPES[0]
    if value == 'latest':
        return MAX_VERSION, service_type
    try:
        version = microversion_parse.parse_version_string(value)
    except TypeError:
        raise exception.ValidationError(
            detail='Invalid OpenStack-API-Version header %r: give '
                   '"%s X.Y" (for example "%s %s") or "latest".' % (
                       value, service_type, service_type, VERSIONS[-1]))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise VersionNotAcceptable(version=value, min=MIN_VERSION,
                                   max=MAX_VERSION)
    return version, service_type


def requested(req):
    return req.environ[ENV_KEY][0]


def is_supported(req, min_version=None, max_version=None):
    version = requested(req)
    if min_version and version < _parse(min_version):
        return False
    if max_version and version > _parse(max_version):
        return False
    return True


def version_bounds(min_version=None, max_version=None):
    """A handler exists only in these versions: 404 outside them."""
    def decorator(f):
        @functools.wraps(f)
        def wrapper(req, *args, **kwargs):
            if not is_supported(req, min_version, max_version):
                raise webob.exc.HTTPNotFound(
                    'This resource does not exist in API version %s; it '
                    'needs %s%s.' % (requested(req), min_version or '1.0',
                                     ' to %s' % max_version
                                     if max_version else ' or later'))
            return f(req, *args, **kwargs)
        return wrapper
    return decorator


def response_headers(req, response):
    version, service_type = req.environ.get(
        ENV_KEY, (MIN_VERSION, SERVICE_TYPES[0]))
    response.headers['OpenStack-API-Version'] = '%s %s' % (service_type,
                                                           version)
    if 'OpenStack-API-Version' not in response.headers.get('Vary', ''):
        response.headers.add('Vary', 'OpenStack-API-Version')
