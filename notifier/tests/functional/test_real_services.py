"""Notifier as separate processes against real MariaDB, PostgreSQL and
RabbitMQ: notifier-api and notifier-engine started from the command line on
a fresh database, talking over a real broker.

Each test skips when its database server or broker is not available
(tools/test-setup.sh starts them).
"""

import collections
import datetime
import os
import threading
import time
import uuid

from oslo_utils import timeutils
import requests
import sqlalchemy as sa

from notifier.tests.functional import services

HEADERS = {'X-Auth-Token': 'alice:demo'}
SHOW_DELIVERIES = {'OpenStack-API-Version': 'notification 1.1'}
HTTP_TIMEOUT = 30


def vm_notification(instance_uuid=None, hostname='compute-1'):
    """A masakari VM notification; its payload is unique by default."""
    return {'notification': {
        'type': 'VM', 'hostname': hostname,
        'generated_time': '2026-11-23T10:00:00',
        'payload': {'event': 'LIFECYCLE',
                    'vir_domain_event': 'STOPPED_FAILED',
                    'instance_uuid': instance_uuid or str(uuid.uuid4())}}}


class RealServicesMixin:
    """The tests every database backend runs; ``DB_TYPE`` picks it."""

    DB_TYPE = None

    def setUp(self):
        super().setUp()
        services.skip_unless_database(self, self.DB_TYPE)
        self.http = requests.Session()
        self.http.headers.update(HEADERS)
        self.addCleanup(self.http.close)

    # Helpers

    def deploy(self, transport_url=None, conf=None):
        """A fresh database, a notifier.conf and ``db sync``; no process
        runs yet."""
        if transport_url is None:
            services.skip_unless_broker(self)
        self.database = self.useFixture(services.Database(self.DB_TYPE))
        deployment = self.use_deployment(services.Deployment(
            self.database.url, transport_url=transport_url, conf=conf))
        deployment.db_sync()
        return deployment

    def post(self, api, body, http=None):
        return (http or self.http).post(api.url + '/v1/notifications',
                                        json=body, timeout=HTTP_TIMEOUT)

    def post_accepted(self, api, body):
        resp = self.post(api, body)
        self.assertEqual(202, resp.status_code, resp.text)
        return resp.json()['notification']

    def show(self, api, notification_id):
        resp = self.http.get(
            '%s/v1/notifications/%s' % (api.url, notification_id),
            headers=SHOW_DELIVERIES, timeout=HTTP_TIMEOUT)
        self.assertEqual(200, resp.status_code, resp.text)
        return resp.json()['notification']

    def statuses(self, api):
        """notification_uuid -> status of every notification of project
        demo, through the list API."""
        resp = self.http.get(api.url + '/v1/notifications',
                             params={'limit': 1000}, timeout=HTTP_TIMEOUT)
        self.assertEqual(200, resp.status_code, resp.text)
        return {n['notification_uuid']: n['status']
                for n in resp.json()['notifications']}

    def wait_for_status(self, api, uuids, wanted, timeout):
        """Poll the list API until every one of ``uuids`` has a status in
        ``wanted``; fail with the statuses seen at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            statuses = self.statuses(api)
            seen = {u: statuses.get(u, 'missing') for u in uuids}
            if all(s in wanted for s in seen.values()):
                return seen
            if time.monotonic() > deadline:
                self.fail('After %ss, notifications are %s (wanted: %s)' % (
                    timeout, dict(collections.Counter(seen.values())),
                    sorted(wanted)))
            time.sleep(0.2)

    def assert_delivered_once(self, shown):
        details = shown['recovery_workflow_details']
        self.assertEqual(1, len(details), details)
        self.assertEqual('Deliver to default:log', details[0]['name'])
        self.assertEqual('SUCCESS', details[0]['state'], details)
        self.assertEqual(1, len(details[0]['progress_details']), details)
        return details[0]['progress_details'][0]

    # The tests

    def test_two_engines_deliver_each_of_40_notifications_exactly_once(self):
        deployment = self.deploy()
        api, _e1, _e2 = deployment.wait_ready(
            deployment.spawn_api(), deployment.spawn_engine(),
            deployment.spawn_engine())

        posted = [self.post_accepted(api, vm_notification())
                  for _ in range(40)]
        uuids = [n['notification_uuid'] for n in posted]
        self.assertEqual(40, len(set(uuids)))
        self.assertEqual({'new'}, {n['status'] for n in posted})

        self.wait_for_status(api, uuids, {'finished'}, timeout=60)
        for notification_uuid in uuids:
            progress = self.assert_delivered_once(
                self.show(api, notification_uuid))
            self.assertIn(': delivered', progress['message'])

    def fire_at_once(self, apis, body, count):
        """POST ``body`` ``count`` times at once, spread over ``apis``;
        each request on its own already-open connection."""
        barrier = threading.Barrier(count, timeout=HTTP_TIMEOUT)
        responses = [None] * count

        def post(i):
            api = apis[i % len(apis)]
            with requests.Session() as http:
                http.headers.update(HEADERS)
                try:
                    http.get(api.url + '/', timeout=HTTP_TIMEOUT)
                    barrier.wait()
                    responses[i] = self.post(api, body, http=http)
                except (requests.RequestException,
                        threading.BrokenBarrierError) as e:
                    responses[i] = e

        threads = [threading.Thread(target=post, args=(i,))
                   for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HTTP_TIMEOUT * 2)
        self.assertFalse(any(t.is_alive() for t in threads),
                         'a request did not return')
        return responses

    def test_database_lets_one_of_20_concurrent_duplicates_through_two_apis(
            self):
        deployment = self.deploy()
        apis = deployment.wait_ready(deployment.spawn_api(),
                                     deployment.spawn_api())
        # The host is known already (its first notification registered
        # it), so the duplicates race on nothing but the notification.
        self.post_accepted(apis[0], vm_notification())
        accepted = []
        # A few rounds, each with its own payload: one round may be won
        # by a request that is ahead of the others by chance.
        for _round in range(5):
            responses = self.fire_at_once(apis, vm_notification(), 20)
            codes = collections.Counter(
                getattr(r, 'status_code', type(r).__name__)
                for r in responses)
            unexpected = [getattr(r, 'text', repr(r)) for r in responses
                          if getattr(r, 'status_code', None) not in
                          (202, 409)]
            self.assertEqual({202: 1, 409: 19}, dict(codes),
                             'unexpected answers: %s' % unexpected[:3])
            accepted += [r.json()['notification']['notification_uuid']
                         for r in responses if r.status_code == 202]
        stored = self.statuses(apis[1])
        self.assertEqual(6, len(stored), stored)
        self.assertTrue(set(accepted) <= set(stored))

    def test_stored_notification_reads_back_as_it_was_accepted(self):
        deployment = self.deploy()
        api = deployment.start_api()
        body = vm_notification()
        body['notification']['generated_time'] = '2026-11-23T10:00:00.123456'
        accepted = self.post_accepted(api, body)
        # No engine runs: nothing changes it after the 202.
        shown = self.show(api, accepted['id'])
        shown.pop('recovery_workflow_details')
        self.assertEqual(accepted, shown)
        self.assertEqual('2026-11-23T10:00:00.123456',
                         shown['generated_time'])

    def test_notification_held_by_crashed_engine_is_resumed_after_lease(
            self):
        deployment = self.deploy()
        api = deployment.start_api()
        # Posted while no engine runs: the casts are lost.
        posted = [self.post_accepted(api, vm_notification())
                  for _ in range(3)]
        crashed, lost = posted[0], posted[1:]

        # An engine claimed the first one and died: its lease is still
        # valid (far in the future, for now).
        db = sa.create_engine(self.database.url)
        self.addCleanup(db.dispose)
        notifications = sa.table(
            'notifications', sa.column('id'), sa.column('status'),
            sa.column('claimed_by'), sa.column('lease_until'))

        def set_lease(lease_until, **values):
            with db.begin() as conn:
                return conn.execute(
                    sa.update(notifications)
                    .where(notifications.c.id == crashed['id'])
                    .values(lease_until=lease_until, **values)).rowcount

        self.assertEqual(1, set_lease(
            timeutils.utcnow() + datetime.timedelta(hours=1),
            status='running', claimed_by='dead-engine:1'))

        engine = deployment.start_engine()
        # The engine picks the lost casts up from the database...
        self.wait_for_status(api, [n['notification_uuid'] for n in lost],
                             {'finished'}, timeout=30)
        # ... but leaves alone what another engine holds a valid lease on.
        shown = self.show(api, crashed['id'])
        self.assertEqual('running', shown['status'])
        self.assertEqual([], shown['recovery_workflow_details'])

        # The dead engine's lease runs out in 3 seconds.
        lease_until = timeutils.utcnow() + datetime.timedelta(seconds=3)
        self.assertEqual(1, set_lease(lease_until))
        self.assertEqual('running', self.show(api, crashed['id'])['status'])

        self.wait_for_status(api, [crashed['notification_uuid']],
                             {'finished'}, timeout=30)
        progress = self.assert_delivered_once(self.show(api, crashed['id']))
        self.assertIn('by %s:' % engine.host, progress['message'])
        attempted_at = datetime.datetime.strptime(
            progress['timestamp'], '%Y-%m-%d %H:%M:%S.%f')
        # MySQL DATETIME keeps whole seconds: allow for the truncation.
        self.assertGreaterEqual(
            attempted_at, lease_until.replace(microsecond=0),
            'the engine took the notification over before the lease of '
            'the crashed engine expired')


class TestMariaDB(RealServicesMixin, services.RealServicesTestCase):
    DB_TYPE = 'mysql'

    def test_broker_outage_loses_no_notification_and_rpc_resumes(self):
        if not services.PrivateRabbitMQ.available():
            self.skipTest('rabbitmq-server is not installed at %s' %
                          services.RABBITMQ_SERVER)
        broker = self.use_rabbitmq(services.PrivateRabbitMQ(wait=False))
        recast_after = 4
        deployment = self.deploy(
            transport_url=broker.url,
            conf={'engine': {'recast_after': recast_after}})
        broker.wait_ready()
        api, _engine = deployment.wait_ready(deployment.spawn_api(),
                                             deployment.spawn_engine())
        # Both processes are connected to the broker before it goes.
        before = self.post_accepted(api, vm_notification())
        self.wait_for_status(api, [before['notification_uuid']],
                             {'finished'}, timeout=30)

        broker.stop()
        start = time.monotonic()
        during = self.post_accepted(api, vm_notification())
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 5.0,
                        'POST took %.1fs with the broker down' % elapsed)
        self.assertEqual('new', during['status'])
        self.assertEqual('new', self.show(api, during['id'])['status'])

        # The database is the queue: the engine's periodic task delivers
        # it after recast_after, while the broker is still down.
        self.wait_for_status(api, [during['notification_uuid']],
                             {'finished'}, timeout=recast_after + 20)
        self.assertFalse(broker.running())
        self.assert_delivered_once(self.show(api, during['id']))

        broker.start()
        # API and engine reconnect by themselves: a notification is again
        # delivered through RPC, well before the periodic task would pick
        # it up (the engine may need a few seconds to reconnect; a cast
        # sent before that is picked up from the database instead).
        delays = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(delays) < 8:
            start = time.monotonic()
            after = self.post_accepted(api, vm_notification())
            self.wait_for_status(api, [after['notification_uuid']],
                                 {'finished'}, timeout=recast_after + 20)
            delays.append(round(time.monotonic() - start, 1))
            self.assert_delivered_once(self.show(api, after['id']))
            if delays[-1] < recast_after - 1:
                break
        self.assertLess(delays[-1], recast_after - 1,
                        'after the broker came back, no notification was '
                        'delivered through RPC; delivery delays: %s s' %
                        delays)


    def test_pinned_engines_each_run_on_a_cpu_of_their_own(self):
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest('this test runs on one CPU: nothing to pin to')
        deployment = self.deploy(conf={'engine': {'pin_cpu': True}})
        api, e1, e2 = deployment.wait_ready(
            deployment.spawn_api(), deployment.spawn_engine(),
            deployment.spawn_engine())
        posted = [self.post_accepted(api, vm_notification())
                  for _ in range(10)]
        self.wait_for_status(api, [n['notification_uuid'] for n in posted],
                             {'finished'}, timeout=60)
        # Every thread of each engine, those of its RPC server and sending
        # threads included, runs on the one CPU its engine took.
        cpus = []
        for engine in (e1, e2):
            # The engine process is the launcher's worker, a child.
            worker = services.pids_of(engine)[-1]
            allowed = {tid: os.sched_getaffinity(int(tid))
                       for tid in os.listdir('/proc/%d/task' % worker)}
            self.assertGreater(len(allowed), 2, allowed)
            self.assertEqual(1, len(set(map(frozenset, allowed.values()))),
                             allowed)
            cpus.append(next(iter(allowed.values())))
            self.assertEqual(1, len(cpus[-1]))
            self.assertIn('is pinned to CPU %d' % next(iter(cpus[-1])),
                          engine.log())
        self.assertNotEqual(cpus[0], cpus[1])


class TestPostgreSQL(RealServicesMixin, services.RealServicesTestCase):
    DB_TYPE = 'postgresql'

    # Not database specific: one backend is enough.
    def test_engine_logs_each_notification_with_its_api_request_id(self):
        if not services.PrivateRabbitMQ.available():
            self.skipTest('rabbitmq-server is not installed at %s' %
                          services.RABBITMQ_SERVER)
        # A broker of its own: on a shared one, the engine of a test
        # running alongside may take this test's casts (the topic queue is
        # shared whatever the control_exchange), and a notification picked
        # up from the database instead has no request id to log.
        broker = self.use_rabbitmq(services.PrivateRabbitMQ(wait=False))
        deployment = self.deploy(transport_url=broker.url)
        broker.wait_ready()
        api, engine = deployment.wait_ready(deployment.spawn_api(),
                                            deployment.spawn_engine())
        request_ids = {}
        for _ in range(4):
            resp = self.post(api, vm_notification())
            self.assertEqual(202, resp.status_code, resp.text)
            notification_uuid = resp.json()['notification'][
                'notification_uuid']
            request_ids[notification_uuid] = resp.headers[
                'X-OpenStack-Request-Id']
            self.wait_for_status(api, [notification_uuid], {'finished'},
                                 timeout=30)
        # An operator greps the engine log for the request id the client
        # got: every line about the notification must carry it.
        lines = engine.log().splitlines()
        for notification_uuid, request_id in request_ids.items():
            about = [line for line in lines if notification_uuid in line]
            self.assertNotEqual([], about)
            wrong = [line for line in about if request_id not in line]
            self.assertEqual([], wrong, 'engine log lines about %s without '
                             'its request id %s' % (notification_uuid,
                                                    request_id))
