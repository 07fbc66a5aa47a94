"""Casts the ids of new notifications to the engines off the request path.

A create answers as soon as its row is committed and its id is queued
here. One thread per API process takes everything queued at that moment
and casts it together (RPC API 1.2 ``process_notifications``): no request
waits for the broker's publisher confirm, and the creates that arrive
while a cast is under way share the next one, and its CPU (the AMQP
client's, about 0.5 ms per message, most of a cast's cost). Casts are
at least ``[api] cast_interval`` apart, so that under load more creates
share each one; an id that arrives after a quiet interval is cast at
once, and a full batch does not wait.

Nothing is lost when a cast is: the row is the source of truth, and the
engines' periodic task picks up any notification still ``new`` after
``[engine] recast_after`` seconds. So the queue is bounded (ids past
:data:`MAX_QUEUED` are dropped with a warning while the broker does not
keep up), a failed cast is logged once and not retried, and at exit the
process waits at most :data:`EXIT_TIMEOUT` seconds for what is queued.

The thread starts with the first id a process queues, so under a
pre-forking server (gunicorn) each worker has its own; a forked child
starts with an empty queue and a thread of its own, its parent casts what
was queued before the fork.
"""

import atexit
import os
import threading
import time
import weakref

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: Most ids queued per caster; more are dropped (and left to the periodic
#: task) while a cast is stuck on an unresponsive broker.
MAX_QUEUED = 10000
#: Seconds the thread waits for work before it ends; the next id queued
#: starts another.
IDLE_TIMEOUT = 60.0
#: Seconds a process that exits waits for what it has queued to be cast.
EXIT_TIMEOUT = 5.0

_CASTERS = weakref.WeakSet()


class Caster:
    """A queue of notification ids and the thread that casts them.

    ``cast(ids)`` sends a list of ids to the engines and logs its own
    failures, once per call (:meth:`notifier.engine.rpcapi.EngineAPI
    .process_notifications`); it is called from one thread at a time.
    """

    def __init__(self, cast, max_queued=MAX_QUEUED,
                 idle_timeout=IDLE_TIMEOUT, interval=0.0, batch_size=None):
        self._cast = cast
        self._max_queued = max_queued
        self._idle_timeout = idle_timeout
        # Casts start at least ``interval`` seconds apart, unless
        # ``batch_size`` ids (a full cast) are waiting.
        self._interval = interval
        self._batch_size = batch_size or max_queued
        self._reset()
        _CASTERS.add(self)

    def _reset(self):
        lock = threading.Lock()
        self._work = threading.Condition(lock)  # the thread waits for ids
        self._done = threading.Condition(lock)  # flush() waits for casts
        self._queued = []
        self._sending = False
        self._dropped = 0
        self._thread = None
        self._pid = os.getpid()
        self._last_cast = None  # when the last cast started (monotonic)
        self._pacing = False  # the thread waits out the interval

    def put(self, notification_id):
        """Queue an id for the next cast and return at once; False if the
        queue is full and the id was dropped."""
        with self._work:
            if self._pid != os.getpid():
                # Forked without the at-fork hook (see below): the
                # parent's thread does not run here, and its queue is the
                # parent's to cast.
                self._queued, self._thread = [], None
                self._pid = os.getpid()
            if len(self._queued) >= self._max_queued:
                self._dropped += 1
                first = self._dropped == 1
            else:
                self._queued.append(notification_id)
                if self._thread is None:
                    self._start()
                elif not self._pacing or \
                        len(self._queued) >= self._batch_size:
                    # While the thread waits out the interval, only a full
                    # batch needs it sooner: no wake-up per id.
                    self._work.notify()
                return True
        if first:
            LOG.warning('%(n)d notifications are waiting to be cast to '
                        'the engines, the most an API process queues: the '
                        'broker is slow or blocked. Notification %(id)s '
                        'and the next ones are not cast; the engines\' '
                        'periodic task will pick them up from the database '
                        'within [engine] recast_after seconds.',
                        {'n': self._max_queued, 'id': notification_id})
        return False

    def _start(self):
        thread = threading.Thread(target=self._run, name='notifier-caster',
                                  daemon=True)
        try:
            thread.start()
        except RuntimeError as e:
            # At interpreter shutdown: the id stays queued for the next
            # put, and the row for the periodic task.
            LOG.debug('Cannot start the casting thread: %s', e)
            return
        self._thread = thread

    def _pace(self, me):
        """Wait, with the lock held by the caller, until ``interval``
        seconds have passed since the last cast started or a full batch
        is queued; the ids put meanwhile join this cast."""
        if not self._interval or self._last_cast is None:
            return
        due = self._last_cast + self._interval
        self._pacing = True
        try:
            while len(self._queued) < self._batch_size and \
                    self._thread is me:
                remaining = due - time.monotonic()
                if remaining <= 0:
                    return
                self._work.wait(remaining)
        finally:
            self._pacing = False

    def flush(self, timeout):
        """Wait until what was queued is cast (or failed); False if that
        took longer than ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._done:
            while self._queued or self._sending:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._thread is None:
                    return False
                self._done.wait(remaining)
        return True

    def _run(self):
        me = threading.current_thread()
        while True:
            with self._work:
                idle_until = time.monotonic() + self._idle_timeout
                while not self._queued and self._thread is me:
                    remaining = idle_until - time.monotonic()
                    if remaining <= 0:
                        self._thread = None
                        return
                    self._work.wait(remaining)
                if self._thread is not me:  # replaced by put(), see there
                    return
                self._pace(me)
                if self._thread is not me:
                    return
                batch, self._queued = self._queued, []
                self._last_cast = time.monotonic()
                dropped, self._dropped = self._dropped, 0
                self._sending = True
            if dropped:
                LOG.warning('%d notifications were not cast to the engines '
                            'while the cast queue was full; the periodic '
                            'task picks them up.', dropped)
            try:
                self._cast(batch)
            except Exception:
                LOG.exception('Casting %d notifications failed; the '
                              'engines\' periodic task will pick them up '
                              'from the database within [engine] '
                              'recast_after seconds.', len(batch))
            finally:
                with self._done:
                    self._sending = False
                    self._done.notify_all()


def flush_all(timeout=EXIT_TIMEOUT):
    """Wait, ``timeout`` seconds at most in all, for every caster of the
    process to cast what it has queued. Runs at exit."""
    deadline = time.monotonic() + timeout
    for caster in list(_CASTERS):
        caster.flush(max(0.0, deadline - time.monotonic()))


def _after_fork_in_child():
    # The parent's lock may have been held by one of its threads at the
    # fork; start from scratch.
    for caster in list(_CASTERS):
        caster._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(flush_all)
