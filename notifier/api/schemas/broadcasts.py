"""JSON schemas of broadcasts (Kazoo's customer_update)."""

from notifier.api.schemas import common

PROJECT_ID = {'type': 'string', 'minLength': 1, 'maxLength': 64}
# all_users, admins_only, or a Keystone user id.
USER_TYPE = {'type': 'string', 'minLength': 1, 'maxLength': 64,
             'pattern': r'^[A-Za-z0-9_-]+$'}
SUBJECT = {'type': 'string', 'minLength': 1, 'maxLength': 200}
# Base64 of the HTML body template, as in the seed; checked by the
# handler.
HTML = {'type': 'string', 'minLength': 1, 'maxLength': 400000}
PLAIN = {'type': 'string', 'minLength': 1, 'maxLength': 300000}

create_request_body = common.envelope('broadcast', {
    'recipient_id': PROJECT_ID,
    'user_type': USER_TYPE,
    'subject': SUBJECT,
    'body': PLAIN,
    'html': HTML,
    'plain': PLAIN,
})

_recipient = {
    'type': 'object',
    'properties': {
        'project_id': {'type': 'string'},
        'user_id': {'type': 'string'},
        'name': {'type': ['string', 'null']},
    },
    'required': ['project_id', 'user_id', 'name'],
    'additionalProperties': False,
}

_broadcast = {
    'type': 'object',
    'properties': {
        'id': common.UUID,
        'status': {'type': 'string'},
        'project_id': {'type': 'string'},
        'user_id': {'type': ['string', 'null']},
        'template': {'type': 'string', 'enum': ['customer_update']},
        'recipient_id': {'type': ['string', 'null']},
        'user_type': USER_TYPE,
        'subject': {'type': ['string', 'null']},
        'body': {'type': ['string', 'null']},
        'html': {'type': ['string', 'null']},
        'plain': {'type': ['string', 'null']},
        # Null until the engine has resolved them through Keystone.
        'recipients': {'type': ['array', 'null'], 'items': _recipient},
        'created_at': common.TIMESTAMP,
        'updated_at': common.TIMESTAMP,
        'deliveries': {'type': 'array', 'items': {'type': 'object'}},
    },
    'required': ['id', 'status', 'project_id', 'user_id', 'template',
                 'recipient_id', 'user_type', 'subject', 'body', 'html',
                 'plain',
                 'recipients', 'created_at', 'updated_at', 'deliveries'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'broadcast': _broadcast},
    'required': ['broadcast'],
    'additionalProperties': False,
}
