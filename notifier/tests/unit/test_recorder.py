"""The group commit of delivery attempts (notifier.engine.recorder), with
the database replaced by a commit that the test controls."""

import threading
import time

import testtools

from notifier.engine import recorder


class Recorder(recorder.AttemptRecorder):
    """Commits by noting the batch; the first commit can be held until
    the test lets it go, and a commit can fail as a whole."""

    def __init__(self):
        self.reported = []
        super().__init__(on_released=self.reported.append)
        self.batches = []
        self.hold = threading.Event()
        self.hold.set()
        self.committing = threading.Event()
        self.explode = set()  # attempts whose batch raises

    def _commit(self, context, batch):
        names = [item.kwargs['name'] for item in batch]
        self.batches.append(names)
        self.committing.set()
        self.hold.wait(10)
        if self.explode & set(names):
            raise ValueError('boom')
        for item in batch:
            release = item.kwargs.get('release')
            item.committed({release[0]} if release else set())

    def waiting(self):
        with self._cond:
            return len(self._pending)


class TestAttemptRecorder(testtools.TestCase):

    def start(self, rec, name, results, release=False):
        def record():
            try:
                results[name] = rec.record(
                    None, note=name, name=name,
                    release=(name, 'engine-a', 'finished', None)
                    if release else None)
            except Exception as e:
                results[name] = e
        thread = threading.Thread(target=record)
        thread.start()
        self.addCleanup(thread.join, 10)
        return thread

    def until(self, predicate):
        deadline = time.monotonic() + 10
        while not predicate():
            self.assertLess(time.monotonic(), deadline, 'timed out')
            time.sleep(0.001)

    def test_attempts_made_during_a_commit_are_committed_together(self):
        rec, results = Recorder(), {}
        rec.hold.clear()
        first = self.start(rec, 'a', results)
        self.until(rec.committing.is_set)
        others = [self.start(rec, name, results, release=True)
                  for name in 'bcde']
        self.until(lambda: rec.waiting() == 4)
        rec.hold.set()
        for thread in [first] + others:
            thread.join(10)

        self.assertEqual([['a'], ['b', 'c', 'd', 'e']], rec.batches)
        self.assertEqual({'a': False, 'b': True, 'c': True, 'd': True,
                          'e': True}, results)
        # One report for the second commit's releases, by its committer.
        self.assertEqual([[(n, 'finished') for n in 'bcde']], rec.reported)

    def test_a_lone_attempt_commits_at_once(self):
        rec = Recorder()
        self.assertTrue(rec.record(
            None, name='a', release=('a', 'engine-a', 'finished', None)))
        self.assertFalse(rec.record(None, name='b'))
        self.assertEqual([['a'], ['b']], rec.batches)

    def test_a_batch_that_fails_hands_the_next_one_over(self):
        """The attempts of a batch that could not be committed all fail,
        and those that waited behind it are committed by one of theirs
        rather than left waiting."""
        rec, results = Recorder(), {}
        rec.hold.clear()
        rec.explode = {'a'}
        first = self.start(rec, 'a', results)
        self.until(rec.committing.is_set)
        behind = [self.start(rec, name, results) for name in 'bc']
        self.until(lambda: rec.waiting() == 2)
        rec.hold.set()
        for thread in [first] + behind:
            thread.join(10)
            self.assertFalse(thread.is_alive())

        self.assertEqual([['a'], ['b', 'c']], rec.batches)
        self.assertIsInstance(results['a'], ValueError)
        self.assertEqual({'b': False, 'c': False},
                         {k: results[k] for k in 'bc'})
        # Nothing waits, and the next attempt commits on its own.
        self.assertFalse(rec.record(None, name='d'))
        self.assertEqual(['d'], rec.batches[-1])

    def test_every_attempt_of_many_threads_is_committed_once(self):
        rec, results = Recorder(), {}
        names = ['t%d' % i for i in range(64)]
        threads = [self.start(rec, name, results, release=True)
                   for name in names]
        for thread in threads:
            thread.join(10)

        committed = [n for batch in rec.batches for n in batch]
        self.assertEqual(sorted(names), sorted(committed))
        self.assertEqual(dict.fromkeys(names, True), results)

    def test_submit_returns_before_the_commit_and_calls_back_after(self):
        rec, called = Recorder(), []
        rec.hold.clear()
        rec.submit(None, lambda error, released: called.append(
            (error, released, threading.current_thread().name)),
            note='a', name='a', release=('a', 'engine-a', 'finished', None))
        self.until(rec.committing.is_set)
        self.assertEqual([], called)  # submitted, the commit held
        rec.hold.set()
        self.until(lambda: called)
        self.assertEqual([(None, True, 'notifier-recorder')], called)
        self.assertEqual([[('a', 'finished')]], rec.reported)

    def test_close_commits_what_was_submitted_and_what_callbacks_add(self):
        rec, called = Recorder(), []
        rec.hold.clear()

        def then_release(error, released):
            called.append('a')
            rec.submit(None, lambda error, released: called.append(
                'release'), name='release')
        rec.submit(None, then_release, name='a')
        self.until(rec.committing.is_set)
        closing = threading.Thread(target=rec.close)
        closing.start()
        self.addCleanup(closing.join, 10)
        self.until(lambda: rec._closed)
        self.assertRaises(RuntimeError, rec.submit, None,
                          lambda error, released: None, name='late')
        rec.hold.set()
        closing.join(10)

        self.assertFalse(closing.is_alive())
        self.assertEqual(['a', 'release'], called)
        self.assertEqual([['a'], ['release']], rec.batches)

    def test_a_failing_callback_leaves_the_others_and_the_thread(self):
        rec, called = Recorder(), []
        rec.hold.clear()

        def bug(error, released):
            raise ValueError('bug')
        rec.submit(None, lambda error, released: None, name='first')
        self.until(rec.committing.is_set)
        rec.submit(None, bug, name='a')
        rec.submit(None, lambda error, released: called.append(error),
                   name='b')
        rec.hold.set()
        self.until(lambda: called)

        self.assertEqual([None], called)
        self.assertEqual([['first'], ['a', 'b']], rec.batches)
        self.assertFalse(rec.record(None, name='c'))
