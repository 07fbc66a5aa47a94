"""In-process functional tests: the real paste pipeline over webtest, a
migrated SQLite database and the fake:// transport to a running engine."""

import time

from notifier.tests import base
from notifier.tests import fixtures


def notification_body(type_='COMPUTE_HOST', hostname='compute-1',
                      payload=None, generated_time='2026-11-23T10:00:00'):
    if payload is None:
        payload = {
            'COMPUTE_HOST': {'event': 'STOPPED', 'host_status': 'UNKNOWN',
                             'cluster_status': 'OFFLINE'},
            'PROCESS': {'event': 'STOPPED', 'process_name': 'nova-compute'},
            'VM': {'event': 'LIFECYCLE', 'vir_domain_event': 'STOPPED_FAILED',
                   'instance_uuid': '3b4c3b2e-7b6f-4f0a-9d4e-8c3f1c2a9b10'},
        }[type_]
    return {'notification': {'type': type_, 'hostname': hostname,
                             'generated_time': generated_time,
                             'payload': payload}}


class FunctionalTestCase(base.TestCase):
    """API and engine in the test process.

    ``start_engine = False`` leaves notifications ``new``, for tests of the
    API alone.
    """

    start_engine = True

    def setUp(self):
        super().setUp()
        self.flags(auth_strategy='noauth2', validate_responses=True,
                   group='api')
        self.db = self.useFixture(fixtures.SQLiteDatabase())
        self.useFixture(fixtures.Transport(self.conf))
        if self.start_engine:
            self.engine = self.useFixture(fixtures.Engine(self.conf))
        self.api = self.useFixture(fixtures.API(self.conf))

    @staticmethod
    def _delivery_errors(api, notification_id):
        """Why a notification's deliveries are not done, for a failure
        message (microversion 1.5 shows the deliveries)."""
        resp = api.get('/v1/notifications/%s' % notification_id,
                       headers={'OpenStack-API-Version': 'notification 1.5'},
                       expect_errors=True)
        if resp.status_int != 200:
            return ''
        errors = sorted({d['last_error'] for d in resp.json['notification'][
            'deliveries'] if d['last_error']})
        return '; delivery errors: %s' % ' | '.join(errors) if errors else ''

    def wait_for_status(self, notification_id, statuses, timeout=10,
                        api=None):
        """Poll until the notification reaches one of ``statuses``."""
        api = api or self.api
        deadline = time.monotonic() + timeout
        while True:
            body = api.get('/v1/notifications/%s' % notification_id,
                           headers={'OpenStack-API-Version':
                                    'notification 1.1'}).json
            if body['notification']['status'] in statuses:
                return body['notification']
            if time.monotonic() > deadline:
                self.fail('Notification %s is %s after %ss, not one of %s%s' % (
                    notification_id, body['notification']['status'],
                    timeout, statuses,
                    self._delivery_errors(api, notification_id)))
            time.sleep(0.05)
