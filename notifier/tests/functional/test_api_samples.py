"""The API reference's samples are what the API really sends and accepts.

Every request sample under ``doc/api_samples`` is posted to the real
in-process API, and every response sample is compared with the response
the API really gave: the same keys at every level and the same values,
except the values that differ from run to run (ids, uuids, timestamps,
request ids, links, free-text messages, latencies, engine names), of which
only the JSON type is compared, and the uuids inside other strings (such
as a delivery's ``target``, ``destination:<uuid>``). Enumerations such as
``status``, ``type``, ``state`` or ``outcome`` must match exactly.

Request samples that name other resources (a subscription's
``destinations``) name them by example ids; the tests put the ids of the
resources they created in their place before posting.

Each test declares the samples it uses with :func:`uses`; a test that
does not load every sample it declares fails, and
:class:`TestSampleCoverage` fails when a file under ``doc/api_samples`` is
used by no test or shown nowhere in ``api-ref``.

To rewrite the response samples from the API's real answers (after an
API change), run with ``NOTIFIER_GENERATE_API_SAMPLES=1``; the run-specific
values already in a sample are kept, so that the diff shows only what
changed.
"""

import functools
import json
import os
import re
import time

from oslo_utils import uuidutils

from notifier.api import microversion
from notifier.api.schemas import deliveries as deliveries_schema
from notifier.api.schemas import destinations as destinations_schema
from notifier.api.schemas import hosts as hosts_schema
from notifier.api.schemas import notifications as notifications_schema
from notifier.api.schemas import subscriptions as subscriptions_schema
from notifier.tests import base as test_base
from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers
from notifier.tests.functional import keystone
from notifier.tests.functional import test_broadcasts

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                   '..'))
SAMPLES_DIR = os.path.join(TOP, 'doc', 'api_samples')
API_REF_DIR = os.path.join(TOP, 'api-ref', 'source')
GENERATE = os.environ.get('NOTIFIER_GENERATE_API_SAMPLES') == '1'

# Keys whose values change from run to run: only their JSON type is
# compared. ``id`` is compared exactly unless it is an integer or a uuid
# (the version document's "v1.0" is not run-specific).
RUN_SPECIFIC = {'uuid', 'notification_uuid', 'source_host_uuid',
                'project_id', 'user_id', 'created_at', 'updated_at',
                'deleted_at', 'timestamp', 'request_id', 'href', 'message',
                'started_at', 'delivered_at', 'next_attempt_at',
                'latency_ms', 'engine', 'last_attempt_at'}
# A uuid inside any other string value is compared as "<uuid>".
# Keystone's ids are uuids without dashes.
UUID_IN_TEXT = re.compile(
    r'[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}')

ADMIN = {'X-Roles': 'admin,member,reader'}
V1_1 = {'OpenStack-API-Version': 'notification 1.1'}
V1_4 = {'OpenStack-API-Version': 'notification 1.4'}
V1_5 = {'OpenStack-API-Version': 'notification 1.5'}
V1_6 = {'OpenStack-API-Version': 'notification 1.6'}
V1_7 = {'OpenStack-API-Version': 'notification 1.7'}
# A member of another project.
OTHER_PROJECT = dict(V1_5, **{'X-Auth-Token': 'bob:other'})
# A monitoring agent's service user, in its own (service) project.
SERVICE = {'X-Auth-Token': 'monitor:service', 'X-Roles': 'service'}

# Every sample a test declared, filled in when this module is imported.
DECLARED = set()


def uses(*names):
    """Declare the samples a test uses; it fails if it loads fewer."""
    DECLARED.update(names)

    def decorator(f):
        @functools.wraps(f)
        def wrapper(self, *args, **kwargs):
            self.loaded = set()
            f(self, *args, **kwargs)
            unused = sorted(set(names) - self.loaded)
            self.assertEqual([], unused, 'declared but not checked')
        return wrapper
    return decorator


def _run_specific(key, value):
    if key == 'id':
        return isinstance(value, int) or uuidutils.is_uuid_like(value)
    return key in RUN_SPECIFIC


def _without_uuids(value):
    return UUID_IN_TEXT.sub('<uuid>', value)


def _json_type(value):
    return {bool: 'boolean', int: 'integer', float: 'number', str: 'string',
            list: 'array', dict: 'object', type(None): 'null'}[type(value)]


def differences(expected, actual, path='', key=None):
    """What differs between a sample and a real body, as readable lines."""
    here = path or '(top)'
    if _json_type(expected) != _json_type(actual):
        return ['%s: the sample has a JSON %s, the API sent a %s (%r)' % (
            here, _json_type(expected), _json_type(actual), actual)]
    if isinstance(expected, dict):
        def child(name):
            return '%s.%s' % (path, name) if path else name
        problems = []
        for missing in sorted(set(expected) - set(actual)):
            problems.append('%s: in the sample, not sent by the API' %
                            child(missing))
        for extra in sorted(set(actual) - set(expected)):
            problems.append('%s: sent by the API, not in the sample' %
                            child(extra))
        for name in sorted(set(expected) & set(actual)):
            problems.extend(differences(expected[name], actual[name],
                                        child(name), name))
        return problems
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return ['%s: the sample has %d items, the API sent %d' % (
                here, len(expected), len(actual))]
        problems = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            problems.extend(differences(e, a, '%s[%d]' % (path, i), key))
        return problems
    if key is not None and _run_specific(key, expected):
        return []
    if isinstance(expected, str) and (
            _without_uuids(expected) == _without_uuids(actual)):
        return []
    if expected != actual:
        return ['%s: the sample says %r, the API sent %r' % (
            here, expected, actual)]
    return []


def _keep_run_specific(old, new, key=None):
    """``new`` with the run-specific values of ``old`` where both have
    them, so that regenerated samples keep their example values."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: _keep_run_specific(old.get(k), v, k) if k in old else v
                for k, v in new.items()}
    if isinstance(old, list) and isinstance(new, list):
        return [_keep_run_specific(old[i], n, key) if i < len(old) else n
                for i, n in enumerate(new)]
    if (key is not None and _json_type(old) == _json_type(new) and
            _run_specific(key, new)):
        return old
    if (isinstance(old, str) and isinstance(new, str) and
            _without_uuids(old) == _without_uuids(new)):
        return old
    return new


def sample_files():
    found = set()
    for dirpath, _dirs, files in os.walk(SAMPLES_DIR):
        for name in files:
            found.add(os.path.relpath(os.path.join(dirpath, name),
                                      SAMPLES_DIR))
    return found


def slack_web_api(request):
    """Slack's chat.postMessage as Slack answers it; the Notifier app has
    not been invited to #ops-private."""
    if request.json().get('channel') == '#ops-private':
        return 200, {}, {'ok': False, 'error': 'not_in_channel'}
    return 200, {}, {'ok': True, 'channel': 'C0123ALERTS',
                     'ts': '1700000000.000100'}


class SampleTestCase(base.FunctionalTestCase):

    def _path(self, name):
        self.assertIn(name, DECLARED, 'declare it with @uses')
        self.loaded.add(name)
        return os.path.join(SAMPLES_DIR, name)

    def request_sample(self, name):
        with open(self._path(name)) as f:
            return json.load(f)

    def assert_response_sample(self, name, response):
        path = self._path(name)
        actual = response.json
        if GENERATE:
            old = None
            if os.path.exists(path):
                with open(path) as f:
                    old = json.load(f)
            with open(path, 'w') as f:
                json.dump(_keep_run_specific(old, actual), f, indent=4)
                f.write('\n')
        with open(path) as f:
            expected = json.load(f)
        problems = differences(expected, actual)
        self.assertEqual([], problems,
                         '%s does not match the real response:\n%s' % (
                             name, json.dumps(actual, indent=4)))

    def post_notification(self, name, status=202):
        return self.api.post('/v1/notifications', self.request_sample(name),
                             status=status)

    def deliver(self, name):
        """Post a notification sample and wait until it is finished."""
        created = self.post_notification(name).json['notification']
        self.wait_for_status(created['id'], ['finished'])
        return created

    def use_slack(self):
        """The slack driver posts to a Slack-compatible Web API on
        loopback, with the operator's bot token."""
        slack = self.useFixture(receivers.HTTPReceiver(slack_web_api))
        self.flags(group='driver_slack', token='xoxb-sample-token',
                   base_url=slack.url + '/api/')

    def create_destination(self, name, headers=V1_5):
        return self.api.post('/v1/destinations', self.request_sample(name),
                             headers=headers, status=201)

    def subscription_request(self, name, *destination_ids):
        """A subscription sample naming these destinations instead of the
        sample's example ids."""
        body = self.request_sample(name)
        self.assertEqual(len(destination_ids),
                         len(body['subscription']['destinations']))
        body['subscription']['destinations'] = list(destination_ids)
        return body


class TestVersionSamples(SampleTestCase):
    start_engine = False

    @uses('versions/versions-list-resp.json')
    def test_list_versions(self):
        self.assert_response_sample('versions/versions-list-resp.json',
                                    self.api.get('/', status=200))

    @uses('versions/version-show-resp.json')
    def test_show_version(self):
        self.assert_response_sample('versions/version-show-resp.json',
                                    self.api.get('/v1', status=200))


class TestNotificationSamples(SampleTestCase):

    @uses('notifications/host-notification-create-req.json',
          'notifications/host-notification-create-resp.json',
          'notifications/notification-get-resp.json',
          'notifications/notification-get-v1.1-resp.json')
    def test_create_and_show_compute_host_notification(self):
        resp = self.post_notification(
            'notifications/host-notification-create-req.json')
        self.assert_response_sample(
            'notifications/host-notification-create-resp.json', resp)
        notification_id = resp.json['notification']['id']
        self.wait_for_status(notification_id, ['finished'])
        url = '/v1/notifications/%s' % notification_id
        self.assert_response_sample(
            'notifications/notification-get-resp.json',
            self.api.get(url, status=200))
        self.assert_response_sample(
            'notifications/notification-get-v1.1-resp.json',
            self.api.get(url, headers=V1_1, status=200))

    @uses('destinations/destination-create-req.json',
          'subscriptions/subscription-create-req.json',
          'notifications/host-notification-create-req.json',
          'notifications/notification-get-v1.5-resp.json')
    def test_show_notification_with_its_deliveries(self):
        self.use_slack()
        slack = self.create_destination(
            'destinations/destination-create-req.json').json['destination']
        self.api.post('/v1/subscriptions', self.subscription_request(
            'subscriptions/subscription-create-req.json', slack['id']),
            headers=V1_5, status=201)
        created = self.deliver(
            'notifications/host-notification-create-req.json')
        self.assert_response_sample(
            'notifications/notification-get-v1.5-resp.json',
            self.api.get('/v1/notifications/%s' % created['id'],
                         headers=V1_5, status=200))

    @uses('notifications/process-notification-create-req.json',
          'notifications/process-notification-create-resp.json')
    def test_create_process_notification(self):
        self.assert_response_sample(
            'notifications/process-notification-create-resp.json',
            self.post_notification(
                'notifications/process-notification-create-req.json'))

    @uses('notifications/vm-notification-create-req.json',
          'notifications/vm-notification-create-resp.json')
    def test_create_vm_notification(self):
        self.assert_response_sample(
            'notifications/vm-notification-create-resp.json',
            self.post_notification(
                'notifications/vm-notification-create-req.json'))

    @uses('notifications/notification-create-for-project-req.json',
          'notifications/notification-create-for-project-resp.json')
    def test_service_user_creates_for_the_hosts_project(self):
        body = self.request_sample(
            'notifications/notification-create-for-project-req.json')
        resp = self.api.post('/v1/notifications', body, status=202,
                             headers=dict(V1_4, **SERVICE))
        self.assert_response_sample(
            'notifications/notification-create-for-project-resp.json', resp)
        self.assertEqual(body['notification']['project_id'],
                         resp.json['notification']['project_id'])

    @uses('notifications/host-notification-create-req.json',
          'notifications/process-notification-create-req.json',
          'notifications/vm-notification-create-req.json',
          'notifications/notifications-list-resp.json')
    def test_list_notifications(self):
        # One at a time, each finished before the next: the list shows
        # them newest first, all finished.
        self.deliver('notifications/host-notification-create-req.json')
        self.deliver('notifications/process-notification-create-req.json')
        self.deliver('notifications/vm-notification-create-req.json')
        self.assert_response_sample(
            'notifications/notifications-list-resp.json',
            self.api.get('/v1/notifications', status=200))

    @uses('notifications/host-notification-create-req.json',
          'notifications/notification-create-duplicate-resp.json')
    def test_duplicate_notification_is_409(self):
        self.deliver('notifications/host-notification-create-req.json')
        self.assert_response_sample(
            'notifications/notification-create-duplicate-resp.json',
            self.post_notification(
                'notifications/host-notification-create-req.json',
                status=409))

    @uses('notifications/notification-create-invalid-req.json',
          'notifications/notification-create-invalid-resp.json')
    def test_invalid_payload_is_400(self):
        self.assert_response_sample(
            'notifications/notification-create-invalid-resp.json',
            self.post_notification(
                'notifications/notification-create-invalid-req.json',
                status=400))

    @uses('notifications/notification-get-not-found-resp.json')
    def test_unknown_notification_is_404(self):
        self.assert_response_sample(
            'notifications/notification-get-not-found-resp.json',
            self.api.get('/v1/notifications/9999', status=404))


class TestHostSamples(SampleTestCase):
    start_engine = False

    @uses('hosts/host-create-req.json', 'hosts/host-create-resp.json',
          'hosts/hosts-list-resp.json', 'hosts/host-show-resp.json',
          'hosts/host-update-req.json', 'hosts/host-update-resp.json',
          'hosts/host-create-conflict-resp.json',
          'notifications/host-notification-create-req.json',
          'hosts/host-on-maintenance-notification-resp.json')
    def test_host_life_cycle(self):
        body = self.request_sample('hosts/host-create-req.json')
        resp = self.api.post('/v1/hosts', body, status=201)
        self.assert_response_sample('hosts/host-create-resp.json', resp)
        url = '/v1/hosts/%s' % resp.json['host']['id']

        self.assert_response_sample('hosts/host-create-conflict-resp.json',
                                    self.api.post('/v1/hosts', body,
                                                  status=409))
        self.assert_response_sample('hosts/hosts-list-resp.json',
                                    self.api.get('/v1/hosts', status=200))
        self.assert_response_sample('hosts/host-show-resp.json',
                                    self.api.get(url, status=200))

        update = self.request_sample('hosts/host-update-req.json')
        self.assert_response_sample(
            'hosts/host-update-resp.json',
            self.api.put(url, update, headers=ADMIN, status=200))
        self.assert_response_sample(
            'hosts/host-on-maintenance-notification-resp.json',
            self.post_notification(
                'notifications/host-notification-create-req.json',
                status=409))

        resp = self.api.delete(url, headers=ADMIN, status=204)
        self.assertEqual(b'', resp.body)
        self.api.get(url, status=404)


class TestDestinationSamples(SampleTestCase):
    start_engine = False

    def setUp(self):
        super().setUp()
        self.use_slack()

    @uses('destinations/destination-create-req.json',
          'destinations/destination-create-resp.json',
          'destinations/destination-create-webhook-req.json',
          'destinations/destination-create-webhook-resp.json',
          'destinations/destinations-list-resp.json',
          'destinations/destination-show-resp.json',
          'destinations/destination-update-req.json',
          'destinations/destination-update-resp.json')
    def test_destination_life_cycle(self):
        resp = self.create_destination(
            'destinations/destination-create-req.json')
        self.assert_response_sample(
            'destinations/destination-create-resp.json', resp)
        slack_url = '/v1/destinations/%s' % resp.json['destination']['id']
        resp = self.create_destination(
            'destinations/destination-create-webhook-req.json')
        self.assert_response_sample(
            'destinations/destination-create-webhook-resp.json', resp)
        webhook_url = '/v1/destinations/%s' % resp.json['destination']['id']

        self.assert_response_sample(
            'destinations/destinations-list-resp.json',
            self.api.get('/v1/destinations', headers=V1_5, status=200))
        self.assert_response_sample(
            'destinations/destination-show-resp.json',
            self.api.get(slack_url, headers=V1_5, status=200))

        # Secrets are write-only: the answers name them, never show them.
        update = self.request_sample(
            'destinations/destination-update-req.json')
        resp = self.api.put(webhook_url, update, headers=V1_5, status=200)
        self.assert_response_sample(
            'destinations/destination-update-resp.json', resp)
        for secret in update['destination']['settings'].values():
            if secret is not None:
                self.assertNotIn(secret, resp.text)

        resp = self.api.delete(webhook_url, headers=V1_5, status=204)
        self.assertEqual(b'', resp.body)
        self.api.get(webhook_url, headers=V1_5, status=404)

    @uses('destinations/destination-create-req.json',
          'destinations/destination-test-resp.json',
          'destinations/destination-test-failed-resp.json')
    def test_test_send(self):
        destination = self.create_destination(
            'destinations/destination-create-req.json').json['destination']
        self.assert_response_sample(
            'destinations/destination-test-resp.json',
            self.api.post('/v1/destinations/%s/test' % destination['id'],
                          {}, headers=V1_5, status=200))
        private = self.api.post('/v1/destinations', {'destination': {
            'name': 'ops-private', 'medium': 'slack',
            'settings': {'channel': '#ops-private'}}},
            headers=V1_5, status=201).json['destination']
        self.assert_response_sample(
            'destinations/destination-test-failed-resp.json',
            self.api.post('/v1/destinations/%s/test' % private['id'],
                          {}, headers=V1_5, status=200))

    @uses('destinations/destination-create-unknown-medium-req.json',
          'destinations/destination-create-unknown-medium-resp.json',
          'destinations/destination-create-invalid-settings-req.json',
          'destinations/destination-create-invalid-settings-resp.json',
          'destinations/destination-create-not-configured-req.json',
          'destinations/destination-create-not-configured-resp.json')
    def test_invalid_destinations_are_400(self):
        for case in ('unknown-medium', 'invalid-settings', 'not-configured'):
            resp = self.api.post(
                '/v1/destinations', self.request_sample(
                    'destinations/destination-create-%s-req.json' % case),
                headers=V1_5, status=400)
            self.assert_response_sample(
                'destinations/destination-create-%s-resp.json' % case, resp)
        self.assertEqual([], self.api.get(
            '/v1/destinations', headers=V1_5).json['destinations'])

    @uses('destinations/destination-create-req.json',
          'destinations/destination-get-not-found-resp.json')
    def test_another_projects_destination_is_404(self):
        theirs = self.create_destination(
            'destinations/destination-create-req.json',
            headers=OTHER_PROJECT).json['destination']
        self.assert_response_sample(
            'destinations/destination-get-not-found-resp.json',
            self.api.get('/v1/destinations/%s' % theirs['id'],
                         headers=V1_5, status=404))


class TestSubscriptionSamples(SampleTestCase):
    start_engine = False

    def setUp(self):
        super().setUp()
        self.use_slack()

    @uses('destinations/destination-create-req.json',
          'subscriptions/subscription-create-req.json',
          'subscriptions/subscription-create-resp.json',
          'subscriptions/subscriptions-list-resp.json',
          'subscriptions/subscription-show-resp.json',
          'subscriptions/subscription-update-req.json',
          'subscriptions/subscription-update-resp.json')
    def test_subscription_life_cycle(self):
        slack = self.create_destination(
            'destinations/destination-create-req.json').json['destination']
        resp = self.api.post('/v1/subscriptions', self.subscription_request(
            'subscriptions/subscription-create-req.json', slack['id']),
            headers=V1_5, status=201)
        self.assert_response_sample(
            'subscriptions/subscription-create-resp.json', resp)
        self.assertEqual([slack['id']],
                         resp.json['subscription']['destinations'])
        url = '/v1/subscriptions/%s' % resp.json['subscription']['id']

        self.assert_response_sample(
            'subscriptions/subscriptions-list-resp.json',
            self.api.get('/v1/subscriptions', headers=V1_5, status=200))
        self.assert_response_sample(
            'subscriptions/subscription-show-resp.json',
            self.api.get(url, headers=V1_5, status=200))
        self.assert_response_sample(
            'subscriptions/subscription-update-resp.json',
            self.api.put(url, self.request_sample(
                'subscriptions/subscription-update-req.json'),
                headers=V1_5, status=200))

        resp = self.api.delete(url, headers=V1_5, status=204)
        self.assertEqual(b'', resp.body)
        self.api.get(url, headers=V1_5, status=404)

    @uses('destinations/destination-create-req.json',
          'subscriptions/subscription-create-req.json',
          'subscriptions/subscription-create-unknown-destination-resp.json')
    def test_another_projects_destination_is_404(self):
        theirs = self.create_destination(
            'destinations/destination-create-req.json',
            headers=OTHER_PROJECT).json['destination']
        resp = self.api.post('/v1/subscriptions', self.subscription_request(
            'subscriptions/subscription-create-req.json', theirs['id']),
            headers=V1_5, status=404)
        self.assert_response_sample(
            'subscriptions/subscription-create-unknown-destination-resp.json',
            resp)
        self.assertIn(theirs['id'], resp.json['itemNotFound']['message'])


class TestDeliverySamples(SampleTestCase):
    """The ledger of a notification routed to two Slack channels, one of
    which the Notifier app was not invited to."""

    def setUp(self):
        super().setUp()
        self.loaded = set()  # the samples set up here are checked elsewhere
        self.use_slack()
        alerts = self.create_destination(
            'destinations/destination-create-req.json').json['destination']
        private = self.api.post('/v1/destinations', {'destination': {
            'name': 'ops-private', 'medium': 'slack',
            'settings': {'channel': '#ops-private'}}},
            headers=V1_5, status=201).json['destination']
        self.api.post('/v1/subscriptions', self.subscription_request(
            'subscriptions/subscription-create-req.json', alerts['id']),
            headers=V1_5, status=201)
        self.api.post('/v1/subscriptions', self.subscription_request(
            'subscriptions/subscription-create-req.json', private['id']),
            headers=V1_5, status=201)
        created = self.post_notification(
            'notifications/host-notification-create-req.json').json[
                'notification']
        self.notification = self.wait_for_status(created['id'], ['failed'])
        deliveries = self.api.get('/v1/deliveries', headers=V1_6).json[
            'deliveries']
        self.by_target = {d['destination_id'] or d['target']: d['id']
                          for d in deliveries}
        self.delivered = self.by_target[alerts['id']]
        self.failed = self.by_target[private['id']]

    @uses('deliveries/deliveries-list-resp.json',
          'deliveries/delivery-show-resp.json',
          'deliveries/delivery-get-not-found-resp.json')
    def test_list_and_show(self):
        self.assert_response_sample(
            'deliveries/deliveries-list-resp.json',
            self.api.get('/v1/deliveries', headers=V1_6, status=200))
        self.assert_response_sample(
            'deliveries/delivery-show-resp.json',
            self.api.get('/v1/deliveries/%s' % self.delivered,
                         headers=V1_6, status=200))
        self.assert_response_sample(
            'deliveries/delivery-get-not-found-resp.json',
            self.api.get('/v1/deliveries/%s' % self.delivered,
                         headers=dict(OTHER_PROJECT, **V1_6), status=404))

    @uses('deliveries/delivery-resend-resp.json',
          'deliveries/delivery-resend-conflict-resp.json')
    def test_resend(self):
        self.assert_response_sample(
            'deliveries/delivery-resend-conflict-resp.json',
            self.api.post('/v1/deliveries/%s/resend' % self.delivered, {},
                          headers=V1_6, status=409))
        self.assert_response_sample(
            'deliveries/delivery-resend-resp.json',
            self.api.post('/v1/deliveries/%s/resend' % self.failed, {},
                          headers=V1_6, status=202))
        self.wait_for_status(self.notification['id'], ['failed'])

    @uses('notifications/notification-reprocess-resp.json')
    def test_admin_reprocesses_the_notification(self):
        self.assert_response_sample(
            'notifications/notification-reprocess-resp.json',
            self.api.post('/v1/notifications/%s/reprocess' %
                          self.notification['id'], {},
                          headers=dict(ADMIN, **V1_6), status=202))
        self.wait_for_status(self.notification['id'], ['failed'])


class TestMessageSamples(SampleTestCase):
    """Direct messages: Slack through the operator's bot token, email
    through a real SMTP server."""

    def setUp(self):
        super().setUp()
        self.use_slack()
        self.flags(default_channel='#general', group='driver_slack')
        smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=smtp.port,
                   from_address='notifier@example.org', group='driver_email')
        self.flags(email_to=['noc@example.org'], group='messages')

    def send(self, path, name, status=202):
        return self.api.post(path, self.request_sample(name), headers=V1_7,
                             status=status)

    def wait_for_message(self, message_id):
        for _ in range(400):
            shown = self.api.get('/v1/messages/%s' % message_id,
                                 headers=V1_7, status=200)
            if shown.json['message']['status'] in ('finished', 'failed'):
                return shown
            time.sleep(0.05)
        self.fail('message %s not done' % message_id)

    @uses('messages/message-slack-req.json',
          'messages/message-slack-resp.json',
          'messages/message-show-resp.json')
    def test_slack_message(self):
        resp = self.send('/v1/messages/slack',
                         'messages/message-slack-req.json')
        self.assert_response_sample('messages/message-slack-resp.json', resp)
        self.assert_response_sample(
            'messages/message-show-resp.json',
            self.wait_for_message(resp.json['message']['id']))

    @uses('messages/message-email-req.json',
          'messages/message-email-resp.json',
          'messages/message-email-missing-req.json',
          'messages/message-email-missing-resp.json')
    def test_email_message(self):
        self.assert_response_sample(
            'messages/message-email-resp.json',
            self.send('/v1/messages/email',
                      'messages/message-email-req.json'))
        self.flags(email_to=[], group='messages')
        self.assert_response_sample(
            'messages/message-email-missing-resp.json',
            self.send('/v1/messages/email',
                      'messages/message-email-missing-req.json',
                      status=400))

    @uses('messages/message-req.json', 'messages/message-resp.json',
          'messages/message-fallback-show-resp.json')
    def test_message_over_the_fallback_media(self):
        self.flags(default_channel='#broken', group='driver_slack')
        broken = self.useFixture(receivers.HTTPReceiver(
            lambda request: (503, {}, b'Service Unavailable')))
        self.flags(base_url=broken.url + '/api/', group='driver_slack')
        resp = self.send('/v1/messages', 'messages/message-req.json')
        self.assert_response_sample('messages/message-resp.json', resp)
        self.assert_response_sample(
            'messages/message-fallback-show-resp.json',
            self.wait_for_message(resp.json['message']['id']))

    @uses('destinations/destination-create-req.json',
          'messages/message-destination-req.json',
          'messages/message-destination-resp.json')
    def test_message_to_a_destination(self):
        destination = self.create_destination(
            'destinations/destination-create-req.json').json['destination']
        body = self.request_sample('messages/message-destination-req.json')
        body['destination_id'] = destination['id']
        self.assert_response_sample(
            'messages/message-destination-resp.json',
            self.api.post('/v1/messages', body, headers=V1_7, status=202))


class TestBroadcastSamples(SampleTestCase):
    """A broadcast to one child project's users, resolved in the real
    Keystone of the tests."""

    def setUp(self):
        super().setUp()
        keystone.skip_unless_keystone(self)
        self.hierarchy = test_broadcasts.Hierarchy(keystone.get())
        self.addCleanup(self.hierarchy.delete)
        self.hierarchy.create()
        test_broadcasts.use_keystone(self, keystone.get().url)
        smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=smtp.port,
                   from_address='notifier@example.org', group='driver_email')
        self.reseller = dict(V1_7, **{
            'X-Auth-Token': 'boss:%s' % self.hierarchy.projects['parent'],
            'X-Roles': 'manager,member,reader'})

    @uses('broadcasts/broadcast-create-req.json',
          'broadcasts/broadcast-create-resp.json',
          'broadcasts/broadcast-show-resp.json',
          'broadcasts/broadcast-create-not-child-resp.json')
    def test_broadcast_to_one_child(self):
        body = self.request_sample('broadcasts/broadcast-create-req.json')
        body['broadcast']['recipient_id'] = self.hierarchy.projects['a']
        resp = self.api.post('/v1/broadcasts', body, headers=self.reseller,
                             status=202)
        self.assert_response_sample('broadcasts/broadcast-create-resp.json',
                                    resp)
        url = '/v1/broadcasts/%s' % resp.json['broadcast']['id']
        for _ in range(600):
            shown = self.api.get(url, headers=self.reseller, status=200)
            if shown.json['broadcast']['status'] == 'finished':
                break
            time.sleep(0.05)
        self.assert_response_sample('broadcasts/broadcast-show-resp.json',
                                    shown)
        body['broadcast']['recipient_id'] = self.hierarchy.projects[
            'outsider']
        self.assert_response_sample(
            'broadcasts/broadcast-create-not-child-resp.json',
            self.api.post('/v1/broadcasts', body, headers=self.reseller,
                          status=404))


class TestTemplateSamples(SampleTestCase):
    start_engine = False
    V1_6 = {'OpenStack-API-Version': 'notification 1.6'}

    @uses('templates/templates-list-resp.json',
          'templates/template-show-resp.json',
          'templates/template-show-not-acceptable-resp.json')
    def test_list_and_show(self):
        self.assert_response_sample(
            'templates/templates-list-resp.json',
            self.api.get('/v1/templates', headers=self.V1_6, status=200))
        self.assert_response_sample(
            'templates/template-show-resp.json',
            self.api.get('/v1/templates/process', headers=self.V1_6,
                         status=200))
        self.assert_response_sample(
            'templates/template-show-not-acceptable-resp.json',
            self.api.get('/v1/templates/process', headers=dict(
                self.V1_6, Accept='application/pdf'), status=406))

    @uses('templates/template-update-req.json',
          'templates/template-update-resp.json',
          'templates/template-upload-resp.json',
          'templates/template-update-unknown-macro-req.json',
          'templates/template-update-unknown-macro-resp.json')
    def test_override(self):
        self.assert_response_sample(
            'templates/template-update-resp.json',
            self.api.put('/v1/templates/process', self.request_sample(
                'templates/template-update-req.json'), headers=self.V1_6,
                status=200))
        self.assert_response_sample(
            'templates/template-upload-resp.json',
            self.api.app.post(
                '/v1/templates/process',
                b'<p>{{ notification.payload.process_name }} stopped on '
                b'{{ notification.hostname }}</p>',
                headers=dict(self.api.headers, **dict(
                    self.V1_6, **{'Content-Type': 'text/html'})),
                status=200))
        self.assert_response_sample(
            'templates/template-update-unknown-macro-resp.json',
            self.api.put('/v1/templates/process', self.request_sample(
                'templates/template-update-unknown-macro-req.json'),
                headers=self.V1_6, status=400))

    @uses('templates/template-preview-req.json',
          'templates/template-preview-resp.json')
    def test_preview(self):
        self.assert_response_sample(
            'templates/template-preview-resp.json',
            self.api.post('/v1/templates/process/preview',
                          self.request_sample(
                              'templates/template-preview-req.json'),
                          headers=self.V1_6, status=200))


class TestSampleComparison(test_base.TestCase):
    """The comparison ignores what changes between runs, and only that."""

    SAMPLE = {'notification': {
        'id': 1, 'notification_uuid': '0b6f1d4e-2c8a-4e7b-9f3d-5a1c6e8b2d40',
        'type': 'VM', 'status': 'finished', 'created_at': '2026-11-23T10:00',
        'payload': {'event': 'LIFECYCLE'}}}

    def _real(self, **changes):
        real = json.loads(json.dumps(self.SAMPLE))
        real['notification'].update(changes)
        return real

    def test_run_specific_values_are_ignored(self):
        self.assertEqual([], differences(self.SAMPLE, self._real(
            id=7, notification_uuid=uuidutils.generate_uuid(),
            created_at='2027-01-01T00:00')))

    def test_enumerations_and_keys_must_match(self):
        self.assertEqual(
            ["notification.status: the sample says 'finished', the API "
             "sent 'new'"],
            differences(self.SAMPLE, self._real(status='new')))
        real = self._real(extra=True)
        del real['notification']['payload']
        self.assertEqual(
            ['notification.payload: in the sample, not sent by the API',
             'notification.extra: sent by the API, not in the sample'],
            differences(self.SAMPLE, real))

    def test_types_of_run_specific_values_must_match(self):
        self.assertEqual(1, len(differences(self.SAMPLE,
                                            self._real(id='1'))))

    def test_uuids_inside_strings_are_ignored(self):
        sample = {'target': 'destination:%s' % uuidutils.generate_uuid()}
        real = {'target': 'destination:%s' % uuidutils.generate_uuid()}
        self.assertEqual([], differences(sample, real))
        self.assertEqual(1, len(differences(sample, {
            'target': 'default:%s' % uuidutils.generate_uuid()})))
        self.assertEqual(sample, _keep_run_specific(sample, real))

    def test_regeneration_keeps_the_example_values(self):
        real = self._real(id=7, status='error')
        kept = _keep_run_specific(self.SAMPLE, real)
        self.assertEqual(1, kept['notification']['id'])
        self.assertEqual('error', kept['notification']['status'])


class TestSampleCoverage(test_base.TestCase):
    """The samples, the API reference and the code agree."""

    def _api_ref(self):
        texts = {}
        for name in sorted(os.listdir(API_REF_DIR)):
            if name.endswith(('.inc', '.rst')):
                with open(os.path.join(API_REF_DIR, name)) as f:
                    texts[name] = f.read()
        return texts

    def test_every_sample_is_checked_by_a_test(self):
        files = sample_files()
        self.assertNotEqual(set(), files)
        self.assertEqual([], sorted(files - DECLARED),
                         'sample files that no test checks')
        self.assertEqual([], sorted(DECLARED - files),
                         'samples that tests use but that do not exist')

    def test_every_sample_is_shown_in_the_api_reference(self):
        included = set()
        for text in self._api_ref().values():
            for target in re.findall(
                    r'^\.\. literalinclude:: (\S+)', text, re.MULTILINE):
                included.add(os.path.relpath(
                    os.path.normpath(os.path.join(API_REF_DIR, target)),
                    SAMPLES_DIR))
        self.assertEqual([], sorted(sample_files() - included),
                         'samples that api-ref does not show')
        self.assertEqual([], sorted(included - sample_files()),
                         'api-ref includes samples that do not exist')

    def test_version_history_mirrors_the_code(self):
        with open(os.path.join(API_REF_DIR,
                               'rest_api_version_history.inc')) as f:
            text = f.read()
        documented = re.findall(r'^(\d+\.\d+)\n[=-]+\n', text, re.MULTILINE)
        self.assertEqual(microversion.VERSIONS, documented)

    def _list_parameters(self, inc, path):
        text = self._api_ref()[inc]
        start = text.index('.. rest_method:: GET %s\n' % path)
        end = text.find('.. rest_method::', start + 1)
        section = text[start:end if end != -1 else None]
        request = section[section.index('Request\n'):
                          section.index('Response\n')]
        return set(re.findall(r'^\s+- ([\w-]+): ', request, re.MULTILINE))

    def test_list_query_parameters_are_documented(self):
        for inc, path, schema in (
                ('notifications.inc', '/v1/notifications',
                 notifications_schema.index_request_query),
                ('hosts.inc', '/v1/hosts', hosts_schema.index_request_query),
                ('destinations.inc', '/v1/destinations',
                 destinations_schema.index_request_query),
                ('subscriptions.inc', '/v1/subscriptions',
                 subscriptions_schema.index_request_query),
                ('deliveries.inc', '/v1/deliveries',
                 deliveries_schema.index_request_query)):
            documented = self._list_parameters(inc, path)
            missing = set(schema['properties']) - documented
            self.assertEqual(set(), missing, '%s GET %s' % (inc, path))
