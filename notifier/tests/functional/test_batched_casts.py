"""New notifications are cast off the request path, several at a time
(notifier.api.caster, RPC API 1.2), and are still delivered: in process
over the fake transport, across a fork and at exit, and through forked
notifier-api workers and a real RabbitMQ."""

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from unittest import mock

import fixtures
import oslo_messaging as messaging
from oslo_messaging.rpc import client as rpc_client
import requests

from notifier.api import caster
from notifier.engine import manager as engine_manager
from notifier.tests import base as tests_base
from notifier.tests import fixtures as notifier_fixtures
from notifier.tests.functional import base
from notifier.tests.functional import services
from notifier.tests.functional import test_real_services

WAIT = 10  # seconds; a cast held longer than this goes on anyway


class HeldCast:
    """Patches oslo.messaging's cast so that the first cast of
    ``method`` waits until :meth:`release` (at most WAIT seconds)."""

    def __init__(self, method):
        self.method = method
        self.entered = threading.Event()
        self._go = threading.Event()
        real = rpc_client._BaseCallContext.cast

        def cast(call_context, ctxt, method, **kwargs):
            if method == self.method and not self.entered.is_set():
                self.entered.set()
                self._go.wait(WAIT)
            return real(call_context, ctxt, method, **kwargs)
        self.patch = mock.patch.object(rpc_client._BaseCallContext, 'cast',
                                       autospec=True, side_effect=cast)

    def release(self):
        self._go.set()


class TestBatchedCasts(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.received = []
        manager = self.engine.manager
        real = manager.process_notifications

        def spy(ctxt, notification_ids):
            self.received.append(list(notification_ids))
            return real(ctxt, notification_ids)
        patcher = mock.patch.object(manager, 'process_notifications',
                                    side_effect=spy)
        patcher.start()
        self.addCleanup(patcher.stop)

    def post(self, hostname='compute-1'):
        return self.api.post('/v1/notifications', base.notification_body(
            hostname=hostname), status=202).json['notification']

    def test_creates_answer_while_a_cast_waits_and_share_the_next(self):
        held = HeldCast('process_notifications')
        with held.patch:
            start = time.monotonic()
            first = self.post()
            self.assertTrue(held.entered.wait(WAIT))
            others = [self.post('compute-%d' % k) for k in range(2, 7)]
            took = time.monotonic() - start
            held.release()
            caster.flush_all(WAIT)
        self.assertLess(took, WAIT / 2,
                        'the creates waited for the broker')
        for n in [first] + others:
            self.wait_for_status(n['id'], ['finished'])
        self.assertEqual([[first['id']], [n['id'] for n in others]],
                         self.received)

    def test_a_notification_posted_alone_is_delivered_through_rpc(self):
        created = self.post()
        self.wait_for_status(created['id'], ['finished'])
        self.assertEqual([[created['id']]], self.received)


class TestUpgradeLevels(base.FunctionalTestCase):
    """An engine of the release before 1.2, behind an upgraded API."""

    start_engine = False

    def test_capped_api_casts_one_by_one_to_an_old_engine(self):
        self.useFixture(fixtures.MockPatchObject(
            engine_manager.EngineManager, 'target',
            messaging.Target(version='1.1')))
        calls = []
        real = engine_manager.EngineManager.process_notification

        def process_notification(manager, ctxt, notification_id):
            calls.append(notification_id)
            return real(manager, ctxt, notification_id)
        self.useFixture(fixtures.MockPatchObject(
            engine_manager.EngineManager, 'process_notification',
            process_notification))
        engine = self.useFixture(notifier_fixtures.Engine(self.conf))
        self.flags(engine='1.1', group='upgrade_levels')
        api = self.useFixture(notifier_fixtures.API(self.conf))
        ids = [api.post('/v1/notifications', base.notification_body(
            hostname='compute-%d' % k), status=202).json['notification'][
                'id'] for k in range(3)]
        # No periodic task runs here: only the casts can deliver them.
        for i in ids:
            self.wait_for_status(i, ['finished'], api=api)
        self.assertEqual(sorted(ids), sorted(calls))
        self.assertEqual(0, engine.manager.run_periodic_tasks())


class TestCasterProcesses(tests_base.TestCase):
    """Fork and exit, for real."""

    def test_a_forked_child_casts_its_own_ids_from_its_own_thread(self):
        parent = os.getpid()
        read_end, write_end = os.pipe()
        self.addCleanup(os.close, read_end)
        go = threading.Event()
        entered = threading.Event()
        in_parent = []

        def cast(ids):
            if os.getpid() != parent:
                os.write(write_end, ('cast %s\n' % json.dumps(ids)).encode())
                return True
            in_parent.append(ids)
            entered.set()
            go.wait(WAIT)
            return True

        c = caster.Caster(cast)
        self.addCleanup(go.set)
        c.put(1)
        self.assertTrue(entered.wait(WAIT))
        c.put(2)  # queued in the parent while its thread casts 1
        # Another thread of the parent holds the lock at the fork.
        holding, fork_done = threading.Event(), threading.Event()

        def hold():
            with c._work:
                holding.set()
                fork_done.wait(WAIT)
        holder = threading.Thread(target=hold)
        holder.start()
        self.assertTrue(holding.wait(WAIT))
        pid = os.fork()
        if pid == 0:
            try:
                ok = c.put(3) and c.flush(WAIT)
                os.write(write_end, ('done %s\n' % ok).encode())
            finally:
                os._exit(0)
        fork_done.set()
        holder.join(WAIT)
        os.close(write_end)
        lines = _read_lines(read_end, 2, WAIT)
        if len(lines) < 2:
            os.kill(pid, signal.SIGKILL)  # stuck: do not wait for it
        _, status = os.waitpid(pid, 0)
        self.assertEqual(['cast [3]', 'done True'], lines)
        self.assertEqual(0, status)
        go.set()
        self.assertTrue(c.flush(WAIT))
        self.assertEqual([[1], [2]], in_parent)

    def _run(self, cast_seconds):
        script = (
            'import time\n'
            'from notifier.api import caster\n'
            'def cast(ids):\n'
            '    time.sleep(%r)\n'
            '    print("cast", ids, flush=True)\n'
            'c = caster.Caster(cast)\n'
            'for i in range(5):\n'
            '    c.put(i)\n'
            'print("exiting", flush=True)\n' % cast_seconds)
        start = time.monotonic()
        done = subprocess.run([sys.executable, '-c', script],
                              capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(0, done.returncode, done.stderr)
        return done.stdout.splitlines(), time.monotonic() - start

    def test_what_is_queued_at_exit_is_cast(self):
        lines, _ = self._run(0.3)
        self.assertEqual('exiting', lines[0])
        cast = [i for line in lines[1:]
                for i in json.loads(line.split(' ', 1)[1])]
        self.assertEqual([0, 1, 2, 3, 4], cast)

    def test_exit_waits_for_a_stuck_cast_only_so_long(self):
        lines, took = self._run(600)
        self.assertEqual(['exiting'], lines)
        self.assertLess(took, caster.EXIT_TIMEOUT + 30)


def _read_lines(fd, count, timeout):
    data = b''
    deadline = time.monotonic() + timeout
    while data.count(b'\n') < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    return data.decode().splitlines()


class TestForkedAPIWorkers(services.RealServicesTestCase):
    """notifier-api with two forked workers, an engine and a RabbitMQ of
    their own; the periodic task could not deliver in time."""

    DB_TYPE = 'mysql'

    post = test_real_services.RealServicesMixin.post
    statuses = test_real_services.RealServicesMixin.statuses
    wait_for_status = test_real_services.RealServicesMixin.wait_for_status

    def test_concurrent_posts_to_two_workers_are_delivered_by_casts(self):
        services.skip_unless_database(self, self.DB_TYPE)
        if not services.PrivateRabbitMQ.available():
            self.skipTest('rabbitmq-server is not installed at %s' %
                          services.RABBITMQ_SERVER)
        self.http = requests.Session()
        self.http.headers.update(test_real_services.HEADERS)
        self.addCleanup(self.http.close)
        broker = self.use_rabbitmq(services.PrivateRabbitMQ(wait=False))
        database = self.useFixture(services.Database(self.DB_TYPE))
        deployment = self.use_deployment(services.Deployment(
            database.url, transport_url=broker.url,
            conf={'api': {'workers': 2},
                  'engine': {'recast_after': 600}}))
        deployment.db_sync()
        broker.wait_ready()
        api, _engine = deployment.wait_ready(deployment.spawn_api(),
                                             deployment.spawn_engine())
        posted, lock = [], threading.Lock()

        def client():
            with requests.Session() as http:
                http.headers.update(test_real_services.HEADERS)
                for _ in range(6):
                    resp = self.post(
                        api, test_real_services.vm_notification(), http)
                    with lock:
                        posted.append(resp.json()['notification'][
                            'notification_uuid'])

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(36, len(set(posted)))
        self.wait_for_status(api, posted, {'finished'}, timeout=60)
        self.assertNotIn('Could not cast', api.log())
