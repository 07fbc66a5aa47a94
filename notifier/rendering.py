"""What a delivered message says: message templates and their rendering.

Notifier ships a **system default template** for each kind of message it
sends (:data:`SYSTEM_TEMPLATES`): its configuration (subject, addressing),
a text/plain and a text/html body (files in ``notifier/default_templates``)
and the catalogue of **macros** a body may use. An admin may edit a system
default and a project may override it (rows of the ``templates`` table); the
effective template of a project is its enabled override, else the enabled
edited system default, else the shipped one (:func:`effective`).

Bodies and subjects are Jinja2 templates rendered in the sandbox. The HTML
body is autoescaped; the subject and the plain-text body are not. A template
is checked when it is saved (:func:`check`): it must compile, use only the
macros of its catalogue, and render within :data:`MAX_RENDERED_CHARS` with
the catalogue's sample values; a delivery therefore never fails for a
broken template.
"""

import base64
import codecs
import dataclasses
import difflib
import functools
import importlib.resources
import json

import jinja2
from jinja2 import meta
from jinja2 import nodes
from jinja2 import sandbox
from oslo_log import log as logging

from notifier.drivers import base
from notifier import exception
from notifier import identity

LOG = logging.getLogger(__name__)

EVENT_TYPE_PREFIX = 'org.openstack.notifier.notification.'
FORMATS = ('text/plain', 'text/html')
#: The most characters an uploaded body may have.
MAX_BODY_CHARS = 65536
#: The most characters a body may render to (with sample values at save
#: time, with real ones at delivery time).
MAX_RENDERED_CHARS = 262144
#: The longest a rendered subject is kept.
MAX_RENDERED_SUBJECT_CHARS = 998
#: ``range()`` in a template stops here, so that a loop cannot run for long.
MAX_RANGE = 1000
#: The project id of the rows that edit a system default.
SYSTEM = ''
#: The version of a shipped (never edited) system default.
SHIPPED_VERSION = 0
ADDRESS_FIELDS = ('to', 'cc', 'bcc')
ORIGINAL, SPECIFIED, ADMINS = 'original', 'specified', 'admins'


@dataclasses.dataclass(frozen=True)
class Macro:
    """A value a template may use, ``{{ name }}``; ``sample`` is what a
    preview and the save-time check render it with."""

    name: str
    friendly_name: str
    description: str
    sample: object


@dataclasses.dataclass(frozen=True)
class SystemTemplate:
    id: str
    friendly_name: str
    category: str
    description: str
    macros: tuple
    subject: str
    body: str  # the name of its body files in notifier/default_templates
    event_type: str

    def config(self):
        """The shipped configuration."""
        return {
            'subject': self.subject,
            'from': None,
            'reply_to': None,
            'to': {'type': ORIGINAL, 'email_addresses': []},
            'cc': {'type': SPECIFIED, 'email_addresses': []},
            'bcc': {'type': SPECIFIED, 'email_addresses': []},
            'enabled': True,
            'template_charset': 'utf-8',
            'category': self.category,
            'friendly_name': self.friendly_name,
        }

    def sample_values(self):
        """The macros' samples as the nested mapping a template sees."""
        values = {}
        for macro in self.macros:
            node = values
            *parents, leaf = macro.name.split('.')
            for name in parents:
                node = node.setdefault(name, {})
            if isinstance(macro.sample, dict):
                node.setdefault(leaf, {}).update(macro.sample)
            else:
                node.setdefault(leaf, macro.sample)
        return values


def _notification_macros(payload_macros):
    common = [
        ('notification.notification_uuid', 'Notification id',
         'The notification\'s uuid.',
         '5f2a7c4e-1b3d-4e8f-9a6b-2c1d0e9f8a7b'),
        ('notification.type', 'Type',
         'COMPUTE_HOST, PROCESS or VM.', None),
        ('notification.hostname', 'Host name',
         'The name of the host the notification is about.', 'compute-1'),
        ('notification.source_host_uuid', 'Host id',
         'The uuid of the host the notification is about.',
         '0c8f2b7e-6a1d-4b3c-9e5f-7d2a1c0b9e8f'),
        ('notification.generated_time', 'Generated',
         'When the monitor saw the failure (ISO 8601, UTC).',
         '2026-11-23T10:00:00.000000'),
        ('notification.status', 'Status',
         'The notification\'s processing status.', 'running'),
        ('notification.project_id', 'Project id',
         'The project the notification belongs to.',
         '9d3e1f2a4b5c6d7e8f9a0b1c2d3e4f5a'),
        ('notification.payload', 'Payload',
         'The whole payload, a mapping: look into it, or loop over it '
         'with notification.payload | dictsort.', {}),
    ]
    return tuple(Macro(*m) for m in common + payload_macros)


def _notification_template(template_id, notification_type, friendly_name,
                           description, payload_macros):
    macros = list(_notification_macros(payload_macros))
    macros[1] = dataclasses.replace(macros[1], sample=notification_type)
    return SystemTemplate(
        id=template_id, friendly_name=friendly_name, category='notification',
        description=description, macros=tuple(macros),
        subject='[{{ notification.type }}] {{ notification.payload.event }} '
                'on {{ notification.hostname }}',
        body='notification',
        event_type=EVENT_TYPE_PREFIX + notification_type)


_SENDER_MACROS = [
    ('message.subject', 'Subject', 'The subject the sender gave.',
     'Planned maintenance tonight'),
    ('message.body', 'Message', 'The text the sender wrote.',
     'Compute nodes will be rebooted between 22:00 and 23:00 UTC.'),
    ('sender.user_id', 'Sender\'s user id',
     'The Keystone id of the user who sent the message.',
     '3b8e0f6d2c1a4e5f9d7c6b5a4e3d2c1b'),
    ('sender.user_name', 'Sender',
     'The Keystone name of the user who sent the message.', 'alice'),
    ('sender.project_id', 'Sender\'s project id',
     'The project the message was sent from.',
     '9d3e1f2a4b5c6d7e8f9a0b1c2d3e4f5a'),
    ('sender.project_name', 'Sender\'s project',
     'The name of the project the message was sent from.', 'operations'),
]

SYSTEM_TEMPLATES = {t.id: t for t in [
    _notification_template(
        'compute_host', 'COMPUTE_HOST', 'Compute host failure',
        'Sent for a COMPUTE_HOST notification: a compute host stopped or '
        'started.',
        [('notification.payload.event', 'Event', 'STOPPED or STARTED.',
          'STOPPED'),
         ('notification.payload.host_status', 'Host status',
          'NORMAL, UNKNOWN or ERROR.', 'NORMAL'),
         ('notification.payload.cluster_status', 'Cluster status',
          'ONLINE or OFFLINE.', 'OFFLINE')]),
    _notification_template(
        'process', 'PROCESS', 'Process failure',
        'Sent for a PROCESS notification: a monitored process stopped or '
        'started.',
        [('notification.payload.event', 'Event', 'STOPPED or STARTED.',
          'STOPPED'),
         ('notification.payload.process_name', 'Process',
          'The name of the process, such as nova-compute.',
          'nova-compute')]),
    _notification_template(
        'vm', 'VM', 'Instance failure',
        'Sent for a VM notification: an instance stopped, was shut down '
        'or rebooted unexpectedly.',
        [('notification.payload.event', 'Event',
          'What happened, such as LIFECYCLE or QEMU_GUEST_AGENT_ERROR.',
          'LIFECYCLE'),
         ('notification.payload.instance_uuid', 'Instance id',
          'The uuid of the instance.',
          '7e1c2d3b-4a5f-4e6d-8c9b-0a1f2e3d4c5b'),
         ('notification.payload.vir_domain_event', 'Domain event',
          'The libvirt event, such as STOPPED_FAILED.',
          'STOPPED_FAILED')]),
    SystemTemplate(
        id='message', friendly_name='Direct message', category='message',
        description='A message a user sends through Notifier to a '
                    'destination (POST /v1/messages).',
        macros=tuple(Macro(*m) for m in _SENDER_MACROS),
        subject='{{ message.subject }}', body='message',
        event_type=EVENT_TYPE_PREFIX + 'message'),
    SystemTemplate(
        id='customer_update', friendly_name='Customer update',
        category='message',
        description='A message a parent project broadcasts to the users of '
                    'its child projects; rendered once per recipient.',
        macros=tuple(Macro(*m) for m in _SENDER_MACROS + [
            ('user.id', 'User id', 'The Keystone id of the recipient.',
             '6a5b4c3d2e1f4a0b9c8d7e6f5a4b3c2d'),
            ('user.name', 'User name', 'The Keystone name of the recipient.',
             'bob'),
            ('user.email', 'Email', 'The recipient\'s email address.',
             'bob@example.com'),
            ('project.id', 'Project id',
             'The recipient\'s project (a child of the sender\'s).',
             '1f2e3d4c5b6a47980a1b2c3d4e5f6a7b'),
            ('project.name', 'Project', 'The recipient project\'s name.',
             'customer-a'),
        ]),
        subject='{{ message.subject }}', body='customer_update',
        event_type=EVENT_TYPE_PREFIX + 'customer_update'),
    SystemTemplate(
        id='destination_test', friendly_name='Destination test',
        category='system',
        description='Sent by POST /v1/destinations/{id}/test to check that '
                    'a destination works.',
        macros=tuple(Macro(*m) for m in [
            ('destination.id', 'Destination id',
             'The uuid of the destination tested.',
             '2d4f6a8c-0e1b-4d3f-8a5c-7e9b1d3f5a7c'),
            ('destination.name', 'Destination', 'The destination\'s name.',
             'on-call email'),
            ('destination.medium', 'Medium',
             'email, sms, slack, msteams, webhook or log.', 'email'),
            ('project.id', 'Project id', 'The destination\'s project.',
             '9d3e1f2a4b5c6d7e8f9a0b1c2d3e4f5a'),
        ]),
        subject='[notifier] Test message for destination '
                '{{ destination.name }}',
        body='destination_test',
        event_type=EVENT_TYPE_PREFIX + 'destination_test'),
]}

#: The system template of each notification type.
NOTIFICATION_TEMPLATES = {'COMPUTE_HOST': 'compute_host',
                          'PROCESS': 'process', 'VM': 'vm'}


def system_template(template_id):
    try:
        return SYSTEM_TEMPLATES[template_id]
    except KeyError:
        raise exception.TemplateNotFound(
            id=template_id, available=', '.join(sorted(SYSTEM_TEMPLATES)))


@functools.lru_cache(maxsize=None)
def shipped_body(template_id, media_type):
    """The shipped body of a system template in ``media_type``."""
    extension = {'text/plain': 'txt', 'text/html': 'html'}[media_type]
    name = '%s.%s' % (system_template(template_id).body, extension)
    return (importlib.resources.files('notifier') / 'default_templates' /
            name).read_text(encoding='utf-8')


# The environments: one autoescaped (HTML), one not (subject, plain text).

def _safe_range(*args):
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise OverflowError('range() in a template is limited to %d items'
                            % MAX_RANGE)
    return values


def _environment(autoescape):
    env = sandbox.ImmutableSandboxedEnvironment(
        autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, undefined=jinja2.ChainableUndefined)
    env.globals['range'] = _safe_range
    env.policies['json.dumps_kwargs'] = {'sort_keys': True}
    if not autoescape:
        # Jinja's tojson escapes <, > and & for HTML; plain text keeps them.
        env.filters['tojson'] = _plain_json
    return env


def _plain_json(value, indent=None):
    return json.dumps(value, sort_keys=True, indent=indent,
                      default=_json_default)


def _json_default(value):
    # A missing value (ChainableUndefined) is null; anything else its text.
    return None if isinstance(value, jinja2.Undefined) else str(value)


TEXT_ENV = _environment(False)
HTML_ENV = _environment(True)


def _path(node):
    """The dotted name a Name/Getattr/constant Getitem chain reads, or None
    when it is not such a chain."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        parent = _path(node.node)
        return parent and '%s.%s' % (parent, node.attr)
    if (isinstance(node, nodes.Getitem) and
            isinstance(node.arg, nodes.Const) and
            isinstance(node.arg.value, str)):
        parent = _path(node.node)
        return parent and '%s.%s' % (parent, node.arg.value)
    return None


def _known(path, names):
    """A path is known if it leads to a macro or into one (a macro that is
    a mapping, such as the payload, may be looked into)."""
    return any(name == path or name.startswith(path + '.') or
               path.startswith(name + '.') for name in names)


def _unknown_macros(env, ast, names):
    free = meta.find_undeclared_variables(ast) - set(env.globals)
    paths = set()
    for node in ast.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        path = _path(node)
        if path and path.split('.', 1)[0] in free:
            paths.add(path)
    unknown = sorted(p for p in paths if not _known(p, names))
    # Report "a.b.c" as written, not also "a.b" and "a".
    return [p for p in unknown
            if not any(u.startswith(p + '.') for u in unknown)]


def _compile(env, source, what, template):
    """The compiled template, checked against the template's macros."""
    return _compiled(env is HTML_ENV, source, what, template.id)


@functools.lru_cache(maxsize=256)
def _compiled(autoescape, source, what, template_id):
    env = HTML_ENV if autoescape else TEXT_ENV
    template = system_template(template_id)
    try:
        ast = env.parse(source)
        compiled = env.from_string(source)
    except jinja2.TemplateSyntaxError as e:
        raise exception.TemplateInvalid(
            what=what, reason='it does not compile: %s (line %s); fix the '
                              'Jinja2 syntax' % (e.message, e.lineno))
    names = [m.name for m in template.macros]
    unknown = _unknown_macros(env, ast, names)
    if unknown:
        hints = []
        for path in unknown:
            close = difflib.get_close_matches(path, names, n=1)
            hints.append('%s%s' % (path, ' (did you mean %s?)' % close[0]
                                   if close else ''))
        raise exception.TemplateInvalid(
            what=what, reason='it uses %s, which %s not in the macros of '
                              'template %s; use one of: %s' % (
                                  ', '.join(hints),
                                  'is' if len(unknown) == 1 else 'are',
                                  template.id, ', '.join(names)))
    return compiled


def _render(compiled, values, what, limit=MAX_RENDERED_CHARS):
    chunks, size = [], 0
    try:
        for chunk in compiled.generate(values):
            size += len(chunk)
            if size > limit:
                raise exception.TemplateInvalid(
                    what=what, reason='it renders to more than %d '
                                      'characters; make it shorter' % limit)
            chunks.append(chunk)
    except exception.TemplateInvalid:
        raise
    except jinja2.TemplateError as e:
        raise exception.TemplateInvalid(
            what=what, reason='it fails to render: %s' % e)
    except Exception as e:
        # Whatever a filter raises on the template's arguments (Jinja2's
        # truncate asserts its length) is the template's fault.
        raise exception.TemplateInvalid(
            what=what, reason='it fails to render: %s%s' % (
                type(e).__name__, ': %s' % e if str(e) else ''))
    return ''.join(chunks)


def check(template_id, config, text, html):
    """Raise :class:`exception.TemplateInvalid` unless the subject and the
    bodies compile, use only the template's macros and render within the
    limits with the sample values."""
    template = system_template(template_id)
    try:
        codecs.lookup(config.get('template_charset') or 'utf-8')
    except LookupError:
        raise exception.TemplateInvalid(
            what='template_charset', reason='%r is not a character set '
            'Python knows; use utf-8' % config.get('template_charset'))
    values = template.sample_values()
    for what, env, source in (('subject', TEXT_ENV, config['subject']),
                              ('text/plain body', TEXT_ENV, text),
                              ('text/html body', HTML_ENV, html)):
        if source is None:
            continue
        if len(source) > MAX_BODY_CHARS:
            raise exception.TemplateInvalid(
                what=what, reason='it has %d characters, more than %d' % (
                    len(source), MAX_BODY_CHARS))
        _render(_compile(env, source, what, template), values, what)


# The effective template of a project.

@dataclasses.dataclass
class Template:
    """A template as it applies: configuration, bodies, version."""

    id: str
    config: dict
    text: str
    html: str
    version: int
    #: '' (SYSTEM) when the system default applies, else the project id.
    project_id: str
    #: Whether the project has an override (enabled or not).
    project_overridden: bool = False

    @property
    def system(self):
        return system_template(self.id)


def merge(template_id, rows, include_disabled=False):
    """The effective :class:`Template` from the shipped default and the
    rows (system edit first, then project override) that apply; a row that
    is not an override is skipped, and so is a disabled one unless
    ``include_disabled`` (to show it as it is saved)."""
    shipped = system_template(template_id)
    result = Template(id=template_id, config=shipped.config(),
                      text=shipped_body(template_id, 'text/plain'),
                      html=shipped_body(template_id, 'text/html'),
                      version=SHIPPED_VERSION, project_id=SYSTEM)
    for row in rows:
        if row is None or not row.overridden:
            continue
        if row.project_id != SYSTEM:
            result.project_overridden = True
        if row.config.get('enabled') is False and not include_disabled:
            continue
        result.config.update(row.config)
        result.config['enabled'] = row.config.get('enabled', True)
        result.text = row.text_body if row.text_body is not None \
            else result.text
        result.html = row.html_body if row.html_body is not None \
            else result.html
        result.version = row.version
        result.project_id = row.project_id
    return result


def effective(context, template_id, project_id):
    """The template that applies to ``project_id`` (None: the system
    default)."""
    from notifier.db import api as db  # the API and engine import us
    system_template(template_id)
    rows = db.template_rows(context, template_id, project_id)
    return merge(template_id, rows)


# Addressing

def resolve_addresses(conf, config, project_id, keep_original=True):
    """``{field: [addresses]}`` for to, cc and bcc, and the ``from`` and
    ``reply_to`` strings that are set. A field of type ``original`` is
    left out (the destination's own recipients apply) unless
    ``keep_original`` is false, when it is an empty list.

    :raises: :class:`exception.IdentityError` when ``admins`` cannot be
             resolved
    """
    addressing = {}
    for field in ('from', 'reply_to'):
        if config.get(field):
            addressing[field] = config[field]
    admins = None
    for field in ADDRESS_FIELDS:
        value = config.get(field) or {}
        kind = value.get('type', SPECIFIED if field != 'to' else ORIGINAL)
        if kind == ORIGINAL:
            if not keep_original:
                addressing[field] = []
            continue
        if kind == ADMINS:
            if admins is None:
                admins = identity.project_admin_emails(conf, project_id)
            addresses = list(admins)
        else:
            addresses = list(value.get('email_addresses') or [])
        if addresses or field == 'to':
            addressing[field] = addresses
    return addressing


def recipients_view(conf, config, project_id):
    """What a preview shows: each recipient field with its type and the
    addresses it resolves to (none for ``original``: the destination's
    own)."""
    addressing = resolve_addresses(conf, config, project_id,
                                   keep_original=False)
    view = {'from': config.get('from'), 'reply_to': config.get('reply_to')}
    for field in ADDRESS_FIELDS:
        kind = (config.get(field) or {}).get(
            'type', SPECIFIED if field != 'to' else ORIGINAL)
        view[field] = {'type': kind,
                       'email_addresses': addressing.get(field, [])}
    return view


# Rendering

def render_parts(template_id, config, text, html, values):
    """``(subject, text, html)`` rendered with ``values``."""
    template = system_template(template_id)
    subject = _render(_compile(TEXT_ENV, config['subject'], 'subject',
                               template), values, 'subject')
    subject = ' '.join(subject.split())[:MAX_RENDERED_SUBJECT_CHARS]
    return (subject,
            _render(_compile(TEXT_ENV, text, 'text/plain body', template),
                    values, 'text/plain body'),
            _render(_compile(HTML_ENV, html, 'text/html body', template),
                    values, 'text/html body'))


def render(conf, template, values, delivery_id, event, medium=None,
           project_id=None):
    """The :class:`base.Message` of ``template`` with ``values``.

    Addressing is resolved for email only; the other media use the subject
    and the plain-text body. Rendering errors of a template that was
    checked when saved cannot happen, but a real value may still make a
    body too large: that, an ``admins`` recipient list that is empty and
    a Keystone that cannot be asked are delivery errors (the last one is
    retried).
    """
    try:
        subject, text, html = render_parts(
            template.id, template.config, template.text, template.html,
            values)
    except exception.TemplateInvalid as e:
        raise exception.PermanentDeliveryError(
            'Template %s (version %s) cannot be rendered for this message: '
            '%s' % (template.id, template.version, e))
    addressing = None
    if medium == 'email':
        try:
            addressing = resolve_addresses(conf, template.config,
                                           project_id)
        except exception.IdentityError as e:
            raise exception.RetryableDeliveryError(str(e))
        if addressing.get('to') == [] and not (addressing.get('cc') or
                                               addressing.get('bcc')):
            raise exception.PermanentDeliveryError(
                'Template %s addresses the project\'s admins, and project '
                '%s has no admin with an email address; give its admins an '
                'email in Keystone or address "specified" recipients.' % (
                    template.id, project_id))
        charset = template.config.get('template_charset') or 'utf-8'
        if charset.lower() not in ('utf-8', 'utf8'):
            addressing['charset'] = charset
    return base.Message(
        delivery_id=delivery_id, subject=subject, text=text, html=html,
        event=event, event_type=template.system.event_type,
        template=template.id, template_version=template.version,
        addressing=addressing)


def notification_template_id(event):
    """The id of the template that renders a notification's ``event``."""
    return NOTIFICATION_TEMPLATES.get(event.get('type'), 'compute_host')


def unrendered_notification(event, delivery_id):
    """The :class:`base.Message` of a notification's API view ``event``
    for a driver that sends the notification itself (see
    :attr:`base.Driver.renders`): its event type, nothing rendered."""
    return base.Message(
        delivery_id=delivery_id, subject=None, text=None, event=event,
        event_type=system_template(
            notification_template_id(event)).event_type)


def render_notification(event, delivery_id, context=None, conf=None,
                        medium=None, template=None):
    """The :class:`base.Message` for a notification's API view ``event``.

    Rendered with ``template`` if given (the engine looks it up once per
    notification), else with the template of the notification's type that
    applies to its project (with ``context``; the shipped default without
    it).
    """
    template_id = notification_template_id(event)
    project_id = event.get('project_id')
    if template is not None:
        pass
    elif context is not None:
        template = effective(context, template_id, project_id)
    else:
        template = merge(template_id, [])
    values = {'notification': _notification_values(event)}
    return render(conf, template, values, delivery_id, event, medium=medium,
                  project_id=project_id)


def _notification_values(event):
    values = dict(event)
    values['payload'] = dict(event.get('payload') or {})
    return values


def render_destination_test(context, conf, destination, delivery_id, event):
    """The test message of ``destination`` (a database row), from the
    ``destination_test`` template of its project."""
    template = effective(context, 'destination_test',
                         destination.project_id)
    values = {
        'destination': {'id': destination.uuid, 'name': destination.name,
                        'medium': destination.medium},
        'project': {'id': destination.project_id},
    }
    return render(conf, template, values, delivery_id, event,
                  medium=destination.medium,
                  project_id=destination.project_id)


def decode_html(value):
    """A preview's base64 HTML body as text; 400 if it is not base64 of
    UTF-8."""
    try:
        return base64.b64decode(value.encode('ascii'),
                                validate=True).decode('utf-8')
    except (ValueError, UnicodeError) as e:
        raise exception.ValidationError(
            detail='Invalid input for field template.html: it must be the '
                   'HTML body in base64 (of UTF-8 text): %s.' % e)

