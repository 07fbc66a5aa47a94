"""A receiver that hangs costs only its own delivery: the send is bounded
by the driver's timeout, and the other destinations of the same
notification are delivered meanwhile, by real HTTP receivers."""

import threading
import time

from notifier.engine import manager as engine_manager
from notifier.tests.functional import base
from notifier.tests.functional import faults

V1_5 = {'OpenStack-API-Version': 'notification 1.5'}


class TestSlowReceivers(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.flags(timeout=1.0, group='driver_webhook')
        self.flags(default_destinations=[], retry_initial_delay=30.0,
                   group='engine')
        self.hanging = self.useFixture(faults.CountingReceiver(hang_for=15))
        self.hanging.mode = faults.HANG
        self.healthy = self.useFixture(faults.CountingReceiver())

    def destination(self, name, receiver):
        return self.api.post('/v1/destinations', {'destination': {
            'name': name, 'medium': 'webhook',
            'settings': {'url': receiver.url + '/hook'}}},
            headers=V1_5, status=201).json['destination']

    def test_hanging_webhook_times_out_and_does_not_delay_the_others(self):
        hanging = self.destination('hanging', self.hanging)
        healthy = self.destination('healthy', self.healthy)
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [hanging['id'], healthy['id']]}},
            headers=V1_5, status=201)
        start = time.monotonic()
        created = self.api.post('/v1/notifications',
                                base.notification_body(),
                                status=202).json['notification']
        # The healthy receiver has it while the other one still hangs
        # (for 15 s): wall-clock bounds here are generous, for loaded
        # machines; what they tell apart is 1 s (the timeout) from 15 s.
        while not self.healthy.raw:
            self.assertLess(time.monotonic() - start, 10)
            time.sleep(0.02)
        self.assertEqual(1, len(self.hanging.raw))

        # The hanging send gives up after [driver_webhook] timeout, as a
        # transient failure to retry, well before the receiver answers.
        self.wait_for_status(created['id'], ['error'], timeout=10)
        self.assertLess(time.monotonic() - start, 10.0)
        shown = self.api.get('/v1/notifications/%s' % created['id'],
                             headers=V1_5).json['notification']
        by_destination = {d['destination_id']: d
                          for d in shown['deliveries']}
        self.assertEqual('delivered', by_destination[healthy['id']]['status'])
        stuck = by_destination[hanging['id']]
        self.assertEqual('pending', stuck['status'])
        self.assertIn('timed out', stuck['last_error'])
        self.assertIsNotNone(stuck['next_attempt_at'])

    def test_a_slow_destination_holds_only_its_share_of_the_threads(self):
        self.flags(timeout=10.0, group='driver_webhook')
        self.flags(destination_concurrency=2, group='engine')
        # Accepted requests wait until the gate opens: sends in flight.
        self.hanging.mode = faults.OK
        self.hanging.gate = threading.Event()
        self.addCleanup(self.hanging.gate.set)
        slow = self.destination('slow', self.hanging)
        healthy = self.destination('healthy', self.healthy)
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [slow['id'], healthy['id']]}},
            headers=V1_5, status=201)
        ids = [self.api.post('/v1/notifications', base.notification_body(
            hostname='compute-%d' % i), status=202).json['notification']['id']
            for i in range(6)]
        # The healthy destination has every alert while the slow one holds
        # two sends; the engine keeps its other four back.
        start = time.monotonic()
        while len(self.healthy.raw) < 6:
            self.assertLess(time.monotonic() - start, 10)
            time.sleep(0.02)
        time.sleep(0.3)  # time enough for a send too many to arrive
        self.assertEqual(2, len(self.hanging.raw))
        self.hanging.gate.set()
        for notification_id in ids:
            self.wait_for_status(notification_id, ['finished'])
        self.assertEqual(6, len(self.hanging.raw))
        self.assertEqual({1}, set(self.hanging.raw.values()))


class TestHeldSendsAtStop(base.FunctionalTestCase):
    start_engine = False  # the test's own engine

    def test_sends_held_for_a_destination_are_left_to_the_lease(self):
        self.flags(default_destinations=[], destination_concurrency=1,
                   group='engine')
        receiver = self.useFixture(faults.CountingReceiver(hang_for=15))
        receiver.gate = threading.Event()
        self.addCleanup(receiver.gate.set)
        hook = self.api.post('/v1/destinations', {'destination': {
            'name': 'slow', 'medium': 'webhook',
            'settings': {'url': receiver.url + '/hook'}}},
            headers=V1_5, status=201).json['destination']
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [hook['id']]}},
            headers=V1_5, status=201)
        ids = [self.api.post('/v1/notifications', base.notification_body(
            hostname='compute-%d' % i), status=202).json['notification']['id']
            for i in range(3)]
        manager = engine_manager.EngineManager(self.conf)
        manager.queue(*ids)
        start = time.monotonic()
        while not receiver.raw:
            self.assertLess(time.monotonic() - start, 10)
            time.sleep(0.02)
        stopping = threading.Thread(target=manager.stop)
        stopping.start()
        time.sleep(0.2)
        receiver.gate.set()  # the send in flight ends; the engine stops
        stopping.join(20)
        self.assertFalse(stopping.is_alive())
        self.assertEqual(1, len(receiver.raw))
        statuses = sorted(self.wait_for_status(i, ['finished', 'running'])[
            'status'] for i in ids)
        # The two held sends were not made: their notifications stay
        # claimed until the lease expires, and another engine sends them.
        self.assertEqual(['finished', 'running', 'running'], statuses)
