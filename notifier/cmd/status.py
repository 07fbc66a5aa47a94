"""notifier-status upgrade check."""

from oslo_config import cfg
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck

from notifier.conf import opts
from notifier.db import migration


class Checks(upgradecheck.UpgradeCommands):

    def _check_schema(self):
        try:
            current = migration.version()
        except Exception as e:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                'Cannot reach the database: %s. Check [database] '
                'connection.' % e)
        head = migration.head()
        if current != head:
            return upgradecheck.Result(
                upgradecheck.Code.FAILURE,
                'The database schema is at %s but this release needs %s. '
                'Run: notifier-manage db sync' % (current or 'nothing',
                                                  head))
        return upgradecheck.Result(upgradecheck.Code.SUCCESS)

    _upgrade_checks = (
        ('Database schema', _check_schema),
        ('Policy File JSON to YAML Migration',
         (common_checks.check_policy_json, {'conf': cfg.CONF})),
    )


def main():
    opts.set_defaults(cfg.CONF)
    return upgradecheck.main(cfg.CONF, project='notifier',
                             upgrade_command=Checks())
