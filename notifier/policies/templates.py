from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:templates:%s'
LIST = PREFIX % 'list'
SHOW = PREFIX % 'show'
UPDATE = PREFIX % 'update'
DELETE = PREFIX % 'delete'
PREVIEW = PREFIX % 'preview'
UPDATE_SYSTEM = PREFIX % 'update_system'

rules = [
    policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=operations, scope_types=['project'])
    for name, check, operations, description in [
        (LIST, base.PROJECT_READER_OR_ADMIN,
         base.operations('GET', '/templates'),
         'List the message templates, saying which ones the project '
         'overrides.'),
        (SHOW, base.PROJECT_READER_OR_ADMIN,
         base.operations('GET', '/templates/{template_id}'),
         'Show a template\'s configuration, or fetch one of its bodies.'),
        (UPDATE, base.PROJECT_MEMBER_OR_ADMIN,
         base.operations('PUT', '/templates/{template_id}') +
         base.operations('POST', '/templates/{template_id}'),
         'Override a template for the project: its configuration (PUT) '
         'or one of its bodies (POST).'),
        (DELETE, base.PROJECT_MEMBER_OR_ADMIN,
         base.operations('DELETE', '/templates/{template_id}'),
         'Remove the project\'s override of a template, so that the '
         'system default applies again.'),
        (PREVIEW, base.PROJECT_MEMBER_OR_ADMIN,
         base.operations('POST', '/templates/{template_id}/preview'),
         'Render a template configuration and bodies that are not saved, '
         'with sample values.'),
        (UPDATE_SYSTEM, base.ADMIN,
         base.operations('PUT', '/templates/{template_id}?scope=system') +
         base.operations('POST', '/templates/{template_id}?scope=system') +
         base.operations('DELETE',
                         '/templates/{template_id}?scope=system'),
         'Edit the system default of a template (for every project that '
         'does not override it), or remove that edit.'),
    ]
]


def list_rules():
    return rules
