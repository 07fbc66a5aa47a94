"""JSON schemas of the destinations API. A destination's settings are
checked against the schema its medium's driver publishes."""

from notifier.api.schemas import common

SORT_KEYS = ['id', 'created_at', 'updated_at', 'name', 'medium']
NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255}
MEDIUM = {'type': 'string', 'minLength': 1, 'maxLength': 32,
          'pattern': '^[a-z0-9_]+$'}

create_request_body = common.envelope('destination', {
    'name': NAME,
    'medium': MEDIUM,
    'settings': {'type': 'object'},
    'enabled': {'type': 'boolean'},
}, required=['name', 'medium'])

update_request_body = common.envelope('destination', {
    'name': NAME,
    # A null value removes that setting (or secret).
    'settings': {'type': 'object'},
    'enabled': {'type': 'boolean'},
}, updating=True)

index_request_query = common.list_query(
    SORT_KEYS, medium=MEDIUM, enabled=common.BOOLEAN_QUERY)

_destination = {
    'type': 'object',
    'properties': {
        'id': common.UUID,
        'name': {'type': 'string'},
        'medium': {'type': 'string'},
        'settings': {'type': 'object'},
        'secrets_set': {'type': 'array', 'items': {'type': 'string'}},
        'enabled': {'type': 'boolean'},
        'project_id': {'type': 'string'},
        'user_id': {'type': ['string', 'null']},
        'created_at': common.TIMESTAMP,
        'updated_at': common.TIMESTAMP,
        # From 1.6: see notifier.engine.health.
        'health': {
            'type': 'object',
            'properties': {
                'state': {'type': 'string',
                          'enum': ['ok', 'paused', 'disabled']},
                'reason': {'type': ['string', 'null']},
                'paused_until': common.NULLABLE_TIMESTAMP,
                'consecutive_failures': {'type': 'integer', 'minimum': 0},
            },
            'required': ['state', 'reason', 'paused_until',
                         'consecutive_failures'],
            'additionalProperties': False,
        },
    },
    'required': ['id', 'name', 'medium', 'settings', 'secrets_set',
                 'enabled', 'project_id', 'user_id', 'created_at',
                 'updated_at'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'destination': _destination},
    'required': ['destination'],
    'additionalProperties': False,
}

index_response_body = {
    'type': 'object',
    'properties': {'destinations': {'type': 'array', 'items': _destination}},
    'required': ['destinations'],
    'additionalProperties': False,
}

test_response_body = {
    'type': 'object',
    'properties': {'test': {
        'type': 'object',
        'properties': {
            'outcome': {'type': 'string', 'enum': ['delivered', 'failed']},
            'retryable': {'type': 'boolean'},
            'receipt': {'type': ['string', 'null']},
            'error': {'type': ['string', 'null']},
            'latency_ms': {'type': 'number'},
        },
        'required': ['outcome', 'retryable', 'receipt', 'error',
                     'latency_ms'],
        'additionalProperties': False,
    }},
    'required': ['test'],
    'additionalProperties': False,
}
