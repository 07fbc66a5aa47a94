"""The operator's commands, run as an operator runs them."""

import os
import subprocess

import requests

from notifier.db import migration
from notifier.tests import base as test_base
from notifier.tests.functional import base
from notifier.tests.functional import services


class TestCommands(test_base.TestCase):

    def setUp(self):
        super().setUp()
        self.path = self.useFixture(services.fixtures.TempDir()).path
        self.conf_file = os.path.join(self.path, 'notifier.conf')
        with open(self.conf_file, 'w') as f:
            f.write('[database]\nconnection = sqlite:///%s/n.sqlite\n'
                    % self.path)

    def run_command(self, *argv):
        result = subprocess.run(
            [services.executable(argv[0]), '--config-file', self.conf_file]
            + list(argv[1:]), capture_output=True, text=True, timeout=120,
            cwd=self.path, stdin=subprocess.DEVNULL)
        return result.returncode, result.stdout + result.stderr

    def test_db_sync_then_version(self):
        rc, out = self.run_command('notifier-manage', 'db', 'version')
        self.assertEqual(0, rc, out)
        self.assertIn('notifier-manage db sync', out)
        rc, out = self.run_command('notifier-manage', 'db', 'sync')
        self.assertEqual(0, rc, out)
        rc, out = self.run_command('notifier-manage', 'db', 'version')
        self.assertEqual(0, rc, out)
        self.assertEqual(migration.head(), out.strip().splitlines()[-1])

    def test_purge_reports_its_count(self):
        self.run_command('notifier-manage', 'db', 'sync')
        rc, out = self.run_command('notifier-manage', 'db', 'purge',
                                   '--age-in-days', '7')
        self.assertEqual(0, rc, out)
        self.assertIn('Purged 0 notifications older than 7 days', out)

    def test_upgrade_check_fails_until_the_schema_is_synced(self):
        rc, out = self.run_command('notifier-status', 'upgrade', 'check')
        self.assertEqual(2, rc, out)
        self.assertIn('Run: notifier-manage db sync', out)
        self.run_command('notifier-manage', 'db', 'sync')
        rc, out = self.run_command('notifier-status', 'upgrade', 'check')
        self.assertEqual(0, rc, out)
        self.assertIn('Policy File JSON to YAML Migration', out)


class TestServers(test_base.TestCase):
    """notifier-api with several workers, and the WSGI application under
    gunicorn, on SQLite and fake:// (engine-less: the API side only)."""

    def setUp(self):
        super().setUp()
        self.path = self.useFixture(services.fixtures.TempDir()).path
        self.port = services.free_port()
        self.conf_file = os.path.join(self.path, 'notifier.conf')
        with open(self.conf_file, 'w') as f:
            f.write('[DEFAULT]\ntransport_url = fake://\n'
                    '[database]\nconnection = sqlite:///%s/n.sqlite\n'
                    '[api]\nauth_strategy = noauth2\nworkers = 2\n'
                    'port = %d\n' % (self.path, self.port))
        subprocess.run([services.executable('notifier-manage'),
                        '--config-file', self.conf_file, 'db', 'sync'],
                       check=True, capture_output=True, timeout=120)

    def serve(self, argv, env=None):
        process = services.Process(
            argv[0].rsplit('/', 1)[-1], argv,
            os.path.join(self.path, 'server.log'),
            env=dict(os.environ, **(env or {})), cwd=self.path)
        process.start()
        self.addCleanup(process.stop)
        url = 'http://127.0.0.1:%d' % self.port
        for _ in range(300):
            if not process.running():
                self.fail('%s exited:\n%s' % (argv[0], process.log()))
            try:
                if requests.get(url + '/', timeout=2).ok:
                    return url
            except requests.RequestException:
                pass
            services.time.sleep(0.1)
        self.fail('%s did not answer:\n%s' % (argv[0], process.log()))

    def post_and_list(self, url):
        created = requests.post(url + '/v1/notifications',
                                json=base.notification_body(), timeout=10)
        self.assertEqual(202, created.status_code, created.text)
        listed = requests.get(url + '/v1/notifications', timeout=10).json()
        self.assertEqual([created.json()['notification']['id']],
                         [n['id'] for n in listed['notifications']])

    def test_notifier_api_with_two_workers_serves(self):
        url = self.serve([services.executable('notifier-api'),
                          '--config-file', self.conf_file])
        self.post_and_list(url)
        # Both workers answer on the one port (SO_REUSEPORT).
        servers = {requests.get(url + '/', timeout=2).status_code
                   for _ in range(20)}
        self.assertEqual({200}, servers)

    def test_wsgi_application_under_gunicorn(self):
        # gunicorn's own arguments must not reach Notifier's option parser.
        url = self.serve(
            [services.executable('gunicorn'), '--no-control-socket',
             '--workers', '1', '--bind', '127.0.0.1:%d' % self.port,
             'notifier.wsgi.api:application'],
            env={'NOTIFIER_CONFIG_FILES': self.conf_file})
        self.post_and_list(url)
