"""Notifier's defaults for the libraries' options."""

import oslo_messaging as messaging

from notifier.conf import opts
from notifier.tests import base


class TestDatabasePoolDefault(base.TestCase):

    def test_the_pool_keeps_a_connection_per_thread(self):
        # A pool smaller than the threads that use it closes a connection
        # on every return past its size and opens one for the next
        # request (50 to 100 ms of CPU each with PyMySQL): it must cover
        # an API process's request threads and an engine's delivery
        # threads with room for the engine's own.
        self.assertGreaterEqual(self.conf.database.max_pool_size,
                                self.conf.api.threads)
        self.assertGreaterEqual(self.conf.database.max_pool_size,
                                self.conf.engine.delivery_threads + 4)


class TestRabbitPrefetchDefault(base.TestCase):

    def test_the_broker_sends_a_consumer_a_few_messages_ahead(self):
        # What the rabbit driver reads when an engine starts: a limit
        # (0 means none), so that a hung engine holds only a few casts;
        # see test_real_services for the engines that share the rest.
        transport = messaging.get_rpc_transport(
            self.conf, url='rabbit://guest:guest@127.0.0.1:1/')
        self.addCleanup(transport.cleanup)
        self.assertEqual(opts.RPC_PREFETCH,
                         self.conf.oslo_messaging_rabbit
                         .rabbit_qos_prefetch_count)
        self.assertGreater(opts.RPC_PREFETCH, 0)
