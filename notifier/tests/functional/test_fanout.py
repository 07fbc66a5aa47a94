"""Fan-out end to end: posted notifications reach real receivers through
subscriptions, and the ledger says what was sent where. Secrets never
come back out."""

import email
import logging

import fixtures
import sqlalchemy as sa

from notifier.db import models
from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers
from notifier.tests.functional.drivers import test_webhook

V1_5 = {'OpenStack-API-Version': 'notification 1.5'}


class FanOutTestCase(base.FunctionalTestCase):

    def setUp(self):
        self.logs = self.useFixture(fixtures.FakeLogger(level=logging.DEBUG))
        super().setUp()

    def destination(self, medium, settings, name=None, status=201):
        resp = self.api.post('/v1/destinations', {'destination': {
            'name': name or medium, 'medium': medium, 'settings': settings}},
            headers=V1_5, status=status)
        return resp.json.get('destination', resp.json)

    def subscribe(self, *destinations, **filters):
        return self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'alerts', 'destinations': [d['id'] for d in destinations],
            'filters': filters}}, headers=V1_5, status=201).json[
                'subscription']

    def ledger(self, notification_id):
        self.wait_for_status(notification_id, ['finished', 'failed'])
        shown = self.api.get('/v1/notifications/%s' % notification_id,
                             headers=V1_5).json['notification']
        return shown, {d['target'].split(':')[0] if d['target'].startswith(
            'default') else d['medium']: d for d in shown['deliveries']}


class TestWebhookFanOut(FanOutTestCase):

    def setUp(self):
        super().setUp()
        self.receiver = self.useFixture(test_webhook.Receiver(
            token=test_webhook.TOKEN, secret=test_webhook.SECRET))
        self.settings = {'url': self.receiver.url + '/alerts',
                         'auth_token': test_webhook.TOKEN,
                         'signing_secret': test_webhook.SECRET}

    def test_notification_reaches_a_signed_cloudevents_webhook(self):
        hook = self.destination('webhook', self.settings)
        self.subscribe(hook, types=['COMPUTE_HOST'])
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        shown, deliveries = self.ledger(created['id'])
        self.assertEqual('finished', shown['status'])
        delivery = deliveries['webhook']
        self.assertEqual('delivered', delivery['status'])
        self.assertIn('HTTP 200', delivery['receipt'])
        # The receiver verified the bearer token and the signature, and
        # parsed a CloudEvent whose id is the delivery's.
        self.assertEqual(1, len(self.receiver.events))
        event = self.receiver.events[0]
        self.assertEqual(delivery['id'], event.get_id())
        self.assertEqual(
            'org.openstack.notifier.notification.COMPUTE_HOST',
            event.get_type())
        self.assertEqual(created['notification_uuid'],
                         event.get_data()['notification_uuid'])

    def test_secrets_are_write_only_and_encrypted_at_rest(self):
        hook = self.destination('webhook', self.settings)
        self.assertEqual(['auth_token', 'signing_secret'], hook['secrets_set'])
        self.assertEqual({'url': self.settings['url']}, hook['settings'])
        for body in (self.api.get('/v1/destinations/%s' % hook['id'],
                                  headers=V1_5).text,
                     self.api.get('/v1/destinations', headers=V1_5).text):
            self.assertNotIn(test_webhook.TOKEN, body)
            self.assertNotIn(test_webhook.SECRET, body)
        with self.db.engine.connect() as conn:
            stored = conn.execute(sa.select(models.Destination.secrets,
                                            models.Destination.settings)).one()
        self.assertNotIn(test_webhook.TOKEN, str(stored))
        # The engine still has them: the signed delivery goes through.
        self.subscribe(hook)
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        self.assertEqual('finished', self.ledger(created['id'])[0]['status'])
        # A null removes a secret; the receiver then refuses the delivery.
        updated = self.api.put('/v1/destinations/%s' % hook['id'], {
            'destination': {'settings': {'auth_token': None}}},
            headers=V1_5).json['destination']
        self.assertEqual(['signing_secret'], updated['secrets_set'])
        self.assertNotIn(test_webhook.TOKEN, self.logs.output)
        self.assertNotIn(test_webhook.SECRET, self.logs.output)

    def test_a_bad_secret_is_refused_without_echoing_it(self):
        resp = self.destination('webhook', dict(self.settings,
                                                signing_secret=12345678901),
                                status=400)
        message = resp['badRequest']['message']
        self.assertIn('signing_secret', message)
        self.assertNotIn('12345678901', message)

    def test_metadata_address_is_refused(self):
        resp = self.destination('webhook', {
            'url': 'http://169.254.169.254/latest/meta-data'}, status=400)
        self.assertIn('169.254.169.254', resp['badRequest']['message'])

    def test_deliveries_rendered_once_keep_their_own_ids(self):
        # The message is rendered once per medium and notification: each
        # of the three webhooks still gets its delivery's own id.
        hooks = [self.destination('webhook', self.settings, name='h%d' % i)
                 for i in range(3)]
        self.subscribe(*hooks)
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        self.wait_for_status(created['id'], ['finished', 'failed'])
        full = self.api.get('/v1/notifications/%d' % created['id'],
                            headers=V1_5).json['notification']
        self.assertEqual('finished', full['status'])
        self.assertEqual(3, len(self.receiver.events))
        self.assertEqual(sorted(d['id'] for d in full['deliveries']
                                if d['medium'] == 'webhook'),
                         sorted(e.get_id() for e in self.receiver.events))
        self.assertEqual(3, len({e.get_id() for e in self.receiver.events}))

    def test_one_failing_destination_does_not_block_the_others(self):
        broken = self.destination('webhook', {
            'url': 'http://127.0.0.1:9/nothing-listens-here'}, name='broken')
        good = self.destination('webhook', self.settings, name='good')
        self.subscribe(broken, good)
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        shown = self.wait_for_status(created['id'], ['error'])
        self.assertEqual('error', shown['status'])
        full = self.api.get('/v1/notifications/%d' % created['id'],
                            headers=V1_5).json['notification']
        by_dest = {d['destination_id']: d for d in full['deliveries']}
        self.assertEqual('delivered', by_dest[good['id']]['status'])
        self.assertEqual('pending', by_dest[broken['id']]['status'])
        self.assertIsNotNone(by_dest[broken['id']]['next_attempt_at'])
        self.assertEqual(1, len(self.receiver.events))

    def test_multi_node_deployment_needs_encryption_keys(self):
        self.flags(connection='mysql+pymysql://u:p@127.0.0.1/n',
                   group='database')
        resp = self.destination('webhook', self.settings, status=400)
        self.assertIn('[secrets] encryption_keys',
                      resp['badRequest']['message'])


class TestEmailFanOut(FanOutTestCase):

    def setUp(self):
        super().setUp()
        self.smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=self.smtp.port,
                   from_address='notifier@example.org', group='driver_email')

    def test_email_and_sms_destinations_receive_the_alert(self):
        self.flags(gateway_address='sms@example.com', group='driver_sms')
        mail = self.destination('email', {'email_address': 'ops@example.org'})
        sms = self.destination('sms', {'phone_number': '+47 22 22 22 22'})
        self.subscribe(mail, sms, events=['STOPPED'])
        created = self.api.post('/v1/notifications', base.notification_body(),
                                status=202).json['notification']
        shown, deliveries = self.ledger(created['id'])
        self.assertEqual('finished', shown['status'])
        self.assertTrue(deliveries['email']['receipt'].startswith('250'))
        recipients = sorted(r for m in self.smtp.messages
                            for r in m.rcpt_tos)
        self.assertEqual(['ops@example.org', 'sms+4722222222@example.com'],
                         recipients)
        message = email.message_from_bytes(next(
            m.content for m in self.smtp.messages
            if m.rcpt_tos == ['ops@example.org']))
        self.assertIn('COMPUTE_HOST', message['Subject'])
        self.assertIn(deliveries['email']['id'], message['Message-ID'])
        self.assertEqual('multipart/alternative', message.get_content_type())
        parts = {p.get_content_type(): p.get_payload(decode=True).decode()
                 for p in message.get_payload()}
        self.assertIn('Host: compute-1', parts['text/plain'])
        self.assertIn('<td>compute-1', parts['text/html'])

    def test_unconfigured_driver_is_refused_naming_the_option(self):
        self.flags(smtp_host=None, group='driver_email')
        resp = self.destination('email', {'email_address': 'a@example.org'},
                                status=400)
        self.assertIn('[driver_email] smtp_host',
                      resp['badRequest']['message'])


class TestUnreadableSecrets(FanOutTestCase):

    def test_lost_key_is_a_clear_503_and_the_list_still_works(self):
        receiver = self.useFixture(test_webhook.Receiver())
        hook = self.destination('webhook', {
            'url': receiver.url + '/x', 'auth_token': 'tok-12345678'})
        # The operator replaces the key the secret was encrypted with.
        self.flags(encryption_keys=[
            'MxIHsPK3ku3gGZEiAEmY4G9TzIkgKC-xTYDdnj3HVvA='], group='secrets')
        resp = self.api.get('/v1/destinations/%s' % hook['id'],
                            headers=V1_5, status=503)
        self.assertIn('encryption_keys',
                      resp.json['serviceUnavailable']['message'])
        listed = self.api.get('/v1/destinations', headers=V1_5).json
        self.assertEqual([hook['id']], [d['id']
                                        for d in listed['destinations']])

    def test_each_test_send_has_its_own_id(self):
        receiver = self.useFixture(test_webhook.Receiver())
        hook = self.destination('webhook', {'url': receiver.url + '/x'})
        for _ in range(2):
            result = self.api.post('/v1/destinations/%s/test' % hook['id'],
                                   {}, headers=V1_5).json['test']
            self.assertEqual('delivered', result['outcome'])
        self.assertEqual(2, len({e.get_id() for e in receiver.events}))
