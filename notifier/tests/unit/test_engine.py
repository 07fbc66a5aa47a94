import datetime
from unittest import mock

from notifier.db import api as db
from notifier.engine import manager
from notifier.tests import base


def _delivery(status, next_attempt_at=None):
    return mock.Mock(status=status, next_attempt_at=next_attempt_at)


class TestOutcome(base.TestCase):

    def test_no_deliveries_is_ignored(self):
        self.assertEqual((db.IGNORED, None), manager.outcome([]))

    def test_all_delivered_is_finished(self):
        self.assertEqual((db.FINISHED, None), manager.outcome(
            [_delivery(db.DELIVERED), _delivery(db.DELIVERED)]))

    def test_a_pending_retry_is_error_with_the_earliest_retry_time(self):
        soon = datetime.datetime(2026, 1, 1, 10, 0, 0)
        later = soon + datetime.timedelta(minutes=5)
        self.assertEqual((db.ERROR, soon), manager.outcome(
            [_delivery(db.DELIVERED), _delivery(db.PENDING, later),
             _delivery(db.PENDING, soon), _delivery(db.FAILED)]))

    def test_a_failed_delivery_with_nothing_pending_is_failed(self):
        self.assertEqual((db.FAILED, None), manager.outcome(
            [_delivery(db.DELIVERED), _delivery(db.FAILED)]))


class TestBackoff(base.TestCase):

    def test_delay_doubles_with_at_most_20_percent_jitter(self):
        self.flags(retry_initial_delay=2.0, retry_max_delay=1000.0,
                   group='engine')
        for attempt, nominal in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)]:
            delay = manager.backoff(self.conf, attempt)
            self.assertGreaterEqual(delay, nominal)
            self.assertLessEqual(delay, nominal * 1.2)

    def test_delay_is_capped(self):
        self.flags(retry_initial_delay=2.0, retry_max_delay=30.0,
                   group='engine')
        self.assertEqual(30.0, manager.backoff(self.conf, 20))

    def test_retry_after_from_the_receiver_is_honoured(self):
        self.flags(retry_initial_delay=1.0, retry_max_delay=600.0,
                   group='engine')
        self.assertEqual(120.0, manager.backoff(self.conf, 1, retry_after=120))
