"""Rules of the delivery ledger, resend, and an admin's re-processing of
a notification."""

from oslo_policy import policy

from notifier.policies import base

PREFIX = 'notifier:deliveries:%s'
LIST = PREFIX % 'list'
SHOW = PREFIX % 'show'
RESEND = PREFIX % 'resend'
# A notification's rule, kept with the resend it complements.
REPROCESS = 'notifier:notifications:reprocess'

rules = [
    policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=base.operations(method, path),
        scope_types=['project'])
    for name, check, method, path, description in [
        (LIST, base.PROJECT_READER_OR_ADMIN, 'GET', '/deliveries',
         'List the project\'s deliveries (the ledger); admins see every '
         'project\'s with all_projects=true.'),
        (SHOW, base.PROJECT_READER_OR_ADMIN, 'GET',
         '/deliveries/{delivery_id}',
         'Show a delivery with what was sent, to whom, the receipt and '
         'every attempt.'),
        (RESEND, base.PROJECT_MEMBER_OR_ADMIN, 'POST',
         '/deliveries/{delivery_id}/resend',
         'Send a failed delivery again, with the same id and a fresh '
         'attempt budget.'),
        (REPROCESS, base.ADMIN, 'POST',
         '/notifications/{notification_id}/reprocess',
         'Process a failed or ignored notification again: its failed '
         'deliveries are retried with a fresh budget and routing runs '
         'again. Operators only, since it re-runs the whole fan-out.'),
    ]
]


def list_rules():
    return rules
