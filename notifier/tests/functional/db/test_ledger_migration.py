"""Migration 0003 gives the deliveries that exist their notification's
project, on SQLite, MariaDB and PostgreSQL."""

import datetime

from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
import sqlalchemy as sa

from notifier.db import migration
from notifier.tests import base

load_tests = test_fixtures.optimize_module_test_loader()

NOW = datetime.datetime(2026, 11, 23, 10, 0, 0)


class _LedgerMigration:

    def test_existing_deliveries_get_their_notifications_project(self):
        engine = enginefacade.writer.get_engine()
        migration.upgrade('0002', engine=engine)
        meta = sa.MetaData()
        notifications = sa.Table('notifications', meta, autoload_with=engine)
        deliveries = sa.Table('deliveries', meta, autoload_with=engine)
        with engine.begin() as conn:
            for number, project in ((1, 'p-one'), (2, 'p-two')):
                conn.execute(notifications.insert().values(
                    id=number, notification_uuid='n-%d' % number,
                    project_id=project, type='COMPUTE_HOST',
                    hostname='compute-1', source_host_uuid='h-1',
                    generated_time=NOW, payload='{}', status='finished',
                    created_at=NOW, updated_at=NOW))
                conn.execute(deliveries.insert().values(
                    uuid='d-%d' % number, notification_id=number,
                    target='default:log', medium='log', status='delivered',
                    attempts=1, created_at=NOW, updated_at=NOW))

        migration.upgrade('0003', engine=engine)

        meta = sa.MetaData()
        deliveries = sa.Table('deliveries', meta, autoload_with=engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(
                deliveries.c.uuid, deliveries.c.project_id,
                deliveries.c.recipients).order_by(deliveries.c.uuid)).all()
        self.assertEqual([('d-1', 'p-one', None), ('d-2', 'p-two', None)],
                         [tuple(r) for r in rows])
        self.assertFalse(next(c for c in sa.inspect(engine).get_columns(
            'deliveries') if c['name'] == 'project_id')['nullable'])


class TestLedgerMigrationSQLite(test_fixtures.OpportunisticDBTestMixin,
                                _LedgerMigration, base.TestCase):
    pass


class TestLedgerMigrationMySQL(test_fixtures.OpportunisticDBTestMixin,
                               _LedgerMigration, base.TestCase):
    FIXTURE = test_fixtures.MySQLOpportunisticFixture


class TestLedgerMigrationPostgreSQL(test_fixtures.OpportunisticDBTestMixin,
                                    _LedgerMigration, base.TestCase):
    FIXTURE = test_fixtures.PostgresqlOpportunisticFixture
