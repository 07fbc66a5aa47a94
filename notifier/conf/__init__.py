"""Notifier's configuration options.

Each option group lives in its own module with ``register_opts(conf)`` and
``list_opts()``; :mod:`notifier.conf.opts` lists them all for the sample
generator. Options are registered on the global ``CONF`` once, here, and are
never read at import time.
"""

from oslo_config import cfg

from notifier.conf import api
from notifier.conf import default
from notifier.conf import drivers
from notifier.conf import engine
from notifier.conf import messages
from notifier.conf import secrets
from notifier.conf import service_user
from notifier.conf import upgrade_levels

CONF = cfg.CONF

for _module in (default, api, engine, drivers, secrets, service_user,
                messages, upgrade_levels):
    _module.register_opts(CONF)
