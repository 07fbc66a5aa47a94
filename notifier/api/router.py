"""The one route table, and the dispatcher that serves it."""

import routes
import webob.exc

from notifier.api.handlers import broadcasts
from notifier.api.handlers import deliveries
from notifier.api.handlers import destinations
from notifier.api.handlers import hosts
from notifier.api.handlers import messages
from notifier.api.handlers import notifications
from notifier.api.handlers import root
from notifier.api.handlers import subscriptions
from notifier.api.handlers import templates
from notifier.api import microversion
from notifier.api import wsgi

ROUTES = {
    '/': {'GET': root.list_versions},
    '/v1': {'GET': root.show_version},
    '/v1/notifications': {
        'GET': notifications.list_notifications,
        'POST': notifications.create_notification,
    },
    '/v1/notifications/{notification_id}': {
        'GET': notifications.show_notification,
    },
    '/v1/notifications/{notification_id}/reprocess': {
        'POST': notifications.reprocess_notification,
    },
    '/v1/hosts': {
        'GET': hosts.list_hosts,
        'POST': hosts.create_host,
    },
    '/v1/hosts/{host_id}': {
        'GET': hosts.show_host,
        'PUT': hosts.update_host,
        'DELETE': hosts.delete_host,
    },
    '/v1/destinations': {
        'GET': destinations.list_destinations,
        'POST': destinations.create_destination,
    },
    '/v1/destinations/{destination_id}': {
        'GET': destinations.show_destination,
        'PUT': destinations.update_destination,
        'DELETE': destinations.delete_destination,
    },
    '/v1/destinations/{destination_id}/test': {
        'POST': destinations.test_destination,
    },
    '/v1/subscriptions': {
        'GET': subscriptions.list_subscriptions,
        'POST': subscriptions.create_subscription,
    },
    '/v1/subscriptions/{subscription_id}': {
        'GET': subscriptions.show_subscription,
        'PUT': subscriptions.update_subscription,
        'DELETE': subscriptions.delete_subscription,
    },
    '/v1/templates': {
        'GET': templates.list_templates,
    },
    '/v1/templates/{template_id}': {
        'GET': templates.show_template,
        'PUT': templates.update_template,
        'POST': templates.upload_template_body,
        'DELETE': templates.delete_template,
    },
    '/v1/templates/{template_id}/preview': {
        'POST': templates.preview_template,
    },
    '/v1/deliveries': {
        'GET': deliveries.list_deliveries,
    },
    '/v1/deliveries/{delivery_id}': {
        'GET': deliveries.show_delivery,
    },
    '/v1/deliveries/{delivery_id}/resend': {
        'POST': deliveries.resend_delivery,
    },
    '/v1/messages': {
        'POST': messages.send_message,
    },
    '/v1/messages/slack': {
        'POST': messages.send_slack_message,
    },
    '/v1/messages/email': {
        'POST': messages.send_email_message,
    },
    '/v1/messages/{message_id}': {
        'GET': messages.show_message,
    },
    '/v1/broadcasts': {
        'POST': broadcasts.create_broadcast,
    },
    '/v1/broadcasts/{broadcast_id}': {
        'GET': broadcasts.show_broadcast,
    },
}

# Masakari's catalog endpoints end in /v1/{project_id}: every /v1 resource
# is served under that prefix too.
PROJECT_PREFIX = '/v1/{project_id}'


def _mapper():
    mapper = routes.Mapper()
    for path in ROUTES:
        mapper.connect(path, route=path)
    for path in ROUTES:
        if path.startswith('/v1/'):
            mapper.connect(PROJECT_PREFIX + path[len('/v1'):], route=path)
    return mapper


class Router:
    """Dispatch to the handler for the path and method: 404 for an unknown
    path, 405 with ``Allow`` for an unknown method."""

    def __init__(self, engine_api=None, drivers=None, caster=None):
        self._mapper = _mapper()
        self._engine_api = engine_api
        self._caster = caster
        self._drivers = drivers

    @wsgi.handler
    def __call__(self, req):
        # Errors below answer in the client's service type, even a bad
        # version's.
        req.environ[microversion.ENV_KEY] = (
            microversion.MIN_VERSION, microversion.service_type(req.headers))
        req.environ[microversion.ENV_KEY] = microversion.extract(req.headers)
        path = req.path_info.rstrip('/') or '/'
        match = self._mapper.match(path)
        if match is None:
            raise webob.exc.HTTPNotFound(
                'There is no resource at %s; see the API reference for '
                'the URLs Notifier serves.' % req.path_info)
        handlers = ROUTES[match.pop('route')]
        method = 'GET' if req.method == 'HEAD' else req.method
        if method not in handlers:
            allowed = ', '.join(sorted(handlers))
            raise webob.exc.HTTPMethodNotAllowed(
                '%s is not allowed on %s; use one of: %s.' % (
                    req.method, req.path_info, allowed),
                headers=[('Allow', allowed)])
        req.environ['notifier.engine_api'] = self._engine_api
        req.environ['notifier.caster'] = self._caster
        req.environ['notifier.drivers'] = self._drivers
        return handlers[method](req, **match)
