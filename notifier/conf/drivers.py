"""Options of the delivery drivers, one ``[driver_<medium>]`` group each."""

from oslo_config import cfg

log_opts = [
    cfg.StrOpt('level',
               default='INFO',
               choices=['DEBUG', 'INFO', 'WARNING', 'ERROR'],
               help='Log level at which the "log" driver writes each '
                    'delivered notification to the engine log.'),
]

GROUPS = {
    'driver_log': log_opts,
}


def register_opts(conf):
    for group, group_opts in GROUPS.items():
        conf.register_opts(group_opts, group=group)


def list_opts():
    return dict(GROUPS)
