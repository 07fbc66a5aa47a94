"""Notifier's defaults for the libraries' options."""

from notifier.tests import base


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
