from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:subscriptions:%s'
CREATE = PREFIX % 'create'
LIST = PREFIX % 'list'
SHOW = PREFIX % 'show'
UPDATE = PREFIX % 'update'
DELETE = PREFIX % 'delete'

rules = [
    policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=base.operations(method, '/subscriptions' + suffix),
        scope_types=['project'])
    for name, check, method, suffix, description in [
        (CREATE, base.PROJECT_MEMBER_OR_ADMIN, 'POST', '',
         'Create a subscription: which notifications go to which of the '
         'project\'s destinations.'),
        (LIST, base.PROJECT_READER_OR_ADMIN, 'GET', '',
         'List the project\'s subscriptions.'),
        (SHOW, base.PROJECT_READER_OR_ADMIN, 'GET', '/{subscription_id}',
         'Show a subscription.'),
        (UPDATE, base.PROJECT_MEMBER_OR_ADMIN, 'PUT', '/{subscription_id}',
         'Update a subscription.'),
        (DELETE, base.PROJECT_MEMBER_OR_ADMIN, 'DELETE',
         '/{subscription_id}', 'Delete a subscription.'),
    ]
]


def list_rules():
    return rules
