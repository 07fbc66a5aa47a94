"""Broadcasts (Kazoo's customer_update) resolved against the real Keystone
of the tests: a parent project with two children, admins and members with
email addresses, and a project that is not a child. The mails are received
by a real SMTP server.

The API runs in the test process (noauth, acting as a manager of the
parent project); the recipients are resolved through Keystone with the
``[service_user]`` credentials, as in production.
"""

import base64
import email
import email.policy
import time
import uuid

from keystoneauth1 import loading as ks_loading

from notifier import identity
from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers
from notifier.tests.functional import keystone

V1_7 = {'OpenStack-API-Version': 'notification 1.7'}
TIMEOUT = 30
DONE = ('finished', 'failed', 'ignored')


class Hierarchy:
    """A parent project with children ``a`` and ``b``, and ``outsider`` (a
    project of its own), with users; made in Keystone once per process
    and removed at exit."""

    # user -> (project, role, has an email address)
    USERS = {
        'a-admin': ('a', 'manager', True),
        'a-member': ('a', 'member', True),
        'a-nomail': ('a', 'member', False),
        'b-admin': ('b', 'manager', True),
        'b-member': ('b', 'member', True),
        'x-admin': ('outsider', 'manager', True),
    }

    def __init__(self, ks):
        self.ks = ks
        self.session = ks.session('admin')
        # A whole uuid: the API samples compare names with one as equal.
        self.suffix = uuid.uuid4().hex
        self.projects = {}
        self.users = {}

    def _post(self, path, body):
        return self.session.post(self.ks.url + path, json=body,
                                 raise_exc=True).json()

    def email(self, user):
        return '%s-%s@example.org' % (user, self.suffix)

    def create(self):
        roles = {r['name']: r['id'] for r in self.session.get(
            self.ks.url + '/roles', raise_exc=True).json()['roles']}
        parent = self._post('/projects', {'project': {
            'name': 'reseller-' + self.suffix,
            'domain_id': 'default'}})['project']['id']
        self.projects['parent'] = parent
        for name, parent_id in (('a', parent), ('b', parent),
                                ('outsider', None)):
            body = {'name': 'customer-%s-%s' % (name, self.suffix),
                    'domain_id': 'default'}
            if parent_id:
                body['parent_id'] = parent_id
            self.projects[name] = self._post(
                '/projects', {'project': body})['project']['id']
        for user, (project, role, has_email) in self.USERS.items():
            body = {'name': '%s-%s' % (user, self.suffix),
                    'domain_id': 'default', 'password': 'x' + self.suffix}
            if has_email:
                body['email'] = self.email(user)
            user_id = self._post('/users', {'user': body})['user']['id']
            self.users[user] = user_id
            self.session.put('%s/projects/%s/users/%s/roles/%s' % (
                self.ks.url, self.projects[project], user_id, roles[role]),
                raise_exc=True)

    def delete(self):
        for user_id in self.users.values():
            self.session.delete(self.ks.url + '/users/' + user_id)
        for name in ('a', 'b', 'outsider', 'parent'):
            project_id = self.projects.get(name)
            if project_id:
                url = self.ks.url + '/projects/' + project_id
                self.session.patch(url, json={'project': {'enabled': False}})
                self.session.delete(url)


def use_keystone(test, url):
    """Look people up in Keystone at ``url`` as its admin user."""
    # The password plugin's options, as identity registers them when it
    # loads the plugin; through the fixture, which unregisters them
    # after the test (some are required: left registered, they would
    # stop the next test's configuration from parsing).
    test.conf_fixture.register_opts(
        ks_loading.get_auth_plugin_conf_options('password'),
        group='service_user')
    test.flags(group='service_user', auth_type='password', auth_url=url,
               username='admin', password=keystone.password('admin'),
               project_name='admin', user_domain_id='default',
               project_domain_id='default', admin_role='manager',
               cache_time=0)
    # A new session for the new options, and no cached answers.
    identity.reset()
    test.addCleanup(identity.reset)


class TestBroadcasts(base.FunctionalTestCase):

    _hierarchy = None

    @classmethod
    def tearDownClass(cls):
        if cls._hierarchy is not None:
            cls._hierarchy.delete()
            cls._hierarchy = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        keystone.skip_unless_keystone(self)
        self.keystone = keystone.get()
        cls = type(self)
        if cls._hierarchy is None:
            hierarchy = Hierarchy(self.keystone)
            try:
                hierarchy.create()
            except Exception:
                hierarchy.delete()
                raise
            cls._hierarchy = hierarchy
        self.h = cls._hierarchy
        self.use_keystone(self.keystone.url)
        self.smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=self.smtp.port,
                   from_address='reseller@example.org', group='driver_email')
        self.flags(retry_initial_delay=0.0, group='engine')
        self.manager = self.useFixture(base.fixtures.API(
            self.conf, project=self.h.projects['parent'], user='boss',
            roles='manager,member,reader'))

    def use_keystone(self, url):
        use_keystone(self, url)

    def broadcast(self, status=202, api=None, **fields):
        resp = (api or self.manager).post('/v1/broadcasts',
                                          {'broadcast': fields},
                                          headers=V1_7, status=status)
        return resp.json.get('broadcast', resp.json)

    def wait(self, broadcast_id, statuses=DONE):
        deadline = time.monotonic() + TIMEOUT
        while True:
            shown = self.manager.get('/v1/broadcasts/%s' % broadcast_id,
                                     headers=V1_7).json['broadcast']
            if shown['status'] in statuses:
                return shown
            if time.monotonic() > deadline:
                self.fail('Broadcast %s is %s after %ss' % (
                    broadcast_id, shown['status'], TIMEOUT))
            time.sleep(0.1)

    def recipients(self, shown):
        names = {v: k for k, v in self.h.users.items()}
        return sorted(names[r['user_id']] for r in shown['recipients'])

    def mailed(self):
        return sorted(r for m in self.smtp.messages for r in m.rcpt_tos)

    def test_admins_of_every_child_by_default(self):
        sent = self.broadcast(subject='Planned maintenance',
                              body='We reboot the routers at 22:00.')
        self.assertEqual('admins_only', sent['user_type'])
        self.assertIsNone(sent['recipients'])
        shown = self.wait(sent['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual(['a-admin', 'b-admin'], self.recipients(shown))
        self.assertEqual(sorted([self.h.email('a-admin'),
                                 self.h.email('b-admin')]), self.mailed())
        # One delivery per recipient, in the ledger.
        self.assertEqual(2, len(shown['deliveries']))
        self.assertEqual({'delivered'},
                         {d['status'] for d in shown['deliveries']})
        self.assertEqual(
            sorted('user:%s:%s' % (self.h.projects[p[0]], self.h.users[p])
                   for p in ('a-admin', 'b-admin')),
            sorted(d['target'] for d in shown['deliveries']))
        mail = next(
            email.message_from_bytes(m.content, policy=email.policy.default)
            for m in self.smtp.messages
            if m.rcpt_tos == [self.h.email('a-admin')])
        self.assertEqual('Planned maintenance', mail['Subject'])
        text = mail.get_body(('plain',)).get_content()
        # The shipped customer_update template, rendered per recipient.
        self.assertIn('Dear a-admin-%s' % self.h.suffix, text)
        self.assertIn('We reboot the routers at 22:00.', text)

    def test_all_users_of_one_child(self):
        shown = self.wait(self.broadcast(
            recipient_id=self.h.projects['a'], user_type='all_users',
            subject='Hello A', body='Only for customer A.')['id'])
        self.assertEqual('finished', shown['status'])
        # a-nomail has no address: left out.
        self.assertEqual(['a-admin', 'a-member'], self.recipients(shown))
        self.assertEqual(sorted([self.h.email('a-admin'),
                                 self.h.email('a-member')]), self.mailed())

    def test_one_user_by_id(self):
        shown = self.wait(self.broadcast(
            user_type=self.h.users['b-member'], subject='Just you',
            body='Your invoice is ready.')['id'])
        self.assertEqual(['b-member'], self.recipients(shown))
        self.assertEqual([self.h.email('b-member')], self.mailed())

    def test_a_project_that_is_not_a_child_is_a_404(self):
        for project_id in (self.h.projects['outsider'], uuid.uuid4().hex):
            error = self.broadcast(recipient_id=project_id, status=404)
            self.assertIn('is not a child project',
                          error['itemNotFound']['message'])
        self.assertEqual([], self.smtp.messages)

    def test_a_child_without_children_has_no_one_to_send_to(self):
        child = self.useFixture(base.fixtures.API(
            self.conf, project=self.h.projects['a'], user='a',
            roles='manager,member,reader'))
        sent = self.broadcast(api=child, subject='x', body='y')
        deadline = time.monotonic() + TIMEOUT
        while True:
            shown = child.get('/v1/broadcasts/%s' % sent['id'],
                              headers=V1_7).json['broadcast']
            if shown['status'] in DONE or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual('ignored', shown['status'])
        self.assertEqual([], shown['recipients'])

    def test_subject_and_bodies_override_the_template(self):
        html = '<p>Hello <b>{{ user.name }}</b> of {{ project.name }}</p>'
        shown = self.wait(self.broadcast(
            recipient_id=self.h.projects['b'], user_type='admins_only',
            subject='News for {{ project.name }}',
            html=base64.b64encode(html.encode()).decode(),
            plain='Hello {{ user.name }}')['id'])
        self.assertEqual('finished', shown['status'])
        [received] = self.smtp.messages
        mail = email.message_from_bytes(received.content,
                                        policy=email.policy.default)
        self.assertEqual('News for customer-b-%s' % self.h.suffix,
                         mail['Subject'])
        self.assertEqual('Hello b-admin-%s' % self.h.suffix,
                         mail.get_body(('plain',)).get_content().strip())
        self.assertIn('<b>b-admin-%s</b>' % self.h.suffix,
                      mail.get_body(('html',)).get_content())

    def test_bad_overrides_are_a_400(self):
        error = self.broadcast(html='not base64!', status=400)
        self.assertIn('base64', error['badRequest']['message'])
        error = self.broadcast(plain='Hi {{ user.nmae }}', status=400)
        self.assertIn('user.name', error['badRequest']['message'])

    def test_members_may_not_broadcast(self):
        member = self.useFixture(base.fixtures.API(
            self.conf, project=self.h.projects['parent'], user='m',
            roles='member,reader'))
        self.broadcast(api=member, status=403)

    def test_keystone_down_delays_the_broadcast_until_it_is_back(self):
        self.use_keystone('http://127.0.0.1:9/v3')
        sent = self.broadcast(subject='Later', body='When Keystone is back')
        shown = self.wait(sent['id'], statuses=('error',))
        self.assertIsNone(shown['recipients'])
        self.assertEqual([], shown['deliveries'])
        self.use_keystone(self.keystone.url)
        self.assertEqual(1, self.engine.manager.run_periodic_tasks())
        shown = self.wait(sent['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual(['a-admin', 'b-admin'], self.recipients(shown))

    def test_keystone_down_with_a_recipient_id_is_a_503(self):
        self.use_keystone('http://127.0.0.1:9/v3')
        error = self.broadcast(recipient_id=self.h.projects['a'], status=503)
        self.assertIn('[service_user]',
                      error['serviceUnavailable']['message'])
