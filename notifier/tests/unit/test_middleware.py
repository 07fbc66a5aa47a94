"""The API's own WSGI filters, each in front of a small WSGI app that
records what reached it."""

import io
import json

from oslo_middleware import request_id
import webob
import webob.exc

from notifier.api import middleware
from notifier.api import sizelimit
from notifier.tests import base

REQUEST_ID = 'req-12345678-1234-1234-1234-123456789012'


class Downstream:
    """A WSGI app that keeps the environ it was called with and answers
    with a body iterable of its own."""

    def __init__(self):
        self.environ = None
        self.body = [b'{"ok": true}']
        self.headers = [('Content-Type', 'application/json'),
                        ('Vary', 'OpenStack-API-Version')]

    def __call__(self, environ, start_response):
        self.environ = environ
        start_response('202 Accepted', list(self.headers))
        return self.body


def call(app, path='/v1/notifications', method='POST', headers=None,
         body=b'{}', environ=None):
    env = {'REQUEST_METHOD': method, 'PATH_INFO': path, 'SCRIPT_NAME': '',
           'QUERY_STRING': '', 'SERVER_NAME': 'localhost',
           'SERVER_PORT': '80', 'SERVER_PROTOCOL': 'HTTP/1.1',
           'HTTP_HOST': 'localhost', 'wsgi.url_scheme': 'http',
           'wsgi.input': io.BytesIO(body), 'CONTENT_LENGTH': str(len(body)),
           'CONTENT_TYPE': 'application/json'}
    for name, value in (headers or {}).items():
        env['HTTP_' + name.upper().replace('-', '_')] = value
    env.update(environ or {})
    started = {}

    def start_response(status, headerlist, exc_info=None):
        started['status'] = status
        started['headers'] = headerlist

    result = app(env, start_response)
    return started['status'], started['headers'], result


class TestNoAuth(base.TestCase):

    def test_token_sets_user_project_and_roles(self):
        app = Downstream()
        status, _headers, _body = call(middleware.NoAuth(app), headers={
            'X-Auth-Token': 'alice:demo', 'X-Roles': 'reader, member',
            'X-OpenStack-Request-ID': REQUEST_ID},
            environ={'openstack.request_id': 'req-local'})
        self.assertEqual('202 Accepted', status)
        ctx = app.environ[middleware.CONTEXT_KEY]
        self.assertEqual(('alice', 'demo'), (ctx.user_id, ctx.project_id))
        self.assertEqual(['reader', 'member'], ctx.roles)
        self.assertFalse(ctx.is_admin)
        self.assertEqual('req-local', ctx.request_id)
        self.assertEqual(REQUEST_ID, ctx.global_request_id)

    def test_defaults_without_roles_and_without_token(self):
        app = Downstream()
        call(middleware.NoAuth(app), headers={'X-Auth-Token': 'bob'})
        ctx = app.environ[middleware.CONTEXT_KEY]
        self.assertEqual(('bob', 'bob'), (ctx.user_id, ctx.project_id))
        self.assertEqual(['member', 'reader'], ctx.roles)
        call(middleware.NoAuth(app))
        ctx = app.environ[middleware.CONTEXT_KEY]
        self.assertEqual(('admin', 'admin'), (ctx.user_id, ctx.project_id))
        self.assertTrue(ctx.is_admin)
        self.assertIn('admin', ctx.roles)


class TestKeystoneContext(base.TestCase):

    def test_context_from_auth_token_headers(self):
        app = Downstream()
        status, _headers, _body = call(
            middleware.KeystoneContext(app), headers={
                'X-User-Id': 'u1', 'X-Project-Id': 'p1',
                'X-Roles': 'member,reader', 'X-Auth-Token': 'secret',
                'X-Identity-Status': 'Confirmed'},
            environ={'openstack.request_id': 'req-local'})
        self.assertEqual('202 Accepted', status)
        ctx = app.environ[middleware.CONTEXT_KEY]
        self.assertEqual(('u1', 'p1'), (ctx.user_id, ctx.project_id))
        self.assertEqual(['member', 'reader'], ctx.roles)
        self.assertEqual('req-local', ctx.request_id)

    def test_token_without_project_is_a_json_401(self):
        app = Downstream()
        status, headers, body = call(
            middleware.KeystoneContext(app), headers={
                'X-User-Id': 'u1', 'X-Roles': 'admin'},
            environ={'openstack.request_id': 'req-local'})
        self.assertEqual('401 Unauthorized', status)
        self.assertIsNone(app.environ)
        fault = json.loads(b''.join(body))['unauthorized']
        self.assertIn('project-scoped token', fault['message'])
        self.assertEqual('req-local', fault['request_id'])
        self.assertIn(('Content-Type', 'application/json'), headers)


class TestHTTPProxyToWSGI(base.TestCase):

    PROXIED = {'X-Forwarded-Proto': 'https',
               'X-Forwarded-Host': 'api.example.com',
               'X-Forwarded-For': '192.0.2.7',
               'X-Forwarded-Prefix': '/notifier'}

    def setUp(self):
        super().setUp()
        self.app = Downstream()
        # Registers [oslo_middleware] enable_proxy_headers_parsing.
        self.filter = middleware.HTTPProxyToWSGI(self.app, {})

    def test_proxy_headers_are_ignored_by_default(self):
        call(self.filter, headers=self.PROXIED)
        env = self.app.environ
        self.assertEqual(('http', 'localhost', ''), (
            env['wsgi.url_scheme'], env['HTTP_HOST'], env['SCRIPT_NAME']))

    def test_proxy_headers_are_parsed_when_enabled(self):
        self.flags(enable_proxy_headers_parsing=True,
                   group='oslo_middleware')
        call(self.filter, headers=self.PROXIED)
        env = self.app.environ
        self.assertEqual(
            ('https', 'api.example.com', '192.0.2.7', '/notifier'),
            (env['wsgi.url_scheme'], env['HTTP_HOST'], env['REMOTE_ADDR'],
             env['SCRIPT_NAME']))

    def test_rfc7239_forwarded_header_is_parsed_when_enabled(self):
        self.flags(enable_proxy_headers_parsing=True,
                   group='oslo_middleware')
        call(self.filter, headers={
            'Forwarded': 'for=192.0.2.60;proto=https;host=fw.example.com, '
                         'for=198.51.100.17'})
        env = self.app.environ
        self.assertEqual(('https', 'fw.example.com', '192.0.2.60'), (
            env['wsgi.url_scheme'], env['HTTP_HOST'], env['REMOTE_ADDR']))

    def test_response_passes_through_unchanged(self):
        status, headers, body = call(self.filter)
        self.assertIs(self.app.body, body)
        self.assertEqual(('202 Accepted', self.app.headers),
                         (status, headers))


class TestSizeLimit(base.TestCase):

    def setUp(self):
        super().setUp()
        self.app = Downstream()
        self.filter = sizelimit.RequestBodySizeLimiter(self.app, {})
        self.flags(max_request_body_size=100, group='oslo_middleware')

    def test_body_within_the_limit_passes_through(self):
        status, _headers, body = call(self.filter, body=b'x' * 100)
        self.assertEqual('202 Accepted', status)
        self.assertIs(self.app.body, body)

    def test_oversize_body_is_a_json_413_naming_the_option(self):
        status, headers, body = call(
            self.filter, body=b'x' * 101,
            environ={'openstack.request_id': 'req-local'})
        self.assertEqual('413 Request Entity Too Large', status)
        self.assertIsNone(self.app.environ)
        fault = json.loads(b''.join(body))['overLimit']
        self.assertIn('max_request_body_size', fault['message'])
        self.assertEqual('req-local', fault['request_id'])

    def test_body_without_length_is_cut_at_the_limit(self):
        self.filter(*self._chunked(b'x' * 100))
        self.assertEqual(b'x' * 100, webob.Request(self.app.environ).body)
        self.filter(*self._chunked(b'x' * 101))
        self.assertRaises(webob.exc.HTTPRequestEntityTooLarge,
                          lambda: webob.Request(self.app.environ).body)

    def _chunked(self, data):
        env = {'REQUEST_METHOD': 'POST', 'PATH_INFO': '/v1/notifications',
               'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
               'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(data),
               'wsgi.input_terminated': True}
        return env, lambda status, headers, exc_info=None: None


class TestRequestIdOnEveryAnswer(base.TestCase):
    """oslo's RequestId in front of the plain filters still sees, and
    stamps, every response, refusals included."""

    def test_refusal_of_a_filter_carries_the_request_id(self):
        app = request_id.RequestId(sizelimit.RequestBodySizeLimiter(
            middleware.NoAuth(Downstream()), {}), {})
        self.flags(max_request_body_size=10, group='oslo_middleware')
        for body in (b'{}', b'x' * 11):
            status, headers, result = call(app, body=body)
            ids = [v for k, v in headers
                   if k.lower() == 'x-openstack-request-id']
            self.assertEqual(1, len(ids), status)
            self.assertTrue(ids[0].startswith('req-'))
            if status.startswith('413'):
                self.assertEqual(ids[0], json.loads(
                    b''.join(result))['overLimit']['request_id'])
