import types

from oslo_config import cfg

from notifier.conf import service_user
from notifier import exception
from notifier import rendering
from notifier.tests import base


class TestRendering(base.TestCase):

    def event(self, **payload):
        return {'notification_uuid': 'u-1', 'type': 'PROCESS',
                'hostname': 'compute-1', 'source_host_uuid': 'h-1',
                'generated_time': '2026-11-23T10:00:00.000000',
                'payload': payload or {'event': 'STOPPED',
                                       'process_name': 'nova-compute'}}

    def test_subject_names_type_event_and_host(self):
        message = rendering.render_notification(self.event(), 'd-1')
        self.assertEqual('[PROCESS] STOPPED on compute-1', message.subject)
        self.assertEqual('org.openstack.notifier.notification.PROCESS',
                         message.event_type)

    def test_html_body_escapes_what_the_payload_says(self):
        message = rendering.render_notification(self.event(
            event='STOPPED', process_name='<script>alert(1)</script>'), 'd-1')
        self.assertNotIn('<script>', message.html)
        self.assertIn('&lt;script&gt;', message.html)
        self.assertIn('<script>', message.text)

    def test_without_a_context_the_shipped_default_renders(self):
        message = rendering.render_notification(self.event(), 'd-1')
        self.assertEqual(('process', 0),
                         (message.template, message.template_version))
        self.assertIn('Host: compute-1 (h-1)', message.text)
        self.assertIsNone(message.addressing)  # not an email delivery

    def test_missing_payload_values_render_empty(self):
        message = rendering.render_notification(self.event(event='STOPPED'),
                                                'd-1')
        self.assertEqual('[PROCESS] STOPPED on compute-1', message.subject)


def row(project_id='p1', overridden=True, config=None, text=None,
        html=None, version=1):
    return types.SimpleNamespace(project_id=project_id, overridden=overridden,
                                 config=config or {}, text_body=text,
                                 html_body=html, version=version)


class TestMerge(base.TestCase):

    def test_override_fields_over_the_default(self):
        template = rendering.merge('vm', [
            row('', config={'subject': 'sys', 'category': 'c'}, version=4),
            row(config={'subject': 'mine'}, text='t', version=2)])
        self.assertEqual(('mine', 'c', 't', 2, 'p1', True), (
            template.config['subject'], template.config['category'],
            template.text, template.version, template.project_id,
            template.project_overridden))
        self.assertEqual(rendering.shipped_body('vm', 'text/html'),
                         template.html)

    def test_disabled_or_reverted_rows_do_not_apply(self):
        template = rendering.merge('vm', [
            row('', config={'subject': 'sys', 'enabled': False}),
            row(overridden=False, config={'subject': 'gone'})])
        self.assertEqual((0, '', False), (template.version,
                                          template.project_id,
                                          template.project_overridden))
        shown = rendering.merge('vm', [row(config={'enabled': False})],
                                include_disabled=True)
        self.assertFalse(shown.config['enabled'])


class TestCheck(base.TestCase):

    def check(self, text=None, html=None, subject='s', template='process'):
        rendering.check(template, {'subject': subject}, text, html)

    def assertInvalid(self, fragment, **kwargs):
        error = self.assertRaises(exception.TemplateInvalid, self.check,
                                  **kwargs)
        self.assertIn(fragment, str(error))

    def test_shipped_templates_pass_their_own_check(self):
        for template_id in rendering.SYSTEM_TEMPLATES:
            template = rendering.merge(template_id, [])
            rendering.check(template_id, template.config, template.text,
                            template.html)

    def test_unknown_macro_names_the_path_written(self):
        self.assertInvalid('user.first_name,',
                           text='{{ user.first_name }}')
        self.assertInvalid("notification.hostnme (did you mean "
                           "notification.hostname?)",
                           subject="{{ notification['hostnme'] }}")

    def test_locals_and_globals_are_not_macros(self):
        self.check(text='{% set n = notification.hostname %}{{ n }}'
                        '{% for i in range(3) %}{{ loop.index }}{{ i }}'
                        '{% endfor %}')

    def test_range_is_bounded(self):
        self.assertInvalid('range() in a template is limited',
                           text='{{ range(100000) | list }}')

    def test_sandbox_refuses_internals(self):
        self.assertInvalid('fails to render',
                           text="{{ ''.__class__.__mro__[1]"
                                ".__subclasses__() }}")

    def test_a_filter_that_fails_on_its_arguments(self):
        # Jinja2's truncate asserts its length: an AssertionError, which
        # was a 500 when the template was saved.
        self.assertInvalid('fails to render: AssertionError',
                           subject='{{ notification.hostname | '
                                   'truncate(-1) }}')

    def test_too_large_source(self):
        self.assertInvalid('more than',
                           text='x' * (rendering.MAX_BODY_CHARS + 1))


class TestRenderParts(base.TestCase):

    values = {'notification': {'hostname': '<b>h&1</b>', 'payload': {
        'event': 'STOPPED'}}}

    def test_html_is_escaped_and_text_is_not(self):
        subject, text, html = rendering.render_parts(
            'vm', {'subject': '{{ notification.hostname }}\nnext line'},
            '{{ notification.hostname }}', '<p>{{ notification.hostname }}',
            self.values)
        self.assertEqual('<b>h&1</b> next line', subject)
        self.assertEqual('<b>h&1</b>', text)
        self.assertEqual('<p>&lt;b&gt;h&amp;1&lt;/b&gt;', html)

    def test_plain_tojson_keeps_markup(self):
        _, text, html = rendering.render_parts(
            'vm', {'subject': 's'}, '{{ notification | tojson }}',
            '{{ notification | tojson }}', self.values)
        self.assertIn('"<b>h&1</b>"', text)
        self.assertNotIn('<b>', html)


class TestAddressing(base.TestCase):

    def test_original_is_left_to_the_destination(self):
        self.assertEqual({}, rendering.resolve_addresses(
            None, rendering.merge('vm', []).config, 'p1'))

    def test_specified_from_and_reply_to(self):
        self.assertEqual(
            {'from': 'a@example.org', 'reply_to': 'b@example.org',
             'to': ['c@example.org'], 'bcc': ['d@example.org']},
            rendering.resolve_addresses(None, {
                'from': 'a@example.org', 'reply_to': 'b@example.org',
                'to': {'type': 'specified',
                       'email_addresses': ['c@example.org']},
                'cc': {'type': 'specified', 'email_addresses': []},
                'bcc': {'type': 'specified',
                        'email_addresses': ['d@example.org']}}, 'p1'))

    def test_admins_without_a_service_user_is_a_clear_error(self):
        conf = cfg.ConfigOpts()
        service_user.register_opts(conf)
        conf([])
        error = self.assertRaises(
            exception.IdentityNotConfigured, rendering.resolve_addresses,
            conf, {'to': {'type': 'admins'}}, 'p1')
        self.assertIn('[service_user]', str(error))

    def test_admins_failure_is_a_retryable_email_delivery_error(self):
        conf = cfg.ConfigOpts()
        service_user.register_opts(conf)
        conf([])
        template = rendering.merge('vm', [row(config={
            'to': {'type': 'admins'}})])
        error = self.assertRaises(
            exception.RetryableDeliveryError, rendering.render, conf,
            template, {'notification': {'payload': {}}}, 'd-1', {},
            medium='email',
            project_id='p1')
        self.assertIn('[service_user]', str(error))
        # Other media do not need the recipients.
        message = rendering.render(conf, template,
                                   {'notification': {'payload': {}}},
                                   'd-1', {}, medium='slack',
                                   project_id='p1')
        self.assertIsNone(message.addressing)
