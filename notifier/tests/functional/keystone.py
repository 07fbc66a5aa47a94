"""A real Keystone for the functional tests, and tokens from it.

:func:`get` gives the Keystone of the test process:

* if ``KEYSTONE_URL`` is set (the identity URL, ``http://HOST:PORT/v3``,
  as ``tools/keystone-setup.sh start`` prints it) and answers, that one: a
  test run may start one Keystone for all of its test processes (and set
  ``KEYSTONE_DIR`` to its directory, so that failing tests show its log);
* otherwise the first call runs ``tools/keystone-setup.sh start`` into a
  temporary directory (about 20 s on an idle 2-core machine, more under
  load), and every later call of the process shares it. It is stopped and
  its directory removed when the process exits; if the process is killed,
  the script's watcher stops it a few seconds later.

Either way the Keystone has the projects and users the script creates:

==============  ============  ========
user            role          project
==============  ============  ========
demo-reader     reader        demo
demo-member     member        demo
demo-admin      admin         demo
other-member    member        other
unrelated       unrelated     demo
notifier        service       service
admin           admin         admin
==============  ============  ========

Every password is ``<user>-pass`` (``adminpass`` for admin).

Check :func:`skip_unless_keystone` in a test's set-up first: it skips when
neither a running Keystone nor keystone and gunicorn in the test venv are
available.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import requests

SETUP_SCRIPT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))), 'tools', 'keystone-setup.sh')
# Bounds, in seconds: the set-up takes ~20 s idle, 50 s at load 6 on 2 cores.
SETUP_TIMEOUT = 300
HTTP_TIMEOUT = 30

# user -> (project, role), as tools/keystone-setup.sh creates them.
USERS = {
    'demo-reader': ('demo', 'reader'),
    'demo-member': ('demo', 'member'),
    'demo-admin': ('demo', 'admin'),
    'other-member': ('other', 'member'),
    'unrelated': ('demo', 'unrelated'),
    'notifier': ('service', 'service'),
    'admin': ('admin', 'admin'),
}
SERVICE_USER = 'notifier'
REGION = 'RegionOne'
# The real temporary directory, taken at import: during a test, oslotest
# points tempfile at a directory of that test's own, removed after it, so a
# Keystone shared by several tests must not live there.
REAL_TMPDIR = tempfile.gettempdir()


def password(user):
    return 'adminpass' if user == 'admin' else user + '-pass'


def _answers(url):
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


class Keystone:
    """A running Keystone: its URL, and sessions for the test users."""

    def __init__(self, url, path=None):
        self.url = url.rstrip('/')
        self.path = path
        self._sessions = {}
        self._project_ids = {}
        self._lock = threading.Lock()

    def auth(self, user, project=None, **scope):
        """A keystoneauth password plugin for ``user``, scoped to
        ``project`` (default: the user's project in :data:`USERS`), or to
        what ``scope`` says (``system_scope='all'``)."""
        if not scope:
            scope = {'project_name': project or USERS[user][0],
                     'project_domain_id': 'default'}
        return v3.Password(auth_url=self.url, username=user,
                           password=password(user), user_domain_id='default',
                           **scope)

    def session(self, user, project=None):
        """A keystoneauth session for ``user`` in ``project``; shared by the
        tests of the process (its token is fetched once)."""
        key = (user, project or USERS[user][0])
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = ks_session.Session(
                    auth=self.auth(user, project), timeout=HTTP_TIMEOUT)
            return self._sessions[key]

    def token(self, user, project=None):
        return self.session(user, project).get_token()

    def headers(self, user, project=None):
        """Request headers that authenticate as ``user`` (for requests)."""
        return {'X-Auth-Token': self.token(user, project)}

    def project_id(self, name):
        with self._lock:
            known = self._project_ids.get(name)
        if known is None:
            resp = self.session('admin').get(
                self.url + '/projects', params={'name': name},
                raise_exc=True)
            projects = resp.json()['projects']
            if not projects:
                raise LookupError('Keystone %s has no project %r (was it '
                                  'set up by tools/keystone-setup.sh?)' %
                                  (self.url, name))
            known = projects[0]['id']
            with self._lock:
                self._project_ids[name] = known
        return known

    def authtoken_conf(self, **overrides):
        """A ``[keystone_authtoken]`` section that validates tokens here
        as the service user."""
        conf = {
            'www_authenticate_uri': self.url,
            'auth_url': self.url,
            'auth_type': 'password',
            'username': SERVICE_USER,
            'password': password(SERVICE_USER),
            'project_name': USERS[SERVICE_USER][0],
            'user_domain_name': 'Default',
            'project_domain_name': 'Default',
            'region_name': REGION,
            'service_token_roles_required': True,
        }
        conf.update(overrides)
        return conf

    def check(self):
        """Fail clearly if the test users cannot log in here."""
        try:
            self.token(SERVICE_USER)
        except ks_exc.ClientException as e:
            raise RuntimeError(
                'Keystone %s does not let the test user %s log in (%s); '
                'was it set up by tools/keystone-setup.sh?' % (
                    self.url, SERVICE_USER, e))

    def log(self, lines=60):
        """The end of Keystone's log, when this process started it."""
        if not self.path:
            return '(Keystone at %s was started outside this test process)' \
                % self.url
        chunks = []
        for name in ('keystone.log', 'gunicorn.log'):
            try:
                with open(os.path.join(self.path, 'log', name), 'rb') as f:
                    text = f.read().decode('utf-8', 'replace')
            except OSError as e:
                text = '(no log: %s)' % e
            chunks.append('== %s\n%s' % (
                name, '\n'.join(text.splitlines()[-lines:])))
        return '\n'.join(chunks)


_LOCK = threading.Lock()
_KEYSTONE = None
_ERROR = None


def unavailable_reason():
    """Why this process cannot have a Keystone, or None if it can."""
    url = os.environ.get('KEYSTONE_URL')
    if url and _answers(url):
        return None
    bin_dir = os.path.dirname(sys.executable)
    for name in ('keystone-manage', 'gunicorn'):
        if not os.access(os.path.join(bin_dir, name), os.X_OK):
            return ('no %s in %s (pip install keystone gunicorn), and no '
                    'KEYSTONE_URL answering' % (name, bin_dir))
    if not os.access(SETUP_SCRIPT, os.R_OK):
        return 'no %s (not a source checkout?)' % SETUP_SCRIPT
    return None


def skip_unless_keystone(test):
    reason = unavailable_reason()
    if reason:
        test.skipTest('No Keystone for the tests: %s' % reason)


def _stop(path):
    try:
        subprocess.run(['bash', SETUP_SCRIPT, 'stop', path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.SubprocessError):
        pass
    shutil.rmtree(path, ignore_errors=True)


def _start():
    url = os.environ.get('KEYSTONE_URL')
    if url and _answers(url):
        # KEYSTONE_DIR, if it is that Keystone's directory, gives its logs.
        path = os.environ.get('KEYSTONE_DIR')
        try:
            with open(os.path.join(path, 'env')) as f:
                ours = 'KEYSTONE_URL=%s\n' % url in f.read()
        except (OSError, TypeError):
            ours = False
        return Keystone(url, path=path if ours else None)
    path = tempfile.mkdtemp(prefix='notifier-keystone-', dir=REAL_TMPDIR)
    atexit.register(_stop, path)
    env = dict(os.environ, PYTHON=sys.executable,
               KEYSTONE_WATCH_PID=str(os.getpid()))
    env.pop('KEYSTONE_PORT', None)
    started = time.monotonic()
    try:
        done = subprocess.run(
            ['bash', SETUP_SCRIPT, 'start', path], env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=SETUP_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError('%s start did not finish in %ss:\n%s' % (
            SETUP_SCRIPT, SETUP_TIMEOUT, e.stderr))
    if done.returncode != 0:
        raise RuntimeError('%s start %s exited with %d:\n%s%s' % (
            SETUP_SCRIPT, path, done.returncode, done.stdout, done.stderr))
    keystone = Keystone(done.stdout.strip().splitlines()[-1], path=path)
    keystone.setup_seconds = time.monotonic() - started
    return keystone


def get():
    """The Keystone of this test process (started on the first call)."""
    global _KEYSTONE, _ERROR
    with _LOCK:
        if _KEYSTONE is None and _ERROR is None:
            try:
                keystone = _start()
                keystone.check()
                _KEYSTONE = keystone
            except Exception as e:
                # Every later test fails at once with the same cause, rather
                # than trying the slow set-up again.
                _ERROR = e
        if _ERROR is not None:
            raise RuntimeError('No Keystone for the tests: %s' % _ERROR)
        return _KEYSTONE
