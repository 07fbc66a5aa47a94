"""notifier-manage: database administration."""

import sys

from oslo_config import cfg

from notifier import context
from notifier.db import api as db
from notifier.db import migration
from notifier import service


class DbCommands:

    def sync(self):
        """Upgrade the database schema to the latest version."""
        migration.upgrade('head')
        print('Database is at revision %s.' % migration.version())

    def version(self):
        """Print the schema revision of the database."""
        print(migration.version() or 'empty (run: notifier-manage db sync)')

    def purge(self):
        """Delete finished notifications older than --age-in-days."""
        age = cfg.CONF.command.age_in_days
        count = db.purge(context.get_admin_context(), age)
        print('Purged %d notifications older than %d days.' % (count, age))


def _add_parsers(subparsers):
    db_parser = subparsers.add_parser(
        'db', help='Database schema and data maintenance.')
    db_actions = db_parser.add_subparsers(dest='action')
    db_actions.required = True
    for name in ('sync', 'version', 'purge'):
        action = db_actions.add_parser(
            name, help=getattr(DbCommands, name).__doc__)
        if name == 'purge':
            action.add_argument(
                '--age-in-days', type=int, default=30,
                help='Delete notifications that ended (finished, failed or '
                     'ignored) more than this many days ago, with their '
                     'deliveries. Default: 30.')


def main():
    cfg.CONF.register_cli_opt(cfg.SubCommandOpt(
        'command', title='Commands', handler=_add_parsers))
    service.prepare()
    command = cfg.CONF.command
    try:
        getattr(DbCommands(), command.action)()
    except Exception as e:
        print('notifier-manage %s %s failed: %s' % (command.name,
                                                   command.action, e),
              file=sys.stderr)
        return 1
    return 0
