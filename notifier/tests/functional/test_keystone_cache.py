"""The keystone pipeline asks Keystone about a token once, not per request.

The shipped ``keystone`` pipeline, loaded in the test process, validates
real tokens from the Keystone of :mod:`notifier.tests.functional.keystone`.
Every HTTP request the process sends (keystonemiddleware talks to Keystone
through keystoneauth, over requests) is counted: once a token has been
validated, requests with it, sequential or from several threads at once,
must cost a cache lookup and no Keystone round trip. A Keystone call per
request made ingest with Keystone tokens several times slower than with
noauth2 in earlier benchmarks, so this is checked here rather than
assumed.
"""

import collections
import threading
import uuid

import fixtures
from keystoneauth1 import loading as ks_loading
import requests.adapters
import webtest

from notifier import service
from notifier.tests import base
from notifier.tests import fixtures as notifier_fixtures
from notifier.tests.functional import keystone

AUTHTOKEN = 'keystone_authtoken'
LIST = '/v1/notifications?limit=1'


class KeystoneTokenCacheTest(base.TestCase):

    def setUp(self):
        super().setUp()
        keystone.skip_unless_keystone(self)
        self.keystone = keystone.get()
        self.useFixture(notifier_fixtures.SQLiteDatabase())
        self.useFixture(notifier_fixtures.Transport(self.conf))
        # keystonemiddleware registers its options when it is imported
        # and its auth plugin's when it loads; the plugin's are registered
        # here first, so that the test can set them, and unregistered after
        # it (auth_url is required: left registered, it would fail the
        # configuration of every later test of the process).
        from keystonemiddleware import auth_token  # noqa: F401
        self.conf_fixture.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group=AUTHTOKEN)
        self.flags(auth_strategy='keystone', group='api')
        self.flags(group=AUTHTOKEN, **self.keystone.authtoken_conf())
        self.app = webtest.TestApp(service.load_app(self.conf))
        self.sent = collections.Counter()
        self._count_outgoing_requests()

    def _count_outgoing_requests(self):
        send = requests.adapters.HTTPAdapter.send
        sent, lock = self.sent, threading.Lock()

        def counting_send(adapter, request, *args, **kwargs):
            with lock:
                sent[(request.method, request.path_url.split('?')[0])] += 1
            return send(adapter, request, *args, **kwargs)
        self.useFixture(fixtures.MonkeyPatch(
            'requests.adapters.HTTPAdapter.send', counting_send))

    def headers(self, user):
        # Tokens are issued before counting what the API sends.
        saved = dict(self.sent)
        headers = self.keystone.headers(user)
        self.sent.clear()
        self.sent.update(saved)
        return headers

    def validations(self):
        return sum(n for (method, path), n in self.sent.items()
                   if method == 'GET' and path.endswith('/auth/tokens'))

    def post(self, headers):
        return self.app.post_json('/v1/notifications', {'notification': {
            'type': 'PROCESS', 'hostname': 'compute-1',
            'generated_time': '2026-11-23T10:00:00',
            'payload': {'event': 'STOPPED',
                        'process_name': uuid.uuid4().hex}}},
            headers=headers, status=202)

    def test_a_validated_token_is_not_sent_to_keystone_again(self):
        member = self.headers('demo-member')
        self.app.get(LIST, headers=member, status=200)
        self.assertEqual(1, self.validations(), dict(self.sent))

        self.sent.clear()
        for _ in range(10):
            self.app.get(LIST, headers=member, status=200)
            self.post(member)
        self.assertEqual({}, dict(self.sent))

    def test_concurrent_requests_with_a_cached_token_stay_local(self):
        member = self.headers('demo-member')
        self.app.get(LIST, headers=member, status=200)
        self.sent.clear()
        errors = []

        def client():
            try:
                for _ in range(10):
                    self.app.get(LIST, headers=member, status=200)
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual([], errors)
        self.assertEqual({}, dict(self.sent))

    def test_each_new_token_is_validated_once(self):
        member, reader = self.headers('demo-member'), self.headers(
            'demo-reader')
        for _ in range(3):
            self.app.get(LIST, headers=member, status=200)
            self.app.get(LIST, headers=reader, status=200)
        self.assertEqual(2, self.validations(), dict(self.sent))
