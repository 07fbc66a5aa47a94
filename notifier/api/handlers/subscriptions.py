"""Subscriptions: which notifications go to which destinations."""

from oslo_utils import strutils

from notifier.api import microversion
from notifier.api.schemas import subscriptions as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier.db import api as db
from notifier.policies import subscriptions as policies
from notifier import views


def _get(ctx, subscription_id, project_id):
    return db.subscription_get(ctx, subscription_id,
                               project_id=util.lookup_scope(ctx, project_id))


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.request_body_schema(schema.create_request_body)
@validation.response_body_schema(schema.show_response_body)
def create_subscription(req, project_id=None):
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.CREATE, {'project_id': project_id})
    body = validation.json_body(req)['subscription']
    subscription = db.subscription_create(ctx, {
        'project_id': project_id, 'user_id': ctx.user_id,
        'name': body['name'], 'filters': body.get('filters', {}),
        'enabled': body.get('enabled', True)}, body['destinations'])
    return wsgi.json_response(
        201, {'subscription': views.subscription(subscription)})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.query_params_schema(schema.index_request_query)
@validation.response_body_schema(schema.index_response_body)
def list_subscriptions(req, project_id=None):
    ctx = util.context(req)
    params = req.GET
    scope = util.list_scope(ctx, params, project_id)
    ctx.can(policies.LIST, {'project_id': scope or ctx.project_id})
    filters = {}
    if 'enabled' in params:
        filters['enabled'] = strutils.bool_from_string(params['enabled'])
    subscriptions = db.subscription_list(ctx, project_id=scope,
                                         filters=filters,
                                         **util.pagination(params))
    return wsgi.json_response(200, {'subscriptions': [
        views.subscription(s) for s in subscriptions]})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.response_body_schema(schema.show_response_body)
def show_subscription(req, subscription_id, project_id=None):
    ctx = util.context(req)
    subscription = _get(ctx, subscription_id, project_id)
    ctx.can(policies.SHOW, {'project_id': subscription.project_id})
    return wsgi.json_response(
        200, {'subscription': views.subscription(subscription)})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
@validation.request_body_schema(schema.update_request_body)
@validation.response_body_schema(schema.show_response_body)
def update_subscription(req, subscription_id, project_id=None):
    ctx = util.context(req)
    subscription = _get(ctx, subscription_id, project_id)
    ctx.can(policies.UPDATE, {'project_id': subscription.project_id})
    body = validation.json_body(req)['subscription']
    values = {k: body[k] for k in ('name', 'filters', 'enabled')
              if k in body}
    subscription = db.subscription_update(
        ctx, subscription.uuid, values,
        destination_ids=body.get('destinations'))
    return wsgi.json_response(
        200, {'subscription': views.subscription(subscription)})


@wsgi.handler
@microversion.version_bounds(min_version='1.5')
def delete_subscription(req, subscription_id, project_id=None):
    ctx = util.context(req)
    subscription = _get(ctx, subscription_id, project_id)
    ctx.can(policies.DELETE, {'project_id': subscription.project_id})
    db.subscription_delete(ctx, subscription.uuid)
    return wsgi.json_response(204)
