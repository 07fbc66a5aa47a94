"""Process set-up and the long-running services: API server and engine."""

import os
import socket
import sys
import threading

from cheroot import wsgi as cheroot_wsgi
from oslo_config import cfg
from oslo_log import log as logging
from oslo_service import service
from paste import deploy
import pbr.version

from notifier.api import caster
from notifier import conf as notifier_conf
from notifier.conf import opts
from notifier.db import api as db
from notifier.engine import affinity
from notifier.engine import manager
from notifier import rpc

LOG = logging.getLogger(__name__)
CONF = notifier_conf.CONF
_SOURCE_PASTE = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'etc', 'notifier', 'api-paste.ini')


def version_string():
    return pbr.version.VersionInfo('notifier').version_string()


def prepare(argv=None, defaults=None, default_config_files=None):
    """Parse the command line and config files, set up logging and DB.

    ``defaults`` maps (group, option) to a default for this command, such
    as notifier-all's SQLite and in-process transport.
    """
    logging.register_options(CONF)
    opts.set_defaults(CONF)
    for (group, name), value in (defaults or {}).items():
        if name == 'transport_url':
            rpc.set_transport_default(CONF, value)
        else:
            CONF.set_default(name, value,
                             group=None if group == 'DEFAULT' else group)
    CONF(sys.argv[1:] if argv is None else argv, project='notifier',
         version=version_string(),
         default_config_files=default_config_files)
    logging.setup(CONF, 'notifier')
    db.configure(CONF)
    return CONF


def paste_config_path(conf):
    """The api-paste.ini to use: the configured one, else the shipped one."""
    found = conf.find_file(conf.api.api_paste_config)
    if found:
        return os.path.abspath(found)
    for candidate in (conf.api.api_paste_config,
                      os.path.join(sys.prefix, 'etc', 'notifier',
                                   'api-paste.ini'),
                      _SOURCE_PASTE):
        if os.path.isabs(candidate) and os.path.exists(candidate):
            return candidate
    raise cfg.ConfigFilesNotFoundError([conf.api.api_paste_config])


def check_api_startup(conf):
    """Fail fast, in the parent, on what would make every API worker die
    at start and be restarted forever: no paste file, or a taken port."""
    paste_config_path(conf)
    with socket.socket(socket.AF_INET6 if ':' in conf.api.host
                       else socket.AF_INET) as sock:
        if conf.api.workers > 1:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((conf.api.host, conf.api.port))
        except OSError as e:
            raise SystemExit('notifier: cannot listen on %s:%s: %s. Stop '
                             'whatever uses the port, or set [api] port.' %
                             (conf.api.host, conf.api.port, e.strerror))


def load_app(conf):
    path = paste_config_path(conf)
    LOG.info('Loading the API pipeline from %(path)s (auth strategy '
             '%(auth)s)', {'path': path, 'auth': conf.api.auth_strategy})
    return deploy.loadapp('config:%s' % path, name='main')


class APIServer(service.Service):
    """The API on cheroot, a production-grade threaded HTTP server."""

    def __init__(self, conf, reuse_port=False):
        super().__init__()
        self.conf = conf
        self._reuse_port = reuse_port
        self._server = None
        self._thread = None

    def start(self):
        super().start()
        self._server = cheroot_wsgi.Server(
            (self.conf.api.host, self.conf.api.port), load_app(self.conf),
            numthreads=self.conf.api.threads, reuse_port=self._reuse_port,
            server_name='notifier-api')
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve,
                                        name='notifier-api', daemon=True)
        self._thread.start()
        LOG.info('Notifier API listening on http://%(host)s:%(port)s',
                 {'host': self.conf.api.host, 'port': self.conf.api.port})

    def stop(self, graceful=True):
        if self._server is not None:
            self._server.stop()
        # oslo.service's workers leave through os._exit, past atexit: cast
        # what the last requests queued now (bounded; see caster).
        caster.flush_all()
        super().stop(graceful)

    def wait(self):
        if self._thread is not None:
            self._thread.join()


class Engine(service.Service):
    """The engine: an RPC server on topic notifier-engine plus periodic
    tasks. Stopping it stops taking work, then lets in-flight deliveries
    finish."""

    def __init__(self, conf, drivers=None, periodic=True):
        super().__init__()
        self.conf = conf
        self.manager = None
        self._drivers = drivers
        self._periodic = periodic
        self._rpc_server = None
        self._cpu_holder = None

    def start(self):
        super().start()
        if self.conf.engine.pin_cpu and self._cpu_holder is None:
            # Before the engine's threads start: they inherit it.
            self._cpu_holder = affinity.pin()[1]
        self.manager = manager.EngineManager(self.conf, drivers=self._drivers)
        target = rpc.messaging.Target(topic=rpc.TOPIC, server=self.conf.host)
        self._rpc_server = rpc.get_server(self.conf, target, [self.manager])
        self._rpc_server.start()
        if self._periodic:
            self.manager.start_periodic_tasks()
        LOG.info('Notifier engine %(id)s is consuming topic %(topic)s with '
                 'drivers: %(drivers)s',
                 {'id': self.manager.engine_id, 'topic': rpc.TOPIC,
                  'drivers': ', '.join(self.manager.drivers.names)})

    def stop(self, graceful=True):
        if self._rpc_server is not None:
            self._rpc_server.stop()
            self._rpc_server.wait()
            self._rpc_server = None
        if self.manager is not None:
            self.manager.stop()
            self.manager = None
        if self._cpu_holder is not None:  # the CPU is free for another
            self._cpu_holder.close()
            self._cpu_holder = None
        super().stop(graceful)


class AllInOne(service.Service):
    """API and engine in one process, for notifier-all."""

    def __init__(self, conf):
        super().__init__()
        self.api = APIServer(conf)
        self.engine = Engine(conf)

    def start(self):
        super().start()
        self.engine.start()
        self.api.start()

    def stop(self, graceful=True):
        self.api.stop(graceful)
        self.engine.stop(graceful)
        super().stop(graceful)


def serve(server, workers=1):
    launcher = service.launch(CONF, server, workers=workers,
                              restart_method='mutate')
    launcher.wait()
