"""The engine's RPC API, as the API process uses it.

Only ids and primitives cross the wire; the engine re-reads the database.

Version history:

* 1.0 - Initial version: ``process_notification(notification_id)``.
* 1.1 - Adds ``process_message(message_id)``: direct messages and
  broadcasts.
"""

import oslo_messaging as messaging
from oslo_log import log as logging

from notifier import rpc

LOG = logging.getLogger(__name__)


def _wire_context(context):
    # Only what the engine logs; never the caller's token.
    return {'request_id': context.request_id,
            'global_request_id': context.global_request_id,
            'user_id': context.user_id,
            'project_id': context.project_id}


class EngineAPI:
    VERSION = '1.1'

    def __init__(self, conf):
        target = messaging.Target(topic=rpc.TOPIC, version=self.VERSION)
        # retry=0: an unreachable broker fails the cast at once instead of
        # blocking the API request; the engine's periodic task picks up
        # the stored notification later, so nothing is lost.
        self._client = rpc.get_client(conf, target, retry=0)

    def _cast(self, context, version, method, what, **kwargs):
        """Cast fire-and-forget; False (and a warning) if the broker did
        not take it: the row is the source of truth, and the periodic
        task picks it up."""
        try:
            self._client.prepare(version=version).cast(
                _wire_context(context), method, **kwargs)
        except Exception as e:
            LOG.warning('Could not cast %(what)s to an engine (%(error)s); '
                        'an engine will pick it up from the database '
                        'within [engine] recast_after seconds.',
                        {'what': what, 'error': e})
            return False
        return True

    def process_notification(self, context, notification_id):
        """Wake an engine up for a stored notification."""
        return self._cast(context, '1.0', 'process_notification',
                          'notification %s' % notification_id,
                          notification_id=notification_id)

    def process_message(self, context, message_id):
        """Wake an engine up for a stored message or broadcast."""
        return self._cast(context, '1.1', 'process_message',
                          'message %s' % message_id, message_id=message_id)
