"""A template addressed to the project's ``admins``: the recipients are
looked up in the real Keystone of the tests (a project, an admin and a
member made for the test), through the ``[service_user]``."""

import email
import uuid

from keystoneauth1 import loading as ks_loading

from notifier import exception
from notifier import identity
from notifier.tests import base as test_base
from notifier.tests import fixtures
from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers
from notifier.tests.functional import keystone

V1_6 = {'OpenStack-API-Version': 'notification 1.6'}


class TestAdminsRecipients(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        keystone.skip_unless_keystone(self)
        self.keystone = keystone.get()
        self.admin = self.keystone.session('admin')
        suffix = uuid.uuid4().hex[:8]
        self.project_id = self._create('projects', {
            'name': 'tmpl-%s' % suffix, 'domain_id': 'default'})
        self.admin_email = 'boss-%s@example.org' % suffix
        self.member_email = 'staff-%s@example.org' % suffix
        boss = self._create('users', {
            'name': 'boss-%s' % suffix, 'domain_id': 'default',
            'email': self.admin_email, 'password': 'boss-pass'})
        staff = self._create('users', {
            'name': 'staff-%s' % suffix, 'domain_id': 'default',
            'email': self.member_email, 'password': 'staff-pass'})
        self._grant(boss, 'admin')
        self._grant(staff, 'member')
        self.conf_fixture.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='service_user')
        self.flags(group='service_user', auth_type='password',
                   auth_url=self.keystone.url, username='admin',
                   password=keystone.password('admin'),
                   project_name='admin', user_domain_id='default',
                   project_domain_id='default')
        identity.reset()
        self.addCleanup(identity.reset)
        # The API acts in the Keystone project (noauth: user:project).
        self.api = self.useFixture(fixtures.API(self.conf,
                                                project=self.project_id))
        self.smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=self.smtp.port,
                   from_address='notifier@example.org', group='driver_email')

    def _url(self, path):
        return self.keystone.url + path

    def _create(self, kind, body):
        key = kind[:-1]
        created = self.admin.post(self._url('/' + kind), json={key: body},
                                  raise_exc=True).json()[key]
        self.addCleanup(self.admin.delete,
                        self._url('/%s/%s' % (kind, created['id'])),
                        raise_exc=False)
        return created['id']

    def _grant(self, user_id, role):
        role_id = self.admin.get(self._url('/roles'), params={'name': role},
                                 raise_exc=True).json()['roles'][0]['id']
        self.admin.put(self._url('/projects/%s/users/%s/roles/%s' % (
            self.project_id, user_id, role_id)), raise_exc=True)

    def test_identity_functions_answer_from_keystone(self):
        self.assertEqual([self.admin_email], identity.project_admin_emails(
            self.conf, self.project_id))
        self.assertEqual(
            sorted([self.admin_email, self.member_email]),
            [u['email'] for u in identity.project_user_emails(
                self.conf, self.project_id)])
        # Effective assignments: admin implies member in Keystone.
        self.assertEqual(sorted([self.admin_email, self.member_email]), [
            u['email'] for u in identity.project_user_emails(
                self.conf, self.project_id, role='member')])
        self.assertEqual([self.admin_email], [
            u['email'] for u in identity.project_user_emails(
                self.conf, self.project_id, role='admin')])
        self.assertEqual([], identity.child_projects(self.conf,
                                                     self.project_id))

    def test_preview_resolves_admins(self):
        preview = self.api.post('/v1/templates/vm/preview', {'template': {
            'to': {'type': 'admins'},
            'bcc': {'type': 'specified',
                    'email_addresses': ['audit@example.org']}}},
            headers=V1_6, status=200).json['preview']
        self.assertEqual({'type': 'admins',
                          'email_addresses': [self.admin_email]},
                         preview['recipients']['to'])

    def test_notification_is_mailed_to_the_project_admins(self):
        destination = self.api.post('/v1/destinations', {'destination': {
            'name': 'mail', 'medium': 'email',
            'settings': {'email_address': 'oncall@example.org'}}},
            headers=V1_6, status=201).json['destination']
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [destination['id']],
            'filters': {}}}, headers=V1_6, status=201)
        self.api.put('/v1/templates/vm', {'template': {
            'to': {'type': 'admins'}}}, headers=V1_6, status=200)
        created = self.api.post('/v1/notifications', base.notification_body(
            'VM'), status=202).json['notification']
        self.wait_for_status(created['id'], ['finished'], timeout=30)
        [received] = self.smtp.messages
        self.assertEqual([self.admin_email], received.rcpt_tos)
        self.assertEqual(self.admin_email,
                         email.message_from_bytes(received.content)['To'])


class TestKeystoneUnreachable(test_base.TestCase):

    def test_unreachable_keystone_is_a_clear_identity_error(self):
        self.conf_fixture.register_opts(
            ks_loading.get_auth_plugin_conf_options('password'),
            group='service_user')
        # Nothing listens there.
        self.flags(group='service_user', auth_type='password',
                   auth_url='http://127.0.0.1:%d/v3' % receivers.free_port(),
                   username='notifier', password='secret-pass',
                   project_name='service', user_domain_id='default',
                   project_domain_id='default', timeout=5)
        identity.reset()
        self.addCleanup(identity.reset)
        error = self.assertRaises(exception.IdentityUnavailable,
                                  identity.project_admin_emails, self.conf,
                                  'p1')
        self.assertIn('[service_user]', str(error))
        self.assertNotIn('secret-pass', str(error))
