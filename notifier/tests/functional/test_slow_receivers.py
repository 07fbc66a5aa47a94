"""A receiver that hangs costs only its own delivery: the send is bounded
by the driver's timeout, and the other destinations of the same
notification are delivered meanwhile, by real HTTP receivers."""

import time

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
