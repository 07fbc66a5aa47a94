from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:broadcasts:%s'
CREATE = PREFIX % 'create'
SHOW = PREFIX % 'show'

# The administrators of a parent project: Keystone's "manager" role on it
# (the project-admin persona), or "admin".
PROJECT_MANAGER_OR_ADMIN = (
    f'({base.ADMIN}) or (role:manager and project_id:%(project_id)s)')

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE, check_str=PROJECT_MANAGER_OR_ADMIN,
        description='Send the customer_update message to the users of the '
                    'child projects of the caller\'s project (or of one '
                    'child project).',
        operations=base.operations('POST', '/broadcasts'),
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=PROJECT_MANAGER_OR_ADMIN,
        description='Show a broadcast with the recipients it was resolved '
                    'to and their deliveries.',
        operations=base.operations('GET', '/broadcasts/{broadcast_id}'),
        scope_types=['project']),
]


def list_rules():
    return rules
