"""The ``log`` driver: writes each notification to the engine's log.

It is the default destination, so that a fresh install shows every
notification being delivered, and a safe target for tests and demos.
"""

import logging as std_logging

from oslo_log import log as logging

from notifier.drivers import base

LOG = logging.getLogger(__name__)


class LogDriver(base.Driver):

    def deliver(self, message, settings):
        level = std_logging.getLevelName(self.conf.driver_log.level)
        LOG.log(level, 'Delivered %(type)s notification %(id)s '
                       '(delivery %(delivery)s): %(subject)s',
                {'type': message.event.get('type'),
                 'id': message.event.get('notification_uuid'),
                 'delivery': message.delivery_id,
                 'subject': message.subject})
        return base.Result(receipt='logged at %s' % self.conf.driver_log.level,
                           recipients=('engine log',))
