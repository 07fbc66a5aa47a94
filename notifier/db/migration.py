"""Schema migrations with alembic, driven from Python (no alembic.ini)."""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from oslo_db.sqlalchemy import enginefacade

_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(connection=None):
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    config.attributes['connection'] = connection
    return config


def upgrade(revision='head', engine=None):
    engine = engine or enginefacade.writer.get_engine()
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)


def version(engine=None):
    """The revision the database is at, or None if it is empty."""
    engine = engine or enginefacade.writer.get_engine()
    with engine.connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()


def head():
    from alembic import script
    return script.ScriptDirectory.from_config(_config()).get_current_head()
