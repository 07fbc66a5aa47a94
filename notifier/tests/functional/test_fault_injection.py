"""The fault-injection suite: Notifier as separate processes on a private
RabbitMQ node and MariaDB, delivering thousands of notifications to a
webhook receiver that fails, throttles and hangs, while an engine is
killed with SIGKILL and the broker is restarted.

What it checks is what doc/source/admin/guarantees.rst promises: every
accepted notification is delivered (none lost), and a receiver that
deduplicates by delivery id sees each alert exactly once (no duplicate
effect after dedup). Raw duplicates, the same delivery id received more
than once, are allowed (the wire is at-least-once) and reported.
"""

import collections
import json
import queue
import threading
import time

import requests
import sqlalchemy as sa
from testtools import content

from notifier.db import models
from notifier.tests.functional import faults
from notifier.tests.functional import services
from notifier.tests.functional import test_real_services

HEADERS = {'X-Auth-Token': 'alice:demo'}
V1_5 = dict(HEADERS, **{'OpenStack-API-Version': 'notification 1.5'})
HTTP_TIMEOUT = 30

NOTIFICATIONS = 2000
POSTERS = 8
# Bounds, in seconds. The whole test takes about 2.5 minutes on an idle
# 2-core machine (the API accepts ~100 notifications/s alone, ~20/s beside
# three busy engines); the budgets leave room for a loaded one.
POST_BUDGET = 240
FINISH_BUDGET = 150


class TestFaultInjection(services.RealServicesTestCase):

    def setUp(self):
        super().setUp()
        services.skip_unless_database(self, 'mysql')
        if not services.PrivateRabbitMQ.available():
            self.skipTest('rabbitmq-server is not installed at %s' %
                          services.RABBITMQ_SERVER)

    def deploy(self, broker, conf):
        self.database = self.useFixture(services.Database('mysql'))
        deployment = self.use_deployment(services.Deployment(
            self.database.url, transport_url=broker.url, conf=conf))
        deployment.db_sync()
        self.db = sa.create_engine(self.database.url)
        self.addCleanup(self.db.dispose)
        return deployment

    def subscribe_webhook(self, api, url):
        with requests.Session() as http:
            resp = http.post(api.url + '/v1/destinations', json={
                'destination': {'name': 'alerts', 'medium': 'webhook',
                                'settings': {'url': url}}},
                headers=V1_5, timeout=HTTP_TIMEOUT)
            self.assertEqual(201, resp.status_code, resp.text)
            destination = resp.json()['destination']
            resp = http.post(api.url + '/v1/subscriptions', json={
                'subscription': {'name': 'everything',
                                 'destinations': [destination['id']]}},
                headers=V1_5, timeout=HTTP_TIMEOUT)
            self.assertEqual(201, resp.status_code, resp.text)
        return destination

    def post_many(self, api, count, on_progress):
        """POST ``count`` notifications from POSTERS threads; returns the
        accepted notification uuids and a Counter of the other answers.
        ``on_progress(accepted)`` is called by the posters as they go."""
        todo = queue.Queue()
        for i in range(count):
            todo.put(i)
        accepted, refused = [], collections.Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + POST_BUDGET

        def poster():
            with requests.Session() as http:
                http.headers.update(HEADERS)
                while time.monotonic() < deadline:
                    try:
                        todo.get_nowait()
                    except queue.Empty:
                        return
                    body = test_real_services.vm_notification()
                    try:
                        # As a monitor would: retry a 503 (nothing was
                        # stored) a few times.
                        for _try in range(5):
                            resp = http.post(
                                api.url + '/v1/notifications', json=body,
                                timeout=HTTP_TIMEOUT)
                            if resp.status_code != 503:
                                break
                            with lock:
                                refused['HTTP 503, retried'] += 1
                            time.sleep(1)
                    except requests.RequestException as e:
                        with lock:
                            refused[type(e).__name__] += 1
                        continue
                    with lock:
                        if resp.status_code == 202:
                            accepted.append(resp.json()['notification'][
                                'notification_uuid'])
                            n = len(accepted)
                        else:
                            refused['HTTP %d' % resp.status_code] += 1
                            continue
                    on_progress(n)

        threads = [threading.Thread(target=poster) for _ in range(POSTERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(POST_BUDGET + HTTP_TIMEOUT)
        self.assertFalse(any(t.is_alive() for t in threads),
                         'a poster did not return')
        return accepted, refused

    def statuses(self):
        n = models.Notification.__table__
        with self.db.connect() as conn:
            return dict(conn.execute(
                sa.select(n.c.notification_uuid, n.c.status)).all())

    def delivery_ids(self):
        """notification uuid -> delivery uuids in the ledger."""
        n, d = models.Notification.__table__, models.Delivery.__table__
        found = collections.defaultdict(set)
        with self.db.connect() as conn:
            for notification_uuid, delivery_uuid in conn.execute(
                    sa.select(n.c.notification_uuid, d.c.uuid)
                    .join(d, d.c.notification_id == n.c.id)):
                found[notification_uuid].add(delivery_uuid)
        return found

    def wait_finished(self, uuids, timeout):
        deadline = time.monotonic() + timeout
        while True:
            statuses = self.statuses()
            counts = collections.Counter(statuses.get(u, 'missing')
                                         for u in uuids)
            if set(counts) <= {'finished', 'failed', 'ignored'} or \
                    time.monotonic() > deadline:
                return statuses, counts
            time.sleep(1)

    def test_2000_notifications_survive_engine_kill_and_broker_restart(self):
        broker = self.use_rabbitmq(services.PrivateRabbitMQ(wait=False))
        receiver = self.useFixture(faults.CountingReceiver(
            faults={faults.DOWN: 0.03, faults.THROTTLE: 0.02,
                    faults.HANG: 0.004}, hang_for=2.5))
        deployment = self.deploy(broker, conf={
            'engine': {'periodic_interval': 1, 'recast_after': 3,
                       'claim_lease': 10, 'retry_initial_delay': 0.5,
                       'retry_max_delay': 3, 'max_attempts': 30,
                       'default_destinations': '',
                       # The receiver's outage trips the circuit breaker:
                       # a short pause keeps the test short.
                       'breaker_threshold': 5, 'breaker_pause': 2,
                       'breaker_max_pause': 8},
            'driver_webhook': {'timeout': 1.0},
            # Four processes share the machine's MariaDB with other
            # tests: stay well under its max_connections (151 by default).
            'database': {'max_pool_size': 5, 'max_overflow': 10},
        })
        broker.wait_ready()
        api, victim, _e2, _e3 = deployment.wait_ready(
            deployment.spawn_api(), deployment.spawn_engine(),
            deployment.spawn_engine(), deployment.spawn_engine())
        self.subscribe_webhook(api, receiver.url + '/hook')

        events = []
        started = time.monotonic()
        triggers = {'kill': int(NOTIFICATIONS * 0.35),
                    'broker': int(NOTIFICATIONS * 0.6),
                    'down': int(NOTIFICATIONS * 0.8)}
        fired = set()
        fire_lock = threading.Lock()
        side_threads = []

        def note(what):
            events.append('%5.1fs %s' % (time.monotonic() - started, what))

        def restart_broker():
            note('broker stopping')
            broker.stop()
            note('broker stopped')
            time.sleep(2)
            broker.start()
            note('broker back')

        def receiver_outage():
            note('receiver answers 503 to everything')
            receiver.mode = faults.DOWN
            time.sleep(3)
            receiver.mode = faults.OK
            note('receiver healthy again')

        def on_progress(accepted):
            for name, at in triggers.items():
                if accepted < at:
                    continue
                with fire_lock:
                    if name in fired:
                        continue
                    fired.add(name)
                if name == 'kill':
                    note('SIGKILL %s (pid %d) at %d accepted' % (
                        victim.name, victim.pid, accepted))
                    victim.kill()
                else:
                    target = (restart_broker if name == 'broker'
                              else receiver_outage)
                    t = threading.Thread(target=target)
                    side_threads.append(t)
                    t.start()

        accepted, refused = self.post_many(api, NOTIFICATIONS, on_progress)
        note('posted: %d accepted, refused %s' % (len(accepted),
                                                  dict(refused)))
        for t in side_threads:
            t.join(services.RABBITMQ_STOP_TIMEOUT +
                   services.RABBITMQ_START_TIMEOUT)
        statuses, counts = self.wait_finished(accepted, FINISH_BUDGET)
        note('settled: %s' % dict(counts))

        ledger = self.delivery_ids()
        received = receiver.by_notification
        delivered = [u for u in accepted if received.get(u)]
        lost = [u for u in accepted
                if statuses.get(u) != 'finished' or not received.get(u)]
        # A receiver that drops ids it has seen applies each distinct id
        # once; a second id for one notification would be a second alert.
        after_dedup = sum(len(ids) - 1 for ids in received.values()
                          if len(ids) > 1)
        raw = receiver.report()
        report = collections.OrderedDict([
            ('accepted', len(accepted)),
            ('delivered', len(delivered)),
            ('lost', len(lost)),
            ('duplicates_after_dedup', after_dedup),
            ('raw_duplicates', raw['raw_duplicates']),
            ('raw_effects', raw['raw_effects']),
            ('receiver_answers', dict(receiver.answers)),
            ('statuses', dict(counts)),
            ('seconds', round(time.monotonic() - started, 1)),
            ('events', events),
        ])
        self.addDetail('fault-injection-report', content.text_content(
            json.dumps(report, indent=2)))
        # What went wrong inside the processes, beyond the log tails.
        errors = [line for p in deployment.processes
                  for line in p.log().splitlines()
                  if ' ERROR notifier' in line or 'Traceback' in line]
        self.addDetail('process-errors', content.text_content(
            '\n'.join(errors[:200])))
        print('fault-injection report: %s' % json.dumps(report))

        self.assertEqual({'kill', 'broker', 'down'}, fired)
        self.assertEqual(NOTIFICATIONS, len(accepted), dict(refused))
        self.assertEqual([], [k for k in refused if 'retried' not in k],
                         dict(refused))
        self.assertEqual([], lost[:10], 'lost: %d' % len(lost))
        self.assertEqual(0, after_dedup)
        # The id the receiver saw is the delivery's stable id, the same
        # on every attempt.
        for notification_uuid in accepted:
            self.assertEqual(ledger[notification_uuid],
                             received[notification_uuid])
