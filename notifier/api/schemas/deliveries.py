"""JSON schemas of the delivery ledger (microversion 1.6)."""

from notifier.api.schemas import common
from notifier.api.schemas import destinations
from notifier.api.schemas import notifications

STATUSES = ['pending', 'delivered', 'failed']
SORT_KEYS = ['id', 'created_at', 'updated_at', 'status', 'medium']
NULLABLE_STRING = {'type': ['string', 'null']}

index_request_query = common.list_query(
    SORT_KEYS,
    # A notification's uuid, or its integer id as masakari clients use.
    notification={'type': 'string', 'minLength': 1, 'maxLength': 36,
                  'pattern': '^([0-9]+|[0-9a-fA-F-]{36})$'},
    message=common.UUID,
    destination_id=common.UUID,
    medium=destinations.MEDIUM,
    status={'type': 'string', 'enum': STATUSES},
    since={'type': 'string', 'format': 'date-time'},
    until={'type': 'string', 'format': 'date-time'})

# What a notification embeds (1.5), plus the ledger's fields.
_embedded = notifications.show_response_body_v1_5['properties'][
    'notification']['properties']['deliveries']['items']
_LEDGER_FIELDS = {
    'notification_id': {'type': ['string', 'null']},
    'message_id': {'type': ['string', 'null']},
    'project_id': {'type': 'string'},
    'subject': NULLABLE_STRING,
    'recipients': {'type': 'array', 'items': {'type': 'string'}},
    'template': NULLABLE_STRING,
    'template_version': {'type': ['integer', 'null']},
    'last_attempt_at': common.NULLABLE_TIMESTAMP,
}
_summary = dict(
    _embedded,
    properties=dict({k: v for k, v in _embedded['properties'].items()
                     if k != 'attempt_history'}, **_LEDGER_FIELDS),
    required=[k for k in _embedded['required'] if k != 'attempt_history'] +
    list(_LEDGER_FIELDS))
_delivery = dict(
    _embedded,
    properties=dict(_embedded['properties'], text=NULLABLE_STRING,
                    html=NULLABLE_STRING, **_LEDGER_FIELDS),
    required=_embedded['required'] + ['text', 'html'] + list(_LEDGER_FIELDS))

show_response_body = {
    'type': 'object',
    'properties': {'delivery': _delivery},
    'required': ['delivery'],
    'additionalProperties': False,
}

index_response_body = {
    'type': 'object',
    'properties': {'deliveries': {'type': 'array', 'items': _summary}},
    'required': ['deliveries'],
    'additionalProperties': False,
}
