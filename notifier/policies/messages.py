from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:messages:%s'
CREATE = PREFIX % 'create'
SHOW = PREFIX % 'show'

rules = [
    policy.DocumentedRuleDefault(
        name=CREATE, check_str=base.PROJECT_MEMBER_OR_ADMIN_OR_SERVICE,
        description='Send a direct message: to Slack, by email, to one of '
                    'the project\'s destinations, or over the operator\'s '
                    'fallback list of media.',
        operations=(base.operations('POST', '/messages') +
                    base.operations('POST', '/messages/slack') +
                    base.operations('POST', '/messages/email')),
        scope_types=['project']),
    policy.DocumentedRuleDefault(
        name=SHOW, check_str=base.PROJECT_READER_OR_ADMIN,
        description='Show a direct message with its status and '
                    'deliveries.',
        operations=base.operations('GET', '/messages/{message_id}'),
        scope_types=['project']),
]


def list_rules():
    return rules
