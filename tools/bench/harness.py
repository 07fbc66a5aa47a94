"""Starts and stops everything the benchmarks measure: a database (a SQLite
file, or a fresh database on the machine's MariaDB), a Notifier deployment
(config, db sync; the machine's RabbitMQ), Notifier's API and the trivial
app under the same gunicorn, engines, and the webhook sink.

Reuses the process fixtures of the functional tests
(notifier/tests/functional/services.py); nothing here is a test."""

import os
import sys
import time

from kombu import exceptions as kombu_exceptions
from oslo_config import cfg
import requests
from sqlalchemy.engine import url as sa_url

from notifier.conf import engine as engine_conf
from notifier.conf import upgrade_levels
from notifier.engine import rpcapi
from notifier import rpc
from notifier.tests.functional import services

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = 'benchproject'
# A non-admin caller of noauth2 (X-Auth-Token user:project).
HEADERS = {'X-Auth-Token': 'bench:%s' % PROJECT, 'X-Roles': 'member,reader'}
# Its own project for list scaling, so that ingested rows do not change
# the seeded count.
LIST_PROJECT = 'benchlist'
LIST_HEADERS = {'X-Auth-Token': 'bench:%s' % LIST_PROJECT,
                'X-Roles': 'member,reader'}
V1_5 = dict(HEADERS, **{'OpenStack-API-Version': 'notification 1.5'})


def headers_for(project):
    return {'X-Auth-Token': 'bench:%s' % project, 'X-Roles': 'member,reader',
            'OpenStack-API-Version': 'notification 1.5'}


def use_keystone():
    """Send the ingest requests with a real Keystone token (demo-member of
    project demo, fetched once; keystonemiddleware caches its validation)
    instead of noauth2's. Returns the [keystone_authtoken] section."""
    global HEADERS, PROJECT
    from notifier.tests.functional import keystone
    reason = keystone.unavailable_reason()
    if reason:
        raise SystemExit('No Keystone for --auth keystone: %s (set '
                         'KEYSTONE_URL)' % reason)
    ks = keystone.get()
    ks.check()
    PROJECT = ks.project_id('demo')
    HEADERS = dict(ks.headers('demo-member'), **{
        'OpenStack-API-Version': 'notification 1.5'})
    return ks.authtoken_conf()


def add_database_arguments(parser, backend='sqlite'):
    """``--backend`` and ``--mysql-driver``, as every bench script takes
    them; pass the parsed values to :class:`Stack`."""
    parser.add_argument('--backend', choices=['sqlite', 'mysql'],
                        default=backend)
    parser.add_argument('--mysql-driver', choices=['mysqldb', 'pymysql'],
                        default='mysqldb',
                        help='with --backend mysql: mysqlclient (mysqldb, '
                             'the recommended driver) or PyMySQL')


def backend_label(doc):
    """The backend of a run's JSON document, with its MySQL driver."""
    if doc.get('mysql_driver'):
        return '%s (%s)' % (doc['backend'], doc['mysql_driver'])
    return doc['backend']


def print_profile(profiler, html=None):
    """Print a stopped pyinstrument profiler's text report, and write its
    HTML report to ``html`` if given."""
    if html:
        with open(html, 'w') as f:
            f.write(profiler.output_html())
    print(profiler.output_text(unicode=False, color=False, show_all=False))


class Stack:
    def __init__(self, backend, workers=2, threads=8, log=print,
                 auth='noauth2', mysql_driver='mysqldb', engine_env=None,
                 pin_engines=False):
        self.auth = auth
        # [engine] pin_cpu: each engine on a CPU of its own.
        self.pin_engines = pin_engines
        # Environment variables for the engines only (an allocator
        # setting, say): what the install guide sets for the service.
        self.engine_env = dict(engine_env or {})
        self.mysql_driver = mysql_driver
        self.backend = backend
        self.workers = workers
        self.threads = threads
        self.log = log
        self._fixtures = []
        self.notifier = None
        self.trivial = None
        self.bare = None

    # set-up / tear-down

    def start(self):
        if self.backend == 'mysql':
            try:
                services.database_backend('mysql')
            except Exception as e:
                raise SystemExit('MariaDB is not available: %s' % e)
            db = services.Database('mysql')
            db.setUp()
            self._fixtures.append(db)
            url = sa_url.make_url(db.url).set(
                drivername='mysql+' + self.mysql_driver).render_as_string(
                    hide_password=False)
        else:
            url = None  # set once the deployment has its work dir
        conf = {
            'DEFAULT': {'debug': False},
            # Production-like: no response validation (a test-only aid).
            'api': {'validate_responses': False},
            # Only what tenants subscribe is delivered (no 'log' default).
            'engine': {'default_destinations': '', 'periodic_interval': 1,
                       'recast_after': 5, 'claim_lease': 30,
                       'pin_cpu': self.pin_engines},
        }
        if self.auth == 'keystone':
            conf['api']['auth_strategy'] = 'keystone'
            conf['keystone_authtoken'] = use_keystone()
        if url is None:
            # SQLite: a file in a private directory; Deployment's own temp
            # dir does not exist before its set-up, so use our own.
            import tempfile
            self._tmp = tempfile.mkdtemp(prefix='notifier-bench-')
            url = 'sqlite:///%s' % os.path.join(self._tmp, 'notifier.sqlite')
        self.database_url = url
        self.deployment = services.Deployment(url, conf=conf)
        self.deployment.setUp()
        self._fixtures.append(self.deployment)
        t0 = time.monotonic()
        self.deployment.db_sync()
        self.log('db sync (%s): %.1fs' % (self.backend,
                                          time.monotonic() - t0))
        return self

    def stop(self):
        for fixture in reversed(self._fixtures):
            try:
                fixture.cleanUp()
            except Exception as e:
                self.log('clean-up of %r failed: %s' % (fixture, e))
        self._fixtures = []
        tmp = getattr(self, '_tmp', None)
        if tmp:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)

    # processes

    def _gunicorn(self, name, app, extra_env=None):
        port = services.free_port()
        d = self.deployment
        argv = [services.executable('gunicorn'),
                '--workers', str(self.workers),
                '--worker-class', 'gthread', '--threads', str(self.threads),
                '--bind', '127.0.0.1:%d' % port,
                '--no-control-socket',
                '--backlog', '512', '--keep-alive', '30',
                '--timeout', '120', '--graceful-timeout', '5',
                '--pythonpath', HERE, app]
        env = dict(d.env, **(extra_env or {}))
        process = services.Process(name, argv,
                                   os.path.join(d.path, '%s.log' % name),
                                   env=env, cwd=d.path)
        process.kind = 'api'
        process.url = 'http://127.0.0.1:%d' % port
        process.port = port
        d.processes.append(process)
        process.start()
        d.wait_ready(process)
        return process

    def start_apis(self):
        """Notifier's API, the trivial app and the bare create
        (``bare_create_app``), same gunicorn settings; the bare one is
        ``self.bare``."""
        if self.notifier is None:
            own = os.path.join(self.deployment.path, 'api-own.conf')
            with open(own, 'w') as f:
                f.write('[DEFAULT]\nhost = %s-api\n' % self.deployment.prefix)
            self.notifier = self._gunicorn(
                'gunicorn-notifier', 'notifier.wsgi.api:application',
                {'NOTIFIER_CONFIG_FILES': '%s,%s' % (
                    self.deployment.conf_file, own)})
            self.trivial = self._gunicorn('gunicorn-trivial',
                                          'trivial_app:application')
            self.bare = self._gunicorn(
                'gunicorn-bare', 'bare_create_app:application',
                {'NOTIFIER_BENCH_DATABASE': self.database_url})
            if self.auth == 'keystone':
                self.warm_token_cache()
        return self.notifier, self.trivial

    def warm_token_cache(self, rounds=3):
        """Have every API worker validate the benchmark's token before
        anything is measured.

        keystonemiddleware's in-process cache is per worker, and on a cold
        cache every thread that misses validates the token itself (a herd
        of up to ``threads`` validations per worker, which the test
        Keystone's single worker answers one at a time). The scenarios
        measure the steady state, a cached token, so the cold start is
        paid here: more concurrent connections than the API has threads,
        so that every worker gets some. Returns the seconds it took."""
        import threading
        t0 = time.monotonic()
        url = self.notifier.url + '/v1/notifications?limit=1'
        failures = []

        def one():
            with requests.Session() as session:
                for _ in range(rounds):
                    resp = session.get(url, headers=HEADERS, timeout=120)
                    if resp.status_code != 200:
                        failures.append('HTTP %d: %s' % (
                            resp.status_code, resp.text[:200]))
                        return

        threads = [threading.Thread(target=one, daemon=True)
                   for _ in range(2 * self.workers * self.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        if failures:
            raise RuntimeError('The token was refused while warming the '
                               'token cache: %s' % failures[0])
        took = time.monotonic() - t0
        self.log('token cache warmed on every API worker: %.1fs' % took)
        return took

    def start_engines(self, count):
        d = self.deployment
        running = [e for e in d.engines if e.running()]
        new = [d.spawn_engine(env=self.engine_env)
               for _ in range(count - len(running))]
        d.wait_ready(*new)
        return running + new

    def stop_engines(self):
        d = self.deployment
        services.stop_all([e for e in d.engines if e.running()])

    def purge_casts(self):
        """Drop the casts waiting on the broker for the engines, those of
        an earlier scenario (their notifications are settled), so that
        the next engine does not spend the measured time reading them.
        The topic queue is shared by every deployment on the broker: run
        no tests against it meanwhile."""
        with self.deployment.broker() as conn:
            try:
                conn.channel().queue_purge(rpc.TOPIC)
            except kombu_exceptions.ChannelError:
                pass  # no engine declared it yet

    def cast(self, notification_ids, size):
        """Cast ``notification_ids`` to the engines that consume now, in
        ``process_notifications`` casts of ``size`` ids each, as the API's
        caster sends those of concurrent creates: the broker hands each
        cast to the next engine in turn."""
        conf = cfg.ConfigOpts()
        engine_conf.register_opts(conf)
        upgrade_levels.register_opts(conf)
        conf([], project='notifier',
             default_config_files=[self.deployment.conf_file])
        client = rpcapi.EngineAPI(conf)
        try:
            for k in range(0, len(notification_ids), size):
                if not client.process_notifications(
                        None, notification_ids[k:k + size]):
                    raise RuntimeError('the broker refused a cast')
        finally:
            rpc.cleanup()

    # helpers

    def api(self, method, path, body=None, headers=V1_5, expect=None):
        resp = requests.request(method, self.notifier.url + path, json=body,
                                headers=headers, timeout=30)
        if expect is not None and resp.status_code != expect:
            raise RuntimeError('%s %s: HTTP %d %s' % (
                method, path, resp.status_code, resp.text[:500]))
        return resp

    def subscribe_webhooks(self, project, urls):
        """A subscription of ``project`` to one webhook destination per
        URL; returns the subscription id."""
        headers = headers_for(project)
        ids = []
        for i, url in enumerate(urls):
            dest = self.api('POST', '/v1/destinations', {'destination': {
                'name': 'sink-%d' % i, 'medium': 'webhook',
                'settings': {'url': url}}}, headers=headers, expect=201)
            ids.append(dest.json()['destination']['id'])
        sub = self.api('POST', '/v1/subscriptions', {'subscription': {
            'name': 'bench', 'destinations': ids}}, headers=headers,
            expect=201)
        return sub.json()['subscription']['id']


def rss_kib(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def python_executable():
    return sys.executable


def cpu_seconds(pid):
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def pids_named(*names):
    """The pids of the processes whose command (comm) is one of ``names``:
    the machine's database and broker servers."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/comm' % entry) as f:
                if f.read().strip() in names:
                    found.append(int(entry))
        except OSError:
            pass
    return found


def server_pids():
    """The machine's database and broker servers, as :class:`CpuMeter`
    groups."""
    return {'database': pids_named('mariadbd', 'mysqld'),
            'broker': pids_named('beam.smp')}


class CpuMeter:
    """CPU time of groups of processes and the machine's busy fraction
    over a window: where the cores went while a scenario ran (see "What
    bounds each figure" on the performance page)."""

    def __init__(self, groups):
        self.groups = groups  # name -> pids
        self._start = self._read()

    @staticmethod
    def _machine():
        with open('/proc/stat') as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    def _read(self):
        return self._machine(), {
            name: sum(cpu_seconds(p) for p in pids)
            for name, pids in self.groups.items()}

    def stop(self, units):
        """CPU ms per unit (a delivery, say) of each group, and the
        fraction of the machine's CPU time that was busy."""
        (all0, idle0), cpu0 = self._start
        (all1, idle1), cpu1 = self._read()
        busy = (all1 - all0 - (idle1 - idle0)) / max(all1 - all0, 1)
        return {'cpu_ms_per_unit': {
            name: round((cpu1[name] - cpu0[name]) * 1000.0 / units, 3)
            for name in self.groups} if units else None,
            'machine_busy': round(busy, 3)}
