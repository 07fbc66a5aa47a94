"""The list of Notifier's options, for oslo-config-generator."""

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
import oslo_messaging

from notifier.conf import api
from notifier.conf import default
from notifier.conf import drivers
from notifier.conf import engine

_MODULES = (default, api, engine, drivers)


def list_opts():
    groups = {}
    for module in _MODULES:
        for group, group_opts in module.list_opts().items():
            groups.setdefault(group, []).extend(group_opts)
    return sorted(groups.items())


def set_defaults(conf=None):
    """Notifier's defaults for the options of the libraries it uses."""
    conf = conf if conf is not None else cfg.CONF
    db_options.set_defaults(
        conf, connection='sqlite:///$state_path/notifier.sqlite')
    oslo_messaging.set_transport_defaults(control_exchange='notifier')
    log.set_defaults(default_log_levels=log.get_default_log_levels() + [
        'cheroot=WARNING', 'stevedore=WARNING', 'alembic=WARNING'])
