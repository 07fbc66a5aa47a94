"""Keystone authentication, project isolation and secure-RBAC policy,
against a real Keystone.

notifier-api (``[api] auth_strategy = keystone``) and notifier-engine run as
processes on a SQLite file and the machine's RabbitMQ; the API validates
real tokens through keystonemiddleware against the Keystone of
:mod:`notifier.tests.functional.keystone` (users and roles are listed
there). One deployment is shared by the tests of this class in a test
process; every test makes its own notifications and hosts, with unique
payloads and names, so the tests do not depend on each other.
"""

import collections
import shutil
import tempfile
import time
import uuid

from keystoneauth1 import session as ks_session
import requests
from testtools import content

from notifier.api import microversion
from notifier.api import router
from notifier.tests.functional import keystone
from notifier.tests.functional import services

HTTP_TIMEOUT = 30
FINISH_TIMEOUT = 60
V1_1 = {'OpenStack-API-Version': 'notification 1.1'}
V1_4 = {'OpenStack-API-Version': 'notification 1.4'}
LATEST = {'OpenStack-API-Version': 'notification latest'}


def unique(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


def vm_notification(hostname='compute-1', project_id=None):
    """A masakari VM notification with a payload of its own (no 409 from
    duplicate detection)."""
    body = {'notification': {
        'type': 'VM', 'hostname': hostname,
        'generated_time': '2026-11-23T10:00:00',
        'payload': {'event': 'LIFECYCLE',
                    'vir_domain_event': 'STOPPED_FAILED',
                    'instance_uuid': str(uuid.uuid4())}}}
    if project_id is not None:
        body['notification']['project_id'] = project_id
    return body


class KeystoneTest(services.RealServicesTestCase):

    # One deployment per class and test process (started by the first
    # test, stopped after the last).
    _shared = None
    _shared_error = None
    _shared_dir = None

    @classmethod
    def _deployment(cls, ks):
        if cls._shared is None and cls._shared_error is None:
            # Outside the first test's own temp dir (removed after it).
            cls._shared_dir = tempfile.mkdtemp(prefix='notifier-ks-db-',
                                               dir=keystone.REAL_TMPDIR)
            deployment = services.Deployment(
                'sqlite:///%s/notifier.sqlite' % cls._shared_dir, conf={
                    'api': {'auth_strategy': 'keystone'},
                    'keystone_authtoken': ks.authtoken_conf(),
                })
            try:
                saved, tempfile.tempdir = tempfile.tempdir, cls._shared_dir
                try:
                    deployment.setUp()  # makes its work dir in tempdir
                finally:
                    tempfile.tempdir = saved
                try:
                    deployment.db_sync()
                    deployment.wait_ready(deployment.spawn_api(),
                                          deployment.spawn_engine())
                except Exception:
                    deployment.cleanUp()
                    raise
            except Exception as e:
                cls._shared_error = e
            else:
                cls._shared = deployment
        if cls._shared_error is not None:
            raise RuntimeError('The shared deployment did not start: %s' %
                               cls._shared_error)
        return cls._shared

    @classmethod
    def tearDownClass(cls):
        if cls._shared is not None:
            cls._shared.cleanUp()
            cls._shared = None
        if cls._shared_dir is not None:
            shutil.rmtree(cls._shared_dir, ignore_errors=True)
            cls._shared_dir = None
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        keystone.skip_unless_keystone(self)
        services.skip_unless_broker(self)
        self.keystone = keystone.get()
        self.addOnException(self._attach_keystone_log)
        self.deployment = self._deployment(self.keystone)
        self._log_sources.append(self.deployment)
        self.api = self.deployment.apis[0]
        self.demo_id = self.keystone.project_id('demo')
        self.other_id = self.keystone.project_id('other')

    def _attach_keystone_log(self, exc_info):
        self.addDetail('log-keystone', content.text_content(
            self.keystone.log()))

    # Helpers

    def request(self, method, path, user=None, headers=None, **kwargs):
        """An HTTP request to the API; with ``user``, with that user's
        token (scoped to the user's project)."""
        headers = dict(headers or {})
        if user is not None:
            headers.update(self.keystone.headers(user))
        return requests.request(method, self.api.url + path,
                                headers=headers, timeout=HTTP_TIMEOUT,
                                **kwargs)

    def assert_status(self, expected, resp):
        self.assertEqual(expected, resp.status_code, '%s %s: %s' % (
            resp.request.method, resp.request.url, resp.text))
        return resp.json() if resp.content else None

    def post_notification(self, user, body=None, headers=None, expected=202):
        resp = self.request('POST', '/v1/notifications', user,
                            headers=headers, json=body or vm_notification())
        body = self.assert_status(expected, resp)
        return body['notification'] if expected == 202 else body

    def listed(self, user, **params):
        """ids of the notifications ``user`` lists."""
        params.setdefault('limit', 1000)
        body = self.assert_status(200, self.request(
            'GET', '/v1/notifications', user, params=params))
        return {n['id'] for n in body['notifications']}

    def create_host(self, user='demo-member', name=None):
        resp = self.request('POST', '/v1/hosts', user,
                            json={'host': {'name': name or unique('host')}})
        return self.assert_status(201, resp)['host']

    def set_maintenance(self, user, host_id, value=True):
        return self.request('PUT', '/v1/hosts/%s' % host_id, user,
                            json={'host': {'on_maintenance': value}})

    def wait_for_status(self, user, notification_id, wanted, timeout):
        deadline = time.monotonic() + timeout
        while True:
            shown = self.assert_status(200, self.request(
                'GET', '/v1/notifications/%s' % notification_id, user,
                headers=V1_1))['notification']
            if shown['status'] in wanted:
                return shown
            if time.monotonic() > deadline:
                self.fail('notification %s is %s after %ss, wanted %s' % (
                    notification_id, shown['status'], timeout, wanted))
            time.sleep(0.2)

    def assert_keystone_challenge(self, resp):
        self.assertEqual(401, resp.status_code, resp.text)
        self.assertEqual('Keystone uri="%s"' % self.keystone.url,
                         resp.headers.get('WWW-Authenticate'))

    # Authentication

    def test_no_token_is_401_with_keystone_challenge(self):
        for method, path in (('GET', '/v1/notifications'),
                             ('POST', '/v1/notifications'),
                             ('GET', '/v1/hosts'),
                             ('GET', '/v1/%s/notifications' % self.demo_id)):
            self.assert_keystone_challenge(self.request(
                method, path, json=vm_notification()
                if method == 'POST' else None))

    def test_bad_token_is_401_with_keystone_challenge(self):
        for token in ('bogus', 'demo-member:demo',
                      # a well-formed token for another Keystone's keys
                      'gAAAAABn' + 'A' * 180):
            self.assert_keystone_challenge(self.request(
                'GET', '/v1/notifications', headers={'X-Auth-Token': token}))

    def test_system_scoped_token_is_refused(self):
        # Notifier's rules are all project-scoped; a system-scoped token
        # carries no project for the context.
        token = ks_session.Session(auth=self.keystone.auth(
            'admin', system_scope='all')).get_token()
        resp = self.request('GET', '/v1/notifications',
                            headers={'X-Auth-Token': token})
        self.assertEqual(401, resp.status_code, resp.text)
        self.assertIn('not scoped to a project', resp.text)

    def test_discovery_and_healthcheck_need_no_token(self):
        versions = self.assert_status(200, self.request('GET', '/'))
        self.assertEqual('v1.0', versions['versions'][0]['id'])
        for path in ('/v1', '/v1/'):
            version = self.assert_status(200, self.request('GET', path))
            self.assertEqual(microversion.VERSIONS[-1],
                             version['version']['version'])
        resp = self.request('GET', '/healthcheck')
        self.assertEqual(200, resp.status_code, resp.text)
        self.assertEqual('OK', resp.text)

    # Projects

    def test_projects_are_isolated_both_ways(self):
        ours = self.post_notification('demo-member')
        theirs = self.post_notification('other-member')
        self.assertEqual(self.demo_id, ours['project_id'])
        self.assertEqual(self.other_id, theirs['project_id'])

        for user, own, foreign, foreign_project in (
                ('demo-member', ours, theirs, self.other_id),
                ('other-member', theirs, ours, self.demo_id)):
            listed = self.listed(user)
            self.assertIn(own['id'], listed)
            self.assertNotIn(foreign['id'], listed)
            # all_projects is an admin's switch; for others it is ignored.
            self.assertNotIn(foreign['id'],
                             self.listed(user, all_projects='true'))
            self.assertNotIn(foreign['id'],
                             self.listed(user, project_id=foreign_project))
            for key in ('id', 'notification_uuid'):
                resp = self.request('GET', '/v1/notifications/%s' %
                                    foreign[key], user)
                self.assert_status(404, resp)
            # Naming the other project in the URL is a 404 too.
            resp = self.request('GET', '/v1/%s/notifications/%s' % (
                foreign_project, foreign['id']), user)
            self.assert_status(404, resp)
            resp = self.request('GET', '/v1/%s/notifications' %
                                foreign_project, user)
            self.assert_status(404, resp)

    def test_reader_lists_and_shows_but_cannot_post(self):
        posted = self.post_notification('demo-member')
        self.assertIn(posted['id'], self.listed('demo-reader'))
        shown = self.assert_status(200, self.request(
            'GET', '/v1/notifications/%s' % posted['id'], 'demo-reader'))
        self.assertEqual(posted['notification_uuid'],
                         shown['notification']['notification_uuid'])
        resp = self.request('POST', '/v1/notifications', 'demo-reader',
                            json=vm_notification())
        self.assertIn('forbidden', self.assert_status(403, resp))
        resp = self.request('POST', '/v1/hosts', 'demo-reader',
                            json={'host': {'name': unique('host')}})
        self.assert_status(403, resp)

    def test_member_posts_and_notification_finishes(self):
        posted = self.post_notification('demo-member')
        self.assertEqual('new', posted['status'])
        shown = self.wait_for_status('demo-member', posted['id'],
                                     {'finished'}, FINISH_TIMEOUT)
        self.assertEqual(self.demo_id, shown['project_id'])
        # The project-prefixed URL masakari's catalog uses works as well.
        resp = self.request('GET', '/v1/%s/notifications/%s' % (
            self.demo_id, posted['id']), 'demo-member')
        self.assert_status(200, resp)

    def test_admin_sees_every_project_and_filters_by_project(self):
        ours = self.post_notification('demo-member')
        theirs = self.post_notification('other-member')
        # Without all_projects, the admin's own project only.
        own = self.listed('demo-admin')
        self.assertIn(ours['id'], own)
        self.assertNotIn(theirs['id'], own)
        every = self.listed('demo-admin', all_projects='true')
        self.assertTrue({ours['id'], theirs['id']} <= every, every)
        for project_id, wanted, unwanted in ((self.other_id, theirs, ours),
                                             (self.demo_id, ours, theirs)):
            resp = self.request('GET', '/v1/notifications', 'demo-admin',
                                params={'all_projects': 'true',
                                        'project_id': project_id})
            listed = self.assert_status(200, resp)['notifications']
            self.assertEqual({project_id}, {n['project_id'] for n in listed})
            ids = {n['id'] for n in listed}
            self.assertIn(wanted['id'], ids)
            self.assertNotIn(unwanted['id'], ids)
        # And it can show another project's notification.
        resp = self.request('GET', '/v1/notifications/%s' % theirs['id'],
                            'demo-admin')
        self.assert_status(200, resp)

    # The service user (microversion 1.4)

    def test_service_user_posts_for_a_project(self):
        posted = self.post_notification(
            keystone.SERVICE_USER, headers=V1_4,
            body=vm_notification(hostname=unique('compute'),
                                 project_id=self.demo_id))
        self.assertEqual(self.demo_id, posted['project_id'])
        self.assertIn(posted['id'], self.listed('demo-member'))
        self.assertNotIn(posted['id'], self.listed('other-member'))
        resp = self.request('GET', '/v1/notifications/%s' % posted['id'],
                            'demo-member')
        self.assert_status(200, resp)
        self.wait_for_status('demo-member', posted['id'], {'finished'},
                             FINISH_TIMEOUT)

    def test_member_cannot_post_for_another_project(self):
        resp = self.request('POST', '/v1/notifications', 'demo-member',
                            headers=V1_4, json=vm_notification(
                                project_id=self.other_id))
        self.assert_status(403, resp)
        # Its own project it may name.
        resp = self.request('POST', '/v1/notifications', 'demo-member',
                            headers=V1_4, json=vm_notification(
                                project_id=self.demo_id))
        self.assert_status(202, resp)

    # Hosts: maintenance

    def test_member_cannot_put_a_host_on_maintenance_admin_can(self):
        host = self.create_host('demo-member')
        self.assert_status(403, self.set_maintenance('demo-member',
                                                     host['id']))
        updated = self.assert_status(200, self.set_maintenance(
            'demo-admin', host['id']))['host']
        self.assertTrue(updated['on_maintenance'])
        # Which makes a notification for it a 409.
        resp = self.request('POST', '/v1/notifications', 'demo-member',
                            json=vm_notification(hostname=host['name']))
        self.assert_status(409, resp)
        self.assert_status(200, self.set_maintenance(
            'demo-admin', host['id'], False))

    def test_service_user_puts_a_projects_host_on_maintenance(self):
        # The monitoring agent's flow: it posts an alert for a tenant's
        # host (registering the host in the tenant's project), then puts
        # that host on maintenance. hosts:update is "admin or service".
        posted = self.post_notification(
            keystone.SERVICE_USER, headers=V1_4,
            body=vm_notification(hostname=unique('compute'),
                                 project_id=self.demo_id))
        host_id = posted['source_host_uuid']
        resp = self.set_maintenance(keystone.SERVICE_USER, host_id)
        self.assertTrue(self.assert_status(200, resp)['host'][
            'on_maintenance'])
        shown = self.assert_status(200, self.request(
            'GET', '/v1/hosts/%s' % host_id, 'demo-member'))['host']
        self.assertTrue(shown['on_maintenance'])

    def test_service_user_puts_its_own_projects_host_on_maintenance(self):
        host = self.create_host(keystone.SERVICE_USER)
        resp = self.set_maintenance(keystone.SERVICE_USER, host['id'])
        self.assertTrue(self.assert_status(200, resp)['host'][
            'on_maintenance'])

    # Every route, with a role that grants nothing

    # A valid request body for every route that takes one, so that the
    # policy, not the schema, decides. A new POST/PUT route needs one here.
    BODIES = {
        ('/v1/notifications', 'POST'): lambda v: vm_notification(),
        ('/v1/hosts', 'POST'): lambda v: {'host': {'name': unique('h')}},
        ('/v1/hosts/{host_id}', 'PUT'):
            lambda v: {'host': {'on_maintenance': True}},
        ('/v1/destinations', 'POST'): lambda v: {'destination': {
            'name': unique('d'), 'medium': 'log'}},
        ('/v1/destinations/{destination_id}', 'PUT'):
            lambda v: {'destination': {'enabled': False}},
        ('/v1/destinations/{destination_id}/test', 'POST'): lambda v: None,
        ('/v1/subscriptions', 'POST'): lambda v: {'subscription': {
            'name': unique('s'), 'destinations': [v['destination_id']]}},
        ('/v1/subscriptions/{subscription_id}', 'PUT'):
            lambda v: {'subscription': {'enabled': False}},
        ('/v1/templates/{template_id}', 'PUT'):
            lambda v: {'template': {'subject': 'changed'}},
        ('/v1/templates/{template_id}', 'POST'): lambda v: None,
        ('/v1/templates/{template_id}/preview', 'POST'):
            lambda v: {'template': {}},
        ('/v1/deliveries/{delivery_id}/resend', 'POST'): lambda v: None,
        ('/v1/notifications/{notification_id}/reprocess', 'POST'):
            lambda v: None,
        ('/v1/messages', 'POST'): lambda v: {'m_body': 'x'},
        ('/v1/messages/slack', 'POST'): lambda v: {'m_body': 'x'},
        ('/v1/messages/email', 'POST'): lambda v: {
            'm_to': 'ops@example.org', 'm_body': 'x'},
        ('/v1/broadcasts', 'POST'): lambda v: {'broadcast': {}},
    }

    def _demo_resources(self):
        """URL placeholder -> the id of a resource of project demo, made
        by demo-member; a random uuid for a placeholder not known here
        (or whose resource could not be made)."""
        values = collections.defaultdict(lambda: str(uuid.uuid4()))
        values['project_id'] = self.demo_id
        values['notification_id'] = self.post_notification(
            'demo-member')['id']
        values['host_id'] = self.create_host('demo-member')['id']
        values['template_id'] = 'process'
        for key, path in (('destination_id', '/v1/destinations'),
                          ('subscription_id', '/v1/subscriptions')):
            resp = self.request('POST', path, 'demo-member', headers=LATEST,
                                json=self.BODIES[path, 'POST'](values))
            if resp.status_code == 201:
                values[key] = resp.json()[path.split('/')[-1][:-1]]['id']
            else:
                self.addDetail('could-not-create-%s' % key,
                               content.text_content(resp.text))
        return values

    def test_unrelated_role_is_refused_on_every_route(self):
        values = self._demo_resources()
        answers = []
        for path, handlers in sorted(router.ROUTES.items()):
            if path in ('/', '/v1'):
                continue
            for method in sorted(handlers):
                body = None
                if method in ('POST', 'PUT', 'PATCH'):
                    self.assertIn((path, method), self.BODIES,
                                  'add a valid request body for %s %s to '
                                  'KeystoneTest.BODIES' % (method, path))
                    body = self.BODIES[path, method](values)
                for template in (path, router.PROJECT_PREFIX +
                                 path[len('/v1'):]):
                    url = template.format_map(values)
                    # The newest microversion, so that no route is a 404
                    # merely for being too new.
                    resp = self.request(method, url, 'unrelated',
                                        headers=LATEST, json=body)
                    answers.append((method, url, resp.status_code,
                                    resp.text[:200]))
        refused = [a for a in answers if a[2] in (403, 404)]
        self.assertEqual(answers, refused)
        # Not all 404s: the policy is what refuses.
        self.assertIn(403, {a[2] for a in answers})
        # And nothing changed.
        shown = self.assert_status(200, self.request(
            'GET', '/v1/hosts/%s' % values['host_id'], 'demo-member'))[
                'host']
        self.assertFalse(shown['on_maintenance'])

    # openstacksdk, as a masakari client

    def test_openstacksdk_instance_ha_proxy(self):
        from openstack import connection

        conn = connection.Connection(
            session=self.keystone.session('demo-member'),
            region_name=keystone.REGION,
            instance_ha_endpoint_override=self.api.url + '/v1')
        self.addCleanup(conn.close)
        body = vm_notification(hostname=unique('compute'))['notification']
        created = conn.instance_ha.create_notification(**body)
        self.assertEqual(body['hostname'], created.hostname)
        self.assertEqual('new', created.status)
        # (The SDK's Notification has no project_id; the API's has.)
        resp = self.request('GET', '/v1/notifications/%s' % created.id,
                            'demo-member')
        self.assertEqual(self.demo_id,
                         self.assert_status(200, resp)['notification'][
                             'project_id'])

        listed = {n.notification_uuid: n
                  for n in conn.instance_ha.notifications()}
        self.assertIn(created.notification_uuid, listed)

        shown = conn.instance_ha.get_notification(created.notification_uuid)
        self.assertEqual(created.id, shown.id)
        self.assertEqual(body['payload'], shown.payload)
