"""Direct messages and broadcasts: where they go and what they say.

Shared by the API, which refuses at once what cannot be sent (a medium the
operator has not configured, email fields missing with no default), and by
the engine, which delivers them through the same machinery as
notifications (see :mod:`notifier.engine.manager`).

Deliveries of a message are keyed by target:

* ``slack`` and ``email`` for ``POST /v1/messages/slack`` and
  ``/v1/messages/email``;
* ``fallback:<medium>`` for ``POST /v1/messages``: one delivery per medium
  of ``[messages] fallback_media`` actually tried, created only when the
  previous one failed, so the ledger shows each medium tried in order and
  the one that delivered;
* ``destination:<uuid>`` for a message to one of the project's
  destinations;
* ``user:<project id>:<user id>`` for each recipient of a broadcast.
"""

import base64
import copy
import dataclasses
import html as html_lib
import re

from notifier.drivers import base
from notifier import exception
from notifier import identity
from notifier import rendering
from notifier import views

MESSAGE, BROADCAST = 'message', 'broadcast'
# Message media; ``any`` is the fallback list, ``destination`` one of the
# project's destinations.
SLACK, EMAIL, ANY, DESTINATION = 'slack', 'email', 'any', 'destination'
FALLBACK_MEDIA = (SLACK, EMAIL)
ALL_USERS, ADMINS_ONLY = 'all_users', 'admins_only'
EVENT_TYPE_PREFIX = 'org.openstack.notifier.'


def slack_settings(conf, channel=None):
    """The Slack driver's settings for a message to ``channel`` (or the
    operator's default), or :class:`exception.Invalid` saying which option
    or field is missing."""
    opts = conf.messages
    token = conf.driver_slack.token
    if channel:
        if token:
            return {'channel': channel}
        raise exception.Invalid(
            'Slack messages cannot name a channel here: [driver_slack] '
            'token is not set, so messages go to the operator\'s incoming '
            'webhook ([messages] slack_webhook_url) and its channel. Leave '
            'channel out.')
    default = opts.slack_channel or conf.driver_slack.default_channel
    if token and default:
        return {'channel': default}
    if opts.slack_webhook_url:
        return {'webhook_url': opts.slack_webhook_url}
    if token:
        raise exception.Invalid(
            'No Slack channel: give "channel", or ask the operator to set '
            '[messages] slack_channel.')
    raise exception.Invalid(
        'Slack is not configured for messages: the operator must set '
        '[driver_slack] token (with [messages] slack_channel or '
        '[driver_slack] default_channel) or [messages] slack_webhook_url.')


def email_fields(conf, request):
    """(m_from, [m_to...], m_subject, m_body) of an email message, each
    from the request or the operator's default; :class:`exception.Invalid`
    naming every field still missing."""
    opts = conf.messages
    sender = (request.get('m_from') or opts.email_from or
              conf.driver_email.from_address)
    if request.get('m_to'):
        to = [a.strip() for a in request['m_to'].split(',') if a.strip()]
    else:
        to = list(opts.email_to)
    subject = request.get('m_subject') or opts.email_subject
    body = request.get('m_body')
    missing = [name for name, value in (
        ('m_from', sender), ('m_to', to), ('m_subject', subject),
        ('m_body', body)) if not value]
    if missing:
        defaults = {'m_from': '[messages] email_from',
                    'm_to': '[messages] email_to',
                    'm_subject': '[messages] email_subject'}
        hint = [defaults[m] for m in missing if m in defaults]
        raise exception.ValidationError(
            detail='Missing %s: give %s in the request%s.' % (
                ', '.join(missing),
                'it' if len(missing) == 1 else 'them',
                ' or ask the operator to set %s' % ', '.join(hint)
                if hint else ''))
    return sender, to, subject, body


def email_configured(conf):
    return bool(conf.driver_email.smtp_host)


def check_email(conf):
    if not email_configured(conf):
        raise exception.Invalid(
            'Email is not configured for messages: the operator must set '
            '[driver_email] smtp_host.')


def configured_media(conf, request):
    """The media of ``[messages] fallback_media`` that can send
    ``request`` with the operator's configuration, in order."""
    media = []
    for medium in conf.messages.fallback_media:
        try:
            if medium == SLACK:
                slack_settings(conf)
            elif medium == EMAIL:
                check_email(conf)
                email_fields(conf, request)
            else:
                continue
        except exception.Invalid:
            continue
        media.append(medium)
    return media


def resolve_recipients(conf, message):
    """The users a broadcast goes to, through Keystone as the service
    user: ``[{'project_id', 'user_id', 'email'}]``, one per (child
    project, user).

    :raises: :class:`exception.IdentityError` (the engine retries)
    """
    request = message.request
    children = {p['id']: p['name'] for p in identity.child_projects(
        conf, message.project_id)}
    if request.get('recipient_id'):
        # Checked by the API; a project moved since is no longer a child.
        projects = [p for p in [request['recipient_id']] if p in children]
    else:
        projects = list(children)
    user_type = request.get('user_type') or ADMINS_ONLY
    recipients = []
    for project_id in projects:
        if user_type == ADMINS_ONLY:
            users = identity.project_user_emails(
                conf, project_id, role=conf.service_user.admin_role)
        else:
            users = identity.project_user_emails(conf, project_id)
            if user_type != ALL_USERS:
                users = [u for u in users if u['id'] == user_type]
        recipients.extend({'project_id': project_id,
                           'project_name': children[project_id],
                           'user_id': u['id'], 'name': u.get('name'),
                           'email': u['email']} for u in users)
    return recipients


def targets(conf, context, message, destination=None, failed=()):
    """Target key -> (medium, destination id) of the deliveries
    ``message`` needs now. ``failed`` are the fallback targets that have
    failed: the next configured medium is the one to try."""
    if message.kind == BROADCAST:
        return {'user:%s:%s' % (r['project_id'], r['user_id']):
                (EMAIL, None) for r in message.recipients or []}
    if message.medium == DESTINATION:
        if destination is None:
            return {}
        return {'destination:%s' % destination.uuid:
                (destination.medium, destination.id)}
    if message.medium in (SLACK, EMAIL):
        return {message.medium: (message.medium, None)}
    for medium in configured_media(conf, message.request):
        target = 'fallback:%s' % medium
        if target not in failed:
            return {target: (medium, None)}
    return {}


def view(message):
    """The message's API view, also the event data of its deliveries."""
    body = {
        'id': message.uuid,
        'kind': message.kind,
        'medium': message.medium,
        'status': message.status,
        'project_id': message.project_id,
        'user_id': message.user_id,
        'created_at': views.isotime(message.created_at),
        'updated_at': views.isotime(message.updated_at),
    }
    body.update((k, v) for k, v in message.request.items()
                if not k.startswith('_'))
    return body


def _recipient(message, target):
    _, project_id, user_id = target.split(':', 2)
    for recipient in message.recipients or []:
        if (recipient['project_id'], recipient['user_id']) == (project_id,
                                                             user_id):
            return recipient
    raise exception.PermanentDeliveryError(
        'Recipient %s of project %s is not among the resolved recipients.'
        % (user_id, project_id))


def _plain_from_html(html):
    """A readable text/plain part for an HTML-only broadcast."""
    text = re.sub(r'(?is)<(script|style).*?</\1>', '', html)
    text = re.sub(r'(?i)<br\s*/?>|</p>|</div>|</h[1-6]>|</li>', '\n', text)
    text = html_lib.unescape(re.sub(r'<[^>]+>', '', text))
    return '\n'.join(line.strip() for line in text.splitlines()
                     if line.strip()) + '\n'


def sender(ctx):
    """What the templates' ``sender`` macros need of the caller, kept
    with the message (the engine has no token to ask with)."""
    return {'user_name': ctx.user_name or ctx.user_id,
            'project_name': ctx.project_name or ctx.project_id}


def _values(conf, message):
    request = message.request
    sent_by = request.get('_sender') or {}
    return {
        'message': {
            'subject': (request.get('m_subject') or request.get('subject')
                        or request.get('source') or
                        conf.messages.email_subject),
            'body': request.get('m_body') or request.get('body') or '',
        },
        'sender': {'user_id': message.user_id,
                   'user_name': sent_by.get('user_name'),
                   'project_id': message.project_id,
                   'project_name': sent_by.get('project_name')},
    }


def broadcast_template(template, request):
    """``template`` (customer_update) with the broadcast's overrides of
    its subject and bodies (HTML given in base64)."""
    template = copy.copy(template)
    template.config = dict(template.config)
    if request.get('subject'):
        template.config['subject'] = request['subject']
    if request.get('plain') or request.get('html'):
        html = request.get('html')
        html = base64.b64decode(html).decode('utf-8') if html else None
        template.html = html or ''
        template.text = request.get('plain') or ''
    return template


def unrendered(message, delivery):
    """The driver message of a delivery of ``message`` to a driver that
    sends the message itself (see :attr:`base.Driver.renders`)."""
    return base.Message(
        delivery_id=delivery.uuid, subject=None, text=None,
        event=view(message),
        event_type=rendering.system_template(
            'customer_update' if message.kind == BROADCAST
            else 'message').event_type)


def content(context, conf, message, delivery):
    """(driver message, settings) of one delivery of ``message``; the
    settings are None for a destination (the engine reads its own)."""
    request = message.request
    event = view(message)
    values = _values(conf, message)
    settings = None
    if message.kind == BROADCAST:
        recipient = _recipient(message, delivery.target)
        values['user'] = {'id': recipient['user_id'],
                          'name': recipient.get('name'),
                          'email': recipient['email']}
        values['project'] = {'id': recipient['project_id'],
                             'name': recipient.get('project_name')}
        template = broadcast_template(rendering.effective(
            context, 'customer_update', message.project_id), request)
        result = rendering.render(conf, template, values, delivery.uuid,
                                  event, medium=EMAIL,
                                  project_id=message.project_id)
        if not result.text.strip() and result.html:
            result = dataclasses.replace(
                result, text=_plain_from_html(result.html))
        # The recipient, whatever the template addresses.
        addressing = dict(result.addressing or {},
                          to=[recipient['email']])
        return (dataclasses.replace(result, addressing=addressing),
                {'email_addresses': [recipient['email']]})
    template = rendering.effective(context, 'message', message.project_id)
    result = rendering.render(conf, template, values, delivery.uuid, event,
                              medium=delivery.medium,
                              project_id=message.project_id)
    if delivery.destination_id is None and delivery.medium == SLACK:
        settings = slack_settings(conf, request.get('channel'))
    elif delivery.destination_id is None and delivery.medium == EMAIL:
        sent_from, to, _, _ = email_fields(conf, request)
        settings = {'email_addresses': to}
        # The caller's sender and recipients, whatever the template says.
        result = dataclasses.replace(result, addressing=dict(
            result.addressing or {}, to=to, **{'from': sent_from}))
    return result, settings
