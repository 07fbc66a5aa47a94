"""Notifications: masakari's API, with its request bodies and semantics."""

import hashlib

import iso8601
from oslo_config import cfg
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils

from notifier.api import microversion
from notifier.api.schemas import notifications as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier.db import api as db
from notifier.policies import deliveries as delivery_policies
from notifier.policies import notifications as policies
from notifier import views

LOG = logging.getLogger(__name__)

_PAYLOAD_VALIDATORS = {t: validation.validator(s)
                       for t, s in schema.payload_schemas.items()}


def _serialize_notification(req, notification, deliveries=None):
    body = views.notification(notification)
    if deliveries is not None:
        body['recovery_workflow_details'] = views.recovery_workflow_details(
            deliveries)
        if microversion.is_supported(req, min_version='1.5'):
            body['deliveries'] = [views.delivery(d) for d in deliveries]
    return body


def _utc_naive(value):
    return timeutils.normalize_time(iso8601.parse_date(value))


def _dedup_key(project_id, values):
    canonical = jsonutils.dumps(
        [project_id, values['type'], values['hostname'], values['payload']],
        sort_keys=True)
    return hashlib.sha256(canonical.encode('utf-8')).hexdigest()


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
@validation.request_body_schema(schema.create_request_body,
                                max_version='1.3')
@validation.request_body_schema(schema.create_request_body_v1_4,
                                min_version='1.4')
@validation.response_body_schema(schema.show_response_body)
def create_notification(req, project_id=None):
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    body = validation.json_body(req)['notification']
    if body.get('project_id', project_id) != project_id:
        # A service user posting for the project that owns the host.
        project_id = body['project_id']
        ctx.can(policies.CREATE_FOR_PROJECT, {'project_id': project_id})
    ctx.can(policies.CREATE, {'project_id': project_id})
    validation.validate(_PAYLOAD_VALIDATORS[body['type']], body['payload'],
                        root='notification.payload')
    values = {
        'project_id': project_id,
        'type': body['type'],
        'hostname': body['hostname'],
        'generated_time': _utc_naive(body['generated_time']),
        'payload': body['payload'],
        'request_id': ctx.request_id,
    }
    # One transaction: host lookup (or registration), dedup and insert.
    notification = db.notification_create_on_host(
        ctx, values, auto_register=cfg.CONF.api.auto_register_hosts,
        dedup_key=_dedup_key(project_id, values),
        dedup_interval=cfg.CONF.api.duplicate_notification_detection_interval)
    # The row is committed: the cast, off the request path, only wakes an
    # engine up sooner than its periodic task would (notifier.api.caster).
    req.environ['notifier.caster'].put(notification.id)
    return wsgi.json_response(
        202, {'notification': _serialize_notification(req, notification)})


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
@validation.query_params_schema(schema.index_request_query)
@validation.response_body_schema(schema.index_response_body)
def list_notifications(req, project_id=None):
    ctx = util.context(req)
    params = req.GET
    scope = util.list_scope(ctx, params, project_id)
    ctx.can(policies.LIST, {'project_id': scope or ctx.project_id})
    filters = {k: params[k] for k in ('type', 'status', 'source_host_uuid')
               if k in params}
    since = params.get('generated-since') or params.get('generated_since')
    if since:
        filters['generated_since'] = _utc_naive(since)
    notifications = db.notification_list(
        ctx, project_id=scope, filters=filters, **util.pagination(params))
    return wsgi.json_text_response(200, views.notifications_json(
        notifications))


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
@validation.response_body_schema(schema.show_response_body, max_version='1.0')
@validation.response_body_schema(schema.show_response_body_v1_1,
                                 min_version='1.1', max_version='1.4')
@validation.response_body_schema(schema.show_response_body_v1_5,
                                 min_version='1.5')
def show_notification(req, notification_id, project_id=None):
    ctx = util.context(req)
    notification = db.notification_get(
        ctx, notification_id,
        project_id=util.lookup_scope(ctx, project_id))
    ctx.can(policies.SHOW, {'project_id': notification.project_id})
    deliveries = None
    if microversion.is_supported(req, min_version='1.1'):
        deliveries = db.deliveries_for_notification(ctx, notification.id)
    return wsgi.json_response(200, {'notification': _serialize_notification(
        req, notification, deliveries)})


# Re-processing (1.6): an operator's second chance for a failed or ignored
# notification. A sub-resource like /v1/deliveries/{id}/resend and
# /v1/destinations/{id}/test rather than a nova-style /action body, so
# that each operation has its own route and policy.

@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.response_body_schema(schema.show_response_body)
def reprocess_notification(req, notification_id, project_id=None):
    ctx = util.context(req)
    notification = db.notification_get(
        ctx, notification_id,
        project_id=util.lookup_scope(ctx, project_id))
    ctx.can(delivery_policies.REPROCESS,
            {'project_id': notification.project_id})
    notification = db.notification_reprocess(ctx, notification.id)
    LOG.info('Notification %s is re-processed at an admin\'s request',
             notification.notification_uuid)
    req.environ['notifier.engine_api'].process_notification(
        ctx, notification.id)
    return wsgi.json_response(
        202, {'notification': _serialize_notification(req, notification)})
