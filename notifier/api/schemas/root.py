"""JSON schemas of version discovery."""

_version = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string'},
        'status': {'type': 'string'},
        'version': {'type': 'string'},
        'min_version': {'type': 'string'},
        'updated': {'type': 'string'},
        'links': {'type': 'array'},
        'media-types': {'type': 'array'},
    },
    'required': ['id', 'status', 'version', 'min_version', 'links'],
    'additionalProperties': False,
}

index_response_body = {
    'type': 'object',
    'properties': {'versions': {'type': 'array', 'items': _version}},
    'required': ['versions'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'version': _version},
    'required': ['version'],
    'additionalProperties': False,
}
