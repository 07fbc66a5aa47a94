"""A database that refuses connections at its limit is a 503, like one
that is down: the request changed nothing and may be retried."""

import pymysql
from sqlalchemy import exc as sa_exc
import webob

from notifier.api import microversion
from notifier.api import wsgi
from notifier.tests import base


def _request():
    req = webob.Request.blank('/v1/notifications', method='POST')
    req.environ[microversion.ENV_KEY] = (microversion.MIN_VERSION,
                                         'notification')
    req.environ['openstack.request_id'] = 'req-42'
    return req


class TestDatabaseUnavailable(base.TestCase):

    def answer(self, error):
        @wsgi.handler
        def handler(req):
            raise error
        return _request().get_response(handler)

    def test_too_many_connections_is_503(self):
        error = sa_exc.OperationalError(
            'SELECT 1', {}, pymysql.err.OperationalError(
                1040, 'Too many connections'))
        resp = self.answer(error)
        self.assertEqual(503, resp.status_code)
        fault = resp.json['serviceUnavailable']
        self.assertIn('nothing was changed', fault['message'])
        self.assertEqual('req-42', fault['request_id'])

    def test_other_operational_errors_stay_500(self):
        error = sa_exc.OperationalError(
            'SELECT 1', {}, pymysql.err.OperationalError(
                1054, "Unknown column 'x'"))
        resp = self.answer(error)
        self.assertEqual(500, resp.status_code)
        self.assertNotIn('Unknown column', resp.text)
