"""The engine: retries, permanent failures, lost casts, crashed engines."""

import datetime
import logging
import threading
import time
from unittest import mock

import fixtures as pyfixtures
import oslo_messaging as messaging
from oslo_utils import timeutils
import sqlalchemy as sa

from notifier.api import caster
from notifier import context
from notifier.db import api as db_api
from notifier.db import models
from notifier.drivers import base as drivers_base
from notifier.drivers import log
from notifier.engine import manager as manager_mod
from notifier import exception
from notifier.tests import fixtures
from notifier.tests.functional import base


class ScriptedDriver(drivers_base.Driver):
    """Answers each delivery with the next scripted outcome."""

    def __init__(self, outcomes):
        super().__init__(None)
        self.outcomes = list(outcomes)
        self.calls = []
        self.lock = threading.Lock()

    def deliver(self, message, settings):
        with self.lock:
            self.calls.append(message.delivery_id)
            outcome = self.outcomes.pop(0) if self.outcomes else 'ok'
        if outcome == 'retry':
            raise exception.RetryableDeliveryError('receiver busy (503)')
        if outcome == 'permanent':
            raise exception.PermanentDeliveryError('address rejected (550)')
        if outcome == 'crash':
            raise ValueError('driver bug')
        return drivers_base.Result(receipt='202 accepted')


class EngineTestCase(base.FunctionalTestCase):
    start_engine = False
    outcomes = ()
    engine_flags = {}  # [engine] options of the test case's own

    def setUp(self):
        super().setUp()
        self.flags(default_destinations=['scripted', 'log'], group='engine')
        self.flags(retry_initial_delay=0.0, max_attempts=3, group='engine')
        self.flags(group='engine', **self.engine_flags)
        self.driver = ScriptedDriver(self.outcomes)
        self.engine = self.useFixture(fixtures.Engine(self.conf, drivers={
            'scripted': self.driver, 'log': log.LogDriver(self.conf)}))

    def post(self):
        return self.api.post('/v1/notifications', base.notification_body(),
                             status=202).json['notification']

    def post_uncast(self, count):
        """Ids of ``count`` notifications stored while their casts fail,
        so that they wait, ``new``, for whatever the test does."""
        with mock.patch('oslo_messaging.rpc.client._BaseCallContext.cast',
                        side_effect=messaging.MessageDeliveryFailure(
                            'no engine here')):
            ids = [self.api.post('/v1/notifications', base.notification_body(
                hostname='compute-%d' % k), status=202).json[
                    'notification']['id'] for k in range(count)]
            caster.flush_all()  # the casts are made after the responses
        return ids

    def deliveries(self, notification):
        shown = self.api.get('/v1/notifications/%s' % notification['id'],
                             headers={'OpenStack-API-Version':
                                      'notification 1.1'}).json
        return {d['name']: d for d in
                shown['notification']['recovery_workflow_details']}

    def run_retries(self, notification, final):
        """Run the periodic task, as its timer would, until ``final``."""
        for _ in range(5):
            shown = self.wait_for_status(notification['id'],
                                         ['error'] + final)
            if shown['status'] in final:
                return shown
            self.engine.manager.run_periodic_tasks()
        return self.wait_for_status(notification['id'], final)


class TestRetries(EngineTestCase):
    outcomes = ('retry', 'retry')

    def test_transient_failure_is_retried_without_resending_the_rest(self):
        created = self.post()
        self.wait_for_status(created['id'], ['error'])
        shown = self.run_retries(created, ['finished'])
        self.assertEqual('finished', shown['status'])
        details = self.deliveries(created)
        scripted = details['Deliver to default:scripted']['progress_details']
        self.assertEqual(3, len(scripted))
        self.assertIn('retry (receiver busy (503))', scripted[0]['message'])
        self.assertIn('delivered', scripted[2]['message'])
        # The log destination succeeded at once and was not sent again.
        self.assertEqual(
            1, len(details['Deliver to default:log']['progress_details']))
        self.assertEqual(3, len(self.driver.calls))
        self.assertEqual(1, len(set(self.driver.calls)),
                         'one delivery id across all attempts')

    def test_each_attempt_that_went_wrong_is_logged_not_each_success(self):
        logs = self.useFixture(pyfixtures.FakeLogger(
            name='notifier.engine.manager', level=logging.INFO))
        created = self.post()
        self.wait_for_status(created['id'], ['error'])
        self.run_retries(created, ['finished'])
        attempts = [line for line in logs.output.splitlines()
                    if ' attempt ' in line]
        self.assertEqual(['retry', 'retry'],
                         [line.split(': ')[1].split()[0]
                          for line in attempts])
        self.assertIn('receiver busy (503)', attempts[0])
        self.assertIn(' is finished: 2 of 2 deliveries done', logs.output)


class TestRecordsDoNotHoldTheSenders(EngineTestCase):
    """A sending thread hands its attempt to the recorder and goes on: one
    sending thread sends a second notification while the first one's
    attempt waits for its commit."""

    engine_flags = {'delivery_threads': 1,
                    'default_destinations': ['scripted']}

    def test_a_sending_thread_goes_on_while_its_attempt_is_committed(self):
        real_record = db_api.delivery_record_attempts
        go = threading.Event()

        def held(context, attempts):
            go.wait(30)
            return real_record(context, attempts)
        with mock.patch.object(db_api, 'delivery_record_attempts', held):
            first = self.post()
            deadline = time.monotonic() + 10
            while not self.driver.calls:
                self.assertLess(time.monotonic(), deadline, 'not sent')
                time.sleep(0.01)
            second = self.api.post(
                '/v1/notifications',
                base.notification_body(hostname='compute-2'),
                status=202).json['notification']
            while len(self.driver.calls) < 2:
                self.assertLess(time.monotonic(), deadline,
                                'the second notification was not sent '
                                'while the first one\'s attempt waited for '
                                'its commit')
                time.sleep(0.01)
            # Not released before its attempt is recorded.
            self.assertEqual('running', self.wait_for_status(
                first['id'], ['running', 'finished'])['status'])
            go.set()
            for created in (first, second):
                self.wait_for_status(created['id'], ['finished'])


class TestRetriesExhausted(EngineTestCase):
    outcomes = ('retry', 'retry', 'retry')

    def test_notification_fails_after_max_attempts(self):
        created = self.post()
        shown = self.run_retries(created, ['failed', 'finished'])
        scripted = self.deliveries(created)['Deliver to default:scripted']
        self.assertEqual('FAILURE', scripted['state'])
        self.assertEqual(3, len(scripted['progress_details']))
        self.assertEqual('failed', shown['status'])


class TestPermanentFailure(EngineTestCase):
    outcomes = ('permanent',)

    def test_permanent_failure_fails_at_once(self):
        created = self.post()
        self.wait_for_status(created['id'], ['failed'])
        scripted = self.deliveries(created)['Deliver to default:scripted']
        self.assertEqual(1, len(scripted['progress_details']))
        self.assertIn('address rejected',
                      scripted['progress_details'][0]['message'])


class TestDriverBug(EngineTestCase):
    outcomes = ('crash',)

    def test_unexpected_driver_error_is_retried_and_named(self):
        created = self.post()
        self.wait_for_status(created['id'], ['error'])
        scripted = self.deliveries(created)['Deliver to default:scripted']
        self.assertIn('Unexpected error in the scripted driver: ValueError',
                      scripted['progress_details'][0]['message'])
        self.assertEqual('finished',
                         self.run_retries(created, ['finished'])['status'])


class TestUnknownDriver(EngineTestCase):

    def test_unknown_default_destination_fails_with_the_reason(self):
        self.flags(default_destinations=['pigeon'], group='engine')
        created = self.post()
        self.wait_for_status(created['id'], ['failed'])
        pigeon = self.deliveries(created)['Deliver to default:pigeon']
        self.assertIn('No delivery driver named pigeon',
                      pigeon['progress_details'][0]['message'])


class TestRecovery(base.FunctionalTestCase):
    start_engine = False

    def post_without_engine(self, **body):
        # The broker is unreachable: the cast fails, the row stays.
        with mock.patch('oslo_messaging.rpc.client._BaseCallContext.cast',
                        side_effect=messaging.MessageDeliveryFailure(
                            'broker unreachable')):
            created = self.api.post('/v1/notifications',
                                    base.notification_body(**body),
                                    status=202).json['notification']
            caster.flush_all()  # the cast is made after the response
        return created

    def age(self, notification_id, seconds, **values):
        past = timeutils.utcnow() - datetime.timedelta(seconds=seconds)
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(models.Notification).where(
                models.Notification.id == notification_id).values(
                    updated_at=past, **values))

    def test_lost_cast_is_picked_up_from_the_database(self):
        created = self.post_without_engine()
        engine = self.useFixture(fixtures.Engine(self.conf))
        self.assertEqual('new', self.api.get('/v1/notifications/%d' % created[
            'id']).json['notification']['status'])
        self.assertEqual(0, engine.manager.run_periodic_tasks(),
                         'a fresh new notification is left to its cast')
        self.age(created['id'], self.conf.engine.recast_after + 1)
        self.assertEqual(1, engine.manager.run_periodic_tasks())
        self.wait_for_status(created['id'], ['finished'])

    def test_a_backlog_is_picked_up_batch_after_batch_in_one_run(self):
        self.flags(periodic_batch_size=2, group='engine')
        ids = [self.post_without_engine(hostname='compute-%d' % k)['id']
               for k in range(5)]
        for i in ids:
            self.age(i, self.conf.engine.recast_after + 1)
        engine = self.useFixture(fixtures.Engine(self.conf))

        self.assertEqual(5, engine.manager.run_periodic_tasks())

        for i in ids:
            self.wait_for_status(i, ['finished'])
        self.assertEqual(0, engine.manager.run_periodic_tasks())

    def test_a_stopping_engine_picks_up_nothing(self):
        created = self.post_without_engine()
        self.age(created['id'], self.conf.engine.recast_after + 1)
        engine = self.useFixture(fixtures.Engine(self.conf))
        engine.manager.stop()

        self.assertEqual(0, engine.manager.run_periodic_tasks())
        self.assertEqual('new', self.api.get('/v1/notifications/%d' % created[
            'id']).json['notification']['status'])

    def test_crashed_engines_claim_is_resumed_after_its_lease(self):
        created = self.post_without_engine()
        future = timeutils.utcnow() + datetime.timedelta(seconds=300)
        self.age(created['id'], 0, status='running',
                 claimed_by='dead-engine:1', lease_until=future)
        engine = self.useFixture(fixtures.Engine(self.conf))
        self.assertIsNone(engine.manager.process(created['id']),
                          'a live lease is not taken over')
        self.age(created['id'], 0, lease_until=timeutils.utcnow() -
                 datetime.timedelta(seconds=1))
        self.assertEqual(1, engine.manager.run_periodic_tasks())
        shown = self.wait_for_status(created['id'], ['finished'])
        details = shown['recovery_workflow_details']
        self.assertEqual(1, len(details[0]['progress_details']))

    def test_old_unfinished_notification_expires_to_failed(self):
        created = self.post_without_engine()
        old = timeutils.utcnow() - datetime.timedelta(
            seconds=self.conf.engine.notification_max_age + 5)
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(models.Notification).where(
                models.Notification.id == created['id']).values(
                    created_at=old))
        engine = self.useFixture(fixtures.Engine(self.conf))
        engine.manager.run_periodic_tasks()
        self.wait_for_status(created['id'], ['failed'])

    def test_finished_notification_is_not_processed_again(self):
        engine = self.useFixture(fixtures.Engine(self.conf))
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        self.wait_for_status(created['id'], ['finished'])
        self.assertIsNone(engine.manager.process(created['id']))
        shown = self.wait_for_status(created['id'], ['finished'])
        self.assertEqual(1, len(shown['recovery_workflow_details'][0][
            'progress_details']))


class SlowDriver(drivers_base.Driver):
    """Takes ``delay`` seconds to deliver."""

    def __init__(self, delay):
        super().__init__(None)
        self.delay = delay
        self.calls = 0

    def deliver(self, message, settings):
        self.calls += 1
        time.sleep(self.delay)
        return drivers_base.Result(receipt='slow but fine')


class TestLongFanOut(base.FunctionalTestCase):
    start_engine = False

    def test_lease_is_extended_while_sends_run(self):
        # The send outlasts the lease; another engine must not take over.
        self.flags(claim_lease=10, default_destinations=['slow'],
                   group='engine')
        driver = SlowDriver(delay=14)
        self.useFixture(fixtures.Engine(self.conf, drivers={'slow': driver}))
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        self.wait_for_status(created['id'], ['running'])
        time.sleep(11)  # past the first lease
        other = self.useFixture(fixtures.Engine(self.conf,
                                                drivers={'slow': driver}))
        self.assertEqual(0, other.manager.run_periodic_tasks(),
                         'the running notification is not up for grabs')
        shown = self.wait_for_status(created['id'], ['finished'], timeout=20)
        self.assertEqual(1, driver.calls)
        self.assertEqual(1, len(shown['recovery_workflow_details'][0][
            'progress_details']))


class TestBatches(EngineTestCase):
    """Casts that arrive while the engine is busy are claimed together."""

    def held_claims(self):
        """A patch of the claim under which each claim is noted in
        ``claims`` and waits until ``go`` is set: (patch, go, claims)."""
        real_claim = db_api.notifications_claim
        go, claims = threading.Event(), []

        def claim(context, notification_ids, *args):
            claims.append(sorted(notification_ids))
            go.wait(30)
            return real_claim(context, notification_ids, *args)
        return (mock.patch.object(db_api, 'notifications_claim', claim),
                go, claims)

    def cast(self, notification_id):
        """The RPC cast of one id, on a thread of its own."""
        thread = threading.Thread(
            target=self.engine.manager.process_notification,
            args=({}, notification_id))
        thread.start()
        return thread

    def start_leaders(self, ids, claims):
        """Cast the first LEADERS ids, each once the one before waits in
        its (held) claim; their threads."""
        leaders = []
        for i in ids[:self.engine.manager.LEADERS]:
            leaders.append(self.cast(i))
            for _ in range(100):
                if len(claims) == len(leaders):
                    break
                time.sleep(0.05)
        return leaders

    def test_casts_queued_behind_busy_leaders_are_claimed_in_one_batch(self):
        ids = self.post_uncast(12)
        manager = self.engine.manager
        held, go, claims = self.held_claims()
        with held:
            leaders = self.start_leaders(ids, claims)
            queued = [self.cast(i) for i in ids[manager.LEADERS:]]
            for thread in queued:
                thread.join(10)
                self.assertFalse(thread.is_alive(),
                                 'a cast waited for the busy leaders')
            go.set()
            for thread in leaders:
                thread.join(30)

        for i in ids:
            self.wait_for_status(i, ['finished'])
        self.assertEqual([[i] for i in ids[:manager.LEADERS]] +
                         [ids[manager.LEADERS:]], claims)
        self.assertEqual(12, len(set(self.driver.calls)))

    def test_a_cast_of_several_ids_is_claimed_as_one_batch(self):
        # RPC 1.2 (the API's caster): every id of the cast is queued
        # before the RPC thread leads, so they are claimed together.
        ids = self.post_uncast(5)
        real_claim = db_api.notifications_claim
        claims = []

        def claim(context, notification_ids, *args):
            claims.append(sorted(notification_ids))
            return real_claim(context, notification_ids, *args)

        with mock.patch.object(db_api, 'notifications_claim', claim):
            self.engine.manager.process_notifications({}, ids)
        for i in ids:
            self.wait_for_status(i, ['finished'])
        self.assertEqual([sorted(ids)], claims)

    def test_notifications_released_together_share_one_log_line(self):
        logs = self.useFixture(pyfixtures.FakeLogger(
            name='notifier.engine.manager', level=logging.INFO))
        manager = self.engine.manager
        ids = self.post_uncast(3)
        claimed = db_api.notifications_claim(
            context.get_admin_context(), ids, manager.engine_id, 60)
        flights = [manager_mod._Flight(
            n, context.get_admin_context('req-%d' % k), [], 0)
            for k, n in enumerate(claimed)]

        manager._log_finished([(f, db_api.FINISHED) for f in flights])
        manager._log_finished([(flights[0], db_api.ERROR)])

        lines = logs.output.splitlines()
        self.assertEqual(2, len(lines))
        self.assertIn('3 notifications released together: ', lines[0])
        for k, n in enumerate(claimed):
            self.assertIn('%s is finished: 0 of 0 deliveries done (req-%d)'
                          % (n.notification_uuid, k), lines[0])
        self.assertEqual('Notification %s is error: 0 of 0 deliveries done'
                         % claimed[0].notification_uuid, lines[1])

    def test_casts_waiting_for_room_wake_per_batch_not_per_finish(self):
        # RPC threads whose cast finds the queue full wait; each batch
        # taken wakes them one after another while room is left. A
        # finished notification must not wake them: with oslo.messaging's
        # 64 RPC threads waiting, that was most of an engine's thread
        # switches.
        manager = self.engine.manager
        manager._batch_size = 2  # room for 4 queued ids
        ids = self.post_uncast(14)
        held, go, claims = self.held_claims()
        wakeups = []
        real_wait = manager._room.wait

        def wait(*args):
            result = real_wait(*args)
            wakeups.append(1)
            return result

        with held, mock.patch.object(manager._room, 'wait', wait):
            threads = self.start_leaders(ids, claims)
            threads += [self.cast(i) for i in ids[manager.LEADERS:]]
            for _ in range(100):  # 4 queued, the other 8 casts wait
                if len(manager._queued) == 4:
                    break
                time.sleep(0.05)
            self.assertEqual(4, len(manager._queued))
            time.sleep(0.2)
            self.assertEqual([], wakeups, 'nothing made room yet')
            go.set()
            for thread in threads:
                thread.join(30)
                self.assertFalse(thread.is_alive(), 'a cast was never '
                                 'woken: it would wait forever')

        for i in ids:
            self.wait_for_status(i, ['finished'])
        self.assertEqual(sorted(ids), sorted(i for c in claims for i in c))
        # Each of the 8 waiting casts wakes about once (one more where a
        # newcomer took the room first); 14 finished notifications
        # waking all of them would be far more.
        self.assertLessEqual(len(wakeups), 16)



class TestLeaseKeeper(EngineTestCase):
    """The keeper warns only about notifications another engine took."""

    def test_a_notification_released_meanwhile_is_not_reported_lost(self):
        logs = self.useFixture(pyfixtures.FakeLogger(
            name='notifier.engine.manager', level=logging.WARNING))
        ids = self.post_uncast(3)
        manager = self.engine.manager
        ctx = context.get_admin_context()
        db_api.notifications_claim(ctx, ids, manager.engine_id, 60)
        manager._flights.update((i, object()) for i in ids)
        self.addCleanup(manager._flights.clear)
        released, taken, kept = ids
        # Released by this engine's last record (the keeper's UPDATE
        # waited for it), and claimed by another engine after its lease.
        db_api.notifications_release(ctx, manager.engine_id,
                                     {released: ('finished', None)})
        with db_api.get_engine().begin() as conn:
            conn.execute(sa.update(models.Notification)
                         .where(models.Notification.id == taken)
                         .values(claimed_by='another-engine'))
        self.assertTrue(manager._extend_leases())
        self.assertIn('Lost the claim on 1 of 3 notifications', logs.output)
        self.assertIn('another engine took them: %d)' % taken, logs.output)
