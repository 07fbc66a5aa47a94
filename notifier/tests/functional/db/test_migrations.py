"""The alembic migrations, walked on SQLite, MariaDB and PostgreSQL, and
checked against the models.

MySQL and PostgreSQL use oslo.db's opportunistic ``openstack_citest``
databases; their tests skip when the server does not answer.
"""

from alembic import script
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa

from notifier.db import migration
from notifier.db import models
from notifier.tests import base

# Group the tests by backend so that each test worker provisions a
# database per backend once.
load_tests = test_fixtures.optimize_module_test_loader()

_DDL = ('CREATE', 'ALTER', 'DROP', 'INSERT', 'UPDATE', 'DELETE')


class _MigrationsWalk:
    """Walks the migrations; the subclass's FIXTURE picks the backend.

    The opportunistic fixture points the global enginefacade at an empty
    database for each test and drops what the test created afterwards.
    """

    def setUp(self):
        super().setUp()
        self.engine = enginefacade.writer.get_engine()

    def _tables(self):
        return set(sa.inspect(self.engine).get_table_names())

    def test_walk_from_empty_to_head_one_revision_at_a_time(self):
        self.assertIsNone(migration.version(self.engine))
        self.assertEqual(set(), self._tables())

        revisions = list(script.ScriptDirectory.from_config(
            migration._config()).walk_revisions())
        self.assertNotEqual([], revisions)
        for revision in reversed(revisions):  # base first
            migration.upgrade(revision.revision, engine=self.engine)
            self.assertEqual(revision.revision,
                             migration.version(self.engine))

        self.assertEqual(migration.head(), migration.version(self.engine))
        self.assertEqual(
            set(models.Base.metadata.tables) | {'alembic_version'},
            self._tables())

    def test_upgrade_at_head_changes_nothing(self):
        migration.upgrade('head', engine=self.engine)

        statements = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(self.engine, 'before_cursor_execute', record)
        self.addCleanup(sa.event.remove, self.engine,
                        'before_cursor_execute', record)
        migration.upgrade('head', engine=self.engine)

        self.assertEqual(migration.head(), migration.version(self.engine))
        changes = [s for s in statements
                   if s.lstrip().upper().startswith(_DDL)]
        self.assertEqual([], changes)


class TestMigrationsWalkSQLite(test_fixtures.OpportunisticDBTestMixin,
                               _MigrationsWalk, base.TestCase):
    pass


class TestMigrationsWalkMySQL(test_fixtures.OpportunisticDBTestMixin,
                              _MigrationsWalk, base.TestCase):
    FIXTURE = test_fixtures.MySQLOpportunisticFixture

    def test_every_table_is_innodb_utf8mb4(self):
        migration.upgrade('head', engine=self.engine)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT table_name, engine, table_collation "
                "FROM information_schema.tables "
                "WHERE table_schema = DATABASE() "
                "AND table_name != 'alembic_version'")).all()
        self.assertEqual(set(models.Base.metadata.tables),
                         {name for name, _, _ in rows})
        not_innodb = {name: engine for name, engine, _ in rows
                      if engine != 'InnoDB'}
        self.assertEqual({}, not_innodb)
        not_utf8mb4 = {name: collation for name, _, collation in rows
                       if not collation.startswith('utf8mb4')}
        self.assertEqual({}, not_utf8mb4)


class TestMigrationsWalkPostgreSQL(test_fixtures.OpportunisticDBTestMixin,
                                   _MigrationsWalk, base.TestCase):
    FIXTURE = test_fixtures.PostgresqlOpportunisticFixture


class _ModelsMigrationsSync(test_migrations.ModelsMigrationsSync):
    """The schema the migrations build is the one the models describe:
    columns, types, nullability, indexes, constraints and foreign keys."""

    def get_metadata(self):
        return models.Base.metadata

    def get_engine(self):
        return enginefacade.writer.get_engine()

    def db_sync(self, engine):
        migration.upgrade('head', engine=engine)


class TestModelsMigrationsSyncSQLite(test_fixtures.OpportunisticDBTestMixin,
                                     _ModelsMigrationsSync, base.TestCase):
    pass


class TestModelsMigrationsSyncMySQL(test_fixtures.OpportunisticDBTestMixin,
                                    _ModelsMigrationsSync, base.TestCase):
    FIXTURE = test_fixtures.MySQLOpportunisticFixture


class TestModelsMigrationsSyncPostgreSQL(
        test_fixtures.OpportunisticDBTestMixin, _ModelsMigrationsSync,
        base.TestCase):
    FIXTURE = test_fixtures.PostgresqlOpportunisticFixture
