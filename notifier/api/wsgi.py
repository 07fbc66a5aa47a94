"""The handler wrapper: JSON in and out, exceptions mapped to HTTP in one
place, masakari's error body format.

Every error body is ``{"<fault name>": {"code": N, "message": "...",
"request_id": "req-..."}}`` (the format masakari and nova clients parse);
the message says what was wrong and how to fix it. A 500 never carries a
traceback.
"""

import json

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_serialization import jsonutils
from sqlalchemy import exc as sa_exc
import webob
import webob.dec
import webob.exc

from notifier.api import microversion
from notifier import crypto
from notifier import exception

LOG = logging.getLogger(__name__)

FAULT_NAMES = {
    400: 'badRequest', 401: 'unauthorized', 403: 'forbidden',
    404: 'itemNotFound', 405: 'badMethod', 406: 'notAcceptable',
    409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType',
    503: 'serviceUnavailable',
}

# Domain exceptions to HTTP status; the first matching base class wins.
STATUS_FOR = [
    (microversion.VersionNotAcceptable, 406),
    (exception.Invalid, 400),
    (exception.Forbidden, 403),
    (exception.NotFound, 404),
    (exception.Conflict, 409),
    (db_exc.DBConnectionError, 503),
    (crypto.SecretsUnreadable, 503),
    (exception.IdentityError, 503),
]


# jsonutils.dumps' encoder, built once: json.dumps builds a new one on every
# call that passes ``default``.
_ENCODER = json.JSONEncoder(default=jsonutils.to_primitive)


def json_response(status, body=None, headers=None):
    if body is None:
        response = webob.Response(status=status, headerlist=headers or [])
        response.content_type = None
        return response
    return json_text_response(status, _ENCODER.encode(body), headers)


def json_text_response(status, text, headers=None):
    """A response whose body is ``text``, JSON already."""
    # The headers as the content_type, charset and body setters leave them
    # (Content-Type without a charset, then Content-Length), set at once.
    return webob.Response(
        body=text.encode('utf-8'), status=status,
        headerlist=(headers or []) + [('Content-Type', 'application/json')])


def fault(req, status, message):
    request_id = req.environ.get('openstack.request_id')
    name = FAULT_NAMES.get(status, 'internalError')
    response = json_response(status, {name: {
        'code': status, 'message': message, 'request_id': request_id}})
    return response


# Refusals of a new connection by a database server at its connection
# limit (MySQL/MariaDB error 1040, PostgreSQL SQLSTATE 53300): the request
# changed nothing and may be retried, like when the server is down.
_TOO_MANY_CONNECTIONS = (1040, '53300')


def _database_unavailable(error):
    if isinstance(error, db_exc.DBConnectionError):
        return True
    orig = getattr(error, 'orig', None)
    if not isinstance(error, (sa_exc.OperationalError,
                              db_exc.DBError)) or orig is None:
        return False
    code = getattr(orig, 'pgcode', None) or (orig.args[0] if orig.args
                                             else None)
    return code in _TOO_MANY_CONNECTIONS


def _status_for(error):
    if _database_unavailable(error):
        return 503
    for cls, status in STATUS_FOR:
        if isinstance(error, cls):
            return status
    return None


class Handler(webob.dec.wsgify):
    """Turns a handler's exception into a JSON fault."""

    def call_func(self, req, *args, **kwargs):
        try:
            response = self.func(req, *args, **kwargs)
        except webob.exc.HTTPException as e:
            response = fault(req, e.status_code, e.detail or e.explanation)
            for name in ('Allow', 'WWW-Authenticate'):
                if name in e.headers:
                    response.headers[name] = e.headers[name]
        except Exception as e:
            status = _status_for(e)
            if status is None:
                LOG.exception('Unexpected error handling %(method)s %(path)s',
                              {'method': req.method, 'path': req.path})
                response = fault(req, 500, 'The server failed to handle the '
                                 'request. Report the request id to the '
                                 'operator, who can find it in the log.')
            else:
                if _database_unavailable(e):
                    LOG.error('Database unreachable while handling '
                              '%(method)s %(path)s: %(error)s',
                              {'method': req.method, 'path': req.path,
                               'error': e})
                    message = ('The database is unreachable; nothing was '
                               'changed. Retry in a few seconds.')
                elif status == 503:
                    LOG.error('%(method)s %(path)s: %(error)s',
                              {'method': req.method, 'path': req.path,
                               'error': e})
                    message = str(e)
                else:
                    message = str(e)
                response = fault(req, status, message)
        microversion.response_headers(req, response)
        return response


def handler(f):
    return Handler(f)
