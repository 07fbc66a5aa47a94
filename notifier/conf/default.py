import socket

from oslo_config import cfg

opts = [
    cfg.StrOpt('host',
               sample_default='<current hostname>',
               default=socket.gethostname(),
               help='Name of this node, recorded on every notification and '
                    'delivery an engine claims so that an operator can tell '
                    'which engine did what. Must be unique per engine '
                    'process group; the hostname is a good default.'),
    cfg.StrOpt('state_path',
               default='/var/lib/notifier',
               help='Directory where Notifier keeps local state: the SQLite '
                    'database of a single-node install. notifier-all '
                    'defaults it to ./state under the working directory.'),
]


def register_opts(conf):
    conf.register_opts(opts)


def list_opts():
    return {'DEFAULT': opts}
