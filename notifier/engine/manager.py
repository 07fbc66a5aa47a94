"""The engine: claims notifications, fans them out to deliveries, sends
them through the drivers and records every attempt.

The database is the durable queue and RPC only the wake-up call: whatever
the engine was doing when it died, another engine resumes after the
notification's lease expires, and what was already delivered is not sent
again.
"""

import collections
import datetime
import functools
import os
import random
import threading
import time

import futurist
from futurist import periodics
from futurist import waiters
import oslo_messaging as messaging
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
from oslo_utils import timeutils

from notifier import context as notifier_context
from notifier import crypto
from notifier.db import api as db
from notifier.db import models
from notifier.drivers import base as drivers_base
from notifier.engine import health
from notifier.engine import messages
from notifier.engine import recorder
from notifier.engine import routing
from notifier import exception
from notifier import rendering
from notifier import views

LOG = logging.getLogger(__name__)


def backoff(conf, attempt, retry_after=None):
    """Seconds to wait before retry number ``attempt`` (1 is the first)."""
    delay = conf.engine.retry_initial_delay * (2 ** (attempt - 1))
    delay *= 1 + random.uniform(0, 0.2)
    if retry_after:
        delay = max(delay, retry_after)
    return min(delay, conf.engine.retry_max_delay)


def outcome(deliveries):
    """A notification's status and next retry time, from its deliveries."""
    if not deliveries:
        return db.IGNORED, None
    if all(d.status == db.DELIVERED for d in deliveries):
        return db.FINISHED, None
    pending = [d.next_attempt_at for d in deliveries
               if d.status == db.PENDING]
    if pending:
        return db.ERROR, min(t or timeutils.utcnow() for t in pending)
    return db.FAILED, None


class _Flight:
    """A claimed notification while its due deliveries are sent: the
    deliveries (the attempts update them in memory, so that the last one
    knows the outcome without reading them back) and how many sends are
    still out."""

    def __init__(self, notification, context, deliveries, sends):
        self.notification = notification
        self.context = context
        self.deliveries = deliveries
        self.sending = self.remaining = sends  # sent; recorded
        self.broken = False  # an attempt could not be recorded
        self.status = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    def sent(self, delivery, status, next_attempt_at):
        """Note one send's outcome, before its attempt is recorded.
        Returns the notification's outcome (status, next attempt time) if
        this attempt is the last one and every other attempt is recorded
        already: its record then carries the release too."""
        with self._lock:
            delivery.status, delivery.next_attempt_at = \
                status, next_attempt_at
            self.sending -= 1
            if self.sending or self.remaining > 1 or self.broken:
                return None
            return outcome(self.deliveries)

    def recorded(self, ok):
        """Note that an attempt was recorded (or could not be). Returns
        (last, outcome): whether it was the last attempt, and then the
        notification's outcome, or None if an attempt went unrecorded
        and the notification must be left to its lease."""
        with self._lock:
            self.broken = self.broken or not ok
            self.remaining -= 1
            if self.remaining:
                return False, None
            return True, None if self.broken else outcome(self.deliveries)


class EngineManager:
    """The RPC endpoint on topic ``notifier-engine``; see rpcapi.

    Notifications cast faster than they are taken one at a time are taken
    in batches of up to ``[engine] batch_size``: the RPC threads queue
    them and at most :attr:`LEADERS` of those threads claim, route and
    prepare each batch, in a few transactions, then hand its deliveries to
    the sending threads without waiting for them. Each notification is
    released, in the same transaction as its last attempt, as soon as its
    own deliveries are done; a lease keeper extends the claims of those
    still sending.
    """

    #: RPC threads that claim and prepare batches at the same time.
    LEADERS = 2

    target = messaging.Target(version='1.2')

    def __init__(self, conf, drivers=None):
        self.conf = conf
        # Unique per process: several engines may run on one host.
        self.engine_id = '%s:%d' % (conf.host, os.getpid())
        self.drivers = drivers_base.DriverManager(conf, drivers=drivers)
        self.health = health.Breaker(conf)
        self.recorder = recorder.AttemptRecorder(
            on_released=self._log_finished)
        self._send_pool = futurist.ThreadPoolExecutor(
            max_workers=conf.engine.delivery_threads)
        self._resume_pool = futurist.ThreadPoolExecutor(
            max_workers=max(2, conf.engine.delivery_threads // 2))
        self._periodic_worker = None
        self._batch_size = conf.engine.batch_size
        # Two conditions on one lock: the flights (_start waits for room,
        # _finish makes it) and the queue of casts (queue waits for room,
        # taking a batch makes it). The RPC threads waiting for room in
        # the queue (up to oslo.messaging's executor_thread_pool_size)
        # are not woken by every finished notification: that wake-up of
        # every waiting thread was about 14 thread switches per delivery.
        lock = threading.Lock()
        self._cond = threading.Condition(lock)
        self._room = threading.Condition(lock)
        self._queued = []  # cast, not yet claimed
        self._leaders = 0
        self._flights = {}  # notification id -> _Flight
        self._max_flights = max(self._batch_size,
                                4 * conf.engine.delivery_threads)
        self._keeper = None
        # Sends in flight and held back, by destination: see _dispatch.
        self._slots = threading.Lock()
        self._sending = collections.Counter()
        self._held = {}
        self._stopping = threading.Event()
        self._stopped = threading.Event()

    # RPC methods

    def process_notification(self, ctxt, notification_id):
        self.queue(notification_id)

    def process_notifications(self, ctxt, notification_ids):
        self.queue(*notification_ids)

    def process_message(self, ctxt, message_id):
        # On the threads that also pick messages up from the database,
        # not on this RPC thread: a message is processed from start to
        # end, sends included, and the RPC threads (few: see
        # notifier.conf.opts) must go back to reading casts.
        try:
            self._resume_pool.submit(self.process_message_id, message_id,
                                     request_id=ctxt.get('request_id'))
        except RuntimeError:  # stopping
            LOG.info('Message %s is left to the next engine\'s periodic '
                     'task: this engine is stopping', message_id)

    # The work

    def queue(self, *notification_ids):
        """Take notifications in the next batches. Waits while a full
        batch is queued already (the broker keeps the rest); the calling
        thread may lead batches until the queue is empty."""
        with self._cond:
            while len(self._queued) >= 2 * self._batch_size:
                self._room.wait()
            self._queued.extend(notification_ids)
            if len(self._queued) < 2 * self._batch_size:
                self._room.notify()  # room left: the next one waiting
            if self._leaders >= self.LEADERS:
                return
            self._leaders += 1
        leading = True
        try:
            while True:
                with self._cond:
                    batch = self._queued[:self._batch_size]
                    del self._queued[:self._batch_size]
                    # One waiting thread; it wakes the next while room is
                    # left (above).
                    self._room.notify()
                    if not batch:
                        self._leaders -= 1
                        leading = False
                        return
                self._start(batch)
        finally:
            if leading:
                with self._cond:
                    self._leaders -= 1

    def process(self, notification_id):
        """Claim one notification and deliver what it still needs; its
        new status, or None if it was not claimable."""
        flights = self._start([notification_id])
        if not flights:
            LOG.debug('Notification %s is not claimable (taken by another '
                      'engine, or nothing to do)', notification_id)
            return None
        flights[0].done.wait()
        return flights[0].status

    def _start(self, notification_ids):
        """Claim these notifications and start sending their due
        deliveries; returns their flights (see :class:`_Flight`)."""
        with self._cond:
            ids = [i for i in dict.fromkeys(notification_ids)
                   if i not in self._flights]
            while len(self._flights) >= self._max_flights:
                self._cond.wait()
        context = notifier_context.get_admin_context()
        try:
            # One transaction: the claim, the routing and the deliveries
            # commit together, or not at all (and are taken again).
            with enginefacade.writer.using(context):
                claimed = db.notifications_claim(
                    context, ids, self.engine_id,
                    self.conf.engine.claim_lease)
                plan = self._plan(context, claimed) if claimed else None
        except Exception:
            LOG.exception('Could not claim and route notifications %s; '
                          'they are left as they were and picked up from '
                          'the database later', ids)
            return []
        return self._launch(context, *plan) if plan else []

    def _plan(self, context, claimed):
        """Route claimed notifications, create their deliveries and look
        up what their due deliveries share."""
        subscriptions, targets = {}, {}
        for n in claimed:
            if n.project_id not in subscriptions:
                subscriptions[n.project_id] = db.subscriptions_enabled(
                    context, n.project_id)
            targets[n] = routing.targets(self.conf, context, n,
                                         subscriptions[n.project_id])
        deliveries = db.deliveries_ensure_many(context, targets)
        now = timeutils.utcnow()
        due = [d for n in claimed for d in deliveries[n.id]
               if d.status == db.PENDING and
               (d.next_attempt_at is None or d.next_attempt_at <= now)]
        # Read with the subscriptions, in this transaction: not again.
        known = {d.id: d for found in subscriptions.values()
                 for s in found for d in s.destinations}
        due = self.health.admit(context, due, known)  # paused ones wait
        events = {n.id: views.notification(n) for n in claimed}
        return (claimed, deliveries, due, events,
                self._prepare(context, events, due, known))

    def _launch(self, context, claimed, deliveries, due, events, prepared):
        """Hand the due deliveries to the sending threads; release the
        notifications that have nothing to send now."""
        sends = {}
        for d in due:
            sends.setdefault(d.notification_id, []).append(d)
        flights, quiet = [], {}
        with self._cond:
            for n in claimed:
                flight = self._flights[n.id] = _Flight(
                    n, notifier_context.get_admin_context(n.request_id),
                    deliveries[n.id], len(sends.get(n.id, ())))
                flights.append(flight)
                if not flight.remaining:
                    quiet[n.id] = outcome(flight.deliveries)
            if self._keeper is None:
                self._keeper = threading.Thread(
                    target=self._keep_leases, name='notifier-leases',
                    daemon=True)
                self._keeper.start()
        for flight in flights:
            for d in sends.get(flight.notification.id, ()):
                self._dispatch((flight.context, d, events[d.notification_id],
                                prepared.get(d.notification_id), flight))
        if quiet:  # nothing to send now: released together
            try:
                released = db.notifications_release(context, self.engine_id,
                                                    quiet)
            except Exception:
                LOG.exception('Could not release notifications %s; they '
                              'are resumed after their lease expires',
                              sorted(quiet))
                released = None
            if released:
                self._log_finished([(f, quiet[f.notification.id][0])
                                    for f in flights
                                    if f.notification.id in released])
            for flight in flights:
                nid = flight.notification.id
                if nid in quiet:
                    self._finish(flight, quiet[nid], released)
        return flights

    def _dispatch(self, send):
        """Start ``send`` (context, delivery, event, prepared, flight) on
        the sending threads, or hold it while its destination has
        ``[engine] destination_concurrency`` sends in flight: a destination
        that hangs holds that many threads, not all of them."""
        key = send[1].destination_id
        if key is not None:
            with self._slots:
                if self._sending[key] >= \
                        self.conf.engine.destination_concurrency:
                    self._held.setdefault(key, collections.deque()).append(
                        send)
                    return
                self._sending[key] += 1
        try:
            self._send_pool.submit(self._send, send)
        except RuntimeError:  # stopping: left to its lease
            self._not_sent(send)
            self._sent(key)

    def _send(self, send):
        context, delivery, event, prepared, flight = send
        try:
            self._attempt(context, delivery, event, None, prepared, flight)
        finally:
            self._sent(delivery.destination_id)

    def _sent(self, key):
        """A send to destination ``key`` ended: its slot goes to the next
        send held for it, if any; once the engine stops, those held are
        left to their notifications' leases."""
        if key is None:
            return
        with self._slots:
            held = self._held.get(key)
            if held and not self._stopping.is_set():
                # Under the lock that stop() sets _stopping under: one of
                # the pool's own threads must not submit to it once it
                # shuts down (futurist's shutdown holds the lock submit
                # takes while it waits for those threads).
                self._send_pool.submit(self._send, held.popleft())
                return
            unsent = list(held or ())
            self._held.pop(key, None)
            self._sending[key] -= 1
            if not self._sending[key]:
                del self._sending[key]
        for send in unsent:
            self._not_sent(send)

    def _not_sent(self, send):
        _, delivery, _, _, flight = send
        flight.sent(delivery, delivery.status, delivery.next_attempt_at)
        self._recorded(flight, False)

    def _log_finished(self, finished):
        """Log the outcome of notifications released together, (flight,
        status) each: one line for each, or, for several, one line for
        all of them (formatting a line cost a sixth of the engine's CPU
        per notification with one webhook destination each). Each
        notification's request id is in its line."""
        def outcome_of(flight, status):
            return {'uuid': flight.notification.notification_uuid,
                    'status': status, 'n': len(flight.deliveries),
                    'ok': sum(d.status == db.DELIVERED
                              for d in flight.deliveries)}
        if len(finished) == 1:
            flight, status = finished[0]
            LOG.info('Notification %(uuid)s is %(status)s: %(ok)d of '
                     '%(n)d deliveries done', outcome_of(flight, status),
                     context=flight.context)
            return
        LOG.info('%(count)d notifications released together: %(each)s',
                 {'count': len(finished), 'each': '; '.join(
                     '%(uuid)s is %(status)s: %(ok)d of %(n)d deliveries '
                     'done (%(request_id)s)' % dict(
                         outcome_of(flight, status),
                         request_id=flight.context.request_id)
                     for flight, status in finished)},
                 context=finished[0][0].context)

    def _finish(self, flight, result, released):
        """The flight is over: note its outcome (``released`` says
        whether this engine still held it, and then its release was
        logged already: see _log_finished; None: the release failed) and
        wake up whoever waits for it."""
        n = flight.notification
        if released is not None:
            status = result[0]
            if n.id in released:
                flight.status = status
            else:
                LOG.warning('Notification %s was taken over by another '
                            'engine while this one worked on it (lease '
                            'expired); its outcome is left to that engine.',
                            n.notification_uuid)
        with self._cond:
            self._flights.pop(n.id, None)
            self._cond.notify_all()
        flight.done.set()

    def _keep_leases(self):
        """Extend the claims of the notifications still sending every
        third of ``[engine] claim_lease``, so that a slow fan-out is not
        taken over (and sent twice) by another engine; the leases still
        expire soon after this engine dies."""
        lease = self.conf.engine.claim_lease
        while not self._stopped.wait(lease / 3.0):
            if not self._extend_leases():
                return

    def _extend_leases(self):
        """One round of :meth:`_keep_leases`; False once nothing is in
        flight (the keeper then ends; the next launch starts another)."""
        lease = self.conf.engine.claim_lease
        context = notifier_context.get_admin_context()
        with self._cond:
            ids = list(self._flights)
            if not ids:
                self._keeper = None
                return False
        try:
            held = db.notifications_extend_lease(
                context, ids, self.engine_id, lease)
            # Those released meanwhile (their last attempt's record may
            # have held the rows this UPDATE waited for) were not lost.
            lost = db.notifications_taken_over(
                context, ids, self.engine_id) if held < len(ids) else []
        except Exception:
            LOG.exception('Could not extend the leases of %d '
                          'notifications; retrying in %d seconds',
                          len(ids), lease // 3)
            return True
        if lost:
            LOG.warning('Lost the claim on %(lost)d of %(n)d notifications '
                        'while sending (their lease expired and another '
                        'engine took them: %(ids)s); finishing the sends in '
                        'flight', {'lost': len(lost), 'n': len(ids),
                                   'ids': ', '.join(map(str, lost))})
        return True

    def _wait_holding_lease(self, context, notification, futures,
                            model=models.Notification):
        """Wait for the sends, extending the claim while they run, so that
        a slow fan-out is not taken over (and sent twice) by another
        engine; the lease still expires soon after this engine dies."""
        lease = self.conf.engine.claim_lease
        while waiters.wait_for_all(futures, timeout=lease / 3.0).not_done:
            if not db.notification_extend_lease(
                    context, notification.id, self.engine_id, lease,
                    model=model):
                LOG.warning('Lost the claim on %s %s while sending; '
                            'finishing the sends in flight',
                            model.__tablename__[:-1],
                            getattr(notification, 'notification_uuid',
                                    None) or notification.uuid)
                waiters.wait_for_all(futures)
                return

    def _prepare(self, context, events, due, destinations):
        """What the due deliveries share (templates, destinations,
        rendered messages), looked up once: a :class:`recorder.Prepared`
        by notification id; empty (each delivery then looks them up
        itself) if that fails."""
        if not due:
            return {}
        try:
            return recorder.batch(
                self.conf, context,
                [events[i] for i in {d.notification_id for d in due}], due,
                destinations, renders=self._renders)
        except Exception as e:
            LOG.warning('Could not look up the templates and destinations '
                        'of notifications %(uuids)s at once (%(error)s); '
                        'each delivery looks them up',
                        {'uuids': ', '.join(sorted(
                            events[i]['notification_uuid']
                            for i in {d.notification_id for d in due})),
                         'error': e})
            return {}

    def _renders(self, medium):
        """Whether deliveries of ``medium`` are rendered (see
        :attr:`drivers_base.Driver.renders`)."""
        try:
            return self.drivers.get(medium).renders
        except exception.DriverNotFound:
            return True  # its attempt says what is missing

    def _attempt(self, context, delivery, event, content=None,
                 prepared=None, flight=None):
        """One attempt of one delivery, recorded whatever happens; the
        last of a ``flight`` releases its notification."""
        context.update_store()  # log lines carry the request id
        attempt = delivery.attempts + 1
        started_at = timeutils.utcnow()
        start = time.monotonic()
        receipt = error = next_attempt_at = message = failure = None
        recipients = ()
        try:
            driver = self.drivers.get(delivery.medium)
            if content is not None:  # a message: see _process_message
                message, settings = content(context, delivery)
            else:
                settings = (prepared.settings(delivery)
                            if prepared is not None
                            else self._settings(context, delivery))
                if not driver.renders:
                    message = rendering.unrendered_notification(
                        event, delivery.uuid)
                elif prepared is not None:
                    message = prepared.message(delivery)
                else:
                    message = rendering.render_notification(
                        event, delivery.uuid, context=context,
                        conf=self.conf, medium=delivery.medium)
            sent = driver.deliver(message, settings)
            receipt, recipients = sent.receipt, sent.recipients
            status, result = db.DELIVERED, 'delivered'
        except exception.DeliveryError as e:
            receipt, error, failure = e.receipt, str(e), e
            retry = e.retryable and attempt < self.conf.engine.max_attempts
            status, result = (db.PENDING, 'retry') if retry else (
                db.FAILED, 'failed')
            if retry:
                next_attempt_at = started_at + datetime.timedelta(
                    seconds=backoff(self.conf, attempt, e.retry_after))
        except exception.DriverNotFound as e:
            error = str(e)
            status, result = db.FAILED, 'failed'
        except Exception as e:
            LOG.exception('Driver %(medium)s failed unexpectedly on delivery '
                          '%(uuid)s', {'medium': delivery.medium,
                                       'uuid': delivery.uuid})
            error = 'Unexpected error in the %s driver: %s' % (
                delivery.medium, type(e).__name__)
            retry = attempt < self.conf.engine.max_attempts
            status, result = (db.PENDING, 'retry') if retry else (
                db.FAILED, 'failed')
            if retry:
                next_attempt_at = started_at + datetime.timedelta(
                    seconds=backoff(self.conf, attempt))
        latency_ms = (time.monotonic() - start) * 1000.0
        # Before the record, which may release the notification: whoever
        # sees it failed after a 410 sees its destination disabled too.
        self.health.record(context, delivery, status, failure)
        release = None
        if flight is not None:
            release = flight.sent(delivery, status, next_attempt_at)
            if release is not None:
                release = (flight.notification.id, self.engine_id) + release
        recorded = functools.partial(
            self._attempt_recorded, context, delivery, attempt, result,
            latency_ms, error, flight, release)
        record = dict(
            note=flight, delivery_id=delivery.id, engine=self.engine_id,
            started_at=started_at, latency_ms=latency_ms, outcome=result,
            status=status, receipt=receipt, error=error,
            next_attempt_at=next_attempt_at, message=message,
            recipients=recipients, release=release)
        if flight is None:
            # A message's thread reads its deliveries back once their
            # attempts are over: committed before this returns.
            try:
                released = self.recorder.record(context, **record)
            except Exception as e:
                recorded(e, False)
            else:
                recorded(None, released)
            return
        # A notification's: committed with the attempts other threads
        # finished at the same time, while this thread goes on to its
        # next send; what follows runs on the recorder's thread (see
        # recorder).
        self.recorder.submit(context, recorded, **record)

    def _attempt_recorded(self, context, delivery, attempt, result,
                          latency_ms, error, flight, release, failure,
                          released):
        """After an attempt's record is committed (``failure`` None) or
        not: its log line, and the release of its notification if it was
        the last attempt."""
        context.update_store()  # log lines carry the request id
        if failure is not None:
            LOG.error('Could not record attempt %(n)d of delivery '
                      '%(uuid)s (%(result)s); the notification is resumed '
                      'when its lease expires and the attempt may be made '
                      'again.',
                      {'n': attempt, 'uuid': delivery.uuid,
                       'result': result}, exc_info=failure)
            if flight is not None:
                self._recorded(flight, False)
            return
        # A success is in the notification's line (see _finish) and in the
        # delivery's record: one line per delivery cost about a tenth of a
        # fan-out's CPU. What went wrong is logged for every attempt.
        log = LOG.debug if result == 'delivered' else LOG.warning
        log('Delivery %(uuid)s (%(target)s) attempt %(n)d: %(result)s '
            'after %(ms).1f ms%(why)s',
            {'uuid': delivery.uuid, 'target': delivery.target, 'n': attempt,
             'result': result, 'ms': latency_ms,
             'why': ': %s' % error if error else ''})
        if flight is not None:
            self._recorded(flight, True, release, released)

    def _recorded(self, flight, ok, release=None, released=False):
        """After an attempt of a flight is recorded (``ok``) or not: the
        last one releases the notification, unless its record carried the
        ``release`` already. On the recorder's thread: a release of its
        own is submitted, not waited for."""
        last, result = flight.recorded(ok)
        if not last:
            return
        nid = flight.notification.id
        if result is None:  # left to its lease: see _attempt
            self._finish(flight, None, None)
            return
        if release is not None:
            self._finish(flight, result, {nid} if released else set())
            return

        def release_recorded(failure, released):
            if failure is not None:
                flight.context.update_store()
                LOG.error('Could not release notification %s; it is '
                          'resumed after its lease expires',
                          flight.notification.notification_uuid,
                          exc_info=failure)
                self._finish(flight, result, None)
                return
            self._finish(flight, result, {nid} if released else set())
        self.recorder.submit(flight.context, release_recorded, note=flight,
                             release=(nid, self.engine_id) + result)

    def _settings(self, context, delivery):
        """The destination's settings with its secrets, or {} for a
        default destination."""
        if not delivery.target.startswith('destination:'):
            return {}
        destination = (db.destination_get_by_id(context,
                                                delivery.destination_id)
                       if delivery.destination_id else None)
        if destination is None:
            raise exception.PermanentDeliveryError(
                'The destination was deleted before delivery.')
        if not destination.enabled:
            raise exception.PermanentDeliveryError(
                'The destination was disabled before delivery.')
        settings = dict(destination.settings)
        try:
            settings.update(crypto.decrypt(self.conf, destination.secrets))
        except crypto.SecretsUnreadable as e:
            # The operator can restore the key: retry, do not give up.
            raise exception.RetryableDeliveryError(str(e))
        return settings

    # Direct messages and broadcasts: the same claim, lease, deliveries,
    # attempts and retries as notifications, with the content the caller
    # gave (see notifier.engine.messages).

    def process_message_id(self, message_id, request_id=None):
        """Claim one message or broadcast and deliver what it still
        needs."""
        context = notifier_context.get_admin_context(request_id)
        message = db.notification_claim(
            context, message_id, self.engine_id,
            self.conf.engine.claim_lease, model=models.Message)
        if message is None:
            LOG.debug('Message %s is not claimable (taken by another '
                      'engine, or nothing to do)', message_id)
            return None
        if not request_id and message.request_id:
            context = notifier_context.get_admin_context(message.request_id)
        try:
            return self._process_message(context, message)
        except Exception:
            LOG.exception('Processing %(kind)s %(uuid)s failed; it stays '
                          'claimed and is resumed after its lease '
                          '([engine] claim_lease) expires.',
                          {'kind': message.kind, 'uuid': message.uuid})
            return None

    def _resolve(self, context, message):
        """Resolve a broadcast's recipients once; False (and the message
        released to retry later) if Keystone cannot answer now."""
        try:
            recipients = messages.resolve_recipients(self.conf, message)
        except exception.IdentityError as e:
            retry_at = timeutils.utcnow() + datetime.timedelta(
                seconds=backoff(self.conf, 1))
            LOG.warning('Broadcast %(uuid)s: recipients not resolved '
                        '(%(error)s); retrying at %(at)s',
                        {'uuid': message.uuid, 'error': e, 'at': retry_at})
            db.notification_release(context, message.id, self.engine_id,
                                    db.ERROR, retry_at, model=models.Message)
            return False
        db.message_set_recipients(context, message.id, self.engine_id,
                                  recipients)
        message.recipients = recipients
        LOG.info('Broadcast %(uuid)s goes to %(n)d recipients',
                 {'uuid': message.uuid, 'n': len(recipients)})
        return True

    def _message_content(self, message):
        def content(context, delivery):
            if not self._renders(delivery.medium):
                # A webhook destination: the message itself is the data.
                return (messages.unrendered(message, delivery),
                        self._settings(context, delivery))
            result, settings = messages.content(context, self.conf,
                                                message, delivery)
            if settings is None:
                settings = self._settings(context, delivery)
            return result, settings
        return content

    def _process_message(self, context, message):
        if message.kind == messages.BROADCAST and message.recipients is None:
            if not self._resolve(context, message):
                return db.ERROR
        destination = None
        if message.medium == messages.DESTINATION:
            try:
                destination = db.destination_get(
                    context, message.request['destination_id'],
                    project_id=message.project_id)
            except exception.DestinationNotFound:
                LOG.warning('Message %s: its destination was deleted; '
                            'nothing to deliver', message.uuid)
        content = self._message_content(message)
        fallback = message.medium == messages.ANY
        while True:
            deliveries = db.deliveries_for_notification(
                context, message.id, model=models.Message)
            failed = {d.target for d in deliveries if d.status == db.FAILED}
            deliveries = db.deliveries_ensure(
                context, message.id,
                messages.targets(self.conf, context, message, destination,
                                 failed), model=models.Message)
            now = timeutils.utcnow()
            due = [d for d in deliveries if d.status == db.PENDING and
                   (d.next_attempt_at is None or d.next_attempt_at <= now)]
            due = self.health.admit(context, due)  # paused ones wait
            futures = [self._send_pool.submit(self._attempt, context, d,
                                              None, content) for d in due]
            self._wait_holding_lease(context, message, futures,
                                     model=models.Message)
            if not fallback or not self._fall_back(context, message):
                break
        deliveries = db.deliveries_for_notification(context, message.id,
                                                    model=models.Message)
        status, next_attempt_at = outcome(deliveries)
        if fallback and any(d.status == db.DELIVERED for d in deliveries):
            # One medium of the fallback list delivered: that is success.
            status, next_attempt_at = db.FINISHED, None
        if db.notification_release(context, message.id, self.engine_id,
                                   status, next_attempt_at,
                                   model=models.Message):
            LOG.info('%(kind)s %(uuid)s is %(status)s: %(ok)d of %(n)d '
                     'deliveries done',
                     {'kind': message.kind.capitalize(),
                      'uuid': message.uuid, 'status': status,
                      'n': len(deliveries),
                      'ok': sum(d.status == db.DELIVERED
                                for d in deliveries)})
        return status

    def _fall_back(self, context, message):
        """Whether the next medium of the fallback list should be tried
        now: the current one failed, or has used its
        ``[messages] fallback_attempts`` and another medium is left."""
        deliveries = db.deliveries_for_notification(
            context, message.id, model=models.Message)
        if not deliveries:
            return False
        current = deliveries[-1]
        if current.status == db.DELIVERED:
            return False
        media = messages.configured_media(self.conf, message.request)
        tried = {d.target for d in deliveries}
        left = ['fallback:%s' % m for m in media
                if 'fallback:%s' % m not in tried]
        if not left:
            return False
        if current.status == db.PENDING:
            if current.attempts < self.conf.messages.fallback_attempts:
                return False
            db.delivery_give_up(
                context, current.id,
                '%s Falling back to %s ([messages] fallback_attempts is '
                '%d).' % (current.last_error or 'Not delivered.',
                          left[0].split(':', 1)[1],
                          self.conf.messages.fallback_attempts))
        LOG.info('Message %(uuid)s: %(target)s failed, falling back to '
                 '%(next)s', {'uuid': message.uuid,
                              'target': current.target, 'next': left[0]})
        return True

    def _periodic_messages(self, context):
        expired = db.notifications_expire(
            context, self.conf.engine.notification_max_age,
            model=models.Message)
        if expired:
            LOG.warning('%d messages were not finished within [engine] '
                        'notification_max_age and are now failed', expired)

        def due(limit):
            return db.notifications_due(context, self.conf.engine.recast_after,
                                        limit, model=models.Message)

        def take(ids):
            LOG.info('Picking up %d messages from the database (lost '
                     'casts, expired leases or due retries)', len(ids))
            futures = [self._resume_pool.submit(self.process_message_id, i)
                       for i in ids]
            waiters.wait_for_all(futures)
            return sum(f.result() is not None for f in futures)
        return self._drain(due, take)

    # Periodic tasks

    def run_periodic_tasks(self):
        """Pick up lost, stalled and due notifications; expire old ones.

        While whole batches are due (a backlog: the broker or every
        engine was down), batch after batch, for up to ``[engine]
        periodic_interval`` seconds, and the next run goes on: a backlog
        drains as fast as the engines deliver, not at one batch per
        interval. Returns how many notifications and messages it picked
        up."""
        context = notifier_context.get_admin_context()
        expired = db.notifications_expire(
            context, self.conf.engine.notification_max_age)
        if expired:
            LOG.warning('%d notifications were not finished within '
                        '[engine] notification_max_age and are now failed',
                        expired)

        def due(limit):
            return db.notifications_due(context, self.conf.engine.recast_after,
                                        limit)

        def take(ids):
            LOG.info('Picking up %d notifications from the database (lost '
                     'casts, expired leases or due retries)', len(ids))
            flights = []
            for k in range(0, len(ids), self._batch_size):
                flights += self._start(ids[k:k + self._batch_size])
            for flight in flights:
                flight.done.wait()
            return len(flights)
        return self._drain(due, take) + self._periodic_messages(context)

    def _drain(self, due, take):
        """Batch after batch of ``due(limit)`` ids, each processed by
        ``take(ids)`` (which returns how many of them this engine claimed),
        while whole batches are due, for up to ``[engine]
        periodic_interval`` seconds; how many ids were due."""
        limit = self.conf.engine.periodic_batch_size
        until = time.monotonic() + self.conf.engine.periodic_interval
        picked = 0
        while not self._stopping.is_set():
            ids = due(limit)
            if not ids:
                break
            claimed = take(ids)
            picked += len(ids)
            # A part batch: nothing else is due. None claimed: other
            # engines took them all, and take the backlog too.
            if len(ids) < limit or not claimed or time.monotonic() > until:
                break
        return picked

    def _periodic(self):
        try:
            self.run_periodic_tasks()
        except Exception:
            LOG.exception('The periodic task failed; it runs again in '
                          '%d seconds', self.conf.engine.periodic_interval)

    def start_periodic_tasks(self):
        @periodics.periodic(spacing=self.conf.engine.periodic_interval,
                            run_immediately=True)
        def task():
            self._periodic()

        self._periodic_worker = periodics.PeriodicWorker([(task, (), {})])
        threading.Thread(target=self._periodic_worker.start,
                         name='notifier-periodic', daemon=True).start()

    def stop(self):
        """Stop the periodic tasks and let in-flight deliveries finish."""
        with self._slots:  # see _sent
            self._stopping.set()  # a periodic run takes no further batch
        if self._periodic_worker is not None:
            self._periodic_worker.stop()
            self._periodic_worker.wait()
        self._resume_pool.shutdown(wait=True)
        self._send_pool.shutdown(wait=True)
        # Every attempt made is recorded, and its notification released.
        self.recorder.close()
        self._stopped.set()  # the lease keeper
        self.drivers.close()
