"""Helpers the handlers share: context, project scope, pagination."""

from oslo_config import cfg
from oslo_utils import strutils

from notifier.api import middleware
from notifier import exception


def context(req):
    return req.environ[middleware.CONTEXT_KEY]


def project_for(ctx, path_project_id=None):
    """The project a request acts in.

    A ``/v1/{project_id}/...`` URL must name the caller's own project; for
    anyone else's it is a 404, which does not reveal that it exists.
    """
    if path_project_id is not None and path_project_id != ctx.project_id:
        raise exception.ProjectNotFound(project_id=path_project_id)
    return ctx.project_id


def lookup_scope(ctx, path_project_id=None, rule=None):
    """The project to look a resource up in.

    None (any project) for an admin, or when ``rule`` allows the caller
    whatever the project (a service user updating the host of a project it
    posts for), so that the policy check on the resource decides; the
    caller's own project otherwise, so that another project's resource is
    a 404.
    """
    project_id = project_for(ctx, path_project_id)
    if ctx.can('context_is_admin', fatal=False):
        return None
    if rule and ctx.can(rule, {'project_id': None}, fatal=False):
        return None
    return project_id


def list_scope(ctx, params, path_project_id=None):
    """The project to filter a list by; None for every project.

    Admins see every project with ``all_projects=true`` and may narrow it
    with ``project_id``; everyone else sees their own project.
    """
    project_id = project_for(ctx, path_project_id)
    all_projects = strutils.bool_from_string(params.get('all_projects'))
    if (all_projects or 'project_id' in params) and ctx.can(
            'context_is_admin', fatal=False):
        return params.get('project_id')
    return project_id


def pagination(params, default_sort_key='created_at'):
    limit = cfg.CONF.api.max_limit
    if 'limit' in params:
        limit = min(int(params['limit']), limit)
    return {
        'limit': limit,
        'marker': params.get('marker'),
        'sort_key': params.get('sort_key', default_sort_key),
        'sort_dir': params.get('sort_dir', 'desc'),
    }
