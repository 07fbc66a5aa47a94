"""JSON schemas of the subscriptions API."""

from notifier.api.schemas import common
from notifier.api.schemas import notifications

SORT_KEYS = ['id', 'created_at', 'updated_at', 'name']

FILTERS = {
    'type': 'object',
    'properties': {
        'types': {'type': 'array', 'uniqueItems': True,
                  'items': {'type': 'string',
                            'enum': notifications.TYPES}},
        'hostnames': {'type': 'array', 'uniqueItems': True,
                      'maxItems': 1000, 'items': notifications.HOSTNAME},
        'events': {'type': 'array', 'uniqueItems': True, 'maxItems': 100,
                   'items': {'type': 'string', 'minLength': 1,
                             'maxLength': 255}},
    },
    'additionalProperties': False,
}
DESTINATIONS = {'type': 'array', 'uniqueItems': True, 'maxItems': 100,
                'items': common.UUID}
NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255}

_PROPERTIES = {
    'name': NAME,
    'destinations': DESTINATIONS,
    'filters': FILTERS,
    'enabled': {'type': 'boolean'},
}
create_request_body = common.envelope('subscription', _PROPERTIES,
                                      required=['name', 'destinations'])
update_request_body = common.envelope('subscription', _PROPERTIES,
                                      updating=True)

index_request_query = common.list_query(SORT_KEYS,
                                        enabled=common.BOOLEAN_QUERY)

_subscription = {
    'type': 'object',
    'properties': {
        'id': common.UUID,
        'name': {'type': 'string'},
        'destinations': DESTINATIONS,
        'filters': FILTERS,
        'enabled': {'type': 'boolean'},
        'project_id': {'type': 'string'},
        'user_id': {'type': ['string', 'null']},
        'created_at': common.TIMESTAMP,
        'updated_at': common.TIMESTAMP,
    },
    'required': ['id', 'name', 'destinations', 'filters', 'enabled',
                 'project_id', 'user_id', 'created_at', 'updated_at'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'subscription': _subscription},
    'required': ['subscription'],
    'additionalProperties': False,
}

index_response_body = {
    'type': 'object',
    'properties': {'subscriptions': {'type': 'array',
                                     'items': _subscription}},
    'required': ['subscriptions'],
    'additionalProperties': False,
}
