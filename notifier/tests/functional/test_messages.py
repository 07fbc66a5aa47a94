"""Direct messages (/v1/messages) end to end: received by a real SMTP
server and a Slack-compatible HTTP server, the fallback order, and the
400s that say what is missing."""

import datetime
import email
import email.policy
import threading
import time
from unittest import mock

import oslo_messaging as messaging
from oslo_utils import timeutils
import sqlalchemy as sa

from notifier.db import models

from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers
from notifier.tests.functional.drivers import test_slack
from notifier.tests.functional.drivers import test_webhook

V1_7 = {'OpenStack-API-Version': 'notification 1.7'}
TIMEOUT = 20


class MessagesTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.slack = self.useFixture(receivers.HTTPReceiver(
            test_slack.slack_web_api))
        self.smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=self.smtp.port,
                   from_address='notifier@example.org', group='driver_email')
        self.flags(retry_initial_delay=0.0, group='engine')

    def use_slack(self, **flags):
        self.flags(group='driver_slack', token=test_slack.TOKEN,
                   base_url=self.slack.url + '/api/', timeout=5, **flags)

    def send(self, path, body, status=202):
        resp = self.api.post(path, body, headers=V1_7, status=status)
        return resp.json.get('message', resp.json)

    def wait(self, message_id, statuses=('finished', 'failed', 'ignored')):
        deadline = time.monotonic() + TIMEOUT
        while True:
            shown = self.api.get('/v1/messages/%s' % message_id,
                                 headers=V1_7).json['message']
            if shown['status'] in statuses:
                return shown
            if time.monotonic() > deadline:
                self.fail('Message %s is %s after %ss' % (
                    message_id, shown['status'], TIMEOUT))
            time.sleep(0.05)

    def mails(self):
        return [email.message_from_bytes(m.content,
                                         policy=email.policy.default)
                for m in self.smtp.messages]


class TestSlackMessages(MessagesTestCase):

    def test_slack_message_is_posted_to_the_channel(self):
        self.use_slack()
        sent = self.send('/v1/messages/slack', {
            'channel': '#of_notifications', 'source': 'amlight/mef_eline',
            'm_body': 'A L2 circuit between X and Y was provisioned'})
        self.assertEqual('slack', sent['medium'])
        self.assertEqual('new', sent['status'])
        shown = self.wait(sent['id'])
        self.assertEqual('finished', shown['status'])
        [delivery] = shown['deliveries']
        self.assertEqual('slack', delivery['target'])
        self.assertEqual('delivered', delivery['status'])
        self.assertIn('ts=1700000000.000100', delivery['receipt'])
        [request] = self.slack.requests
        posted = request.json()
        self.assertEqual('#of_notifications', posted['channel'])
        # The "message" template: subject line (the source), then the body.
        self.assertTrue(posted['text'].startswith(
            'amlight/mef_eline\nA L2 circuit between X and Y was '
            'provisioned'), posted['text'])

    def test_channel_defaults_to_the_operators(self):
        self.use_slack()
        self.flags(slack_channel='#general', group='messages')
        shown = self.wait(self.send('/v1/messages/slack',
                                    {'m_body': 'hello'})['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual('#general', shown['channel'])
        self.assertEqual('#general', self.slack.requests[0].json()['channel'])

    def test_operators_incoming_webhook_without_a_token(self):
        hook = self.useFixture(receivers.HTTPReceiver(
            test_slack.slack_webhook))
        self.flags(slack_webhook_url=hook.url + test_slack.WEBHOOK_PATH,
                   group='messages')
        shown = self.wait(self.send('/v1/messages/slack',
                                    {'m_body': 'via the webhook'})['id'])
        self.assertEqual('finished', shown['status'])
        self.assertIn('via the webhook', hook.requests[0].json()['text'])
        # The webhook URL is a secret: never in the API.
        self.assertNotIn('webhooksecret',
                         self.api.get('/v1/messages/%s' % shown['id'],
                                      headers=V1_7).text)

    def test_slack_not_configured_is_a_400_naming_the_options(self):
        error = self.send('/v1/messages/slack', {'m_body': 'x'},
                          status=400)['badRequest']['message']
        self.assertIn('[driver_slack] token', error)
        self.assertIn('[messages] slack_webhook_url', error)

    def test_m_body_is_required(self):
        self.use_slack(default_channel='#ops')
        error = self.send('/v1/messages/slack', {'channel': '#ops'},
                          status=400)['badRequest']['message']
        self.assertIn('m_body', error)

    def test_refused_post_fails_the_message_with_slacks_reason(self):
        self.use_slack()
        shown = self.wait(self.send('/v1/messages/slack', {
            'channel': '#nowhere', 'm_body': 'x'})['id'])
        self.assertEqual('failed', shown['status'])
        self.assertIn('channel_not_found',
                      shown['deliveries'][0]['last_error'])

    def test_message_deliveries_are_in_the_ledger(self):
        self.use_slack(default_channel='#ops')
        shown = self.wait(self.send('/v1/messages/slack',
                                    {'m_body': 'for the record'})['id'])
        [delivery] = shown['deliveries']
        ledger = self.api.get('/v1/deliveries/%s' % delivery['id'],
                              headers=V1_7).json['delivery']
        self.assertEqual('slack', ledger['target'])
        self.assertIsNone(ledger['notification_id'])
        self.assertEqual(shown['id'], ledger['message_id'])
        self.assertEqual('message', ledger['template'])
        self.assertIn('for the record', ledger['text'])
        listed = self.api.get('/v1/deliveries', headers=V1_7).json[
            'deliveries']
        self.assertIn(delivery['id'], [d['id'] for d in listed])
        other = self.wait(self.send('/v1/messages/slack',
                                    {'m_body': 'another'})['id'])
        self.assertEqual([delivery['id']], [
            d['id'] for d in self.api.get(
                '/v1/deliveries?message=%s' % shown['id'],
                headers=V1_7).json['deliveries']])
        self.assertEqual([other['deliveries'][0]['id']], [
            d['id'] for d in self.api.get(
                '/v1/deliveries?message=%s' % other['id'],
                headers=V1_7).json['deliveries']])

    def test_needs_microversion_1_7(self):
        self.use_slack(default_channel='#ops')
        self.api.post('/v1/messages/slack', {'m_body': 'x'}, status=404,
                      headers={'OpenStack-API-Version': 'notification 1.6'})


class TestEmailMessages(MessagesTestCase):

    def test_email_reaches_every_recipient_from_the_sender_given(self):
        sent = self.send('/v1/messages/email', {
            'm_from': 'you@example.com',
            'm_to': 'to@example.com, to2@example.net,to3@example.org',
            'm_subject': 'Notification subject',
            'm_body': 'Notification content'})
        shown = self.wait(sent['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual('to@example.com, to2@example.net, to3@example.org',
                         shown['m_to'])
        [delivery] = shown['deliveries']
        self.assertTrue(delivery['receipt'].startswith('250'))
        [received] = self.smtp.messages
        self.assertEqual(['to2@example.net', 'to3@example.org',
                          'to@example.com'], sorted(received.rcpt_tos))
        [mail] = self.mails()
        self.assertEqual('Notification subject', mail['Subject'])
        self.assertIn('you@example.com', mail['From'])
        self.assertIn(delivery['id'], mail['Message-ID'])
        text = mail.get_body(('plain',)).get_content()
        self.assertIn('Notification content', text)

    def test_missing_fields_come_from_the_operators_defaults(self):
        self.flags(email_from='courier@example.org',
                   email_to=['noc@example.org'], email_subject='From NOC',
                   group='messages')
        shown = self.wait(self.send('/v1/messages/email',
                                    {'m_body': 'Just the body'})['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual('courier@example.org', shown['m_from'])
        [mail] = self.mails()
        self.assertEqual('From NOC', mail['Subject'])
        self.assertEqual(['noc@example.org'], self.smtp.messages[0].rcpt_tos)

    def test_400_names_every_field_still_missing(self):
        self.flags(email_subject='', group='messages')
        error = self.send('/v1/messages/email', {'m_from': 'a@example.com'},
                          status=400)['badRequest']['message']
        self.assertIn('Missing m_to, m_subject, m_body', error)
        self.assertIn('[messages] email_to, [messages] email_subject', error)

    def test_bad_address_is_a_400_naming_the_field(self):
        error = self.send('/v1/messages/email', {
            'm_to': 'ok@example.com, not-an-address', 'm_body': 'x'},
            status=400)['badRequest']['message']
        self.assertIn('m_to', error)
        self.assertIn('not-an-address', error)

    def test_email_not_configured_is_a_400(self):
        self.flags(smtp_host=None, group='driver_email')
        error = self.send('/v1/messages/email', {
            'm_to': 'a@example.com', 'm_body': 'x'},
            status=400)['badRequest']['message']
        self.assertIn('[driver_email] smtp_host', error)


class TestFallback(MessagesTestCase):

    def setUp(self):
        super().setUp()
        self.flags(email_to=['noc@example.org'], group='messages')

    def targets(self, shown):
        return [(d['target'], d['status']) for d in shown['deliveries']]

    def test_slack_first_when_it_is_configured(self):
        self.use_slack(default_channel='#alerts')
        shown = self.wait(self.send('/v1/messages',
                                    {'m_body': 'generic'})['id'])
        self.assertEqual('any', shown['medium'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual([('fallback:slack', 'delivered')],
                         self.targets(shown))
        self.assertEqual(1, len(self.slack.requests))
        self.assertEqual([], self.smtp.messages)

    def test_email_when_slack_is_not_configured(self):
        shown = self.wait(self.send('/v1/messages', {
            'm_body': 'generic', 'm_subject': 'Fallback'})['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual([('fallback:email', 'delivered')],
                         self.targets(shown))
        [mail] = self.mails()
        self.assertEqual('Fallback', mail['Subject'])

    def test_email_takes_over_when_slack_fails(self):
        self.use_slack(default_channel='#broken')  # Slack answers 503
        shown = self.wait(self.send('/v1/messages',
                                    {'m_body': 'generic'})['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual([('fallback:slack', 'failed'),
                          ('fallback:email', 'delivered')],
                         self.targets(shown))
        self.assertIn('Falling back to email',
                      shown['deliveries'][0]['last_error'])
        self.assertEqual(1, len(self.slack.requests))
        self.assertEqual(['noc@example.org'], self.smtp.messages[0].rcpt_tos)

    def test_operators_order_is_followed(self):
        self.use_slack(default_channel='#alerts')
        self.flags(fallback_media=['email', 'slack'], group='messages')
        shown = self.wait(self.send('/v1/messages', {'m_body': 'x'})['id'])
        self.assertEqual([('fallback:email', 'delivered')],
                         self.targets(shown))
        self.assertEqual([], self.slack.requests)

    def test_nothing_configured_is_a_400(self):
        self.flags(email_to=[], group='messages')
        error = self.send('/v1/messages', {'m_body': 'x'},
                          status=400)['badRequest']['message']
        self.assertIn('[messages] fallback_media (slack, email)', error)


class TestDestinationMessages(MessagesTestCase):

    def test_message_to_one_of_the_projects_destinations(self):
        destination = self.api.post('/v1/destinations', {'destination': {
            'name': 'ops mail', 'medium': 'email',
            'settings': {'email_address': 'ops@example.org'}}},
            headers=V1_7, status=201).json['destination']
        shown = self.wait(self.send('/v1/messages', {
            'destination_id': destination['id'], 'm_subject': 'Hi',
            'm_body': 'To the destination'})['id'])
        self.assertEqual('destination', shown['medium'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual(destination['id'],
                         shown['deliveries'][0]['destination_id'])
        self.assertEqual(['ops@example.org'], self.smtp.messages[0].rcpt_tos)

    def test_a_webhook_gets_the_message_itself_nothing_rendered(self):
        hook = self.useFixture(test_webhook.Receiver())
        destination = self.api.post('/v1/destinations', {'destination': {
            'name': 'hook', 'medium': 'webhook',
            'settings': {'url': hook.url + '/in'}}},
            headers=V1_7, status=201).json['destination']
        # The body a hundred times: too large to render with this body,
        # and webhooks do not use it.
        self.api.app.post(
            '/v1/templates/message',
            b'{% for i in range(100) %}{{ message.body }}{% endfor %}',
            headers=dict(self.api.headers, **V1_7, **{
                'Content-Type': 'text/plain'}), status=200)
        shown = self.wait(self.send('/v1/messages', {
            'destination_id': destination['id'], 'm_subject': 'Hi',
            'm_body': 'x' * 3000})['id'])
        self.assertEqual('finished', shown['status'])
        [event] = hook.events
        self.assertEqual(shown['id'], event.get_data()['id'])
        self.assertEqual('x' * 3000, event.get_data()['m_body'])
        ledger = self.api.get('/v1/deliveries/%s' % shown['deliveries'][0][
            'id'], headers=V1_7).json['delivery']
        self.assertEqual((None, None, None), (
            ledger['subject'], ledger['text'], ledger['template']))

    def test_another_projects_destination_is_a_404(self):
        other = self.useFixture(base.fixtures.API(self.conf,
                                                  project='other'))
        destination = other.post('/v1/destinations', {'destination': {
            'name': 'theirs', 'medium': 'log'}}, headers=V1_7,
            status=201).json['destination']
        self.send('/v1/messages', {'destination_id': destination['id'],
                                   'm_body': 'x'}, status=404)

    def test_another_projects_message_is_a_404(self):
        self.use_slack(default_channel='#ops')
        sent = self.send('/v1/messages/slack', {'m_body': 'mine'})
        other = self.useFixture(base.fixtures.API(self.conf,
                                                  project='other'))
        other.get('/v1/messages/%s' % sent['id'], headers=V1_7, status=404)


class TestMessagesSurviveLostCastsAndCrashes(MessagesTestCase):
    start_engine = False

    def send_without_broker(self, path, body):
        # The broker is unreachable: the cast fails, the row stays.
        with mock.patch('oslo_messaging.rpc.client._BaseCallContext.cast',
                        side_effect=messaging.MessageDeliveryFailure(
                            'broker unreachable')):
            return self.send(path, body)

    def age(self, message_id, seconds, **values):
        past = timeutils.utcnow() - datetime.timedelta(seconds=seconds)
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(models.Message).where(
                models.Message.uuid == message_id).values(
                    updated_at=past, **values))

    def test_periodic_task_delivers_a_message_whose_cast_was_lost(self):
        self.use_slack(default_channel='#ops')
        sent = self.send_without_broker('/v1/messages/slack',
                                        {'m_body': 'late'})
        engine = self.useFixture(base.fixtures.Engine(self.conf))
        self.assertEqual(0, engine.manager.run_periodic_tasks(),
                         'a fresh new message is left to its cast')
        self.age(sent['id'], self.conf.engine.recast_after + 1)
        self.assertEqual(1, engine.manager.run_periodic_tasks())
        shown = self.wait(sent['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual(1, len(self.slack.requests))

    def test_a_backlog_of_lost_messages_is_picked_up_in_one_run(self):
        # Batch after batch while whole batches are due, as for
        # notifications: not one batch per [engine] periodic_interval.
        self.flags(periodic_batch_size=2, group='engine')
        self.use_slack(default_channel='#ops')
        sent = [self.send_without_broker('/v1/messages/slack',
                                         {'m_body': 'late %d' % k})
                for k in range(5)]
        for message in sent:
            self.age(message['id'], self.conf.engine.recast_after + 1)
        engine = self.useFixture(base.fixtures.Engine(self.conf))

        self.assertEqual(5, engine.manager.run_periodic_tasks())
        for message in sent:
            self.assertEqual('finished', self.wait(message['id'])['status'])
        self.assertEqual(5, len(self.slack.requests))
        self.assertEqual(0, engine.manager.run_periodic_tasks())

    def row_id(self, message_uuid):
        with self.db.engine.connect() as conn:
            return conn.execute(sa.select(models.Message.id).where(
                models.Message.uuid == message_uuid)).scalar_one()

    def test_a_cast_message_is_processed_off_the_rpc_thread(self):
        # The RPC thread hands the message over and goes back to reading
        # casts; the message is still delivered.
        self.use_slack(default_channel='#ops')
        sent = self.send_without_broker('/v1/messages/slack',
                                        {'m_body': 'cast'})
        engine = self.useFixture(base.fixtures.Engine(self.conf))
        real = engine.manager.process_message_id
        started, go, threads = threading.Event(), threading.Event(), []

        def process_message_id(message_id, request_id=None):
            threads.append(threading.current_thread())
            started.set()
            go.wait(TIMEOUT)
            return real(message_id, request_id=request_id)

        with mock.patch.object(engine.manager, 'process_message_id',
                               process_message_id):
            engine.manager.process_message({'request_id': 'req-cast'},
                                           self.row_id(sent['id']))
            self.assertTrue(started.wait(TIMEOUT))
            self.assertIsNot(threading.current_thread(), threads[0])
            self.assertEqual([], self.slack.requests, 'not sent yet')
            go.set()
            self.assertEqual('finished', self.wait(sent['id'])['status'])
        self.assertEqual(1, len(self.slack.requests))

    def test_a_stopping_engine_picks_up_no_message(self):
        self.use_slack(default_channel='#ops')
        sent = self.send_without_broker('/v1/messages/slack',
                                        {'m_body': 'later'})
        self.age(sent['id'], self.conf.engine.recast_after + 1)
        engine = self.useFixture(base.fixtures.Engine(self.conf))
        engine.manager.stop()

        self.assertEqual(0, engine.manager.run_periodic_tasks())
        self.assertEqual([], self.slack.requests)

    def test_crashed_engines_claim_is_resumed_after_its_lease(self):
        self.use_slack(default_channel='#ops')
        sent = self.send_without_broker('/v1/messages/slack',
                                        {'m_body': 'resumed'})
        self.age(sent['id'], 0, status='running', claimed_by='dead:1',
                 lease_until=timeutils.utcnow() +
                 datetime.timedelta(seconds=300))
        engine = self.useFixture(base.fixtures.Engine(self.conf))
        self.assertEqual(0, engine.manager.run_periodic_tasks(),
                         'a live lease is not taken over')
        self.age(sent['id'], 0, lease_until=timeutils.utcnow() -
                 datetime.timedelta(seconds=1))
        self.assertEqual(1, engine.manager.run_periodic_tasks())
        self.assertEqual('finished', self.wait(sent['id'])['status'])
        self.assertEqual(1, len(self.slack.requests))

    def test_transient_failure_is_retried_by_the_periodic_task(self):
        answers = [(503, {}, b'Service Unavailable')]

        def slack_down_once(request):
            if answers:
                return answers.pop()
            return test_slack.slack_web_api(request)

        self.slack = self.useFixture(receivers.HTTPReceiver(slack_down_once))
        self.use_slack(default_channel='#ops')
        engine = self.useFixture(base.fixtures.Engine(self.conf))
        sent = self.send('/v1/messages/slack', {'m_body': 'again'})
        shown = self.wait(sent['id'], statuses=('error',))
        self.assertEqual('pending', shown['deliveries'][0]['status'])
        self.assertEqual(1, engine.manager.run_periodic_tasks())
        shown = self.wait(sent['id'])
        self.assertEqual('finished', shown['status'])
        self.assertEqual(2, shown['deliveries'][0]['attempts'])
