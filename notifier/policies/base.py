"""The personas every rule is built from (secure RBAC, project scope)."""

from oslo_policy import policy

ADMIN = 'role:admin'
SERVICE = 'role:service'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
PROJECT_READER = 'role:reader and project_id:%(project_id)s'

ADMIN_OR_SERVICE = f'({ADMIN}) or ({SERVICE})'
PROJECT_MEMBER_OR_ADMIN = f'({ADMIN}) or ({PROJECT_MEMBER})'
PROJECT_READER_OR_ADMIN = f'({ADMIN}) or ({PROJECT_READER})'
PROJECT_MEMBER_OR_ADMIN_OR_SERVICE = f'{PROJECT_MEMBER_OR_ADMIN} or ({SERVICE})'



def operations(method, path):
    """The operations of a rule: the path, and with a project id."""
    return [{'method': method, 'path': '/v1' + path},
            {'method': method, 'path': '/v1/{project_id}' + path}]


rules = [
    policy.RuleDefault(
        'context_is_admin', ADMIN,
        description='Decides who sees every project\'s resources '
                    '(with all_projects=true).',
        scope_types=['project']),
]


def list_rules():
    return rules
