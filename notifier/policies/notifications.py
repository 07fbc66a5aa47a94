from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:notifications:%s'
CREATE = PREFIX % 'create'
CREATE_FOR_PROJECT = PREFIX % 'create_for_project'
LIST = PREFIX % 'list'
SHOW = PREFIX % 'show'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE,
        check_str=base.PROJECT_MEMBER_OR_ADMIN_OR_SERVICE,
        description='Post a notification (a failure alert) for the project.',
        operations=[
            {'method': 'POST', 'path': '/v1/notifications'},
            {'method': 'POST', 'path': '/v1/{project_id}/notifications'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=CREATE_FOR_PROJECT,
        check_str=base.ADMIN_OR_SERVICE,
        description='Post a notification for another project than the '
                    'token\'s, naming it in project_id (microversion '
                    '1.4): what a monitoring agent running as a service '
                    'user does so that tenants receive alerts about their '
                    'own hosts.',
        operations=[
            {'method': 'POST', 'path': '/v1/notifications'},
            {'method': 'POST', 'path': '/v1/{project_id}/notifications'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=LIST,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='List the project\'s notifications.',
        operations=[
            {'method': 'GET', 'path': '/v1/notifications'},
            {'method': 'GET', 'path': '/v1/{project_id}/notifications'},
        ],
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=SHOW,
        check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show one notification with its deliveries.',
        operations=[
            {'method': 'GET', 'path': '/v1/notifications/{notification_id}'},
            {'method': 'GET',
             'path': '/v1/{project_id}/notifications/{notification_id}'},
        ],
        scope_types=['project']),
]


def list_rules():
    return rules
