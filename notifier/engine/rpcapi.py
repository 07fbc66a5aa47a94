"""The engine's RPC API, as the API process uses it.

Only ids and primitives cross the wire; the engine re-reads the database.

Version history:

* 1.0 - Initial version: ``process_notification(notification_id)``.
* 1.1 - Adds ``process_message(message_id)``: direct messages and
  broadcasts.
* 1.2 - Adds ``process_notifications(notification_ids)``: several
  notifications in one cast (the API's caster, :mod:`notifier.api.caster`,
  casts the ids of concurrent creates together).

Rolling upgrades: an engine takes every version up to its own, so
upgrading the engines first needs nothing. An API process newer than
some engine must not send what that engine lacks: ``[upgrade_levels]
engine`` caps the version it sends (``version_cap``), and each method
falls back to what the cap allows (``process_notifications`` becomes one
``process_notification`` per id below 1.2).
"""

import oslo_messaging as messaging
from oslo_log import log as logging

from notifier import rpc

LOG = logging.getLogger(__name__)


def _wire_context(context):
    if context is None:  # a batch of several requests' notifications
        return {}
    # Only what the engine logs; never the caller's token.
    return {'request_id': context.request_id,
            'global_request_id': context.global_request_id,
            'user_id': context.user_id,
            'project_id': context.project_id}


def _describe(notification_ids):
    """How a log line names these notifications."""
    if len(notification_ids) == 1:
        return 'notification %s' % notification_ids[0]
    shown = ', '.join(str(i) for i in notification_ids[:5])
    if len(notification_ids) > 5:
        shown += ', ...'
    return '%d notifications (%s)' % (len(notification_ids), shown)


class EngineAPI:
    VERSION = '1.2'

    def __init__(self, conf):
        target = messaging.Target(topic=rpc.TOPIC, version=self.VERSION)
        # retry=0: an unreachable broker fails the cast at once instead of
        # blocking the API request (or the caster's thread); the engine's
        # periodic task picks up the stored row later, so nothing is lost.
        self._client = rpc.get_client(
            conf, target, retry=0,
            version_cap=conf.upgrade_levels.engine)
        self._batch_size = conf.engine.batch_size

    def _send(self, context, version, method, **kwargs):
        self._client.prepare(version=version).cast(
            _wire_context(context), method, **kwargs)

    def _lost(self, what, error, count=1):
        LOG.warning('Could not cast %(what)s to an engine (%(error)s); the '
                    'engines\' periodic task will pick %(them)s up from the '
                    'database within [engine] recast_after seconds.',
                    {'what': what, 'error': error,
                     'them': 'it' if count == 1 else 'them'})

    def _cast(self, context, version, method, what, **kwargs):
        """Cast fire-and-forget; False (and a warning) if the broker did
        not take it: the row is the source of truth, and the periodic
        task picks it up."""
        try:
            self._send(context, version, method, **kwargs)
        except Exception as e:
            self._lost(what, e)
            return False
        return True

    def process_notification(self, context, notification_id):
        """Wake an engine up for a stored notification."""
        return self._cast(context, '1.0', 'process_notification',
                          'notification %s' % notification_id,
                          notification_id=notification_id)

    def process_notifications(self, context, notification_ids):
        """Wake the engines up for several stored notifications: casts of
        up to ``[engine] batch_size`` ids each, so that several engines
        share a burst, or one cast per notification for engines older
        than 1.2 (``[upgrade_levels] engine``). ``context`` may be None:
        the engine reads each notification's request id from its row.
        Stops at the first cast the broker refuses, with one warning for
        the notifications left; False then."""
        ids = list(notification_ids)
        batched = self._client.can_send_version('1.2')
        size = self._batch_size if batched else 1
        for k in range(0, len(ids), size):
            try:
                if batched:
                    self._send(context, '1.2', 'process_notifications',
                               notification_ids=ids[k:k + size])
                else:
                    self._send(context, '1.0', 'process_notification',
                               notification_id=ids[k])
            except Exception as e:
                # The broker would most likely refuse the rest too.
                self._lost(_describe(ids[k:]), e, len(ids) - k)
                return False
        return True

    def process_message(self, context, message_id):
        """Wake an engine up for a stored message or broadcast."""
        return self._cast(context, '1.1', 'process_message',
                          'message %s' % message_id, message_id=message_id)
