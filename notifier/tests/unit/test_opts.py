"""Notifier's defaults for the libraries' options."""

import os
import subprocess
import sys

import fixtures
from oslo_config import cfg

from notifier.conf import opts
from notifier.tests import base

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                   '..')


class TestDatabasePoolDefault(base.TestCase):

    def test_the_pool_keeps_a_connection_per_thread(self):
        # A pool smaller than the threads that use it closes a connection
        # on every return past its size and opens one for the next
        # request (50 to 100 ms of CPU each with PyMySQL): it must cover
        # an API process's request threads. An engine's delivery threads
        # share a few (test_engine_statements.
        # TestSendingThreadsShareConnections).
        self.assertGreaterEqual(self.conf.database.max_pool_size,
                                self.conf.api.threads)


class TestRpcThreadsDefault(base.TestCase):

    def conf_with(self, text=''):
        path = self.useFixture(fixtures.TempDir()).join('notifier.conf')
        with open(path, 'w') as f:
            f.write(text)
        conf = cfg.ConfigOpts()
        opts.set_defaults(conf)
        conf([], project='notifier', default_config_files=[path])
        return conf

    def test_an_engine_has_few_rpc_threads(self):
        # They only queue the ids of casts (messages go to the engine's
        # own threads); oslo.messaging's 64 cost the engine memory.
        self.assertEqual(8, self.conf_with().executor_thread_pool_size)

    def test_an_operator_can_still_set_them(self):
        conf = self.conf_with('[DEFAULT]\nexecutor_thread_pool_size = 32\n')
        self.assertEqual(32, conf.executor_thread_pool_size)


class TestSampleConfig(base.TestCase):

    def test_the_sample_shows_notifiers_defaults_of_oslo_messaging(self):
        # As tox -e genconfig and the docs generate it: an operator who
        # copies the sample's value must get the default the service runs
        # with.
        sample = self.useFixture(fixtures.TempDir()).join('notifier.conf')
        subprocess.run(
            [sys.executable, '-m', 'oslo_config.generator',
             '--config-file', os.path.join(TOP, 'etc', 'notifier',
                                           'notifier-config-generator.conf'),
             '--output-file', sample],
            check=True, capture_output=True, timeout=120)
        with open(sample) as f:
            text = f.read()
        self.assertIn('\n#executor_thread_pool_size = %d\n' % opts.RPC_THREADS,
                      text)
        self.assertNotIn('#executor_thread_pool_size = 64', text)
        self.assertIn('\n#control_exchange = notifier\n', text)
        self.assertIn('\n#transport_url = rabbit://\n', text)
