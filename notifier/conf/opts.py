"""The list of Notifier's options, for oslo-config-generator."""

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_log import log
import oslo_messaging
from oslo_messaging import opts as messaging_opts

from notifier.conf import api
from notifier.conf import default
from notifier.conf import drivers
from notifier.conf import engine
from notifier.conf import messages
from notifier.conf import secrets
from notifier.conf import service_user
from notifier.conf import upgrade_levels
from notifier import rpc

_MODULES = (default, api, engine, drivers, secrets, service_user,
            messages, upgrade_levels)
SQLITE_DEFAULT = 'sqlite:///$state_path/notifier.sqlite'
DB_POOL_SIZE = 20
#: oslo.messaging's executor_thread_pool_size (64 by default) for Notifier.
RPC_THREADS = 8


def list_opts():
    groups = {}
    for module in _MODULES:
        for group, group_opts in module.list_opts().items():
            groups.setdefault(group, []).extend(group_opts)
    return sorted(groups.items())


def list_messaging_opts():
    """oslo.messaging's options, with Notifier's default of
    ``executor_thread_pool_size``: what the sample configuration lists in
    their place (the ``notifier.messaging`` namespace).

    oslo.messaging's ``list_opts`` returns copies of its options, so the
    default that :func:`set_defaults` gives them at run time does not
    reach the sample; these copies get it too."""
    listed = messaging_opts.list_opts()
    for _group, group_opts in listed:
        cfg.set_defaults(group_opts, executor_thread_pool_size=RPC_THREADS)
    return listed


def set_defaults(conf=None):
    """Notifier's defaults for the options of the libraries it uses."""
    conf = conf if conf is not None else cfg.CONF
    # On the option objects too, so that the sample config shows it.
    # The pool keeps as many connections as the threads that use it at
    # once ([api] threads, an engine's delivery threads and the few of its
    # own): with fewer, every connection above max_pool_size is closed when
    # it goes back and opened again for the next request, a TCP and
    # authentication handshake, and with PyMySQL an SSL context, that is
    # 50 to 100 ms of CPU each. Connections are opened only when needed.
    cfg.set_defaults(db_options.database_opts, connection=SQLITE_DEFAULT,
                     max_pool_size=DB_POOL_SIZE)
    db_options.set_defaults(conf, connection=SQLITE_DEFAULT,
                            max_pool_size=DB_POOL_SIZE)
    oslo_messaging.set_transport_defaults(control_exchange='notifier')
    # An engine's RPC threads only queue the ids a cast carries (direct
    # messages go to threads of the engine's own): a few keep up, and
    # every thread costs the engine memory (glibc's per-thread cache of
    # freed blocks, unless the service turns it off; see the install
    # guide and the performance page).
    rpc.register_default_opts(conf)
    messaging_opts.set_defaults(
        conf, executor_thread_pool_size=RPC_THREADS)
    log.set_defaults(default_log_levels=log.get_default_log_levels() + [
        'cheroot=WARNING', 'stevedore=WARNING', 'alembic=WARNING'])
