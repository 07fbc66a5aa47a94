"""Outages at process level, against the real MariaDB and RabbitMQ.

* The database becomes unreachable (a loopback TCP proxy between Notifier
  and MariaDB is cut): the API answers 503 with a clear JSON fault and
  recovers by itself once the database is back; the engine waits and
  delivers what was accepted.
* SIGTERM stops an engine gracefully: it stops taking work, finishes the
  send in flight within a bound, then exits.
"""

import signal
import threading
import time

import requests
from oslo_db.sqlalchemy import utils as db_utils

from notifier.tests.functional import faults
from notifier.tests.functional import services
from notifier.tests.functional import test_real_services

HTTP_TIMEOUT = 30


_HELPERS = test_real_services.RealServicesMixin


class TestOutages(services.RealServicesTestCase):
    DB_TYPE = 'mysql'

    # The helpers of test_real_services, without its tests.
    deploy = _HELPERS.deploy
    post = _HELPERS.post
    post_accepted = _HELPERS.post_accepted
    show = _HELPERS.show
    statuses = _HELPERS.statuses
    wait_for_status = _HELPERS.wait_for_status
    assert_delivered_once = _HELPERS.assert_delivered_once

    def setUp(self):
        super().setUp()
        services.skip_unless_database(self, self.DB_TYPE)
        self.http = requests.Session()
        self.http.headers.update(test_real_services.HEADERS)
        self.addCleanup(self.http.close)

    def deploy_behind_proxy(self, conf=None):
        """A deployment whose database connection goes through a proxy
        the test can cut; returns (deployment, proxy)."""
        services.skip_unless_broker(self)
        self.database = self.useFixture(services.Database(self.DB_TYPE))
        url = db_utils.make_url(self.database.url)
        proxy = self.useFixture(faults.TCPProxy(url.port or 3306,
                                                url.host or '127.0.0.1'))
        proxied = url.set(host='127.0.0.1', port=proxy.port)
        deployment = self.use_deployment(services.Deployment(
            proxied.render_as_string(hide_password=False), conf=conf))
        deployment.db_sync()
        return deployment, proxy

    def test_database_outage_is_a_503_and_both_recover_by_themselves(self):
        deployment, proxy = self.deploy_behind_proxy(
            conf={'engine': {'periodic_interval': 1, 'recast_after': 2}})
        api, _engine = deployment.wait_ready(deployment.spawn_api(),
                                             deployment.spawn_engine())
        before = self.post_accepted(api, test_real_services.vm_notification())
        self.wait_for_status(api, [before['notification_uuid']],
                             {'finished'}, timeout=30)

        proxy.cut()
        start = time.monotonic()
        resp = self.post(api, test_real_services.vm_notification())
        self.assertLess(time.monotonic() - start, 15,
                        'the API hung while the database was down')
        self.assertEqual(503, resp.status_code, resp.text)
        fault = resp.json()['serviceUnavailable']
        self.assertIn('database is unreachable', fault['message'])
        self.assertIn('nothing was changed', fault['message'])
        self.assertTrue(fault['request_id'].startswith('req-'))
        resp = self.http.get(api.url + '/v1/notifications',
                             timeout=HTTP_TIMEOUT)
        self.assertEqual(503, resp.status_code, resp.text)
        time.sleep(3)  # the engine's periodic task fails meanwhile

        proxy.restore()
        # The API recovers by itself: no restart.
        deadline = time.monotonic() + 30
        while True:
            resp = self.post(api, test_real_services.vm_notification())
            if resp.status_code == 202:
                break
            self.assertEqual(503, resp.status_code, resp.text)
            self.assertLess(time.monotonic(), deadline,
                            'the API did not recover from the outage')
            time.sleep(0.5)
        after = resp.json()['notification']
        # ... and so does the engine, from the cast or the database.
        self.wait_for_status(api, [after['notification_uuid']],
                             {'finished'}, timeout=30)
        self.assert_delivered_once(self.show(api, after['id']))

    def test_sigterm_finishes_the_send_in_flight_then_exits(self):
        hold = threading.Event()
        receiver = self.useFixture(faults.CountingReceiver(hang_for=20))
        receiver.gate = hold
        deployment = self.deploy(conf={
            'engine': {'periodic_interval': 1, 'recast_after': 2,
                       'default_destinations': ''},
            'driver_webhook': {'timeout': 30}})
        api, engine = deployment.wait_ready(deployment.spawn_api(),
                                            deployment.spawn_engine())
        with requests.Session() as http:
            headers = dict(test_real_services.HEADERS, **{
                'OpenStack-API-Version': 'notification 1.5'})
            hook = http.post(api.url + '/v1/destinations', json={
                'destination': {'name': 'slow', 'medium': 'webhook',
                                'settings': {'url': receiver.url + '/h'}}},
                headers=headers, timeout=HTTP_TIMEOUT).json()['destination']
            http.post(api.url + '/v1/subscriptions', json={
                'subscription': {'name': 'all',
                                 'destinations': [hook['id']]}},
                headers=headers, timeout=HTTP_TIMEOUT)
        posted = self.post_accepted(api, test_real_services.vm_notification())
        deadline = time.monotonic() + 30
        while not receiver.requests:
            self.assertLess(time.monotonic(), deadline, 'nothing was sent')
            time.sleep(0.1)

        # The send is in flight: stop the engine.
        start = time.monotonic()
        engine.popen.send_signal(signal.SIGTERM)
        time.sleep(2)
        self.assertTrue(engine.running(),
                        'the engine exited with a send in flight')
        hold.set()
        self.assertTrue(engine.wait(services.PROCESS_STOP_TIMEOUT),
                        'the engine did not exit after its send finished')
        self.assertLess(time.monotonic() - start,
                        services.PROCESS_STOP_TIMEOUT + 2)
        # The send it finished was recorded before it exited.
        self.assertEqual({'finished'}, set(self.wait_for_status(
            api, [posted['notification_uuid']], {'finished'},
            timeout=5).values()))
        self.assertEqual(1, sum(receiver.raw.values()))
