"""``[upgrade_levels]``: RPC version caps for rolling upgrades.

The OpenStack convention: while services of two releases run side by
side, the newer ones are told the highest RPC API version the older ones
understand, and send nothing newer. See :mod:`notifier.engine.rpcapi` for
the versions.
"""

from oslo_config import cfg

GROUP = 'upgrade_levels'

opts = [
    cfg.StrOpt('engine',
               regex=r'^\d+\.\d+(\.\d+)?$',
               help='Highest version of the engine\'s RPC API that the API '
                    'processes send (such as "1.1"). Set it during a '
                    'rolling upgrade when the API processes are upgraded '
                    'before the engines, to the version of the oldest '
                    'engine still running: 1.1 for engines that cannot '
                    'take several notifications in one cast (the API then '
                    'casts them one by one, and nothing is lost either '
                    'way). Unset it, and restart the API processes, once '
                    'every engine is upgraded. Unset (the default), the '
                    'latest version is sent. 1.0 also stops the casts of '
                    'direct messages and broadcasts; engines pick those up '
                    'from the database after [engine] recast_after '
                    'seconds.'),
]


def register_opts(conf):
    conf.register_opts(opts, group=GROUP)


def list_opts():
    return {GROUP: opts}
