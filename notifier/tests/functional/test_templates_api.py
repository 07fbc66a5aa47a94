"""Templates: system defaults, project overrides, bodies with Accept
negotiation, save-time checks, preview, and the engine and the destination
test send rendering them (to a real SMTP server)."""

import base64
import email
import email.policy
import os

from notifier import rendering
from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers

V1_6 = {'OpenStack-API-Version': 'notification 1.6'}
ADMIN = dict(V1_6, **{'X-Roles': 'admin,member,reader'})
OTHER = dict(V1_6, **{'X-Auth-Token': 'bob:other'})
READER = dict(V1_6, **{'X-Roles': 'reader'})
SYSTEM_IDS = ['compute_host', 'customer_update', 'destination_test',
              'message', 'process', 'vm']


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


class TemplatesTestCase(base.FunctionalTestCase):
    start_engine = False

    def show(self, template_id='process', headers=V1_6, **kwargs):
        return self.api.get('/v1/templates/%s' % template_id,
                            headers=headers, **kwargs)

    def put(self, config, template_id='process', headers=V1_6, query='',
            **kwargs):
        return self.api.put('/v1/templates/%s%s' % (template_id, query),
                            {'template': config}, headers=headers, **kwargs)

    def upload(self, body, content_type, template_id='process',
               headers=V1_6, query='', **kwargs):
        headers = dict(headers, **{'Content-Type': content_type})
        return self.api.app.post(
            '/v1/templates/%s%s' % (template_id, query),
            body.encode('utf-8'), headers=dict(self.api.headers, **headers),
            **kwargs)

    def preview(self, template, template_id='process', **kwargs):
        return self.api.post('/v1/templates/%s/preview' % template_id,
                             {'template': template}, headers=V1_6, **kwargs)


class TestSystemTemplates(TemplatesTestCase):

    def test_list_has_every_system_template_with_its_macros(self):
        templates = self.api.get('/v1/templates', headers=V1_6).json[
            'templates']
        self.assertEqual(SYSTEM_IDS, [t['id'] for t in templates])
        self.assertFalse(any(t['project_overridden'] for t in templates))
        process = templates[SYSTEM_IDS.index('process')]
        self.assertEqual(
            {'friendly_name': 'Process',
             'description': 'The name of the process, such as '
                            'nova-compute.'},
            process['macros']['notification.payload.process_name'])

    def test_templates_need_microversion_1_6(self):
        self.api.get('/v1/templates', headers={
            'OpenStack-API-Version': 'notification 1.5'}, status=404)

    def test_json_view_lists_formats_and_lengths(self):
        shown = self.show().json['template']
        plain = self.show(headers=dict(V1_6, Accept='text/plain')).text
        html = self.show(headers=dict(V1_6, Accept='text/html')).text
        self.assertEqual({'text/plain': {'length': len(plain)},
                          'text/html': {'length': len(html)}},
                         shown['templates'])
        self.assertEqual(0, shown['version'])
        self.assertEqual('system', shown['scope'])
        self.assertEqual({'type': 'original', 'email_addresses': []},
                         shown['to'])

    def test_accept_header_picks_the_body(self):
        resp = self.show(headers=dict(V1_6, Accept='text/plain'))
        self.assertEqual('text/plain', resp.content_type)
        self.assertIn('Host: {{ notification.hostname }}', resp.text)
        resp = self.show(headers=dict(
            V1_6, Accept='text/html, application/json;q=0.5'))
        self.assertEqual('text/html', resp.content_type)
        self.assertIn('<table>', resp.text)
        resp = self.show(headers=dict(V1_6, Accept='*/*'))
        self.assertEqual('application/json', resp.content_type)

    def test_accept_query_parameter_wins(self):
        resp = self.show(headers=dict(V1_6, Accept='application/json'),
                         params={'accept': 'text/html'})
        self.assertEqual('text/html', resp.content_type)
        self.assertIn('<table>', resp.text)

    def test_other_media_type_is_406(self):
        resp = self.show(headers=dict(V1_6, Accept='application/xml'),
                         status=406)
        self.assertIn('text/plain', resp.json['notAcceptable']['message'])
        resp = self.show(params={'accept': 'image/png'}, status=406)
        self.assertIn('image/png', resp.json['notAcceptable']['message'])

    def test_api_reference_lists_every_macro(self):
        path = os.path.join(os.path.dirname(__file__), '..', '..', '..',
                            'api-ref', 'source', 'templates.inc')
        with open(path) as f:
            text = f.read()
        for template in rendering.SYSTEM_TEMPLATES.values():
            section = text[text.index('(``%s``, category' % template.id):]
            section = section[:section.find('\n**', 1)]
            for macro in template.macros:
                self.assertIn('``%s``' % macro.name, section,
                              '%s of %s' % (macro.name, template.id))

    def test_unknown_template_is_404_listing_the_known_ones(self):
        resp = self.show('voicemail', status=404)
        self.assertIn('compute_host, customer_update',
                      resp.json['itemNotFound']['message'])


class TestProjectOverride(TemplatesTestCase):

    def test_override_then_revert(self):
        shown = self.put({'subject': 'Down: {{ notification.hostname }}',
                          'to': {'type': 'specified',
                                 'email_addresses': ['ops@example.org']}},
                         status=200).json['template']
        self.assertTrue(shown['project_overridden'])
        self.assertEqual('project', shown['scope'])
        self.assertEqual(1, shown['version'])
        self.assertEqual('utf-8', shown['template_charset'])  # default kept
        self.assertEqual('Down: {{ notification.hostname }}',
                         self.show().json['template']['subject'])
        listed = {t['id']: t['project_overridden'] for t in self.api.get(
            '/v1/templates', headers=V1_6).json['templates']}
        self.assertTrue(listed['process'])
        self.assertFalse(listed['vm'])

        shown = self.upload('Host {{ notification.hostname }} is down.',
                            'text/plain', status=200).json['template']
        self.assertEqual(2, shown['version'])
        self.assertEqual('Host {{ notification.hostname }} is down.',
                         self.show(params={'accept': 'text/plain'}).text)
        # The configuration is kept when a body is uploaded.
        self.assertEqual(['ops@example.org'], shown['to']['email_addresses'])

        self.api.delete('/v1/templates/process', headers=V1_6, status=204)
        shown = self.show().json['template']
        self.assertFalse(shown['project_overridden'])
        self.assertEqual(0, shown['version'])
        self.assertIn('Payload:', self.show(
            params={'accept': 'text/plain'}).text)
        resp = self.api.delete('/v1/templates/process', headers=V1_6,
                               status=404)
        self.assertIn('no override', resp.json['itemNotFound']['message'])
        # A new override continues the version count (the ledger names
        # versions).
        self.assertEqual(4, self.put({'subject': 'again'},
                                     status=200).json['template']['version'])

    def test_another_projects_override_is_not_visible(self):
        self.put({'subject': 'Only for demo'}, status=200)
        shown = self.show(headers=OTHER).json['template']
        self.assertFalse(shown['project_overridden'])
        self.assertNotEqual('Only for demo', shown['subject'])
        listed = self.api.get('/v1/templates', headers=OTHER).json
        self.assertFalse(any(t['project_overridden']
                             for t in listed['templates']))
        self.api.delete('/v1/templates/process', headers=OTHER, status=404)

    def test_reader_cannot_override(self):
        self.put({'subject': 'x'}, headers=READER, status=403)
        self.show(headers=READER, status=200)

    def test_disabled_override_is_kept_but_not_applied(self):
        self.put({'subject': 'Parked', 'enabled': False}, status=200)
        shown = self.show().json['template']
        self.assertFalse(shown['enabled'])
        self.assertEqual('Parked', shown['subject'])
        preview = self.preview({}).json['preview']
        self.assertEqual('Parked', preview['subject'])

    def test_upload_needs_text_plain_or_html(self):
        resp = self.upload('<x/>', 'application/xml', status=415)
        self.assertIn('text/plain or text/html',
                      resp.json['badMediaType']['message'])

    def test_bad_address_is_400_naming_the_field(self):
        resp = self.put({'subject': 's', 'cc': {
            'type': 'specified', 'email_addresses': ['not an address']}},
            status=400)
        self.assertIn('template.cc.email_addresses.0',
                      resp.json['badRequest']['message'])
        resp = self.put({'subject': 's', 'to': {'type': 'specified'}},
                        status=400)
        self.assertIn('at least one address',
                      resp.json['badRequest']['message'])


class TestSaveTimeChecks(TemplatesTestCase):

    def assertInvalid(self, resp, *fragments):
        message = resp.json['badRequest']['message']
        for fragment in fragments:
            self.assertIn(fragment, message)

    def test_body_that_does_not_compile_is_400(self):
        resp = self.upload('{% for x in %}', 'text/plain', status=400)
        self.assertInvalid(resp, 'text/plain body', 'does not compile')
        self.assertEqual(0, self.show().json['template']['version'])

    def test_unknown_macro_is_400_with_a_suggestion(self):
        resp = self.put({'subject': '{{ notification.hostnme }} down'},
                        status=400)
        self.assertInvalid(resp, 'notification.hostnme',
                           'did you mean notification.hostname?')
        resp = self.upload('<p>{{ user.first_name }}</p>', 'text/html',
                           status=400)
        self.assertInvalid(resp, 'text/html body', 'user.first_name',
                           'template process')

    def test_macro_of_another_template_is_400(self):
        self.put({'subject': '{{ message.subject }}'}, template_id='message',
                 status=200)
        self.put({'subject': '{{ message.subject }}'}, status=400)

    def test_payload_may_be_looked_into_and_looped_over(self):
        self.upload('{% for k, v in notification.payload | dictsort %}'
                    '{{ k }}={{ v }} {{ loop.index }}\n{% endfor %}'
                    '{{ notification.payload.anything_the_monitor_sent }}',
                    'text/plain', status=200)

    def test_body_that_renders_too_large_is_400(self):
        resp = self.upload(
            '{% for i in range(1000) %}{% for j in range(1000) %}'
            '{{ notification.hostname }}{% endfor %}{% endfor %}',
            'text/plain', status=400)
        self.assertInvalid(resp, 'renders to more than')

    def test_subject_over_200_characters_is_400(self):
        resp = self.put({'subject': 'x' * 201}, status=400)
        self.assertInvalid(resp, 'template.subject')

    def test_unknown_charset_is_400(self):
        resp = self.put({'subject': 's', 'template_charset': 'klingon'},
                        status=400)
        self.assertInvalid(resp, 'klingon')


class TestSystemDefaultEdits(TemplatesTestCase):

    def test_admin_edits_the_system_default_for_every_project(self):
        shown = self.put({'subject': 'Fleet: {{ notification.hostname }}'},
                         headers=ADMIN, query='?scope=system',
                         status=200).json['template']
        self.assertEqual('system', shown['scope'])
        self.assertEqual(1, shown['version'])
        self.assertFalse(shown['project_overridden'])
        for headers in (V1_6, OTHER):
            self.assertEqual('Fleet: {{ notification.hostname }}',
                             self.show(headers=headers).json['template'][
                                 'subject'])
        # A project override still wins over the edited default.
        self.put({'subject': 'Mine'}, status=200)
        self.assertEqual('Mine', self.show().json['template']['subject'])
        self.assertEqual('Fleet: {{ notification.hostname }}', self.show(
            params={'scope': 'system'}).json['template']['subject'])
        self.api.delete('/v1/templates/process?scope=system', headers=ADMIN,
                        status=204)
        self.assertIn('[{{ notification.type }}]', self.show(
            headers=OTHER).json['template']['subject'])

    def test_member_cannot_edit_the_system_default(self):
        self.put({'subject': 'x'}, query='?scope=system', status=403)
        self.upload('x', 'text/plain', query='?scope=system', status=403)
        self.api.delete('/v1/templates/process?scope=system', headers=V1_6,
                        status=403)


class TestPreview(TemplatesTestCase):

    def test_preview_renders_unsaved_bodies_with_sample_values(self):
        preview = self.preview({
            'subject': '{{ notification.payload.process_name }} stopped',
            'plain': 'Host {{ notification.hostname }}',
            'html': b64('<p>Host <b>{{ notification.hostname }}</b> '
                        '\u2603</p>'),
            'from': 'Ops <ops@example.org>',
            'cc': {'type': 'specified',
                   'email_addresses': ['lead@example.org']},
        }).json['preview']
        self.assertEqual('nova-compute stopped', preview['subject'])
        self.assertEqual('Host compute-1', preview['text/plain'])
        self.assertEqual('<p>Host <b>compute-1</b> \u2603</p>',
                         preview['text/html'])
        self.assertEqual({
            'from': 'Ops <ops@example.org>', 'reply_to': None,
            'to': {'type': 'original', 'email_addresses': []},
            'cc': {'type': 'specified',
                   'email_addresses': ['lead@example.org']},
            'bcc': {'type': 'specified', 'email_addresses': []},
        }, preview['recipients'])
        # Nothing was saved.
        self.assertFalse(self.show().json['template']['project_overridden'])

    def test_preview_of_the_saved_template(self):
        preview = self.preview({}).json['preview']
        self.assertEqual('[PROCESS] STOPPED on compute-1', preview['subject'])
        self.assertIn('Host: compute-1', preview['text/plain'])

    def test_html_is_autoescaped(self):
        preview = self.preview({'html': b64(
            '{{ notification.payload.process_name }}')}).json['preview']
        self.assertEqual('nova-compute', preview['text/html'])
        preview = self.api.post(
            '/v1/templates/message/preview', {'template': {
                'html': b64('<p>{{ message.body }}</p>'),
                'plain': '{{ message.body }}'}},
            headers=V1_6).json['preview']
        self.assertNotIn('<script', preview['text/html'])

    def test_bad_preview_is_400(self):
        resp = self.preview({'plain': '{{ nope }}'}, status=400)
        self.assertIn('nope', resp.json['badRequest']['message'])
        resp = self.preview({'html': '<p>not base64</p>'}, status=400)
        self.assertIn('base64', resp.json['badRequest']['message'])

    def test_admins_without_keystone_is_a_clear_503(self):
        resp = self.preview({'to': {'type': 'admins'}}, status=503)
        self.assertIn('[service_user]',
                      resp.json['serviceUnavailable']['message'])


class TestRenderedDeliveries(TemplatesTestCase):
    """The engine renders with the project's template; the mail's parts
    are the preview's."""

    start_engine = True

    def setUp(self):
        super().setUp()
        self.smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=self.smtp.port,
                   from_address='notifier@example.org', group='driver_email')

    def mail_destination(self):
        destination = self.api.post('/v1/destinations', {'destination': {
            'name': 'on-call', 'medium': 'email',
            'settings': {'email_address': 'oncall@example.org'}}},
            headers=V1_6, status=201).json['destination']
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [destination['id']],
            'filters': {}}}, headers=V1_6, status=201)
        return destination

    def parsed(self, received):
        return email.message_from_bytes(received.content,
                                        policy=email.policy.default)

    @staticmethod
    def part(mail, subtype):
        """A body part's text; SMTP's CRLF line ends read as LF."""
        return mail.get_body((subtype,)).get_content().replace('\r\n', '\n')

    def test_mail_parts_match_the_preview(self):
        self.mail_destination()
        template = {
            'subject': '{{ notification.payload.process_name }} '
                       '{{ notification.payload.event }} on '
                       '{{ notification.hostname }}',
            'from': 'Cloud Ops <ops@example.org>',
            'reply_to': 'noc@example.org',
            'to': {'type': 'original'},
            'cc': {'type': 'specified',
                   'email_addresses': ['lead@example.org']},
            'bcc': {'type': 'specified',
                    'email_addresses': ['audit@example.org']},
        }
        plain = ('{{ notification.type }}: {{ notification.payload.event }}'
                 ' of {{ notification.payload.process_name }}\n')
        html = ('<p>{{ notification.type }}: <b>'
                '{{ notification.payload.event }}</b> of '
                '{{ notification.payload.process_name }}</p>\n')
        preview = self.preview(dict(template, plain=plain,
                                    html=b64(html))).json['preview']
        self.put(template, status=200)
        self.upload(plain, 'text/plain', status=200)
        shown = self.upload(html, 'text/html', status=200).json['template']

        created = self.api.post('/v1/notifications', base.notification_body(
            'PROCESS'), status=202).json['notification']
        self.wait_for_status(created['id'], ['finished'])
        [received] = self.smtp.messages
        self.assertEqual('notifier@example.org', received.mail_from)
        self.assertEqual(['oncall@example.org', 'lead@example.org',
                          'audit@example.org'], received.rcpt_tos)
        mail = self.parsed(received)
        self.assertEqual(preview['subject'], mail['Subject'])
        self.assertEqual(preview['text/plain'], self.part(mail, 'plain'))
        self.assertEqual(preview['text/html'], self.part(mail, 'html'))
        self.assertEqual('Cloud Ops <ops@example.org>', mail['From'])
        self.assertEqual('notifier@example.org', mail['Sender'])
        self.assertEqual('noc@example.org', mail['Reply-To'])
        self.assertEqual('oncall@example.org', mail['To'])
        self.assertEqual('lead@example.org', mail['Cc'])
        self.assertIsNone(mail['Bcc'])

        self.assertEqual(3, shown['version'])
        shown = self.api.get('/v1/notifications/%s' % created['id'],
                             headers=V1_6).json['notification']
        [delivery] = [d for d in shown['deliveries']
                      if d['medium'] == 'email']
        self.assertTrue(delivery['receipt'].startswith('250'))
        # The ledger names the template, its version and the envelope.
        ledger = self.api.get('/v1/deliveries/%s' % delivery['id'],
                              headers=V1_6).json['delivery']
        self.assertEqual(('process', 3),
                         (ledger['template'], ledger['template_version']))
        self.assertEqual(received.rcpt_tos, ledger['recipients'])
        self.assertEqual(preview['subject'], ledger['subject'])

    def test_other_types_keep_the_system_default(self):
        self.mail_destination()
        self.put({'subject': 'process only'}, status=200)
        created = self.api.post('/v1/notifications', base.notification_body(
            'COMPUTE_HOST'), status=202).json['notification']
        self.wait_for_status(created['id'], ['finished'])
        [received] = self.smtp.messages
        self.assertEqual('[COMPUTE_HOST] STOPPED on compute-1',
                         self.parsed(received)['Subject'])

    def test_destination_test_send_uses_the_destination_test_template(self):
        destination = self.mail_destination()
        self.put({'subject': 'Checking {{ destination.name }}'},
                 template_id='destination_test', status=200)
        self.upload('Medium {{ destination.medium }} works.',
                    'text/plain', template_id='destination_test',
                    status=200)
        outcome = self.api.post('/v1/destinations/%s/test' %
                                destination['id'], {}, headers=V1_6,
                                status=200).json['test']
        self.assertEqual('delivered', outcome['outcome'])
        [received] = self.smtp.messages
        mail = self.parsed(received)
        self.assertEqual('Checking on-call', mail['Subject'])
        self.assertEqual('Medium email works.\n', self.part(mail, 'plain'))

    def test_admins_recipient_without_keystone_fails_the_test_clearly(self):
        destination = self.mail_destination()
        self.put({'subject': 'x', 'to': {'type': 'admins'}},
                 template_id='destination_test', status=200)
        outcome = self.api.post('/v1/destinations/%s/test' %
                                destination['id'], {}, headers=V1_6,
                                status=200).json['test']
        self.assertEqual('failed', outcome['outcome'])
        self.assertTrue(outcome['retryable'])
        self.assertIn('[service_user]', outcome['error'])
        self.assertEqual([], self.smtp.messages)
