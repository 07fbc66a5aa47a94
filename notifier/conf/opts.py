"""The list of Notifier's options, for oslo-config-generator."""

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
import oslo_messaging

from notifier.conf import api
from notifier.conf import default
from notifier.conf import drivers
from notifier.conf import engine
from notifier.conf import messages
from notifier.conf import secrets
from notifier.conf import service_user

_MODULES = (default, api, engine, drivers, secrets, service_user,
            messages)
SQLITE_DEFAULT = 'sqlite:///$state_path/notifier.sqlite'


def list_opts():
    groups = {}
    for module in _MODULES:
        for group, group_opts in module.list_opts().items():
            groups.setdefault(group, []).extend(group_opts)
    return sorted(groups.items())


def set_defaults(conf=None):
    """Notifier's defaults for the options of the libraries it uses."""
    conf = conf if conf is not None else cfg.CONF
    # On the option objects too, so that the sample config shows it.
    cfg.set_defaults(db_options.database_opts, connection=SQLITE_DEFAULT)
    db_options.set_defaults(conf, connection=SQLITE_DEFAULT)
    oslo_messaging.set_transport_defaults(control_exchange='notifier')
    log.set_defaults(default_log_levels=log.get_default_log_levels() + [
        'cheroot=WARNING', 'stevedore=WARNING', 'alembic=WARNING'])
