"""Direct messages between separate processes: notifier-api and two
notifier-engine processes on PostgreSQL, over a real RabbitMQ (RPC API
1.1, ``process_message``), posting to a Slack-compatible server on
loopback. Skips when the database server or the broker is not available.
"""

import collections
import time
import uuid

import requests

from notifier.tests.functional.drivers import receivers
from notifier.tests.functional.drivers import test_slack
from notifier.tests.functional import services

HEADERS = {'X-Auth-Token': 'alice:demo',
           'OpenStack-API-Version': 'notification 1.7'}
HTTP_TIMEOUT = 30
MESSAGES = 20


class TestMessagesAcrossProcesses(services.RealServicesTestCase):

    def setUp(self):
        super().setUp()
        services.skip_unless_database(self, 'postgresql')
        services.skip_unless_broker(self)
        self.slack = self.useFixture(receivers.HTTPReceiver(
            test_slack.slack_web_api))
        self.http = requests.Session()
        self.http.headers.update(HEADERS)
        self.addCleanup(self.http.close)

    def test_two_engines_post_each_message_exactly_once(self):
        database = self.useFixture(services.Database('postgresql'))
        deployment = self.use_deployment(services.Deployment(
            database.url, conf={'driver_slack': {
                'token': test_slack.TOKEN,
                'base_url': self.slack.url + '/api/',
                'default_channel': '#ops'}}))
        deployment.db_sync()
        api, _e1, _e2 = deployment.wait_ready(
            deployment.spawn_api(), deployment.spawn_engine(),
            deployment.spawn_engine())
        texts = ['message %d %s' % (i, uuid.uuid4()) for i in range(MESSAGES)]
        ids = []
        for text in texts:
            resp = self.http.post(api.url + '/v1/messages/slack',
                                  json={'m_body': text},
                                  timeout=HTTP_TIMEOUT)
            self.assertEqual(202, resp.status_code, resp.text)
            ids.append(resp.json()['message']['id'])
        deadline = time.monotonic() + 60
        while True:
            statuses = {i: self.http.get(
                '%s/v1/messages/%s' % (api.url, i),
                timeout=HTTP_TIMEOUT).json()['message']['status']
                for i in ids}
            if set(statuses.values()) == {'finished'}:
                break
            if time.monotonic() > deadline:
                self.fail('After 60 s, messages are %s' % dict(
                    collections.Counter(statuses.values())))
            time.sleep(0.2)
        posted = collections.Counter(
            next(t for t in texts if t in r.json()['text'])
            for r in self.slack.requests)
        self.assertEqual(set(texts), set(posted))
        self.assertEqual({1}, set(posted.values()), 'posted more than once')
