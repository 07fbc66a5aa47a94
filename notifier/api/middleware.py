"""WSGI middleware that builds Notifier's request context."""

from oslo_log import log as logging
import webob.dec
import webob.exc

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

    @webob.dec.wsgify
    def __call__(self, req):
        ctx = context.RequestContext.from_environ(req.environ)
        if ctx.user_id is None or ctx.project_id is None:
            return wsgi.fault(req, 401, 'The token is not scoped to a '
                              'project; get a project-scoped token.')
        req.environ[CONTEXT_KEY] = ctx
        return req.get_response(self.application)


class NoAuth(_Middleware):
    """UNSAFE, for development and tests: trust the caller's word.

    ``X-Auth-Token: user:project`` (or just ``user``, whose project is then
    its own name) sets who is calling; ``X-Roles`` (comma separated) the
    roles, ``member,reader`` by default, plus ``admin`` for the user named
    admin. Without a token the caller is admin in project admin.
    """

    @webob.dec.wsgify
    def __call__(self, req):
        token = req.headers.get('X-Auth-Token', 'admin:admin')
        user_id, _sep, project_id = token.partition(':')
        project_id = project_id or user_id
        roles = req.headers.get('X-Roles')
        if roles is None:
            roles = 'member,reader' + (',admin' if user_id == 'admin' else '')
        roles = [r.strip() for r in roles.split(',') if r.strip()]
        req.environ[CONTEXT_KEY] = context.RequestContext(
            user_id=user_id, project_id=project_id, roles=roles,
            is_admin='admin' in roles,
            request_id=req.environ.get('openstack.request_id'),
            global_request_id=req.headers.get('X-OpenStack-Request-ID'))
        return req.get_response(self.application)


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
