"""Hosts: the monitored hosts of a project and their maintenance state."""

from oslo_utils import strutils

from notifier.api import microversion
from notifier.api.schemas import hosts as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier.db import api as db
from notifier.policies import hosts as policies
from notifier import views


def _serialize_host(host):
    return views.host(host)


def _get(ctx, host_id, project_id, rule=None):
    return db.host_get(ctx, host_id,
                       project_id=util.lookup_scope(ctx, project_id, rule))


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
@validation.request_body_schema(schema.create_request_body)
@validation.response_body_schema(schema.show_response_body)
def create_host(req, project_id=None):
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.CREATE, {'project_id': project_id})
    body = validation.json_body(req)['host']
    host = db.host_create(ctx, project_id, body['name'],
                          on_maintenance=body.get('on_maintenance', False))
    return wsgi.json_response(201, {'host': _serialize_host(host)})


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
@validation.query_params_schema(schema.index_request_query)
@validation.response_body_schema(schema.index_response_body)
def list_hosts(req, project_id=None):
    ctx = util.context(req)
    params = req.GET
    scope = util.list_scope(ctx, params, project_id)
    ctx.can(policies.LIST, {'project_id': scope or ctx.project_id})
    filters = {}
    if 'name' in params:
        filters['name'] = params['name']
    if 'on_maintenance' in params:
        filters['on_maintenance'] = strutils.bool_from_string(
            params['on_maintenance'])
    hosts = db.host_list(ctx, project_id=scope, filters=filters,
                         **util.pagination(params))
    return wsgi.json_response(200, {'hosts': [_serialize_host(h)
                                              for h in hosts]})


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
@validation.response_body_schema(schema.show_response_body)
def show_host(req, host_id, project_id=None):
    ctx = util.context(req)
    host = _get(ctx, host_id, project_id)
    ctx.can(policies.SHOW, {'project_id': host.project_id})
    return wsgi.json_response(200, {'host': _serialize_host(host)})


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
@validation.request_body_schema(schema.update_request_body)
@validation.response_body_schema(schema.show_response_body)
def update_host(req, host_id, project_id=None):
    ctx = util.context(req)
    host = _get(ctx, host_id, project_id, rule=policies.UPDATE)
    ctx.can(policies.UPDATE, {'project_id': host.project_id})
    host = db.host_update(ctx, host.uuid, validation.json_body(req)['host'])
    return wsgi.json_response(200, {'host': _serialize_host(host)})


@wsgi.handler
@microversion.version_bounds(min_version='1.0')
def delete_host(req, host_id, project_id=None):
    ctx = util.context(req)
    host = _get(ctx, host_id, project_id)
    ctx.can(policies.DELETE, {'project_id': host.project_id})
    db.host_delete(ctx, host.uuid)
    return wsgi.json_response(204)
