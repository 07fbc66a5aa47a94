"""Destination health against a real HTTP receiver: the circuit breaker
pauses a destination that keeps failing (its deliveries wait without using
attempts), probes it once the pause is over, and an HTTP 410 disables it;
the owner sees why in the destination's ``health`` (microversion 1.6)."""

import datetime
import time

from notifier.tests.functional import base
from notifier.tests.functional import faults

V1_5 = {'OpenStack-API-Version': 'notification 1.5'}
V1_6 = {'OpenStack-API-Version': 'notification 1.6'}


def parse_time(value):
    return datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%S.%f')


class TestDestinationHealth(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.flags(breaker_threshold=2, breaker_pause=1.0,
                   breaker_max_pause=30.0, retry_initial_delay=0.0,
                   max_attempts=20, default_destinations=[], group='engine')
        self.receiver = self.useFixture(faults.CountingReceiver())
        self.hook = self.api.post('/v1/destinations', {'destination': {
            'name': 'hook', 'medium': 'webhook',
            'settings': {'url': self.receiver.url + '/hook'}}},
            headers=V1_5, status=201).json['destination']
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [self.hook['id']]}},
            headers=V1_5, status=201)

    def post(self, statuses):
        created = self.api.post(
            '/v1/notifications', base.notification_body(
                hostname='host-%d' % time.monotonic_ns()),
            status=202).json['notification']
        self.wait_for_status(created['id'], statuses)
        return created

    def health(self):
        return self.api.get('/v1/destinations/%s' % self.hook['id'],
                            headers=V1_6).json['destination']['health']

    def delivery(self, notification):
        shown = self.api.get('/v1/notifications/%s' % notification['id'],
                             headers=V1_5).json['notification']
        self.assertEqual(1, len(shown['deliveries']))
        return shown['deliveries'][0]

    def requests_seen(self):
        return sum(self.receiver.answers.values())

    def trip(self):
        self.receiver.mode = faults.DOWN
        for _ in range(2):
            self.post(['error'])
        health = self.health()
        self.assertEqual('paused', health['state'])
        self.assertEqual(2, health['consecutive_failures'])
        self.assertIn('HTTP 503', health['reason'])
        return health

    def test_health_is_ok_and_only_shown_from_1_6(self):
        self.assertEqual({'state': 'ok', 'reason': None,
                          'paused_until': None, 'consecutive_failures': 0},
                         self.health())
        old = self.api.get('/v1/destinations/%s' % self.hook['id'],
                           headers=V1_5).json['destination']
        self.assertNotIn('health', old)
        listed = self.api.get('/v1/destinations', headers=V1_6).json[
            'destinations']
        self.assertEqual('ok', listed[0]['health']['state'])

    def test_paused_destination_defers_without_using_attempts(self):
        health = self.trip()
        seen = self.requests_seen()
        # Paused: the next delivery waits for the end of the pause; it
        # is not sent, and no attempt is used.
        deferred = self.post(['error'])
        self.assertEqual(seen, self.requests_seen())
        delivery = self.delivery(deferred)
        self.assertEqual('pending', delivery['status'])
        self.assertEqual(0, delivery['attempts'])
        self.assertEqual(parse_time(health['paused_until']),
                         parse_time(delivery['next_attempt_at']))

        # The receiver recovers; after the pause one probe goes, its
        # success closes the breaker, and the rest follow.
        self.receiver.mode = faults.OK
        time.sleep(1.1)
        deadline = time.monotonic() + 15
        # The two notifications that tripped it are retried too.
        while self.health()['state'] != 'ok' or \
                self.delivery(deferred)['status'] != 'delivered' or \
                len(self.receiver.raw) < 3:
            self.assertLess(time.monotonic(), deadline, self.health())
            self.engine.manager.run_periodic_tasks()
            time.sleep(0.2)
        self.assertEqual({'state': 'ok', 'reason': None,
                          'paused_until': None, 'consecutive_failures': 0},
                         self.health())
        delivery = self.delivery(deferred)
        self.assertEqual(1, delivery['attempts'])
        self.assertEqual(3, len(self.receiver.raw))

    def test_failed_probe_pauses_again_for_longer(self):
        self.trip()
        time.sleep(1.1)
        seen = self.requests_seen()
        # Two notifications are due, but only one probe is sent.
        self.engine.manager.run_periodic_tasks()
        self.assertEqual(seen + 1, self.requests_seen())
        health = self.health()
        self.assertEqual('paused', health['state'])
        self.assertEqual(3, health['consecutive_failures'])
        pause = parse_time(health['paused_until']) - datetime.datetime.utcnow()
        # Twice breaker_pause this time.
        self.assertGreater(pause.total_seconds(), 1.2)

    def test_owner_put_clears_the_pause(self):
        self.trip()
        self.receiver.mode = faults.OK
        updated = self.api.put('/v1/destinations/%s' % self.hook['id'], {
            'destination': {'enabled': True}}, headers=V1_6).json[
                'destination']
        self.assertEqual('ok', updated['health']['state'])
        self.assertEqual(0, updated['health']['consecutive_failures'])
        self.post(['finished'])

    def test_http_410_disables_the_destination_until_re_enabled(self):
        self.receiver.mode = faults.GONE
        gone = self.post(['failed'])
        delivery = self.delivery(gone)
        self.assertEqual('failed', delivery['status'])
        self.assertEqual(1, delivery['attempts'])
        shown = self.api.get('/v1/destinations/%s' % self.hook['id'],
                             headers=V1_6).json['destination']
        self.assertFalse(shown['enabled'])
        self.assertEqual('disabled', shown['health']['state'])
        self.assertIn('410', shown['health']['reason'])
        self.assertIn('new URL', shown['health']['reason'])
        # Disabled: nothing more is sent to it.
        seen = self.requests_seen()
        self.post(['ignored', 'finished'])
        self.assertEqual(seen, self.requests_seen())

        self.receiver.mode = faults.OK
        updated = self.api.put('/v1/destinations/%s' % self.hook['id'], {
            'destination': {'enabled': True}}, headers=V1_6).json[
                'destination']
        self.assertTrue(updated['enabled'])
        self.assertEqual({'state': 'ok', 'reason': None,
                          'paused_until': None, 'consecutive_failures': 0},
                         updated['health'])
        self.post(['finished'])
        self.assertEqual(seen + 1, self.requests_seen())
