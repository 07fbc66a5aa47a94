"""The API's caster (notifier.api.caster) and the engine RPC API's batched
cast and version cap (notifier.engine.rpcapi)."""

import logging
import threading
import time
from unittest import mock

import fixtures
import oslo_messaging as messaging

from notifier.api import caster
from notifier.engine import rpcapi
from notifier import service
from notifier.tests import base
from notifier.tests import fixtures as notifier_fixtures

WAIT = 10  # seconds; every wait below is bounded


class Recorder:
    """A cast function that records its batches; ``hold()`` makes the
    next call wait until ``release()``."""

    def __init__(self, fail=False):
        self.batches = []
        self.times = []  # when each call began (monotonic)
        self.fail = fail
        self.entered = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._changed = threading.Condition()

    def hold(self):
        self._go.clear()
        self.entered.clear()

    def release(self):
        self._go.set()

    def __call__(self, ids):
        self.times.append(time.monotonic())
        self.entered.set()
        self._go.wait(WAIT)
        with self._changed:
            self.batches.append(list(ids))
            self._changed.notify_all()
        if self.fail:
            raise RuntimeError('cast function bug')
        return True

    def wait_for(self, count):
        with self._changed:
            self._changed.wait_for(lambda: len(self.batches) >= count, WAIT)
        return self.batches


class TestCaster(base.TestCase):

    def setUp(self):
        super().setUp()
        self.logs = self.useFixture(fixtures.FakeLogger(
            name='notifier.api.caster', level=logging.INFO))
        self.cast = Recorder()

    def caster(self, **kwargs):
        c = caster.Caster(self.cast, **kwargs)
        self.addCleanup(self.cast.release)
        return c

    def test_put_returns_while_a_cast_waits_for_the_broker(self):
        c = self.caster()
        self.cast.hold()
        self.assertTrue(c.put(1))
        self.assertTrue(self.cast.entered.wait(WAIT))
        start = time.monotonic()
        self.assertTrue(c.put(2))
        self.assertLess(time.monotonic() - start, 1.0)
        self.cast.release()
        self.assertEqual([[1], [2]], self.cast.wait_for(2))

    def test_ids_queued_during_a_cast_go_together_in_the_next_one(self):
        c = self.caster()
        self.cast.hold()
        c.put(1)
        self.assertTrue(self.cast.entered.wait(WAIT))
        for i in range(2, 7):
            c.put(i)
        self.cast.release()
        self.assertEqual([[1], [2, 3, 4, 5, 6]], self.cast.wait_for(2))
        self.assertTrue(c.flush(WAIT))

    def test_casts_are_an_interval_apart_and_share_what_came_meanwhile(self):
        c = self.caster(interval=0.5)
        c.put(1)
        self.assertEqual([[1]], self.cast.wait_for(1))
        for i in range(2, 5):  # within the interval: they wait for it
            c.put(i)
        self.assertEqual([[1], [2, 3, 4]], self.cast.wait_for(2))
        self.assertGreater(self.cast.times[1] - self.cast.times[0], 0.4)
        self.assertTrue(c.flush(WAIT))

    def test_an_id_after_a_quiet_interval_is_cast_at_once(self):
        c = self.caster(interval=1.0)
        c.put(1)
        self.cast.wait_for(1)
        time.sleep(1.2)
        put_at = time.monotonic()
        c.put(2)
        self.assertEqual([[1], [2]], self.cast.wait_for(2))
        self.assertLess(self.cast.times[1] - put_at, 0.5)

    def test_a_full_batch_does_not_wait_for_the_interval(self):
        c = self.caster(interval=WAIT * 2, batch_size=3)
        c.put(1)
        self.cast.wait_for(1)
        start = time.monotonic()
        for i in range(2, 5):
            c.put(i)
        self.assertEqual([[1], [2, 3, 4]], self.cast.wait_for(2))
        self.assertLess(time.monotonic() - start, WAIT)

    def test_flush_waits_out_the_interval_for_what_is_queued(self):
        c = self.caster(interval=0.3)
        c.put(1)
        self.cast.wait_for(1)
        c.put(2)
        self.assertTrue(c.flush(WAIT))
        self.assertEqual([[1], [2]], self.cast.batches)

    def test_a_full_queue_drops_ids_with_one_warning_and_a_count(self):
        c = self.caster(max_queued=3)
        self.cast.hold()
        c.put(1)
        self.assertTrue(self.cast.entered.wait(WAIT))
        self.assertEqual([True, True, True, False, False],
                         [c.put(i) for i in range(2, 7)])
        warnings = [line for line in self.logs.output.splitlines()
                    if 'not cast' in line]
        self.assertEqual(1, len(warnings), self.logs.output)
        self.assertIn('Notification 5 and the next ones are not cast',
                      warnings[0])
        self.assertIn('recast_after', warnings[0])
        self.cast.release()
        self.assertEqual([[1], [2, 3, 4]], self.cast.wait_for(2))
        self.assertTrue(c.flush(WAIT))
        self.assertIn('2 notifications were not cast to the engines while '
                      'the cast queue was full', self.logs.output)
        # Room again: the next id is taken.
        self.assertTrue(c.put(7))
        self.assertEqual([7], self.cast.wait_for(3)[2])

    def test_a_failing_cast_function_is_logged_and_the_thread_goes_on(self):
        self.cast.fail = True
        c = self.caster()
        c.put(1)
        self.cast.wait_for(1)
        self.assertTrue(c.flush(WAIT))
        self.assertIn('Casting 1 notifications failed', self.logs.output)
        c.put(2)
        self.assertEqual([[1], [2]], self.cast.wait_for(2))

    def test_flush_waits_for_the_cast_in_progress_within_its_timeout(self):
        c = self.caster()
        self.cast.hold()
        c.put(1)
        self.assertTrue(self.cast.entered.wait(WAIT))
        self.assertFalse(c.flush(0.1))
        threading.Timer(0.2, self.cast.release).start()
        self.assertTrue(c.flush(WAIT))
        self.assertEqual([[1]], self.cast.batches)

    def test_flush_all_is_bounded_in_all(self):
        first, second = self.caster(), self.caster()
        self.cast.hold()
        first.put(1)
        second.put(2)
        start = time.monotonic()
        caster.flush_all(0.3)
        self.assertLess(time.monotonic() - start, 2.0)

    def test_an_idle_thread_ends_and_the_next_id_starts_another(self):
        c = self.caster(idle_timeout=0.05)
        c.put(1)
        self.cast.wait_for(1)
        first = c._thread
        first.join(WAIT)
        self.assertFalse(first.is_alive())
        c.put(2)
        self.assertEqual([[1], [2]], self.cast.wait_for(2))
        self.assertIsNot(first, c._thread)

    def test_thread_is_started_by_the_first_id_not_before(self):
        c = self.caster()
        self.assertIsNone(c._thread)
        c.put(1)
        self.assertIsNotNone(c._thread)
        self.cast.wait_for(1)

    def test_a_new_process_id_casts_only_what_was_queued_after_it(self):
        # A child forked without the at-fork hook: the parent's queue and
        # thread are not the child's.
        c = self.caster()
        self.cast.hold()
        c.put(1)
        self.assertTrue(self.cast.entered.wait(WAIT))
        c.put(2)  # queued in the "parent"
        with mock.patch('os.getpid', return_value=c._pid + 1):
            c.put(3)
        self.cast.release()
        self.cast.wait_for(2)
        self.assertTrue(c.flush(WAIT))
        # Here the "parent's" thread still runs too: either may cast 3.
        self.assertEqual([[1], [3]], sorted(self.cast.batches),
                         'the parent\'s queue was cast')

    def test_the_at_fork_hook_frees_a_lock_held_at_the_fork(self):
        c = self.caster()
        c._work.acquire()  # as if a thread of the parent held it
        caster._after_fork_in_child()
        putter = threading.Thread(target=c.put, args=(1,))
        putter.start()
        putter.join(WAIT)
        self.assertFalse(putter.is_alive(), 'put() waits for a dead lock')
        self.assertEqual([[1]], self.cast.wait_for(1))


class TestEngineAPI(base.TestCase):
    """What goes on the wire, on the fake transport."""

    def setUp(self):
        super().setUp()
        self.useFixture(notifier_fixtures.Transport(self.conf))
        self.logs = self.useFixture(fixtures.FakeLogger(
            name='notifier.engine.rpcapi', level=logging.WARNING))
        self.sent = []
        self.refuse_after = None

        def cast(call_context, ctxt, method, **kwargs):
            if (self.refuse_after is not None and
                    len(self.sent) >= self.refuse_after):
                raise messaging.MessageDeliveryFailure('broker unreachable')
            self.sent.append((call_context.target.version, method, kwargs,
                              ctxt))
        self.useFixture(fixtures.MockPatch(
            'oslo_messaging.rpc.client._BaseCallContext.cast',
            autospec=True, side_effect=cast))

    def test_ids_go_in_one_cast_per_engine_batch(self):
        self.flags(batch_size=2, group='engine')
        api = rpcapi.EngineAPI(self.conf)
        self.assertTrue(api.process_notifications(None, [1, 2, 3, 4, 5]))
        self.assertEqual(
            [('1.2', 'process_notifications', {'notification_ids': ids}, {})
             for ids in ([1, 2], [3, 4], [5])], self.sent)

    def test_capped_below_1_2_each_id_goes_in_a_cast_of_its_own(self):
        self.flags(engine='1.1', group='upgrade_levels')
        api = rpcapi.EngineAPI(self.conf)
        self.assertTrue(api.process_notifications(None, [1, 2, 3]))
        self.assertEqual(
            [('1.0', 'process_notification', {'notification_id': i}, {})
             for i in (1, 2, 3)], self.sent)

    def test_the_cap_still_allows_messages(self):
        self.flags(engine='1.1', group='upgrade_levels')
        api = rpcapi.EngineAPI(self.conf)
        ctx = mock.Mock(request_id='req-1', global_request_id=None,
                        user_id='u', project_id='p')
        self.assertTrue(api.process_message(ctx, 7))
        self.assertEqual('process_message', self.sent[0][1])

    def test_a_refused_batch_is_one_warning_for_its_ids(self):
        self.refuse_after = 0
        api = rpcapi.EngineAPI(self.conf)
        self.assertFalse(api.process_notifications(None, [1, 2, 3]))
        lines = self.logs.output.splitlines()
        self.assertEqual(1, len(lines), self.logs.output)
        self.assertIn('Could not cast 3 notifications (1, 2, 3) to an '
                      'engine (broker unreachable)', lines[0])
        self.assertIn('pick them up from the database within [engine] '
                      'recast_after seconds', lines[0])

    def test_capped_the_first_refusal_stops_the_casts_with_one_warning(self):
        self.flags(engine='1.1', group='upgrade_levels')
        self.refuse_after = 1
        api = rpcapi.EngineAPI(self.conf)
        self.assertFalse(api.process_notifications(None, [1, 2, 3]))
        self.assertEqual([1], [s[2]['notification_id'] for s in self.sent])
        lines = self.logs.output.splitlines()
        self.assertEqual(1, len(lines), self.logs.output)
        self.assertIn('Could not cast 2 notifications (2, 3)', lines[0])

    def test_a_single_refused_notification_reads_as_before(self):
        self.refuse_after = 0
        api = rpcapi.EngineAPI(self.conf)
        api.process_notifications(None, [42])
        self.assertIn('Could not cast notification 42 to an engine',
                      self.logs.output)
        self.assertIn('pick it up', self.logs.output)

    def test_a_malformed_cap_is_refused(self):
        self.assertRaises(ValueError, self.flags, engine='one',
                          group='upgrade_levels')


class TestAPIServerStop(base.TestCase):

    def test_stopping_the_api_server_casts_what_is_queued(self):
        # notifier-api's workers exit through os._exit, which skips
        # atexit: stop() itself waits for the queued casts.
        release = threading.Event()
        cast = []

        def slow_cast(ids):
            release.wait(5)
            cast.extend(ids)
        queue = caster.Caster(slow_cast)
        queue.put(42)
        threading.Timer(0.2, release.set).start()
        service.APIServer(self.conf).stop()
        self.assertEqual([42], cast)
