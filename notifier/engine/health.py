"""Destination health: a circuit breaker per destination, and the
disabling of a destination whose receiver says it is gone.

* **Closed** (healthy): deliveries go. Each transient failure (a timeout,
  a refused connection, HTTP 408/429/5xx, SMTP 4xx) adds one to the
  destination's consecutive failures; any answer that is not a transient
  failure resets them.
* **Open** (paused): after ``[engine] breaker_threshold`` consecutive
  failures the destination is paused for ``[engine] breaker_pause``
  seconds. Its due deliveries are deferred to the end of the pause without
  an attempt being used and without taking an engine thread.
* **Half-open**: once the pause is over, one engine wins the probe (a
  compare-and-set on the destination row) and sends one delivery; the
  others keep deferring. The probe's success closes the breaker; its
  failure opens it again for twice as long, up to ``[engine]
  breaker_max_pause``.

An HTTP 410 (Gone) from a webhook disables the destination
(``enabled=false``) with the reason; its owner sees it in the destination's
``health`` (API microversion 1.6) and re-enables it with a PUT, which
clears the health.
"""

import datetime
import threading

from oslo_log import log as logging
from oslo_utils import timeutils

from notifier.db import api as db
from notifier import exception
from notifier import views

LOG = logging.getLogger(__name__)

OK, PAUSED, DISABLED = 'ok', 'paused', 'disabled'


def view(destination, now=None):
    """The ``health`` of a destination as the API shows it."""
    now = now or timeutils.utcnow()
    if not destination.enabled:
        state = DISABLED
    elif destination.trips and destination.paused_until and \
            destination.paused_until > now:
        state = PAUSED
    else:
        state = OK
    paused_until = destination.paused_until if state == PAUSED else None
    return {
        'state': state,
        'reason': destination.health_reason if state != OK or
        destination.trips else None,
        'paused_until': views.isotime(paused_until),
        'consecutive_failures': destination.consecutive_failures or 0,
    }


class Breaker:
    """What the engine asks before and tells after each send."""

    def __init__(self, conf):
        self.conf = conf
        # Destinations this engine saw with failures counted: a success
        # resets them. (Healthy ones need no write per delivery.)
        self._suspect = set()
        self._lock = threading.Lock()

    @property
    def _enabled(self):
        return self.conf.engine.breaker_threshold > 0

    def admit(self, context, deliveries, destinations=None):
        """The deliveries that may be sent now; those to a paused
        destination are deferred to the end of its pause (no attempt is
        used). ``destinations`` (by id) are those read in the caller's
        transaction already; only the others are looked up."""
        deliveries = list(deliveries)
        if not self._enabled:
            return deliveries
        unhealthy = {d.id: d for d in db.destinations_unhealthy(
            context, {d.destination_id for d in deliveries}, destinations)}
        with self._lock:
            self._suspect.update(unhealthy)
        admitted, deferred, probes = [], {}, {}
        now = timeutils.utcnow()
        for delivery in deliveries:
            dest = unhealthy.get(delivery.destination_id)
            if dest is None or not dest.enabled or not dest.trips:
                admitted.append(delivery)  # _attempt handles the rest
                continue
            if dest.paused_until is None or dest.paused_until <= now:
                if dest.id not in probes:
                    probes[dest.id] = db.destination_claim_probe(
                        context, dest.id, self.conf.engine.breaker_pause)
                    if probes[dest.id]:
                        LOG.info('Destination %(dest)s: its pause is over; '
                                 'delivery %(uuid)s is the probe',
                                 {'dest': dest.uuid, 'uuid': delivery.uuid})
                        admitted.append(delivery)
                        continue
                until = now + datetime.timedelta(
                    seconds=self.conf.engine.breaker_pause)
            else:
                until = dest.paused_until
            deferred.setdefault(until, []).append(delivery)
        for until, group in deferred.items():
            db.delivery_defer(context, [d.id for d in group], until)
            for delivery in group:
                delivery.next_attempt_at = until
                LOG.info('Delivery %(uuid)s deferred to %(until)s: its '
                         'destination is paused by the circuit breaker',
                         {'uuid': delivery.uuid, 'until': until})
        return admitted

    def record(self, context, delivery, status, failure):
        """Tell the breaker how an attempt went: ``status`` the delivery's
        new status, ``failure`` the DeliveryError if there was one. Never
        raises: the attempt itself is recorded already."""
        try:
            self._record(context, delivery, status, failure)
        except Exception:
            LOG.exception('Could not update the health of the destination '
                          'of delivery %s; the circuit breaker misses this '
                          'outcome', delivery.uuid)

    def _record(self, context, delivery, status, failure):
        destination_id = delivery.destination_id
        if destination_id is None:
            return
        if isinstance(failure, exception.DestinationGone):
            reason = 'Disabled after HTTP 410 (Gone): %s' % failure
            if db.destination_disable(context, destination_id, reason):
                LOG.warning('Destination of delivery %(uuid)s disabled: '
                            '%(reason)s', {'uuid': delivery.uuid,
                                           'reason': reason})
            return
        if not self._enabled:
            return
        if failure is not None and failure.retryable:
            with self._lock:
                self._suspect.add(destination_id)
            engine = self.conf.engine
            dest = db.destination_record_failure(
                context, destination_id, str(failure),
                engine.breaker_threshold, engine.breaker_pause,
                engine.breaker_max_pause)
            if dest is not None and dest.paused_until and \
                    dest.consecutive_failures >= engine.breaker_threshold \
                    and dest.paused_until > timeutils.utcnow():
                LOG.warning('Destination %(dest)s paused until %(until)s '
                            'after %(n)d consecutive failures: %(reason)s',
                            {'dest': dest.uuid, 'until': dest.paused_until,
                             'n': dest.consecutive_failures,
                             'reason': dest.health_reason})
        elif status == db.DELIVERED or failure is not None:
            # Delivered, or a permanent answer: the destination is up.
            with self._lock:
                if destination_id not in self._suspect:
                    return
                self._suspect.discard(destination_id)
            if db.destination_record_success(context, destination_id):
                LOG.info('Destination of delivery %s is healthy again',
                         delivery.uuid)
