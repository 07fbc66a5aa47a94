"""Bad input never hurts: oversize, malformed, mistyped and hostile
request bodies get a clear 4xx JSON fault and change nothing, and a fuzz
test over the API's request schemas (hypothesis) finds no 5xx."""

import email
import email.policy
import io
import json
import logging

import fixtures
import hypothesis
from hypothesis import strategies as st
import jsonschema
import sqlalchemy as sa
import webob

from notifier.api.schemas import destinations as destination_schemas
from notifier.api.schemas import hosts as host_schemas
from notifier.api.schemas import notifications as notification_schemas
from notifier.api.schemas import subscriptions as subscription_schemas
from notifier.db import models
from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers

V1_6 = {'OpenStack-API-Version': 'notification 1.6'}
TABLES = (models.Notification, models.Host, models.Destination,
          models.Subscription)
HOSTILE = ['{{ 7*7 }}', '{% for x in range(10**9) %}x{% endfor %}',
           '\x00\x01\x1b[31m\r\n', 'a' * 70000, '\ud7ff\ufffe',
           '../../etc/passwd', "'; DROP TABLE notifications; --"]
# Each fuzzed operation: (method, URL, request schema).
OPERATIONS = [
    ('POST', '/v1/notifications',
     notification_schemas.create_request_body),
    ('POST', '/v1/hosts', host_schemas.create_request_body),
    ('POST', '/v1/destinations', destination_schemas.create_request_body),
    ('POST', '/v1/subscriptions', subscription_schemas.create_request_body),
]
FUZZ = hypothesis.settings(max_examples=20, deadline=None, database=None,
                           derandomize=True,
                           suppress_health_check=list(hypothesis.HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() |
    st.floats(allow_nan=False, allow_infinity=False) |
    st.text(max_size=40) | st.sampled_from(HOSTILE),
    lambda children: st.lists(children, max_size=4) |
    st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)


def from_schema(schema):
    """A strategy for the JSON values ``schema`` accepts, for the subset
    of JSON Schema the request schemas use (with optional properties
    drawn or left out, and free-form objects filled with hostile
    values)."""
    if 'enum' in schema:
        return st.sampled_from(schema['enum'])
    kind = schema.get('type')
    if isinstance(kind, list):
        return st.one_of([from_schema(dict(schema, type=k)) for k in kind])
    if kind == 'object':
        properties = schema.get('properties')
        if not properties:
            return st.dictionaries(st.text(max_size=12), json_values,
                                   max_size=4)
        required = set(schema.get('required', ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in properties.items()
             if k in required},
            optional={k: from_schema(v) for k, v in properties.items()
                      if k not in required})
    if kind == 'array':
        items = from_schema(schema.get('items', {}))
        return st.lists(items, max_size=min(schema.get('maxItems', 4), 4),
                        unique_by=(lambda v: json.dumps(v, sort_keys=True))
                        if schema.get('uniqueItems') else None)
    if kind == 'string':
        if schema.get('format') == 'uuid':
            return st.uuids().map(str)
        if schema.get('format') == 'date-time':
            return st.datetimes().map(lambda d: d.isoformat())
        low = schema.get('minLength', 0)
        high = schema.get('maxLength', 64)
        if 'pattern' in schema:
            return st.from_regex(schema['pattern']).filter(
                lambda v: low <= len(v) <= high)
        return st.text(min_size=low, max_size=min(high, 64)) | \
            st.sampled_from([h for h in HOSTILE if low <= len(h) <= high])
    if kind == 'boolean':
        return st.booleans()
    if kind == 'integer':
        return st.integers(schema.get('minimum'), schema.get('maximum'))
    if kind == 'null':
        return st.none()
    return json_values


class TestBadInput(base.FunctionalTestCase):

    start_engine = False

    def setUp(self):
        super().setUp()
        # Thousands of refused requests are logged at INFO: keep them out
        # of the test's output.
        self.useFixture(fixtures.FakeLogger(level=logging.WARNING))

    def counts(self):
        with self.db.engine.connect() as conn:
            return {m.__tablename__: conn.scalar(
                sa.select(sa.func.count()).select_from(m)) for m in TABLES}

    def request(self, method, url, body=None, content_type=None,
                headers=None):
        """Through the whole paste pipeline, sizelimit included; ``body``
        is bytes, or a file for a chunked body (no Content-Length)."""
        req = webob.Request.blank(url, method=method)
        req.headers.update(self.api.headers)
        req.headers.update(headers or V1_6)
        if isinstance(body, bytes):
            req.body = body
        elif body is not None:
            req.body_file = body
            req.environ.pop('CONTENT_LENGTH', None)
            req.headers['Transfer-Encoding'] = 'chunked'
        if content_type:
            req.content_type = content_type
        req.environ['REMOTE_ADDR'] = '127.0.0.1'
        return req.get_response(self.api.app.app)

    def assert_fault(self, resp, status, fault, *words):
        self.assertEqual(status, resp.status_code, resp.text)
        self.assertEqual('application/json', resp.content_type)
        body = json.loads(resp.body)
        self.assertEqual([fault], list(body))
        self.assertEqual(status, body[fault]['code'])
        self.assertTrue(body[fault]['request_id'].startswith('req-'))
        for word in words:
            self.assertIn(word, body[fault]['message'])
        return body[fault]['message']

    def test_oversize_body_is_a_json_413_naming_the_limit(self):
        before = self.counts()
        body = json.dumps(base.notification_body()).encode()
        body = body[:-1] + b', "pad": "' + b'x' * 120000 + b'"}'
        resp = self.request('POST', '/v1/notifications', body,
                            'application/json')
        self.assert_fault(resp, 413, 'overLimit', 'max_request_body_size',
                          '%d bytes' % len(body))
        self.assertEqual(before, self.counts())

    def test_oversize_chunked_body_is_a_json_413(self):
        before = self.counts()
        resp = self.request('POST', '/v1/notifications',
                            io.BytesIO(b'{"x": "' + b'y' * 200000 + b'"}'),
                            'application/json')
        self.assert_fault(resp, 413, 'overLimit')
        self.assertEqual(before, self.counts())

    def test_malformed_json_is_400(self):
        before = self.counts()
        for url in ('/v1/notifications', '/v1/destinations', '/v1/hosts'):
            resp = self.request('POST', url, b'{"notification": {',
                                'application/json')
            self.assert_fault(resp, 400, 'badRequest', 'Malformed JSON')
        self.assertEqual(before, self.counts())

    def test_wrong_content_type_is_415(self):
        before = self.counts()
        body = json.dumps(base.notification_body()).encode()
        for content_type in ('text/plain', 'application/x-www-form-urlencoded',
                             'application/xml'):
            resp = self.request('POST', '/v1/notifications', body,
                                content_type)
            self.assert_fault(resp, 415, 'badMediaType', content_type,
                              'application/json')
        self.assertEqual(before, self.counts())

    def test_hostile_strings_are_refused_and_not_echoed_raw(self):
        before = self.counts()
        cases = [
            ('/v1/notifications', base.notification_body(
                hostname='bad\x00host\r\nX-Injected: 1')),
            ('/v1/notifications', base.notification_body(
                hostname='h' * 300)),
            ('/v1/notifications', base.notification_body(
                payload={'event': '{{ 7*7 }}'})),
            ('/v1/hosts', {'host': {'name': '{{ 7*7 }}'}}),
            ('/v1/destinations', {'destination': {
                'name': 'n' * 70000, 'medium': 'log'}}),
            ('/v1/destinations', {'destination': {
                'name': 'hook', 'medium': '../../etc'}}),
        ]
        for url, body in cases:
            resp = self.request('POST', url, json.dumps(body).encode(),
                                'application/json')
            message = self.assert_fault(resp, 400, 'badRequest')
            self.assertNotIn('\x00', message)
            self.assertLess(len(message), 2000)
        self.assertEqual(before, self.counts())

    def test_fuzzed_valid_bodies_never_get_a_5xx(self):
        for method, url, schema in OPERATIONS:
            @FUZZ
            @hypothesis.given(body=from_schema(schema))
            def check(body):
                self.assertTrue(jsonschema.Draft202012Validator(
                    schema).is_valid(body), body)
                resp = self.request(method, url, json.dumps(body).encode(),
                                    'application/json')
                self.assertLess(resp.status_code, 500, resp.text)
            check()

    def test_fuzzed_invalid_bodies_get_a_4xx_and_change_nothing(self):
        for method, url, schema in OPERATIONS:
            validator = jsonschema.Draft202012Validator(schema)

            @FUZZ
            @hypothesis.given(body=json_values)
            def check(body):
                hypothesis.assume(not validator.is_valid(body))
                before = self.counts()
                resp = self.request(method, url, json.dumps(body).encode(),
                                    'application/json')
                self.assertEqual(400, resp.status_code, resp.text)
                self.assertEqual(before, self.counts())
            check()


class TestTemplateSyntaxIsData(base.FunctionalTestCase):
    """Template syntax in a payload reaches the receiver as text: the
    engine renders its templates with the payload as data, never the
    payload itself as a template."""

    def test_jinja_in_a_payload_is_delivered_verbatim(self):
        smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=smtp.port,
                   from_address='notifier@example.org', group='driver_email')
        # Rendered, they would give "rendered-q" and "looploop...": words
        # no uuid, date or header of the mail can contain.
        hostile = ("{{ 'rendered-' ~ 'q' }} "
                   "{% for x in range(3) %}loop{% endfor %}")
        mail = self.api.post('/v1/destinations', {'destination': {
            'name': 'ops', 'medium': 'email',
            'settings': {'email_address': 'ops@example.org'}}},
            headers=V1_6, status=201).json['destination']
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [mail['id']]}},
            headers=V1_6, status=201)
        created = self.api.post('/v1/notifications', base.notification_body(
            'PROCESS', payload={'event': 'STOPPED',
                                'process_name': hostile}),
            status=202).json['notification']
        self.wait_for_status(created['id'], ['finished'])
        self.assertEqual(1, len(smtp.messages))
        message = email.message_from_bytes(
            smtp.messages[0].content, policy=email.policy.default)
        text = message.get_body(('plain',)).get_content()
        self.assertIn(hostile, text)
        self.assertNotIn('rendered-q', text)
        self.assertNotIn('looploop', text)
