"""Fixtures that run Notifier and the services it needs as real processes.

* :class:`Database`: a fresh, uniquely named database on MariaDB/MySQL or
  PostgreSQL (oslo.db provisioning with the ``openstack_citest`` account),
  dropped at clean-up.
* :class:`Deployment`: a work dir with a ``notifier.conf``, ``notifier-manage
  db sync``, and ``notifier-api`` / ``notifier-engine`` processes started
  from the venv of the running interpreter, each in its own session with its
  output in a log file; all of them stopped at clean-up (SIGTERM, then
  SIGKILL after a bounded wait).
* :class:`PrivateRabbitMQ`: an isolated RabbitMQ node on free loopback ports,
  which a test may stop and start to simulate a broker outage.
* :class:`RealServicesTestCase`: attaches the tails of every process log
  to a failing test.

Isolation on a shared broker: each deployment gets its own
``control_exchange``, and its exchange and engine queues are deleted at
clean-up. That does NOT fully isolate deployments that run at the same time
on one vhost: oslo.messaging names the topic queue after the topic alone
(``notifier-engine``), so that queue is bound to every deployment's exchange
and the engines of all of them consume from it; an engine may receive
another deployment's cast. This is harmless to correctness (a cast is only a
wake-up: the engine claims that id in its own database, and the sender's
periodic task picks its notification up after ``recast_after``) but it can
delay a delivery by ``recast_after``. A test that needs every cast to reach
its own engine uses a :class:`PrivateRabbitMQ`.

Environment:

* ``OS_TEST_DBAPI_ADMIN_CONNECTION``: ';'-separated admin URLs, as oslo.db's
  opportunistic tests read it (default: openstack_citest on 127.0.0.1).
* ``NOTIFIER_TEST_TRANSPORT_URL``: the machine's broker (default
  ``rabbit://guest:guest@127.0.0.1:5672/``).
"""

import ctypes
import logging
import os
import random
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.parse

import fixtures
import kombu
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import provision
from oslo_db.sqlalchemy import utils as db_utils
import requests
from testtools import content

from notifier import rpc
from notifier.tests import base

LOG = logging.getLogger(__name__)

# MySQL through mysqlclient, the driver the install guide recommends
# (notifier/tests/__init__.py gives oslo.db's fixtures the same URLs).
DEFAULT_ADMIN_URLS = {
    'mysql': 'mysql+mysqldb://openstack_citest:openstack_citest@127.0.0.1/'
             'openstack_citest',
    'postgresql': 'postgresql+psycopg2://openstack_citest:openstack_citest@'
                  '127.0.0.1/openstack_citest',
}
DEFAULT_TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'

# Bounds on every wait, in seconds (loaded 2-core machines are slow).
PROCESS_START_TIMEOUT = 60
PROCESS_STOP_TIMEOUT = 15
DB_SYNC_TIMEOUT = 120
RABBITMQ_START_TIMEOUT = 90
RABBITMQ_STOP_TIMEOUT = 30
LOG_TAIL_LINES = 150

# What an engine logs once its RPC server consumes (notifier/service.py).
ENGINE_READY_MARKER = 'is consuming topic'


def random_name(prefix, length=10):
    return prefix + ''.join(random.choice(string.ascii_lowercase)
                            for _ in range(length))


def free_port():
    """A TCP port nobody listens on right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def executable(name):
    """A console script of the venv the tests run in (also works in tox's
    or tools/run-tests' .venv): it sits next to the interpreter."""
    return os.path.join(os.path.dirname(sys.executable), name)


def default_transport_url():
    return os.environ.get('NOTIFIER_TEST_TRANSPORT_URL') or \
        DEFAULT_TRANSPORT_URL


def port_open(port, host='127.0.0.1', timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        return '(no log: %s)' % e
    return '\n'.join(data.decode('utf-8', 'replace').splitlines()[-lines:])


# Databases

_BACKENDS = {}


def _admin_url(db_type):
    configured = os.environ.get('OS_TEST_DBAPI_ADMIN_CONNECTION')
    for url in (configured or '').split(';'):
        url = url.strip()
        if url and db_utils.make_url(url).get_backend_name() == db_type:
            return url
    return DEFAULT_ADMIN_URLS[db_type]


def database_backend(db_type):
    """The oslo.db provisioning backend for ``db_type`` ('mysql' or
    'postgresql'); raises BackendNotAvailable with the reason."""
    if db_type not in _BACKENDS:
        _BACKENDS[db_type] = provision.Backend(
            db_type, db_utils.make_url(_admin_url(db_type)))
    return _BACKENDS[db_type]._verify()


def skip_unless_database(test, db_type):
    try:
        database_backend(db_type)
    except db_exc.BackendNotAvailable as e:
        url = db_utils.make_url(_admin_url(db_type))
        test.skipTest('%s is not available at %s: %s (start it and create '
                      'the openstack_citest account: tools/test-setup.sh)' %
                      (db_type, url.render_as_string(hide_password=True),
                       e))


def skip_unless_broker(test, url=None):
    url = url or default_transport_url()
    parsed = urllib.parse.urlsplit(url.split(',')[0])
    host, port = parsed.hostname or '127.0.0.1', parsed.port or 5672
    if not port_open(port, host):
        test.skipTest('RabbitMQ does not answer on %s:%s (start it: '
                      'tools/test-setup.sh, or set '
                      'NOTIFIER_TEST_TRANSPORT_URL)' % (host, port))


class Database(fixtures.Fixture):
    """A new database, named uniquely, on a real server; dropped after.

    Check availability first with :func:`skip_unless_database` (a skip
    raised inside a fixture's set-up would be reported as an error).
    """

    def __init__(self, db_type):
        super().__init__()
        self.db_type = db_type

    def _setUp(self):
        self.backend = database_backend(self.db_type)
        self.name = random_name('notifier_')
        self.backend.create_named_database(self.name)
        self.addCleanup(self.backend.drop_named_database, self.name,
                        conditional=True)
        self.url = self.backend.provisioned_database_url(
            self.name).render_as_string(hide_password=False)


# Processes

try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None
_PR_SET_PDEATHSIG = 1


def _die_with_test_runner():
    # Runs in the child before exec. A safety net for when the test runner
    # itself is killed: the cleanups cannot run then, the kernel kills the
    # child instead. (It fires when the thread that started the child
    # exits: start processes from the test's own thread.)
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def pids_of(process):
    """The leader and its descendants (gunicorn workers, engine workers).
    A child is listed under the thread that forked it: the engine's
    worker under a thread of its master, not the main one."""
    found = [process.pid]
    frontier = [process.pid]
    while frontier:
        pid = frontier.pop()
        kids = []
        try:
            tasks = os.listdir('/proc/%d/task' % pid)
        except OSError:
            tasks = []
        for task in tasks:
            try:
                with open('/proc/%d/task/%s/children' % (pid, task)) as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
        found.extend(kids)
        frontier.extend(kids)
    return found


class Process:
    """A command in its own session (process group), output in a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.popen = None

    def start(self):
        with open(self.log_path, 'ab') as log:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd,
                start_new_session=True, preexec_fn=_die_with_test_runner)
        return self

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def _signal_group(self, sig):
        # The session leader's pid is the group id; children (oslo.service
        # forks a worker) are in the same group.
        try:
            os.killpg(self.popen.pid, sig)
            return True
        except ProcessLookupError:
            return False

    def terminate(self):
        if self.popen is not None:
            self._signal_group(signal.SIGTERM)

    def kill(self):
        """SIGKILL the whole group at once, as a crash would."""
        if self.popen is not None:
            self._signal_group(signal.SIGKILL)
            self.wait(PROCESS_STOP_TIMEOUT)

    def wait(self, timeout):
        """Wait until the leader and every process of its group are gone;
        True if they are."""
        deadline = time.monotonic() + timeout
        try:
            self.popen.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return False
        while time.monotonic() < deadline:
            if not self._signal_group(0):
                return True
            time.sleep(0.05)
        return not self._signal_group(0)

    def stop(self, timeout=PROCESS_STOP_TIMEOUT):
        """SIGTERM, then SIGKILL if not gone within ``timeout``."""
        if self.popen is None:
            return
        self.terminate()
        if not self.wait(timeout):
            self.kill()


def stop_all(processes, timeout=PROCESS_STOP_TIMEOUT):
    """Stop processes in parallel: SIGTERM to all, one bounded wait, then
    SIGKILL to whatever is left."""
    processes = [p for p in processes if p.popen is not None]
    for p in processes:
        p.terminate()
    deadline = time.monotonic() + timeout
    for p in processes:
        if not p.wait(deadline - time.monotonic()):
            p.kill()


def _conf_text(sections):
    lines = []
    for section, values in sections.items():
        lines.append('[%s]' % section)
        for key, value in values.items():
            if isinstance(value, bool):
                value = str(value).lower()
            lines.append('%s = %s' % (key, value))
        lines.append('')
    return '\n'.join(lines)


class Deployment(fixtures.Fixture):
    """Notifier as an operator runs it: a config file, a migrated database,
    and API and engine processes started from the command line.

    ``conf`` overrides or adds options: ``{'engine': {'recast_after': 5}}``.
    Every process gets the shared ``notifier.conf`` plus its own file with a
    unique ``[DEFAULT] host`` (and ``[api] port`` for an API).
    """

    def __init__(self, database_url, transport_url=None, conf=None):
        super().__init__()
        self.database_url = database_url
        self.transport_url = transport_url or default_transport_url()
        self.overrides = conf or {}
        self.processes = []
        self.apis = []
        self.engines = []

    def _setUp(self):
        self.path = self.useFixture(fixtures.TempDir()).path
        self.control_exchange = random_name('notifier_test_')
        self.prefix = random_name('', 6)
        sections = {
            'DEFAULT': {
                'transport_url': self.transport_url,
                'control_exchange': self.control_exchange,
                'debug': False,
            },
            'database': {'connection': self.database_url},
            'api': {'host': '127.0.0.1', 'auth_strategy': 'noauth2',
                    'validate_responses': True},
            'engine': {'periodic_interval': 1, 'recast_after': 2,
                       'claim_lease': 10},
            'oslo_messaging_rabbit': {},
        }
        for section, values in self.overrides.items():
            sections.setdefault(section, {}).update(values)
        self.conf_file = self._write('notifier.conf', sections)
        self.env = dict(os.environ)
        self.env.setdefault('PYTHONWARNINGS', 'ignore::DeprecationWarning')
        # Cleanups run last in, first out: the processes stop first, then
        # what they declared on the broker goes, then the temp dir.
        self.addCleanup(self._clean_broker)
        self.addCleanup(lambda: stop_all(self.processes))

    def _clean_broker(self):
        """Delete what this deployment left on the broker, which may be
        shared: its exchange (and so its bindings) and the engines' own
        queues. The topic queue is shared by every deployment on the
        vhost (oslo.messaging names it after the topic alone) and stays.
        """
        if not self.processes:
            return
        try:
            with self.broker() as conn:
                channel = conn.channel()
                channel.exchange_delete(self.control_exchange)
                for engine in self.engines:
                    channel.queue_delete('%s.%s' % (rpc.TOPIC, engine.host))
        except Exception as e:
            LOG.warning('Could not clean up exchange %s on %s: %s',
                        self.control_exchange, self.transport_url, e)

    def broker(self):
        """A kombu connection to this deployment's broker."""
        return kombu.Connection(
            self.transport_url.replace('rabbit://', 'amqp://', 1),
            connect_timeout=3)

    def _write(self, name, sections):
        path = os.path.join(self.path, name)
        with open(path, 'w') as f:
            f.write(_conf_text(sections))
        return path

    def _argv(self, command, name, sections):
        own = self._write('%s.conf' % name, sections)
        return [executable(command), '--config-file', self.conf_file,
                '--config-file', own]

    def db_sync(self):
        log_path = os.path.join(self.path, 'db-sync.log')
        argv = [executable('notifier-manage'), '--config-file',
                self.conf_file, 'db', 'sync']
        with open(log_path, 'wb') as log:
            rc = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=self.env,
                                 cwd=self.path, timeout=DB_SYNC_TIMEOUT)
        if rc != 0:
            raise RuntimeError('notifier-manage db sync exited with %d:\n%s'
                               % (rc, tail(log_path)))

    # Starting

    def _spawn(self, command, name, sections, env=None):
        process = Process(name, self._argv(command, name, sections),
                          os.path.join(self.path, '%s.log' % name),
                          env=dict(self.env, **(env or {})), cwd=self.path)
        self.processes.append(process)
        return process.start()

    def spawn_api(self, name=None):
        """Start notifier-api on a free port; see :meth:`wait_ready`."""
        name = name or 'api-%d' % (len(self.apis) + 1)
        port = free_port()
        process = self._spawn('notifier-api', name, {
            'DEFAULT': {'host': '%s-%s' % (self.prefix, name)},
            'api': {'port': port}})
        process.url = 'http://127.0.0.1:%d' % port
        process.kind = 'api'
        self.apis.append(process)
        return process

    def spawn_engine(self, name=None, env=None):
        """Start notifier-engine, with ``env`` added to its environment;
        see :meth:`wait_ready`."""
        name = name or 'engine-%d' % (len(self.engines) + 1)
        host = '%s-%s' % (self.prefix, name)
        process = self._spawn('notifier-engine', name, {
            'DEFAULT': {'host': host}}, env=env)
        process.kind = 'engine'
        process.host = host
        self.engines.append(process)
        return process

    def wait_ready(self, *processes, timeout=PROCESS_START_TIMEOUT):
        """Wait until each API answers GET / and each engine consumes its
        RPC topic; fail with the log if one exits or is late."""
        deadline = time.monotonic() + timeout
        for process in processes:
            while not self._ready(process):
                if not process.running():
                    raise RuntimeError(
                        '%s exited with %s before it was ready:\n%s' % (
                            process.name, process.popen.returncode,
                            tail(process.log_path)))
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        '%s was not ready after %ss:\n%s' % (
                            process.name, timeout, tail(process.log_path)))
                time.sleep(0.1)
        return processes

    @staticmethod
    def _ready(process):
        if process.kind == 'api':
            try:
                return requests.get(process.url + '/', timeout=2).ok
            except requests.RequestException:
                return False
        return ENGINE_READY_MARKER in process.log()

    def start_api(self, name=None):
        return self.wait_ready(self.spawn_api(name))[0]

    def start_engine(self, name=None):
        return self.wait_ready(self.spawn_engine(name))[0]

    def log_tails(self):
        """Process name -> the last lines of its log."""
        tails = {p.name: tail(p.log_path) for p in self.processes}
        sync = os.path.join(self.path, 'db-sync.log')
        if os.path.exists(sync):
            tails['db-sync'] = tail(sync)
        return tails


# A private RabbitMQ node

class PrivateRabbitMQ(fixtures.Fixture):
    """An isolated RabbitMQ node (REAL-SERVICES.md section 4.3): its own
    node name, cookie, data, logs and free loopback ports for AMQP and
    Erlang distribution. ``stop()`` and ``start()`` simulate an outage;
    the data dir survives them.

    Check ``PrivateRabbitMQ.available()`` first and skip when False. With
    ``wait=False`` the set-up only launches the node, so that its boot
    (several seconds) overlaps with other set-up; call :meth:`wait_ready`
    before using it.
    """

    def __init__(self, server=RABBITMQ_SERVER, wait=True):
        super().__init__()
        self.server = server
        self.wait = wait
        self.process = None

    @classmethod
    def available(cls, server=RABBITMQ_SERVER):
        return os.access(server, os.X_OK)

    def _setUp(self):
        self.path = self.useFixture(fixtures.TempDir()).path
        self.node = '%s@localhost' % random_name('notifier_test_')
        self.port = free_port()
        for _attempt in range(10):
            self.dist_port = free_port()
            if self.dist_port != self.port:
                break
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        for sub in ('home', 'mnesia', 'log'):
            os.makedirs(os.path.join(self.path, sub))
        self.log_path = os.path.join(self.path, 'log', 'stdout.log')
        with open(os.path.join(self.path, 'rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.default = 127.0.0.1:%d\n'
                    'loopback_users.guest = true\n' % self.port)
        with open(os.path.join(self.path, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        # Our own (empty) env file: the machine's rabbitmq-env.conf names
        # the machine's node, which must not be touched.
        env_file = os.path.join(self.path, 'rabbitmq-env.conf')
        open(env_file, 'w').close()
        self.env = dict(
            os.environ,
            HOME=os.path.join(self.path, 'home'),
            RABBITMQ_CONF_ENV_FILE=env_file,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS='127.0.0.1',
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=(
                '-kernel inet_dist_use_interface {127,0,0,1}'),
            RABBITMQ_MNESIA_BASE=os.path.join(self.path, 'mnesia'),
            RABBITMQ_LOG_BASE=os.path.join(self.path, 'log'),
            RABBITMQ_PID_FILE=os.path.join(self.path, 'rabbit.pid'),
            RABBITMQ_CONFIG_FILE=os.path.join(self.path, 'rabbitmq'),
            RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.path,
                                                       'enabled_plugins'),
        )
        self.addCleanup(self.stop)
        self.spawn()
        if self.wait:
            self.wait_ready()

    def spawn(self):
        """Launch the node without waiting (see :meth:`wait_ready`), so
        that its slow boot overlaps with other set-up."""
        if self.running():
            return
        self.process = Process('rabbitmq', [self.server], self.log_path,
                               env=self.env, cwd=self.path).start()

    def wait_ready(self, timeout=RABBITMQ_START_TIMEOUT):
        """Wait until the node accepts AMQP connections."""
        deadline = time.monotonic() + timeout
        while not self._amqp_answers():
            if not self.process.running():
                raise RuntimeError('RabbitMQ node %s exited with %s:\n%s' % (
                    self.node, self.process.popen.returncode, self.log()))
            if time.monotonic() > deadline:
                raise RuntimeError('RabbitMQ node %s did not accept AMQP '
                                   'connections within %ss:\n%s' % (
                                       self.node, timeout, self.log()))
            time.sleep(0.1)

    def _amqp_answers(self):
        # The listener opens at the end of the boot; a protocol header
        # must be answered by connection.start (a method frame, type 1).
        try:
            with socket.create_connection(('127.0.0.1', self.port),
                                          timeout=2) as s:
                s.sendall(b'AMQP\x00\x00\x09\x01')
                return s.recv(1) == b'\x01'
        except OSError:
            return False

    def running(self):
        return self.process is not None and self.process.running()

    def start(self, timeout=RABBITMQ_START_TIMEOUT):
        self.spawn()
        self.wait_ready(timeout)

    def stop(self, timeout=RABBITMQ_STOP_TIMEOUT):
        """Stop the node (SIGTERM: a clean shutdown that closes every
        client connection), SIGKILL if it is not gone in time."""
        if self.process is not None:
            self.process.stop(timeout)
            self.process = None

    def restart(self):
        self.stop()
        self.start()

    def log(self):
        logs = [tail(self.log_path, 40)]
        node_log = os.path.join(self.path, 'log', '%s.log' % self.node)
        logs.append(tail(node_log, 60))
        return '\n'.join(logs)


# The test case

class RealServicesTestCase(base.TestCase):
    """Tests that run Notifier's processes against real services.

    When a test fails, the tails of every process log are attached to it
    (stestr shows them with the failure).
    """

    def setUp(self):
        super().setUp()
        self._log_sources = []
        self.addOnException(self._attach_logs)
        # One line per HTTP request would bury the useful output.
        http_log = logging.getLogger('urllib3')
        self.addCleanup(http_log.setLevel, http_log.level)
        http_log.setLevel(logging.WARNING)

    def use_deployment(self, deployment):
        self._log_sources.append(deployment)
        return self.useFixture(deployment)

    def use_rabbitmq(self, broker):
        self._log_sources.append(broker)
        return self.useFixture(broker)

    def _attach_logs(self, exc_info):
        for source in self._log_sources:
            if getattr(source, 'path', None) is None:
                continue  # its set-up failed before it had a work dir
            if isinstance(source, Deployment):
                for name, text in source.log_tails().items():
                    self.addDetail('log-%s' % name, content.text_content(text))
            else:
                self.addDetail('log-rabbitmq',
                               content.text_content(source.log()))
