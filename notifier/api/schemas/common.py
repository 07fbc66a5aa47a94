"""Schema pieces shared by several resources."""

TIMESTAMP = {'type': 'string'}
NULLABLE_TIMESTAMP = {'type': ['string', 'null']}
UUID = {'type': 'string', 'format': 'uuid'}

LIMIT = {'type': 'string', 'pattern': '^[0-9]+$'}
SORT_DIR = {'type': 'string', 'enum': ['asc', 'desc']}
BOOLEAN_QUERY = {'type': 'string',
                 'enum': ['true', 'false', 'True', 'False', '1', '0']}
