"""What a lone notification costs the engine in SQL statements.

Notifications that arrive one at a time are claimed, routed and prepared
alone, so every statement of that path is paid once per notification:
end-to-end latency at a steady rate is mostly these round trips. The
tests pin the statements by kind and table, so that a change that adds
one (a lazy load, a read of rows the transaction already has) is seen.
"""

import re
import threading

import sqlalchemy as sa

from notifier.db import api as db_api
from notifier.engine import manager as engine_manager
from notifier.tests.functional import base
from notifier.tests.functional.drivers import test_webhook

V1_5 = {'OpenStack-API-Version': 'notification 1.5'}
_FIRST_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', re.I)


class TestLoneNotificationStatements(base.FunctionalTestCase):
    start_engine = False  # the test's own engine takes the notification

    def setUp(self):
        super().setUp()
        self.flags(default_destinations=[], group='engine')
        self.receiver = self.useFixture(test_webhook.Receiver(
            token=test_webhook.TOKEN, secret=test_webhook.SECRET))
        hook = self.api.post('/v1/destinations', {'destination': {
            'name': 'hook', 'medium': 'webhook', 'settings': {
                'url': self.receiver.url + '/alerts',
                'auth_token': test_webhook.TOKEN,
                'signing_secret': test_webhook.SECRET}}},
            headers=V1_5, status=201).json['destination']
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'alerts', 'destinations': [hook['id']]}},
            headers=V1_5, status=201)
        self.manager = engine_manager.EngineManager(self.conf)
        self.addCleanup(self.manager.stop)

    def statements_of(self, call):
        """(verb, first table) of every statement ``call`` runs, by the
        thread that ran it: the caller's first, then the others."""
        seen = []

        def record(conn, cursor, statement, *args):
            if statement.startswith('BEGIN'):  # SQLite's, see db.api
                return
            match = _FIRST_TABLE.search(statement)
            seen.append((threading.get_ident(), statement.split()[0].upper(),
                         match.group(1) if match else None))

        engine = db_api.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', record)
        try:
            result = call()
        finally:
            sa.event.remove(engine, 'before_cursor_execute', record)
        me = threading.get_ident()
        return result, ([s[1:] for s in seen if s[0] == me],
                        [s[1:] for s in seen if s[0] != me])

    def process_one(self):
        """Post a notification and have the engine take it: its status,
        and the statements of the claim and of the sends."""
        created = self.api.post('/v1/notifications',
                                base.notification_body(),
                                status=202).json['notification']
        status, (claim, sends) = self.statements_of(
            lambda: self.manager.process(created['id']))
        self.assertEqual('finished', status)
        return claim, sends

    def test_claim_route_and_prepare_then_one_record(self):
        claim, sends = self.process_one()
        self.assertEqual(1, len(self.receiver.events))
        # One transaction: the claim and its read-back, the subscriptions
        # with their destinations (the breaker and the delivery use those
        # rows: no second read of destinations), the deliveries inserted
        # unless they exist and read back (no read before). No template:
        # a webhook sends the notification itself.
        self.assertEqual([('UPDATE', 'notifications'),
                          ('SELECT', 'notifications'),
                          ('SELECT', 'subscriptions'),
                          ('INSERT', 'deliveries'),
                          ('SELECT', 'deliveries')], claim)
        # The sending thread: the attempt, recorded with the release.
        self.assertEqual([('SELECT', 'delivery_attempts'),
                          ('UPDATE', 'deliveries'),
                          ('INSERT', 'delivery_attempts'),
                          ('UPDATE', 'notifications')], sends)

    def test_a_rendered_delivery_reads_the_template_once(self):
        # The log medium renders: with the webhook, one template read.
        self.flags(default_destinations=['log'], group='engine')
        claim, sends = self.process_one()
        self.assertEqual(1, claim.count(('SELECT', 'templates')))
        self.assertNotIn(('SELECT', 'templates'), sends)


class TestSendingThreadsShareConnections(base.FunctionalTestCase):
    """The sending threads record their attempts together: an engine with
    many of them in flight holds a few database connections, not one per
    thread (see the install guide on ``max_pool_size``)."""

    start_engine = False

    def test_a_fan_out_with_every_thread_sending_holds_few_connections(self):
        self.flags(default_destinations=[], group='engine')
        receiver = self.useFixture(test_webhook.Receiver())
        receiver.delay = 0.05  # every sending thread waits at once
        hooks = [self.api.post('/v1/destinations', {'destination': {
            'name': 'hook-%d' % k, 'medium': 'webhook', 'settings': {
                'url': '%s/alerts/%d' % (receiver.url, k)}}},
            headers=V1_5, status=201).json['destination']['id']
            for k in range(10)]
        self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'alerts', 'destinations': hooks}},
            headers=V1_5, status=201)
        ids = [self.api.post('/v1/notifications', base.notification_body(
            hostname='compute-%d' % i), status=202).json['notification']['id']
            for i in range(30)]
        manager = engine_manager.EngineManager(self.conf)
        self.addCleanup(manager.stop)
        self.assertEqual(64, self.conf.engine.delivery_threads)

        held = {'now': 0, 'most': 0}
        lock = threading.Lock()

        def checkout(*args):
            with lock:
                held['now'] += 1
                held['most'] = max(held['most'], held['now'])

        def checkin(*args):
            with lock:
                held['now'] -= 1

        engine = db_api.get_engine()
        sa.event.listen(engine, 'checkout', checkout)
        sa.event.listen(engine, 'checkin', checkin)
        self.addCleanup(sa.event.remove, engine, 'checkin', checkin)
        self.addCleanup(sa.event.remove, engine, 'checkout', checkout)
        # As the RPC server's threads take casts: queued, in batches.
        queuing = [threading.Thread(target=manager.queue, args=(i,))
                   for i in ids]
        for thread in queuing:
            thread.start()
        for thread in queuing:
            thread.join(30)
        for i in ids:
            self.wait_for_status(i, ['finished'])
        self.assertEqual(300, len(receiver.events))
        # The two threads that claim and prepare batches, the recorder's
        # transaction and the lease keeper: 64 sends in flight took none.
        self.assertLessEqual(held['most'], 4)
