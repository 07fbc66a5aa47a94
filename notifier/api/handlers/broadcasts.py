"""Broadcasts: a parent project's message to the users of its child
projects (Kazoo's customer_update).

The API checks at once what only it can answer well: that the caller may
broadcast and that ``recipient_id`` is a child of the caller's project (a
404 otherwise). The engine resolves the recipients through Keystone as the
service user, so that a slow or unavailable Keystone delays the broadcast
(it is retried) rather than failing the request, and stores them with the
broadcast: each recipient is one delivery in the ledger.
"""

import base64
import binascii

from oslo_config import cfg
from oslo_log import log as logging

from notifier.api import microversion
from notifier.api.schemas import broadcasts as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier.db import api as db
from notifier.db import models
from notifier.engine import messages
from notifier import exception
from notifier import identity
from notifier.policies import broadcasts as policies
from notifier import rendering
from notifier import views

LOG = logging.getLogger(__name__)
FIELDS = ('recipient_id', 'user_type', 'subject', 'body', 'html',
          'plain')


def _serialize_broadcast(ctx, message):
    body = {k: message.request.get(k) for k in FIELDS}
    body.update({
        'id': message.uuid,
        'status': message.status,
        'project_id': message.project_id,
        'user_id': message.user_id,
        'template': 'customer_update',
        'recipients': None if message.recipients is None else [
            {'project_id': r['project_id'], 'user_id': r['user_id'],
             'name': r.get('name')} for r in message.recipients],
        'created_at': views.isotime(message.created_at),
        'updated_at': views.isotime(message.updated_at),
        'deliveries': [views.delivery(d) for d in
                       db.deliveries_for_notification(
                           ctx, message.id, model=models.Message)],
    })
    return body


def _check_html(value):
    try:
        base64.b64decode(value, validate=True).decode('utf-8')
    except (binascii.Error, ValueError):
        raise exception.ValidationError(
            detail='Invalid input for field broadcast.html: give the HTML '
                   'body encoded in base64 (of its UTF-8 bytes).')


def _check_overrides(request):
    """A 400 now for a subject or body override that would not render
    (it does not compile, or uses a macro customer_update lacks)."""
    template = messages.broadcast_template(
        rendering.merge('customer_update', []), request)
    rendering.check('customer_update', template.config, template.text,
                    template.html)


@wsgi.handler
@microversion.version_bounds(min_version='1.7')
@validation.request_body_schema(schema.create_request_body)
@validation.response_body_schema(schema.show_response_body)
def create_broadcast(req, project_id=None):
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.CREATE, {'project_id': project_id})
    body = validation.json_body(req)['broadcast']
    if 'html' in body:
        _check_html(body['html'])
    recipient_id = body.get('recipient_id')
    if recipient_id is not None:
        children = identity.child_projects(cfg.CONF, project_id)
        if recipient_id not in {c['id'] for c in children}:
            raise exception.ChildProjectNotFound(id=recipient_id,
                                                 parent=project_id)
    request = {k: body.get(k) for k in FIELDS}
    request['user_type'] = body.get('user_type') or messages.ADMINS_ONLY
    _check_overrides(request)
    request['_sender'] = messages.sender(ctx)
    message = db.message_create(ctx, {
        'project_id': project_id, 'user_id': ctx.user_id,
        'kind': messages.BROADCAST, 'medium': messages.EMAIL,
        'request': request, 'request_id': ctx.request_id})
    LOG.info('Accepted broadcast %(id)s from project %(project)s to '
             '%(to)s (%(users)s)',
             {'id': message.uuid, 'project': project_id,
              'to': recipient_id or 'every child project',
              'users': request['user_type']})
    # Before the cast: the answer shows the broadcast as accepted.
    body = {'broadcast': _serialize_broadcast(ctx, message)}
    req.environ['notifier.engine_api'].process_message(ctx, message.id)
    return wsgi.json_response(202, body)


@wsgi.handler
@microversion.version_bounds(min_version='1.7')
@validation.response_body_schema(schema.show_response_body)
def show_broadcast(req, broadcast_id, project_id=None):
    ctx = util.context(req)
    message = db.message_get(ctx, broadcast_id,
                             project_id=util.lookup_scope(ctx, project_id),
                             kind=messages.BROADCAST)
    ctx.can(policies.SHOW, {'project_id': message.project_id})
    return wsgi.json_response(
        200, {'broadcast': _serialize_broadcast(ctx, message)})
