"""Direct messages: send straight to Slack, by email, to one of the
project's destinations, or over the operator's fallback list of media.

A message is stored, cast to an engine by id and delivered like a
notification (claimed, retried, in the ledger); the answer is a 202 with
its id. What cannot be sent at all (a medium the operator has not
configured, an email field with no value and no default) is a 400 at once.
"""

import email_validator
from oslo_config import cfg
from oslo_log import log as logging

from notifier.api import microversion
from notifier.api.schemas import messages as schema
from notifier.api import util
from notifier.api import validation
from notifier.api import wsgi
from notifier.db import api as db
from notifier.db import models
from notifier.drivers import email as email_driver
from notifier.engine import messages
from notifier import exception
from notifier.policies import messages as policies
from notifier import views

LOG = logging.getLogger(__name__)


def _serialize_message(ctx, message):
    body = messages.view(message)
    body['deliveries'] = [views.delivery(d) for d in
                          db.deliveries_for_notification(
                              ctx, message.id, model=models.Message)]
    return body


def _address(value, field):
    try:
        return email_driver.parse_address(value).normalized
    except email_validator.EmailNotValidError as e:
        raise exception.ValidationError(
            detail='Invalid input for field %s (value %r): %s' % (
                field, value, e))


def _authorize(req, project_id):
    """(context, project) of a send the policy allows, checked before
    anything else so that a caller without the right learns nothing."""
    ctx = util.context(req)
    project_id = util.project_for(ctx, project_id)
    ctx.can(policies.CREATE, {'project_id': project_id})
    return ctx, project_id


def _send(req, ctx, project_id, medium, request):
    message = db.message_create(ctx, {
        'project_id': project_id, 'user_id': ctx.user_id,
        'kind': messages.MESSAGE, 'medium': medium,
        'request': dict(request, _sender=messages.sender(ctx)),
        'request_id': ctx.request_id})
    LOG.info('Accepted %(medium)s message %(id)s in project %(project)s',
             {'medium': medium, 'id': message.uuid, 'project': project_id})
    # Before the cast: the answer shows the message as accepted, not
    # whatever an engine has done with it in the meantime.
    body = {'message': _serialize_message(ctx, message)}
    req.environ['notifier.engine_api'].process_message(ctx, message.id)
    return wsgi.json_response(202, body)


@wsgi.handler
@microversion.version_bounds(min_version='1.7')
@validation.request_body_schema(schema.slack_request_body)
@validation.response_body_schema(schema.show_response_body)
def send_slack_message(req, project_id=None):
    ctx, project_id = _authorize(req, project_id)
    body = validation.json_body(req)
    settings = messages.slack_settings(cfg.CONF, body.get('channel'))
    request = dict(body)
    if 'channel' in settings:
        request['channel'] = settings['channel']
    return _send(req, ctx, project_id, messages.SLACK, request)


@wsgi.handler
@microversion.version_bounds(min_version='1.7')
@validation.request_body_schema(schema.email_request_body)
@validation.response_body_schema(schema.show_response_body)
def send_email_message(req, project_id=None):
    ctx, project_id = _authorize(req, project_id)
    body = validation.json_body(req)
    messages.check_email(cfg.CONF)
    sender, to, subject, text = messages.email_fields(cfg.CONF, body)
    # What is sent, defaults applied: the record stays true if the
    # operator changes them later.
    request = dict(body, m_from=_address(sender, 'm_from'),
                   m_to=', '.join(_address(a, 'm_to') for a in to),
                   m_subject=subject)
    return _send(req, ctx, project_id, messages.EMAIL, request)


@wsgi.handler
@microversion.version_bounds(min_version='1.7')
@validation.request_body_schema(schema.create_request_body)
@validation.response_body_schema(schema.show_response_body)
def send_message(req, project_id=None):
    """To ``destination_id``, or over ``[messages] fallback_media``."""
    ctx, project_id = _authorize(req, project_id)
    body = validation.json_body(req)
    if 'destination_id' in body:
        destination = db.destination_get(ctx, body['destination_id'],
                                         project_id=project_id)
        if not destination.enabled:
            raise exception.Invalid(
                'Destination %s is disabled; enable it with PUT '
                '/v1/destinations/%s first.' % (destination.uuid,
                                                destination.uuid))
        return _send(req, ctx, project_id, messages.DESTINATION,
                     dict(body))
    if not messages.configured_media(cfg.CONF, body):
        raise exception.Invalid(
            'None of the media in [messages] fallback_media (%s) is '
            'configured to send this message; ask the operator to '
            'configure one (for email, with [messages] email_to), or send '
            'to one of your destinations with destination_id.' %
            ', '.join(cfg.CONF.messages.fallback_media))
    return _send(req, ctx, project_id, messages.ANY, dict(body))


@wsgi.handler
@microversion.version_bounds(min_version='1.7')
@validation.response_body_schema(schema.show_response_body)
def show_message(req, message_id, project_id=None):
    ctx = util.context(req)
    message = db.message_get(ctx, message_id,
                             project_id=util.lookup_scope(ctx, project_id),
                             kind=messages.MESSAGE)
    ctx.can(policies.SHOW, {'project_id': message.project_id})
    return wsgi.json_response(
        200, {'message': _serialize_message(ctx, message)})
