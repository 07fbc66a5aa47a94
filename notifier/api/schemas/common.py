"""Schema pieces shared by several resources."""

TIMESTAMP = {'type': 'string'}
NULLABLE_TIMESTAMP = {'type': ['string', 'null']}
UUID = {'type': 'string', 'format': 'uuid'}

LIMIT = {'type': 'string', 'pattern': '^[0-9]+$'}
SORT_DIR = {'type': 'string', 'enum': ['asc', 'desc']}
BOOLEAN_QUERY = {'type': 'string',
                 'enum': ['true', 'false', 'True', 'False', '1', '0']}


def envelope(key, properties, required=(), updating=False):
    """A request body ``{key: {...}}`` with exactly these properties; an
    update needs at least one of them and requires none."""
    inner = {'type': 'object', 'properties': properties,
             'additionalProperties': False}
    if updating:
        inner['minProperties'] = 1
    elif required:
        inner['required'] = list(required)
    return {'type': 'object', 'properties': {key: inner},
            'required': [key], 'additionalProperties': False}


def list_query(sort_keys, marker=UUID, **filters):
    """A list call's query: its filters, pagination, sorting, and the
    admin-only all_projects and project_id."""
    properties = dict(filters)
    properties.update({
        'limit': LIMIT,
        'marker': marker,
        'sort_key': {'type': 'string', 'enum': list(sort_keys)},
        'sort_dir': SORT_DIR,
        'all_projects': BOOLEAN_QUERY,
        'project_id': {'type': 'string', 'minLength': 1, 'maxLength': 255},
    })
    return {'type': 'object', 'properties': properties,
            'additionalProperties': False}
