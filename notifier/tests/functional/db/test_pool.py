"""The pool pings a connection only after it sat idle (db.api
.ping_when_idle), and still replaces a dead one, on MySQL and
PostgreSQL."""

import time

from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import engines
from oslo_db.sqlalchemy import test_fixtures
import sqlalchemy as sa

from notifier.db import api as db
from notifier.tests import base


class _PingWhenIdleTests:
    backend_id_query = None  # this connection's id on the server
    kill_query = None  # ends the connection with that id

    def setUp(self):
        super().setUp()
        self.engine = enginefacade.writer.get_engine()  # the fixture's
        # An engine of our own, as oslo.db makes it (pre-ping on), so that
        # the fixture's engine is left as it is for other tests.
        self.own = engines.create_engine(
            self.engine.url.render_as_string(hide_password=False))
        self.addCleanup(self.own.dispose)
        self.pings = 0
        real_ping = self.own.dialect.do_ping

        def counting_ping(dbapi_connection):
            self.pings += 1
            return real_ping(dbapi_connection)
        self.own.dialect.do_ping = counting_ping

    def backend_id(self):
        with self.own.begin() as conn:
            return conn.scalar(sa.text(self.backend_id_query))

    def test_a_connection_used_just_now_is_not_pinged(self):
        db.ping_when_idle(self.own, idle=60)
        first = self.backend_id()  # a new connection: pinged once
        for _ in range(5):
            self.assertEqual(first, self.backend_id())
        self.assertEqual(1, self.pings)

    def test_an_idle_connection_is_pinged_and_replaced_if_dead(self):
        db.ping_when_idle(self.own, idle=0.2)
        first = self.backend_id()
        with self.engine.begin() as conn:  # another connection
            conn.execute(sa.text(self.kill_query % first))
        time.sleep(0.3)
        second = self.backend_id()  # no error: the dead one was replaced
        self.assertNotEqual(first, second)
        self.assertGreaterEqual(self.pings, 2)

    def test_without_it_every_checkout_pings(self):
        # What oslo.db does on its own, which ping_when_idle replaces.
        for _ in range(3):
            self.backend_id()
        self.assertEqual(3, self.pings)


class TestPingWhenIdleMySQL(test_fixtures.OpportunisticDBTestMixin,
                            _PingWhenIdleTests, base.TestCase):
    FIXTURE = test_fixtures.MySQLOpportunisticFixture
    backend_id_query = 'SELECT CONNECTION_ID()'
    kill_query = 'KILL %d'


class TestPingWhenIdlePostgreSQL(test_fixtures.OpportunisticDBTestMixin,
                                 _PingWhenIdleTests, base.TestCase):
    FIXTURE = test_fixtures.PostgresqlOpportunisticFixture
    backend_id_query = 'SELECT pg_backend_pid()'
    kill_query = 'SELECT pg_terminate_backend(%d)'
