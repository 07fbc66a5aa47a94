from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:hosts:%s'
CREATE = PREFIX % 'create'
LIST = PREFIX % 'list'
SHOW = PREFIX % 'show'
UPDATE = PREFIX % 'update'
DELETE = PREFIX % 'delete'


def _ops(method, suffix=''):
    return base.operations(method, '/hosts' + suffix)


rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.PROJECT_MEMBER_OR_ADMIN_OR_SERVICE,
        description='Register a monitored host in the project.',
        operations=_ops('POST'),
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='List the project\'s hosts.',
        operations=_ops('GET'),
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show one host.',
        operations=_ops('GET', '/{host_id}'),
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=UPDATE,
        check_str=base.ADMIN_OR_SERVICE,
        description='Update a host, such as putting it on maintenance '
                    '(on_maintenance), which makes notifications for it '
                    'a 409.',
        operations=_ops('PUT', '/{host_id}'),
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=DELETE,
        check_str=base.ADMIN,
        description='Delete a host.',
        operations=_ops('DELETE', '/{host_id}'),
        scope_types=['project']),
]


def list_rules():
    return rules
