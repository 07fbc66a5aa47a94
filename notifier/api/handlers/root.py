"""Version discovery: ``GET /`` and ``GET /v1``."""

from notifier.api import microversion
from notifier.api.schemas import root as schema
from notifier.api import validation
from notifier.api import wsgi


def _v1(req):
    return {
        'id': 'v1.0',
        'status': 'CURRENT',
        'version': str(microversion.MAX_VERSION),
        'min_version': str(microversion.MIN_VERSION),
        'updated': '2026-11-23T00:00:00Z',
        'links': [{'rel': 'self', 'href': req.application_url + '/v1/'}],
        'media-types': [{'base': 'application/json',
                         'type': 'application/vnd.openstack.notification+json;'
                                 'version=1'}],
    }


@wsgi.handler
@validation.response_body_schema(schema.index_response_body)
def list_versions(req):
    return wsgi.json_response(200, {'versions': [_v1(req)]})


@wsgi.handler
@validation.response_body_schema(schema.show_response_body)
def show_version(req):
    return wsgi.json_response(200, {'version': _v1(req)})
