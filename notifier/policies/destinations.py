from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:destinations:%s'
CREATE = PREFIX % 'create'
LIST = PREFIX % 'list'
SHOW = PREFIX % 'show'
UPDATE = PREFIX % 'update'
DELETE = PREFIX % 'delete'
TEST = PREFIX % 'test'

rules = [
    policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=base.operations(method, '/destinations' + suffix),
        scope_types=['project'])
    for name, check, method, suffix, description in [
        (CREATE, base.PROJECT_MEMBER_OR_ADMIN, 'POST', '',
         'Create a destination (where to deliver) in the project.'),
        (LIST, base.PROJECT_READER_OR_ADMIN, 'GET', '',
         'List the project\'s destinations (secrets are never shown).'),
        (SHOW, base.PROJECT_READER_OR_ADMIN, 'GET', '/{destination_id}',
         'Show a destination (secrets are never shown).'),
        (UPDATE, base.PROJECT_MEMBER_OR_ADMIN, 'PUT', '/{destination_id}',
         'Update a destination\'s name, settings, secrets or enabled.'),
        (DELETE, base.PROJECT_MEMBER_OR_ADMIN, 'DELETE',
         '/{destination_id}', 'Delete a destination.'),
        (TEST, base.PROJECT_MEMBER_OR_ADMIN, 'POST',
         '/{destination_id}/test',
         'Send a sample message to a destination now and see the '
         'outcome.'),
    ]
]


def list_rules():
    return rules
