"""notifier-all: API and engine in one process, for a laptop or a demo.

Defaults: SQLite under ./state, the in-process fake:// transport, no
authentication (noauth2), http://127.0.0.1:15869. Any notifier.conf option
still applies.
"""

import os

from oslo_log import log as logging
import oslo_messaging
from oslo_utils import strutils
import sqlalchemy

from notifier.db import migration
from notifier import service

LOG = logging.getLogger(__name__)


def main():
    conf = service.prepare(defaults={
        ('DEFAULT', 'state_path'): os.path.join(os.getcwd(), 'state'),
        ('DEFAULT', 'transport_url'): 'fake://',
        ('api', 'auth_strategy'): 'noauth2',
    })
    service.check_api_startup(conf)
    migration.upgrade('head')
    LOG.info('notifier-all: database %(db)s is at the latest schema; '
             'transport %(transport)s; auth %(auth)s (development only)',
             {'db': strutils.mask_password(
                 sqlalchemy.engine.make_url(conf.database.connection)
                 .render_as_string(hide_password=True)),
              'transport': oslo_messaging.TransportURL.parse(
                  conf, conf.transport_url).transport,
              'auth': conf.api.auth_strategy})
    service.serve(service.AllInOne(conf))
