"""JSON schemas of the templates API.

A template's configuration follows the Kazoo notification document: a
subject, the From and Reply-To addresses, To/Cc/Bcc recipient fields (each a
``type`` and ``email_addresses``), ``enabled``, ``template_charset``,
``category`` and ``friendly_name``. Bodies are not JSON: they are uploaded
as text/plain or text/html (a preview carries them inline).
"""

import copy

ADDRESS = {'type': 'string', 'minLength': 3, 'maxLength': 254}
MAX_ADDRESSES = 20
RECIPIENTS = {
    'type': 'object',
    'properties': {
        'type': {'type': 'string',
                 'enum': ['original', 'specified', 'admins']},
        'email_addresses': {'type': 'array', 'items': ADDRESS,
                            'maxItems': MAX_ADDRESSES, 'uniqueItems': True},
    },
    'required': ['type'],
    'additionalProperties': False,
}
NULLABLE_ADDRESS = {'type': ['string', 'null'], 'minLength': 3,
                    'maxLength': 254}
TEXT = {'type': 'string', 'minLength': 1, 'maxLength': 255}

config_properties = {
    'subject': {'type': 'string', 'minLength': 1, 'maxLength': 200},
    'from': NULLABLE_ADDRESS,
    'reply_to': NULLABLE_ADDRESS,
    'to': RECIPIENTS,
    'cc': RECIPIENTS,
    'bcc': RECIPIENTS,
    'enabled': {'type': 'boolean'},
    'template_charset': {'type': 'string', 'minLength': 1, 'maxLength': 40},
    'category': TEXT,
    'friendly_name': TEXT,
}

update_request_body = {
    'type': 'object',
    'properties': {'template': {
        'type': 'object', 'properties': config_properties,
        'additionalProperties': False}},
    'required': ['template'],
    'additionalProperties': False,
}

_preview_properties = dict(config_properties)
_preview_properties.update({
    # The bodies to try, as in the Kazoo preview: plain text inline, HTML in
    # base64 (so that any markup survives JSON).
    'plain': {'type': 'string'},
    'html': {'type': 'string'},
})
preview_request_body = {
    'type': 'object',
    'properties': {'template': {
        'type': 'object', 'properties': _preview_properties,
        'additionalProperties': False}},
    'required': ['template'],
    'additionalProperties': False,
}

SCOPE = {'type': 'string', 'enum': ['project', 'system']}
ACCEPT = {'type': 'string', 'minLength': 1, 'maxLength': 255}

index_request_query = {
    'type': 'object', 'properties': {}, 'additionalProperties': False,
}
show_request_query = {
    'type': 'object', 'properties': {'scope': SCOPE, 'accept': ACCEPT},
    'additionalProperties': False,
}
update_request_query = {
    'type': 'object', 'properties': {'scope': SCOPE},
    'additionalProperties': False,
}

_macros = {
    'type': 'object',
    'additionalProperties': {
        'type': 'object',
        'properties': {'friendly_name': {'type': 'string'},
                       'description': {'type': 'string'}},
        'required': ['friendly_name', 'description'],
        'additionalProperties': False,
    },
}

_summary = {
    'type': 'object',
    'properties': {
        'id': {'type': 'string'},
        'friendly_name': {'type': 'string'},
        'category': {'type': 'string'},
        'description': {'type': 'string'},
        'macros': _macros,
        'project_overridden': {'type': 'boolean'},
    },
    'required': ['id', 'friendly_name', 'category', 'description', 'macros',
                 'project_overridden'],
    'additionalProperties': False,
}

_shown_recipients = copy.deepcopy(RECIPIENTS)
_shown_recipients['required'] = ['type', 'email_addresses']

_template = copy.deepcopy(_summary)
_template['properties'].update({
    'subject': {'type': 'string'},
    'from': {'type': ['string', 'null']},
    'reply_to': {'type': ['string', 'null']},
    'to': _shown_recipients,
    'cc': _shown_recipients,
    'bcc': _shown_recipients,
    'enabled': {'type': 'boolean'},
    'template_charset': {'type': 'string'},
    'scope': SCOPE,
    'version': {'type': 'integer', 'minimum': 0},
    'templates': {
        'type': 'object',
        'properties': {media_type: {
            'type': 'object',
            'properties': {'length': {'type': 'integer', 'minimum': 0}},
            'required': ['length'], 'additionalProperties': False,
        } for media_type in ('text/plain', 'text/html')},
        'required': ['text/plain', 'text/html'],
        'additionalProperties': False,
    },
})
_template['required'] = _template['required'] + [
    'subject', 'from', 'reply_to', 'to', 'cc', 'bcc', 'enabled',
    'template_charset', 'scope', 'version', 'templates']

index_response_body = {
    'type': 'object',
    'properties': {'templates': {'type': 'array', 'items': _summary}},
    'required': ['templates'],
    'additionalProperties': False,
}

show_response_body = {
    'type': 'object',
    'properties': {'template': _template},
    'required': ['template'],
    'additionalProperties': False,
}

preview_response_body = {
    'type': 'object',
    'properties': {'preview': {
        'type': 'object',
        'properties': {
            'subject': {'type': 'string'},
            'text/plain': {'type': 'string'},
            'text/html': {'type': 'string'},
            'recipients': {
                'type': 'object',
                'properties': {
                    'from': {'type': ['string', 'null']},
                    'reply_to': {'type': ['string', 'null']},
                    'to': _shown_recipients,
                    'cc': _shown_recipients,
                    'bcc': _shown_recipients,
                },
                'required': ['from', 'reply_to', 'to', 'cc', 'bcc'],
                'additionalProperties': False,
            },
        },
        'required': ['subject', 'text/plain', 'text/html', 'recipients'],
        'additionalProperties': False,
    }},
    'required': ['preview'],
    'additionalProperties': False,
}
