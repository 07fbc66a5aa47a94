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

    def test_claim_route_and_prepare_then_one_record(self):
        created = self.api.post('/v1/notifications',
                                base.notification_body(),
                                status=202).json['notification']
        status, (claim, sends) = self.statements_of(
            lambda: self.manager.process(created['id']))
        self.assertEqual('finished', status)
        self.assertEqual(1, len(self.receiver.events))
        # One transaction: the claim and its read-back, the subscriptions
        # with their destinations (the breaker and the delivery use those
        # rows: no second read of destinations), the deliveries inserted
        # unless they exist and read back (no read before), the template.
        self.assertEqual([('UPDATE', 'notifications'),
                          ('SELECT', 'notifications'),
                          ('SELECT', 'subscriptions'),
                          ('INSERT', 'deliveries'),
                          ('SELECT', 'deliveries'),
                          ('SELECT', 'templates')], claim)
        # The sending thread: the attempt, recorded with the release.
        self.assertEqual([('SELECT', 'delivery_attempts'),
                          ('UPDATE', 'deliveries'),
                          ('INSERT', 'delivery_attempts'),
                          ('UPDATE', 'notifications')], sends)
