"""WSGI middleware that builds Notifier's request context.

The filters here are plain WSGI callables rather than ``webob.dec.wsgify``
ones: they only read the environ and add to it, and wrapping each layer's
request and response in webob objects cost more per request (about 0.2 ms
for the pipeline ahead of the API) than everything these filters do.
"""

from oslo_log import log as logging
from oslo_middleware import http_proxy_to_wsgi
import webob

from notifier.api import wsgi
from notifier import context

LOG = logging.getLogger(__name__)
CONTEXT_KEY = 'notifier.context'


class _Middleware:
    def __init__(self, application):
        self.application = application

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls


class KeystoneContext(_Middleware):
    """The context from keystonemiddleware's auth_token headers."""

    def __call__(self, environ, start_response):
        ctx = context.RequestContext.from_environ(environ)
        if ctx.user_id is None or ctx.project_id is None:
            return wsgi.fault(webob.Request(environ), 401,
                              'The token is not scoped to a project; get '
                              'a project-scoped token.')(environ,
                                                         start_response)
        environ[CONTEXT_KEY] = ctx
        return self.application(environ, start_response)


class NoAuth(_Middleware):
    """UNSAFE, for development and tests: trust the caller's word.

    ``X-Auth-Token: user:project`` (or just ``user``, whose project is then
    its own name) sets who is calling; ``X-Roles`` (comma separated) the
    roles, ``member,reader`` by default, plus ``admin`` for the user named
    admin. Without a token the caller is admin in project admin.
    """

    def __call__(self, environ, start_response):
        token = environ.get('HTTP_X_AUTH_TOKEN', 'admin:admin')
        user_id, _sep, project_id = token.partition(':')
        project_id = project_id or user_id
        roles = environ.get('HTTP_X_ROLES')
        if roles is None:
            roles = 'member,reader' + (',admin' if user_id == 'admin' else '')
        roles = [r.strip() for r in roles.split(',') if r.strip()]
        environ[CONTEXT_KEY] = context.RequestContext(
            user_id=user_id, project_id=project_id, roles=roles,
            is_admin='admin' in roles,
            request_id=environ.get('openstack.request_id'),
            global_request_id=environ.get('HTTP_X_OPENSTACK_REQUEST_ID'))
        return self.application(environ, start_response)


class Discovery:
    """Serve version discovery without authentication.

    ``GET /`` and ``GET /v1`` go straight to the API; everything else goes
    through the authenticated pipeline.
    """

    PATHS = ('/', '/v1', '/v1/')

    def __init__(self, authenticated, api):
        self.authenticated = authenticated
        self.api = api

    def __call__(self, environ, start_response):
        if (environ.get('PATH_INFO', '/') or '/') in self.PATHS and \
                environ['REQUEST_METHOD'] in ('GET', 'HEAD'):
            return self.api(environ, start_response)
        return self.authenticated(environ, start_response)


class HTTPProxyToWSGI(http_proxy_to_wsgi.HTTPProxyToWSGI):
    """oslo.middleware's proxy header parsing, without its webob round trip.

    The parsing is oslo's (``process_request``, ``[oslo_middleware]
    enable_proxy_headers_parsing``): it only rewrites the environ. Its base
    class also wraps every response in a webob Response and inspects the
    signature of ``process_response`` on every request, which cost about
    0.1 ms a request for a ``process_response`` that does nothing; here
    the response passes through untouched.
    """

    def __call__(self, environ, start_response):
        self.process_request(webob.Request(environ))
        return self.application(environ, start_response)
