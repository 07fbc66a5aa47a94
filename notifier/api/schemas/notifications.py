"""JSON schemas of the notifications API (masakari's, per type)."""

from notifier.api.schemas import common

TYPES = ['COMPUTE_HOST', 'PROCESS', 'VM']
STATUSES = ['new', 'running', 'finished', 'error', 'failed', 'ignored']
SORT_KEYS = ['id', 'created_at', 'updated_at', 'generated_time', 'type',
             'status', 'source_host_uuid']

HOSTNAME = {'type': 'string', 'minLength': 1, 'maxLength': 255,
            'pattern': '^[a-zA-Z0-9._-]+$'}
EVENT = {'type': 'string', 'enum': ['STARTED', 'STOPPED']}

create_request_body = {
    'type': 'object',
    'properties': {
        'notification': {
            'type': 'object',
            'properties': {
                'type': {'type': 'string', 'enum': TYPES},
                'hostname': HOSTNAME,
                'generated_time': {'type': 'string', 'format': 'date-time'},
                'payload': {'type': 'object'},
            },
            'required': ['type', 'hostname', 'generated_time', 'payload'],
            'additionalProperties': False,
        },
    },
    'required': ['notification'],
    'additionalProperties': False,
}

create_request_body_v1_4 = {
    'type': 'object',
    'properties': {
        'notification': dict(
            create_request_body['properties']['notification'],
            properties=dict(
                create_request_body['properties']['notification'][
                    'properties'],
                project_id={'type': 'string', 'minLength': 1,
                            'maxLength': 255,
                            'pattern': '^[a-zA-Z0-9_-]+$'})),
    },
    'required': ['notification'],
    'additionalProperties': False,
}

# The payload of each type, checked once the type is known.
payload_schemas = {
    'COMPUTE_HOST': {
        'type': 'object',
        'properties': {
            'event': EVENT,
            'host_status': {'type': 'string',
                            'enum': ['NORMAL', 'UNKNOWN', 'ERROR']},
            'cluster_status': {'type': 'string',
                               'enum': ['ONLINE', 'OFFLINE']},
        },
        'required': ['event'],
        'additionalProperties': False,
    },
    'PROCESS': {
        'type': 'object',
        'properties': {
            'event': EVENT,
            'process_name': {'type': 'string', 'minLength': 1,
                             'maxLength': 4096},
        },
        'required': ['process_name', 'event'],
        'additionalProperties': False,
    },
    'VM': {
        'type': 'object',
        'properties': {
            'instance_uuid': common.UUID,
            'vir_domain_event': {'type': 'string', 'minLength': 1,
                                 'maxLength': 255},
            'event': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        },
        'required': ['instance_uuid', 'vir_domain_event', 'event'],
        'additionalProperties': False,
    },
}

index_request_query = common.list_query(
    SORT_KEYS,
    marker={'type': 'string', 'minLength': 1, 'maxLength': 36},
    type={'type': 'string', 'enum': TYPES},
    status={'type': 'string', 'enum': STATUSES},
    source_host_uuid=common.UUID,
    generated_since={'type': 'string', 'format': 'date-time'},
    **{'generated-since': {'type': 'string', 'format': 'date-time'}})

_notification = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'notification_uuid': common.UUID,
        'type': {'type': 'string', 'enum': TYPES},
        'hostname': {'type': 'string'},
        'source_host_uuid': common.UUID,
        'generated_time': common.TIMESTAMP,
        'payload': {'type': 'object'},
        'status': {'type': 'string', 'enum': STATUSES},
        'project_id': {'type': 'string'},
        'created_at': common.TIMESTAMP,
        'updated_at': common.NULLABLE_TIMESTAMP,
        'deleted': {'type': 'boolean'},
        'deleted_at': common.NULLABLE_TIMESTAMP,
    },
    'required': ['id', 'notification_uuid', 'type', 'source_host_uuid',
                 'generated_time', 'payload', 'status', 'created_at',
                 'updated_at', 'deleted'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'notification': _notification},
    'required': ['notification'],
    'additionalProperties': False,
}

_workflow_detail = {
    'type': 'object',
    'properties': {
        'name': {'type': 'string'},
        'state': {'type': 'string',
                  'enum': ['PENDING', 'RUNNING', 'SUCCESS', 'FAILURE']},
        'progress': {'type': 'number'},
        'progress_details': {'type': 'array', 'items': {
            'type': 'object',
            'properties': {'timestamp': {'type': 'string'},
                           'message': {'type': 'string'},
                           'progress': {'type': 'string'}},
            'required': ['timestamp', 'message', 'progress'],
            'additionalProperties': False}},
    },
    'required': ['name', 'state', 'progress', 'progress_details'],
    'additionalProperties': False,
}

show_response_body_v1_1 = {
    'type': 'object',
    'properties': {'notification': dict(
        _notification,
        properties=dict(_notification['properties'],
                        recovery_workflow_details={
                            'type': 'array', 'items': _workflow_detail}),
        required=_notification['required'] + ['recovery_workflow_details'],
    )},
    'required': ['notification'],
    'additionalProperties': False,
}

_attempt = {
    'type': 'object',
    'properties': {
        'number': {'type': 'integer'},
        'engine': {'type': 'string'},
        'started_at': common.TIMESTAMP,
        'latency_ms': {'type': 'number'},
        'outcome': {'type': 'string',
                    'enum': ['delivered', 'retry', 'failed']},
        'receipt': {'type': ['string', 'null']},
        'error': {'type': ['string', 'null']},
    },
    'required': ['number', 'engine', 'started_at', 'latency_ms', 'outcome',
                 'receipt', 'error'],
    'additionalProperties': False,
}

_delivery = {
    'type': 'object',
    'properties': {
        'id': common.UUID,
        'target': {'type': 'string'},
        'medium': {'type': 'string'},
        'destination_id': {'type': ['string', 'null']},
        'status': {'type': 'string',
                   'enum': ['pending', 'delivered', 'failed']},
        'attempts': {'type': 'integer'},
        'next_attempt_at': common.NULLABLE_TIMESTAMP,
        'receipt': {'type': ['string', 'null']},
        'last_error': {'type': ['string', 'null']},
        'delivered_at': common.NULLABLE_TIMESTAMP,
        'created_at': common.TIMESTAMP,
        'updated_at': common.TIMESTAMP,
        'attempt_history': {'type': 'array', 'items': _attempt},
    },
    'required': ['id', 'target', 'medium', 'destination_id', 'status',
                 'attempts', 'receipt', 'last_error', 'attempt_history'],
    'additionalProperties': False,
}

_v1_1 = show_response_body_v1_1['properties']['notification']
show_response_body_v1_5 = {
    'type': 'object',
    'properties': {'notification': dict(
        _v1_1,
        properties=dict(_v1_1['properties'], deliveries={
            'type': 'array', 'items': _delivery}),
        required=_v1_1['required'] + ['deliveries'],
    )},
    'required': ['notification'],
    'additionalProperties': False,
}

index_response_body = {
    'type': 'object',
    'properties': {'notifications': {'type': 'array',
                                     'items': _notification}},
    'required': ['notifications'],
    'additionalProperties': False,
}
