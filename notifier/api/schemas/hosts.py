"""JSON schemas of the hosts API."""

from notifier.api.schemas import common
from notifier.api.schemas import notifications

SORT_KEYS = ['id', 'created_at', 'updated_at', 'name']

_PROPERTIES = {
    'name': notifications.HOSTNAME,
    'on_maintenance': {'type': 'boolean'},
}
create_request_body = common.envelope('host', _PROPERTIES,
                                      required=['name'])
update_request_body = common.envelope('host', _PROPERTIES, updating=True)

index_request_query = common.list_query(
    SORT_KEYS, name=notifications.HOSTNAME,
    on_maintenance=common.BOOLEAN_QUERY)

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
