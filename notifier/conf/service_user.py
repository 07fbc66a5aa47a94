"""``[service_user]``: the Keystone credentials Notifier looks people up with.

The engine resolves ``admins`` recipients of a template and the users of a
broadcast's projects through Keystone as this user; the API does the same for
a template preview. The options are keystoneauth1's (an auth plugin, a
session, and an adapter that finds the identity endpoint in the catalog).
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP = 'service_user'

opts = [
    cfg.StrOpt('admin_role',
               default='admin',
               help='The Keystone role whose holders on a project are that '
                    'project\'s administrators: a template recipient of '
                    'type "admins" is every user with this role (directly, '
                    'through a group or an implied role) on the '
                    'notification\'s project who has an email address.'),
    cfg.IntOpt('cache_time',
               default=60,
               min=0,
               help='Seconds a Keystone answer (a project\'s admins, a '
                    'user\'s email, a project\'s children) is reused before '
                    'Keystone is asked again. 0 asks every time.'),
]

_HELP_AUTH = (
    'Set auth_type (usually "password") and the credentials of a service '
    'user that may read projects, users and role assignments in Keystone '
    '(the "admin" role, or "reader" with system scope). Without it, '
    'templates that address "admins" and broadcasts cannot be delivered.')


def register_opts(conf):
    group = cfg.OptGroup(GROUP, title='Service user', help=_HELP_AUTH)
    conf.register_group(group)
    conf.register_opts(opts, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_adapter_conf_options(conf, GROUP,
                                             include_deprecated=False)


def list_opts():
    # The password plugin's options are listed so that the sample config
    # shows what to fill in; other plugins work too (auth_type).
    return {GROUP: (
        opts +
        ks_loading.get_session_conf_options() +
        ks_loading.get_auth_common_conf_options() +
        ks_loading.get_auth_plugin_conf_options('password') +
        ks_loading.get_adapter_conf_options(include_deprecated=False))}
