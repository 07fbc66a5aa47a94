"""JSON schemas of the hosts API."""

from notifier.api.schemas import common
from notifier.api.schemas import notifications

SORT_KEYS = ['id', 'created_at', 'updated_at', 'name']

create_request_body = {
    'type': 'object',
    'properties': {
        'host': {
            'type': 'object',
            'properties': {
                'name': notifications.HOSTNAME,
                'on_maintenance': {'type': 'boolean'},
            },
            'required': ['name'],
            'additionalProperties': False,
        },
    },
    'required': ['host'],
    'additionalProperties': False,
}

update_request_body = {
    'type': 'object',
    'properties': {
        'host': {
            'type': 'object',
            'properties': {
                'name': notifications.HOSTNAME,
                'on_maintenance': {'type': 'boolean'},
            },
            'minProperties': 1,
            'additionalProperties': False,
        },
    },
    'required': ['host'],
    'additionalProperties': False,
}

index_request_query = {
    'type': 'object',
    'properties': {
        'name': notifications.HOSTNAME,
        'on_maintenance': common.BOOLEAN_QUERY,
        'limit': common.LIMIT,
        'marker': common.UUID,
        'sort_key': {'type': 'string', 'enum': SORT_KEYS},
        'sort_dir': common.SORT_DIR,
        'all_projects': common.BOOLEAN_QUERY,
        'project_id': {'type': 'string', 'minLength': 1, 'maxLength': 255},
    },
    'additionalProperties': False,
}

_host = {
    'type': 'object',
    'properties': {
        'id': common.UUID,
        'uuid': common.UUID,
        'name': {'type': 'string'},
        'on_maintenance': {'type': 'boolean'},
        'project_id': {'type': 'string'},
        'created_at': common.TIMESTAMP,
        'updated_at': common.TIMESTAMP,
    },
    'required': ['id', 'uuid', 'name', 'on_maintenance', 'project_id',
                 'created_at', 'updated_at'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'host': _host},
    'required': ['host'],
    'additionalProperties': False,
}

index_response_body = {
    'type': 'object',
    'properties': {'hosts': {'type': 'array', 'items': _host}},
    'required': ['hosts'],
    'additionalProperties': False,
}
