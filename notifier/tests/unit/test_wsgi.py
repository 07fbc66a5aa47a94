"""The JSON responses of the handlers, byte for byte."""

import datetime

from notifier.api import wsgi
from notifier.tests import base


class TestJSONResponse(base.TestCase):

    def test_body_is_json_without_a_charset(self):
        response = wsgi.json_response(202, {'notification': {
            'id': 7, 'hostname': 'h\u00e9', 'deleted_at': None}})

        self.assertEqual('202 Accepted', response.status)
        body = (b'{"notification": {"id": 7, "hostname": "h\\u00e9", '
                b'"deleted_at": null}}')
        self.assertEqual(body, response.body)
        self.assertEqual([('Content-Type', 'application/json'),
                          ('Content-Length', str(len(body)))],
                         response.headerlist)

    def test_values_json_cannot_hold_are_made_primitive(self):
        response = wsgi.json_response(
            200, {'at': datetime.datetime(2026, 11, 23, 10, 0, 0, 5)})

        self.assertEqual(b'{"at": "2026-11-23T10:00:00.000005"}',
                         response.body)

    def test_no_body_has_no_content_headers(self):
        response = wsgi.json_response(204)

        self.assertEqual('204 No Content', response.status)
        self.assertEqual(b'', response.body)
        self.assertEqual([], response.headerlist)
