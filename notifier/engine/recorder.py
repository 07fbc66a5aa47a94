"""Group commit of delivery attempts, and what a notification's
deliveries share.

Every attempt is recorded (the attempt row and the delivery's new state)
in a committed transaction before its notification is released. The
sending threads of an engine finish their attempts at about the same
time: rather than one commit (one fsync) each, the recorder's own thread
commits every attempt waiting at that moment in one transaction, and,
while it commits, the attempts that arrive meanwhile wait for the next
one. (One commit at a time groups best: with four at once, most commits
held one attempt and the engine spent a third more CPU per delivery.) A
sending thread does not wait for the commit: it hands its attempt over
and goes on to its next send, and what follows the record (the release
of the notification whose last attempt it was) runs on the recorder's
thread once the attempt is committed. (Waiting for it, each sending
thread was woken after every commit: with one destination per
notification, an engine delivered about a fifth fewer webhooks a
second; see the fourteenth round of the performance page.) A batch that
fails is retried one attempt at a time, so that one bad record does not
lose the others.
"""

import copy
import dataclasses
import threading

from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging

from notifier import crypto
from notifier.db import api as db
from notifier import exception
from notifier import rendering

LOG = logging.getLogger(__name__)


class _Pending:
    __slots__ = ('kwargs', 'note', 'context', 'on_recorded', 'done',
                 'error', 'released')

    def __init__(self, kwargs, note=None, context=None, on_recorded=None):
        self.kwargs = kwargs
        self.note = note
        self.context = context
        self.on_recorded = on_recorded
        self.done = self.released = False
        self.error = None

    def committed(self, released):
        self.released = bool(self.kwargs.get('release')) and \
            self.kwargs['release'][0] in released
        self.done = True


class AttemptRecorder:
    """Records attempts with :func:`db.delivery_record_attempts`, several
    threads' attempts in one transaction, on a thread of its own.

    ``on_released``, if given, is called on that thread after each commit,
    before the attempts' own callbacks, with ``(note, status)`` for each
    release of the batch that applied and was recorded with a ``note``:
    what was released together, for one log line rather than one per
    notification."""

    def __init__(self, on_released=None):
        self._on_released = on_released
        self._cond = threading.Condition()
        self._pending = []
        self._busy = False  # the thread has a batch in hand
        self._thread = None
        self._closed = False

    def submit(self, context, on_recorded, note=None, **kwargs):
        """Queue one attempt (an item of :func:`db.delivery_record_attempts`,
        with the release of its notification if it is the last) and return
        at once. ``on_recorded(error, released)`` is called on the
        recorder's thread when the attempt's transaction is over: ``error``
        None once it is committed (``released`` True if its release
        applied), or what the database raised. ``note``: see
        ``on_released``. Refused (RuntimeError) once the recorder is
        closed, except from its own thread."""
        item = _Pending(kwargs, note, context, on_recorded)
        with self._cond:
            if self._closed and \
                    threading.current_thread() is not self._thread:
                raise RuntimeError('the attempt recorder is closed')
            self._pending.append(item)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name='notifier-recorder', daemon=True)
                self._thread.start()
            elif not self._busy and len(self._pending) == 1:
                self._cond.notify_all()  # the thread waits for work

    def record(self, context, note=None, **kwargs):
        """:meth:`submit` and wait for the commit: returns whether the
        release applied, or raises what the database raised. Not from
        the recorder's own thread (an ``on_recorded`` callback), which
        would wait for itself."""
        done = threading.Event()
        outcome = []

        def recorded(error, released):
            outcome.extend((error, released))
            done.set()
        self.submit(context, recorded, note, **kwargs)
        done.wait()
        if outcome[0] is not None:
            raise outcome[0]
        return outcome[1]

    def close(self):
        """Commit what was submitted (and what the callbacks submit
        meanwhile), then end the recorder's thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self):
        while True:
            with self._cond:
                self._busy = False
                while not self._pending:
                    if self._closed:
                        return
                    self._cond.wait()
                batch, self._pending = self._pending, []
                self._busy = True
            try:
                self._commit(batch[0].context, batch)
            except Exception as e:  # no attempt is left waiting
                for item in batch:
                    if not item.done:
                        item.error, item.done = e, True
            self._released(batch)
            for item in batch:
                if not item.done:
                    item.error = RuntimeError('the attempt was not recorded')
                    item.done = True
                try:
                    item.on_recorded(item.error, item.released)
                except Exception:  # the others' callbacks still run
                    LOG.exception('Handling a recorded attempt failed')

    def _released(self, batch):
        notes = [(item.note, item.kwargs['release'][2]) for item in batch
                 if item.released and item.note is not None]
        if notes and self._on_released is not None:
            try:
                self._on_released(notes)
            except Exception:  # the records are committed: go on
                LOG.exception('Reporting %d released notifications '
                              'failed', len(notes))

    @staticmethod
    def _commit(context, batch):
        try:
            released = db.delivery_record_attempts(
                context, [item.kwargs for item in batch])
        except Exception as e:
            if len(batch) == 1:
                batch[0].error, batch[0].done = e, True
                return
            LOG.warning('Recording %d attempts together failed (%s); '
                        'recording them one by one', len(batch), e)
            for item in batch:
                try:
                    item.committed(db.delivery_record_attempts(
                        context, [item.kwargs]))
                except Exception as e:
                    item.error, item.done = e, True
            return
        for item in batch:
            item.committed(released)


class Prepared:
    """What the deliveries of one notification share, looked up once per
    batch of notifications rather than per delivery (see :func:`batch`):
    the template of the notification's type for its project, its
    destinations with their secrets decrypted, and the message rendered
    once per medium."""

    def __init__(self, conf, event, template, destinations):
        self.conf = conf
        self.event = event
        self.template = template
        self.destinations = destinations
        self._settings = {}
        self._messages = {}
        self._lock = threading.Lock()

    def settings(self, delivery):
        """The destination's settings with its secrets, or {} for a
        default destination; raises the delivery error otherwise."""
        if not delivery.target.startswith('destination:'):
            return {}
        with self._lock:
            found = self._settings.get(delivery.destination_id)
            if found is None:
                found = self._settings[delivery.destination_id] = \
                    self._destination_settings(delivery.destination_id)
        settings, error = found
        if error is not None:
            raise error
        return dict(settings)

    def _destination_settings(self, destination_id):
        destination = self.destinations.get(destination_id)
        if destination is None:
            return None, exception.PermanentDeliveryError(
                'The destination was deleted before delivery.')
        if not destination.enabled:
            return None, exception.PermanentDeliveryError(
                'The destination was disabled before delivery.')
        settings = dict(destination.settings)
        try:
            settings.update(crypto.decrypt(self.conf, destination.secrets))
        except crypto.SecretsUnreadable as e:
            # The operator can restore the key: retry, do not give up.
            return None, exception.RetryableDeliveryError(str(e))
        return settings, None

    def message(self, delivery):
        """The rendered message of ``delivery``: rendered once per medium
        (the body depends on the notification only), with the delivery's
        own id."""
        with self._lock:
            found = self._messages.get(delivery.medium)
            if found is None:
                try:
                    found = (rendering.render_notification(
                        self.event, delivery.uuid, conf=self.conf,
                        medium=delivery.medium, template=self.template),
                        None)
                except exception.DeliveryError as e:
                    found = (None, e)
                self._messages[delivery.medium] = found
        message, error = found
        if error is not None:
            raise error
        return dataclasses.replace(
            message, delivery_id=delivery.uuid,
            addressing=copy.deepcopy(message.addressing))


def batch(conf, context, events, deliveries, destinations=None,
          renders=None):
    """A :class:`Prepared` per event (a notification's API view), keyed
    by notification id, with the templates and the destinations of all of
    their ``deliveries`` read in one transaction; ``destinations`` (by
    id) are those the caller read in that transaction already. The
    template of a notification none of whose deliveries is rendered
    (``renders(medium)`` false for each: webhooks) is not read."""
    def template_key(event):
        return (rendering.notification_template_id(event),
                event.get('project_id'))

    rendered = {d.notification_id for d in deliveries
                if renders is None or renders(d.medium)}
    with enginefacade.reader.using(context):
        templates = {}
        for event in events:
            key = template_key(event)
            if event['id'] in rendered and key not in templates:
                templates[key] = rendering.effective(context, *key)
        destinations = db.destinations_get_by_ids(
            context, [d.destination_id for d in deliveries
                      if d.target.startswith('destination:')], destinations)
    return {event['id']: Prepared(conf, event,
                                  templates.get(template_key(event)),
                                  destinations)
            for event in events}
