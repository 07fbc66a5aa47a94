"""JSON schemas of direct messages. The request bodies are flat, with the
field names of kytos_courier (``m_body``, ``m_to``, ...), so that its
callers move over by changing the URL."""

from notifier.api.schemas import common

CHANNEL = {'type': 'string', 'minLength': 1, 'maxLength': 81,
           'pattern': r'^\S+$'}
SOURCE = {'type': 'string', 'maxLength': 255}
BODY = {'type': 'string', 'minLength': 1, 'maxLength': 65536}
SUBJECT = {'type': 'string', 'maxLength': 998}
ADDRESS = {'type': 'string', 'maxLength': 254}
# A comma-separated list of addresses, as kytos_courier takes it.
ADDRESSES = {'type': 'string', 'maxLength': 5120}


def _flat(properties, required=()):
    schema = {'type': 'object', 'properties': properties,
              'additionalProperties': False}
    if required:
        schema['required'] = list(required)
    return schema


slack_request_body = _flat({
    'channel': CHANNEL,
    'source': SOURCE,
    'm_body': BODY,
}, required=['m_body'])

# Every field may come from [messages]; what is still missing is a 400
# that names it (see notifier.engine.messages.email_fields).
email_request_body = _flat({
    'm_from': ADDRESS,
    'm_to': ADDRESSES,
    'm_subject': SUBJECT,
    'm_body': BODY,
    'source': SOURCE,
})

create_request_body = _flat({
    'm_body': BODY,
    'm_subject': SUBJECT,
    'source': SOURCE,
    'destination_id': common.UUID,
}, required=['m_body'])

_message = {
    'type': 'object',
    'properties': {
        'id': common.UUID,
        'kind': {'type': 'string', 'enum': ['message']},
        'medium': {'type': 'string',
                   'enum': ['slack', 'email', 'any', 'destination']},
        'status': {'type': 'string'},
        'project_id': {'type': 'string'},
        'user_id': {'type': ['string', 'null']},
        'created_at': common.TIMESTAMP,
        'updated_at': common.TIMESTAMP,
        'channel': CHANNEL,
        'source': SOURCE,
        'm_from': ADDRESS,
        'm_to': ADDRESSES,
        'm_subject': SUBJECT,
        'm_body': BODY,
        'destination_id': common.UUID,
        'deliveries': {'type': 'array', 'items': {'type': 'object'}},
    },
    'required': ['id', 'kind', 'medium', 'status', 'project_id', 'user_id',
                 'created_at', 'updated_at', 'deliveries'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'message': _message},
    'required': ['message'],
    'additionalProperties': False,
}
