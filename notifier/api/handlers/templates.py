"""Templates: what Notifier's messages say, per project.

Every template is a system template (:data:`rendering.SYSTEM_TEMPLATES`);
a project overrides one for itself, and an admin edits the system default
with ``?scope=system`` (on PUT, POST and DELETE; on GET it shows the system
default whatever the project overrides). A template's JSON view lists its
bodies' formats and lengths; a body is fetched with ``Accept: text/plain``
or ``text/html`` (or ``?accept=`` for clients that cannot set headers) and
uploaded with that ``Content-Type``.
"""

import email.utils
import types

from oslo_config import cfg
from oslo_log import log as logging
import webob
import webob.exc

from notifier.api import microversion
from notifier.api.schemas import templates as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier.db import api as db
from notifier.drivers import email as email_driver
from notifier import exception
from notifier.policies import templates as policies
from notifier import rendering

LOG = logging.getLogger(__name__)

JSON = 'application/json'
OFFERS = [JSON] + list(rendering.FORMATS)
BODY_FIELDS = {'text/plain': 'text_body', 'text/html': 'html_body'}


def _system(req):
    return req.GET.get('scope') == 'system'


def _rows(ctx, template_id, project_id):
    """``(rows that apply, the project's override row or None)``."""
    rendering.system_template(template_id)
    rows = db.template_rows(ctx, template_id, project_id)
    override = rows[1] if len(rows) > 1 else None
    return rows, override


def _view_template(ctx, template_id, project_id, system):
    """The template as a GET shows it: the project's override as saved
    (enabled or not), or the system default with ``?scope=system``."""
    rows, override = _rows(ctx, template_id, project_id)
    template = rendering.merge(template_id, rows[:1] if system else rows,
                               include_disabled=True)
    template.project_overridden = bool(override and override.overridden)
    return template


def _macros(system_template):
    return {m.name: {'friendly_name': m.friendly_name,
                     'description': m.description}
            for m in system_template.macros}


def _summary(system_template, project_overridden):
    return {
        'id': system_template.id,
        'friendly_name': system_template.friendly_name,
        'category': system_template.category,
        'description': system_template.description,
        'macros': _macros(system_template),
        'project_overridden': project_overridden,
    }


def _recipients(value, default_type):
    value = dict(value or {})
    value.setdefault('type', default_type)
    value['email_addresses'] = list(value.get('email_addresses') or [])
    return value


def _serialize_template(template):
    config = template.config
    body = _summary(template.system, template.project_overridden)
    body.update({
        'friendly_name': config['friendly_name'],
        'category': config['category'],
        'subject': config['subject'],
        'from': config.get('from'),
        'reply_to': config.get('reply_to'),
        'to': _recipients(config.get('to'), rendering.ORIGINAL),
        'cc': _recipients(config.get('cc'), rendering.SPECIFIED),
        'bcc': _recipients(config.get('bcc'), rendering.SPECIFIED),
        'enabled': config['enabled'],
        'template_charset': config['template_charset'],
        'scope': 'system' if template.project_id == rendering.SYSTEM
                 else 'project',
        'version': template.version,
        'templates': {
            'text/plain': {'length': len(template.text)},
            'text/html': {'length': len(template.html)},
        },
    })
    return body


def _check_address(value, field):
    """``value`` ("Name <a@b.example>" or "a@b.example") checked."""
    _, address = email.utils.parseaddr(value)
    try:
        email_driver.parse_address(address)
    except ValueError as e:
        raise exception.ValidationError(
            detail='Invalid input for field template.%s (value %r): it is '
                   'not an email address: %s' % (field, value, e))
    return value


def _check_config(config):
    """What the schema cannot check: addresses, and recipient fields that
    would address no one."""
    for field in ('from', 'reply_to'):
        if config.get(field):
            _check_address(config[field], field)
    for field in rendering.ADDRESS_FIELDS:
        value = config.get(field)
        if not value:
            continue
        addresses = value.get('email_addresses') or []
        for i, address in enumerate(addresses):
            _check_address(address, '%s.email_addresses.%d' % (field, i))
        if (field == 'to' and value['type'] == rendering.SPECIFIED and
                not addresses):
            raise exception.ValidationError(
                detail='Invalid input for field template.to: type '
                       '"specified" needs at least one address in '
                       'email_addresses (or use type "original" or '
                       '"admins").')


def _target(ctx, req, project_id, rule):
    """The project id the change applies to ('' for the system default),
    after the policy check."""
    if _system(req):
        ctx.can(policies.UPDATE_SYSTEM, {'project_id': project_id})
        return rendering.SYSTEM
    ctx.can(rule, {'project_id': project_id})
    return project_id


def _save(ctx, template_id, project_id, target, values):
    """Check the template the change makes to ``target`` (the project, or
    '' for the system default), then save it; the new view."""
    rows, _ = _rows(ctx, template_id, project_id)
    current = rows[1] if target != rendering.SYSTEM else rows[0]
    if current is not None and current.overridden:
        row = dict(config=current.config, text_body=current.text_body,
                   html_body=current.html_body)
    else:
        row = dict(config={}, text_body=None, html_body=None)
    row.update(values)
    candidate = types.SimpleNamespace(project_id=target, overridden=True,
                                      version=0, **row)
    template = rendering.merge(template_id, [rows[0], candidate]
                               if target != rendering.SYSTEM
                               else [candidate], include_disabled=True)
    rendering.check(template_id, template.config, template.text,
                    template.html)
    saved = db.template_save(ctx, template_id, target, values,
                             user_id=ctx.user_id)
    LOG.info('Template %(id)s of %(scope)s is now version %(version)d',
             {'id': template_id, 'version': saved.version,
              'scope': 'the system' if target == rendering.SYSTEM
              else 'project %s' % target})
    return _view_template(ctx, template_id, project_id,
                          target == rendering.SYSTEM)


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.query_params_schema(schema.index_request_query)
@validation.response_body_schema(schema.index_response_body)
def list_templates(req, project_id=None):
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.LIST, {'project_id': project_id})
    rows = db.template_rows_all(ctx, project_id)
    templates = []
    for template_id, system_template in sorted(
            rendering.SYSTEM_TEMPLATES.items()):
        override = (rows.get(template_id) or [None, None])[-1]
        templates.append(_summary(system_template, bool(
            override is not None and override.project_id == project_id and
            override.overridden)))
    return wsgi.json_response(200, {'templates': templates})


def _negotiate(req):
    """The media type to answer with: ``?accept=`` wins over Accept."""
    wanted = req.GET.get('accept')
    if wanted is not None:
        if wanted not in OFFERS:
            raise webob.exc.HTTPNotAcceptable(
                '?accept=%s is not a format of a template; use one of: %s.'
                % (wanted, ', '.join(OFFERS)))
        return wanted
    offers = req.accept.acceptable_offers(OFFERS)
    if not offers:
        raise webob.exc.HTTPNotAcceptable(
            'A template is available as %s, none of which the Accept '
            'header (%s) allows.' % (', '.join(OFFERS),
                                     req.headers.get('Accept')))
    return offers[0][0]


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.query_params_schema(schema.show_request_query)
def show_template(req, template_id, project_id=None):
    """The JSON view, or one body (Accept or ``?accept=``)."""
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.SHOW, {'project_id': project_id})
    media_type = _negotiate(req)
    template = _view_template(ctx, template_id, project_id, _system(req))
    if media_type == JSON:
        return _json_view(req, template)
    response = webob.Response(status=200, content_type=media_type,
                              charset='utf-8')
    response.text = (template.text if media_type == 'text/plain'
                     else template.html)
    response.headers['Vary'] = 'Accept'
    return response


@validation.response_body_schema(schema.show_response_body)
def _json_view(req, template):
    response = wsgi.json_response(
        200, {'template': _serialize_template(template)})
    response.headers['Vary'] = 'Accept'
    return response


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.query_params_schema(schema.update_request_query)
@validation.request_body_schema(schema.update_request_body)
@validation.response_body_schema(schema.show_response_body)
def update_template(req, template_id, project_id=None):
    """Set the configuration of the project's override (or, with
    ``?scope=system``, of the system default); the fields left out take
    the default's values. The bodies are kept."""
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    target = _target(ctx, req, project_id, policies.UPDATE)
    config = validation.json_body(req)['template']
    _check_config(config)
    template = _save(ctx, template_id, project_id, target,
                     {'config': config})
    return wsgi.json_response(
        200, {'template': _serialize_template(template)})


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.query_params_schema(schema.update_request_query)
@validation.response_body_schema(schema.show_response_body)
def upload_template_body(req, template_id, project_id=None):
    """Replace the text/plain or text/html body (the Content-Type says
    which) of the project's override, or of the system default."""
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    target = _target(ctx, req, project_id, policies.UPDATE)
    media_type = req.content_type
    if media_type not in BODY_FIELDS:
        raise webob.exc.HTTPUnsupportedMediaType(
            'Upload a template body as text/plain or text/html (the '
            'Content-Type header), not %s; change the configuration with '
            'PUT.' % (media_type or 'no Content-Type'))
    try:
        text = req.body.decode(req.charset or 'utf-8')
    except (LookupError, UnicodeError) as e:
        raise exception.ValidationError(
            detail='The %s body is not text in charset %s: %s; send it as '
                   'UTF-8.' % (media_type, req.charset or 'utf-8', e))
    if not text.strip():
        raise exception.ValidationError(
            detail='The %s body is empty; upload the template text (remove '
                   'the override with DELETE to use the default).'
                   % media_type)
    template = _save(ctx, template_id, project_id, target,
                     {BODY_FIELDS[media_type]: text})
    return wsgi.json_response(
        200, {'template': _serialize_template(template)})


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.query_params_schema(schema.update_request_query)
def delete_template(req, template_id, project_id=None):
    """Remove the project's override (or the edit of the system default),
    so that the default applies again."""
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    rendering.system_template(template_id)
    target = _target(ctx, req, project_id, policies.DELETE)
    db.template_revert(ctx, template_id, target, user_id=ctx.user_id)
    return wsgi.json_response(204)


@wsgi.handler
@microversion.version_bounds(min_version='1.6')
@validation.request_body_schema(schema.preview_request_body)
@validation.response_body_schema(schema.preview_response_body)
def preview_template(req, template_id, project_id=None):
    """Render an unsaved configuration and bodies with sample values.

    What the request leaves out is taken from the template that applies to
    the project now.
    """
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.PREVIEW, {'project_id': project_id})
    body = dict(validation.json_body(req)['template'])
    current = _view_template(ctx, template_id, project_id, False)
    text = body.pop('plain', None)
    html = body.pop('html', None)
    text = current.text if text is None else text
    html = current.html if html is None else rendering.decode_html(html)
    _check_config(body)
    config = dict(current.config)
    config.update(body)
    rendering.check(template_id, config, text, html)
    subject, text, html = rendering.render_parts(
        template_id, config, text, html,
        current.system.sample_values())
    recipients = rendering.recipients_view(cfg.CONF, config, project_id)
    return wsgi.json_response(200, {'preview': {
        'subject': subject, 'text/plain': text, 'text/html': html,
        'recipients': recipients}})
