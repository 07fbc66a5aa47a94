"""The delivery ledger (/v1/deliveries), resend and re-processing, with
real deliveries to an HTTP receiver and an SMTP server on loopback."""

import datetime
import email
import time

from oslo_utils import timeutils
import sqlalchemy as sa

from notifier.db import models
from notifier.tests.functional import base
from notifier.tests.functional.drivers import receivers

V1_5 = {'OpenStack-API-Version': 'notification 1.5'}
V1_6 = {'OpenStack-API-Version': 'notification 1.6'}
OTHER_PROJECT = dict(V1_6, **{'X-Auth-Token': 'bob:other'})
ADMIN = dict(V1_6, **{'X-Auth-Token': 'root:admin',
                      'X-Roles': 'admin,member,reader'})
READER = dict(V1_6, **{'X-Roles': 'reader'})
SECRET_QUERY = 'sig=s3cret-in-the-query'


class LedgerTestCase(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.flags(retry_initial_delay=0.0, retry_max_delay=0.0,
                   group='engine')
        # Scripted answers, first come first served; then 200.
        self.answers = []
        self.receiver = self.useFixture(receivers.HTTPReceiver(self.answer))

    def answer(self, request):
        if request.path.startswith('/bad'):
            return 400, {}, b'refused'
        if self.answers:
            return self.answers.pop(0)
        return 200, {'X-Request-Id': 'req-%d' % len(
            self.receiver.requests)}, b''

    def destination(self, name='hook', path='/alerts', medium='webhook',
                    settings=None):
        settings = settings or {
            'url': '%s%s?%s' % (self.receiver.url, path, SECRET_QUERY)}
        return self.api.post('/v1/destinations', {'destination': {
            'name': name, 'medium': medium, 'settings': settings}},
            headers=V1_6, status=201).json['destination']

    def subscribe(self, *destinations, **filters):
        return self.api.post('/v1/subscriptions', {'subscription': {
            'name': 'all', 'destinations': [d['id'] for d in destinations],
            'filters': filters}}, headers=V1_6, status=201).json[
                'subscription']

    def notify(self, statuses=('finished', 'failed'), **kwargs):
        created = self.api.post('/v1/notifications',
                                base.notification_body(**kwargs),
                                status=202).json['notification']
        self.wait_for_status(created['id'], statuses)
        return created

    def deliveries(self, headers=V1_6, **params):
        return self.api.get('/v1/deliveries', params=params,
                            headers=headers).json['deliveries']

    def show(self, delivery_id, headers=V1_6, status=200):
        resp = self.api.get('/v1/deliveries/%s' % delivery_id,
                            headers=headers, status=status)
        return resp.json.get('delivery', resp.json)

    def wait_for_attempts(self, delivery_id, count, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            delivery = self.show(delivery_id)
            if len(delivery['attempt_history']) >= count:
                return delivery
            if time.monotonic() > deadline:
                self.fail('Delivery %s has %d attempts after %ss, not %d' % (
                    delivery_id, len(delivery['attempt_history']), timeout,
                    count))
            time.sleep(0.05)

    def only(self, notification, medium='webhook'):
        found = self.deliveries(notification=notification[
            'notification_uuid'], medium=medium)
        self.assertEqual(1, len(found))
        return found[0]


class TestShow(LedgerTestCase):

    def test_webhook_delivery_shows_what_was_sent_and_the_receipt(self):
        hook = self.destination()
        self.subscribe(hook)
        created = self.notify()
        delivery = self.show(self.only(created)['id'])
        self.assertEqual('delivered', delivery['status'])
        self.assertEqual(created['notification_uuid'],
                         delivery['notification_id'])
        self.assertEqual(hook['id'], delivery['destination_id'])
        self.assertEqual('demo', delivery['project_id'])
        self.assertEqual('HTTP 200 X-Request-Id=req-1', delivery['receipt'])
        # The URL without its query string, which may hold a token.
        self.assertEqual([self.receiver.url + '/alerts'],
                         delivery['recipients'])
        self.assertNotIn('s3cret', self.api.get(
            '/v1/deliveries/%s' % delivery['id'], headers=V1_6).text)
        # What was sent is the notification itself, the CloudEvent's data:
        # nothing was rendered, so the ledger shows no rendered content.
        self.assertEqual({'subject': None, 'text': None, 'html': None,
                          'template': None, 'template_version': None},
                         {k: delivery[k] for k in (
                             'subject', 'text', 'html', 'template',
                             'template_version')})
        self.assertEqual([(1, 'delivered', 'HTTP 200 X-Request-Id=req-1')],
                         [(a['number'], a['outcome'], a['receipt'])
                          for a in delivery['attempt_history']])
        self.assertEqual(delivery['attempt_history'][0]['started_at'],
                         delivery['last_attempt_at'])
        # The webhook carried the same id.
        event = self.receiver.requests[0].json()
        self.assertEqual(delivery['id'], event['id'])

    def test_a_template_that_cannot_render_fails_mail_but_not_a_webhook(
            self):
        smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=smtp.port,
                   from_address='notifier@example.org', group='driver_email')
        # The payload a hundred times: small enough with the sample values
        # the template is checked with, too large with this notification's.
        self.api.app.post(
            '/v1/templates/process',
            b'{% for i in range(100) %}{{ notification.payload }}'
            b'{% endfor %}', headers=dict(self.api.headers, **V1_6, **{
                'Content-Type': 'text/plain'}), status=200)
        hook = self.destination()
        mail = self.destination('mail', medium='email', settings={
            'email_address': 'ops@example.org'})
        self.subscribe(hook, mail)
        created = self.notify(statuses=('failed',), type_='PROCESS', payload={
            'event': 'STOPPED', 'process_name': 'x' * 3000})
        delivered = self.only(created)
        self.assertEqual('delivered', delivered['status'])
        event = self.receiver.requests[0].json()
        self.assertEqual('x' * 3000,
                         event['data']['payload']['process_name'])
        failed = self.only(created, medium='email')
        self.assertEqual('failed', failed['status'])
        self.assertIn('cannot be rendered', failed['last_error'])
        self.assertEqual([], smtp.messages)

    def test_email_delivery_shows_the_smtp_reply_and_the_parts_sent(self):
        smtp = self.useFixture(receivers.SMTPServer())
        self.flags(smtp_host='127.0.0.1', smtp_port=smtp.port,
                   from_address='notifier@example.org', group='driver_email')
        mail = self.destination('mail', medium='email', settings={
            'email_address': 'ops@example.org'})
        self.subscribe(mail)
        created = self.notify()
        delivery = self.show(self.only(created, medium='email')['id'])
        self.assertEqual('delivered', delivery['status'])
        self.assertTrue(delivery['receipt'].startswith('250'),
                        delivery['receipt'])
        # The envelope recipients the server accepted.
        self.assertEqual(['ops@example.org'], delivery['recipients'])
        received = email.message_from_bytes(smtp.messages[0].content)
        self.assertEqual(delivery['subject'], received['Subject'])
        parts = {p.get_content_type(): p.get_payload(decode=True).decode()
                 for p in received.get_payload()}
        for kind, body in (('plain', 'text'), ('html', 'html')):
            sent = parts['text/' + kind].replace('\r\n', '\n')
            self.assertEqual(delivery[body].strip(), sent.strip())

    def test_retries_are_in_the_attempt_history(self):
        self.subscribe(self.destination())
        self.answers.append((503, {}, b'busy'))
        created = self.notify(statuses=['error'])
        delivery = self.only(created)
        self.assertEqual('pending', delivery['status'])
        self.engine.manager.run_periodic_tasks()
        self.wait_for_status(created['id'], ['finished'])
        delivery = self.show(delivery['id'])
        self.assertEqual('delivered', delivery['status'])
        self.assertEqual(2, delivery['attempts'])
        self.assertEqual([(1, 'retry', 'HTTP 503'),
                          (2, 'delivered', 'HTTP 200 X-Request-Id=req-2')],
                         [(a['number'], a['outcome'], a['receipt'])
                          for a in delivery['attempt_history']])
        self.assertIn('busy', delivery['attempt_history'][0]['error'])
        self.assertIsNone(delivery['last_error'])

    def test_the_ledger_needs_1_6(self):
        self.api.get('/v1/deliveries', headers=V1_5, status=404)
        # Notifications at 1.5 keep embedding their deliveries as before.
        self.subscribe(self.destination())
        created = self.notify()
        shown = self.api.get('/v1/notifications/%s' % created['id'],
                             headers=V1_5).json['notification']
        self.assertEqual(2, len(shown['deliveries']))
        self.assertNotIn('recipients', shown['deliveries'][0])


class TestList(LedgerTestCase):

    def setUp(self):
        super().setUp()
        self.good = self.destination('good', '/good')
        self.bad = self.destination('bad', '/bad')
        self.subscribe(self.good, self.bad)
        self.first = self.notify()
        self.boundary = timeutils.utcnow()
        self.second = self.notify(type_='PROCESS', hostname='compute-2')
        self.all = self.deliveries()

    def ids(self, **params):
        return sorted(d['id'] for d in self.deliveries(**params))

    def expected(self, predicate):
        return sorted(d['id'] for d in self.all if predicate(d))

    def test_every_delivery_is_listed_without_bodies(self):
        # The default log destination and two webhooks per notification.
        self.assertEqual(6, len(self.all))
        for delivery in self.all:
            self.assertNotIn('text', delivery)
            self.assertNotIn('attempt_history', delivery)
            self.assertIn('subject', delivery)
            self.assertIn('recipients', delivery)

    def test_filter_by_notification_uuid_or_id(self):
        mine = self.expected(lambda d: d['notification_id'] ==
                             self.first['notification_uuid'])
        self.assertEqual(3, len(mine))
        self.assertEqual(mine, self.ids(
            notification=self.first['notification_uuid']))
        self.assertEqual(mine, self.ids(notification=str(self.first['id'])))
        self.assertEqual([], self.ids(notification='9999'))
        self.assertEqual([], self.ids(notification='-' * 36))

    def test_filter_by_destination_medium_and_status(self):
        good = self.ids(destination_id=self.good['id'])
        self.assertEqual(2, len(good))
        self.assertEqual(self.expected(
            lambda d: d['destination_id'] == self.good['id']), good)
        self.assertEqual(self.expected(lambda d: d['medium'] == 'log'),
                         self.ids(medium='log'))
        self.assertEqual(2, len(self.ids(medium='log')))
        failed = self.ids(status='failed')
        self.assertEqual(2, len(failed))
        self.assertEqual(self.expected(lambda d: d['status'] == 'failed'),
                         failed)
        self.assertEqual([], self.ids(status='pending'))
        self.assertEqual(failed, self.ids(status='failed', medium='webhook'))

    def test_filter_by_time_range(self):
        second = self.expected(lambda d: d['notification_id'] ==
                               self.second['notification_uuid'])
        first = self.expected(lambda d: d['notification_id'] ==
                              self.first['notification_uuid'])
        boundary = self.boundary.isoformat() + 'Z'
        self.assertEqual(second, self.ids(since=boundary))
        self.assertEqual(first, self.ids(until=boundary))
        self.assertEqual([], self.ids(since=boundary, until=boundary))

    def test_pagination_with_a_marker(self):
        seen = []
        page = self.deliveries(limit='4', sort_key='created_at',
                               sort_dir='asc')
        self.assertEqual(4, len(page))
        seen += [d['id'] for d in page]
        page = self.deliveries(limit='4', sort_key='created_at',
                               sort_dir='asc', marker=seen[-1])
        self.assertEqual(2, len(page))
        seen += [d['id'] for d in page]
        self.assertEqual(sorted(d['id'] for d in self.all), sorted(seen))
        created = [d['created_at'] for d in self.all]
        self.assertEqual(sorted(created, reverse=True), created)

    def test_bad_input_is_a_clear_400(self):
        resp = self.api.get('/v1/deliveries', params={
            'marker': '0b6f1d4e-2c8a-4e7b-9f3d-5a1c6e8b2d40'},
            headers=V1_6, status=400)
        self.assertIn('marker', resp.json['badRequest']['message'])
        for params in ({'status': 'lost'}, {'since': 'yesterday'},
                       {'sort_key': 'subject'}, {'medium': 'Web Hook'}):
            resp = self.api.get('/v1/deliveries', params=params,
                                headers=V1_6, status=400)
            self.assertIn(list(params)[0],
                          resp.json['badRequest']['message'])


class TestProjects(LedgerTestCase):

    def test_another_projects_deliveries_are_hidden(self):
        self.subscribe(self.destination())
        created = self.notify()
        delivery = self.only(created)
        self.assertEqual([], self.deliveries(headers=OTHER_PROJECT))
        resp = self.show(delivery['id'], headers=OTHER_PROJECT, status=404)
        self.assertIn(delivery['id'], resp['itemNotFound']['message'])
        self.api.post('/v1/deliveries/%s/resend' % delivery['id'], {},
                      headers=OTHER_PROJECT, status=404)
        # all_projects is for admins only; for others it is their own.
        self.assertEqual([], self.deliveries(headers=OTHER_PROJECT,
                                             all_projects='true'))

    def test_admin_sees_every_project_with_all_projects(self):
        self.subscribe(self.destination())
        created = self.notify()
        theirs = self.api.post('/v1/notifications', base.notification_body(),
                               headers=OTHER_PROJECT, status=202).json[
                                   'notification']
        deadline = time.monotonic() + 10
        while self.api.get('/v1/notifications/%s' % theirs['id'],
                           headers=ADMIN).json['notification'][
                               'status'] != 'finished':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual([], self.deliveries(headers=ADMIN))
        everything = self.deliveries(headers=ADMIN, all_projects='true')
        self.assertEqual({'demo', 'other'},
                         {d['project_id'] for d in everything})
        demo = self.deliveries(headers=ADMIN, project_id='demo')
        self.assertEqual({'demo'}, {d['project_id'] for d in demo})
        self.assertEqual(
            created['notification_uuid'],
            self.show(self.only(created)['id'],
                      headers=ADMIN)['notification_id'])


class TestResend(LedgerTestCase):

    def failed_delivery(self):
        self.subscribe(self.destination())
        self.answers.append((400, {}, b'not now'))
        created = self.notify(statuses=['failed'])
        delivery = self.only(created)
        self.assertEqual('failed', delivery['status'])
        return created, delivery

    def resend(self, delivery_id, status=202, headers=V1_6):
        resp = self.api.post('/v1/deliveries/%s/resend' % delivery_id, {},
                             headers=headers, status=status)
        return resp.json.get('delivery', resp.json)

    def test_failed_delivery_is_delivered_once_more_with_the_same_id(self):
        created, delivery = self.failed_delivery()
        resent = self.resend(delivery['id'])
        self.assertEqual(delivery['id'], resent['id'])
        self.wait_for_status(created['id'], ['finished'])
        shown = self.show(delivery['id'])
        self.assertEqual('delivered', shown['status'])
        self.assertEqual(1, shown['attempts'])  # a fresh budget
        self.assertEqual([(1, 'failed'), (2, 'delivered')],
                         [(a['number'], a['outcome'])
                          for a in shown['attempt_history']])
        ids = [r.json()['id'] for r in self.receiver.requests]
        self.assertEqual([delivery['id'], delivery['id']], ids)
        # The log delivery, already delivered, was not sent again.
        log = self.only(created, medium='log')
        self.assertEqual(1, log['attempts'])

    def test_resend_has_a_fresh_attempt_budget(self):
        self.flags(max_attempts=2, group='engine')
        created, delivery = self.failed_delivery()
        self.answers.extend([(503, {}, b'')] * 2)
        self.resend(delivery['id'])
        self.wait_for_attempts(delivery['id'], 2)
        self.wait_for_status(created['id'], ['error'])
        self.engine.manager.run_periodic_tasks()
        self.wait_for_status(created['id'], ['failed'])
        shown = self.show(delivery['id'])
        self.assertEqual([(1, 'failed'), (2, 'retry'), (3, 'failed')],
                         [(a['number'], a['outcome'])
                          for a in shown['attempt_history']])
        self.assertEqual(2, shown['attempts'])

    def test_only_a_failed_delivery_can_be_resent(self):
        created, delivery = self.failed_delivery()
        log = self.only(created, medium='log')
        resp = self.resend(log['id'], status=409)
        message = resp['conflictingRequest']['message']
        self.assertIn('delivered', message)
        self.assertIn('only a failed delivery', message)
        self.assertIn('duplicate', message)
        # A pending one is retried already.
        self.answers.append((503, {}, b''))
        self.resend(delivery['id'])
        self.wait_for_attempts(delivery['id'], 2)
        resp = self.resend(delivery['id'], status=409)
        self.assertIn('is pending',
                      resp['conflictingRequest']['message'])

    def test_a_resent_notification_is_not_expired_by_its_old_age(self):
        self.flags(notification_max_age=60, group='engine')
        created, delivery = self.failed_delivery()
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(models.Notification).values(
                created_at=timeutils.utcnow() -
                datetime.timedelta(hours=2)))
        self.answers.append((503, {}, b''))
        self.resend(delivery['id'])
        self.wait_for_attempts(delivery['id'], 2)
        self.wait_for_status(created['id'], ['error'])
        self.engine.manager.run_periodic_tasks()
        self.wait_for_status(created['id'], ['finished'])
        self.assertEqual('delivered', self.show(delivery['id'])['status'])

    def test_a_notification_an_engine_holds_is_a_conflict(self):
        created, delivery = self.failed_delivery()
        with self.db.engine.begin() as conn:
            conn.execute(sa.update(models.Notification).values(
                status='running'))
        resp = self.resend(delivery['id'], status=409)
        self.assertIn('an engine is working on it',
                      resp['conflictingRequest']['message'])
        self.assertEqual('failed', self.show(delivery['id'])['status'])

    def test_readers_cannot_resend(self):
        _created, delivery = self.failed_delivery()
        self.resend(delivery['id'], status=403, headers=READER)
        self.assertEqual('failed', self.show(delivery['id'])['status'])


class TestReprocess(LedgerTestCase):

    def reprocess(self, notification_id, headers=ADMIN, status=202):
        return self.api.post('/v1/notifications/%s/reprocess' %
                             notification_id, {}, headers=headers,
                             status=status).json

    def test_admin_reprocesses_a_failed_notification(self):
        hook = self.destination()
        self.subscribe(hook)
        self.answers.append((400, {}, b'not now'))
        created = self.notify(statuses=['failed'])
        # Subscribed since: re-processing routes again.
        other = self.destination('other', '/other')
        self.subscribe(other)
        body = self.reprocess(created['notification_uuid'])
        self.assertEqual(created['id'], body['notification']['id'])
        self.wait_for_status(created['id'], ['finished'])
        paths = sorted(r.path.split('?')[0] for r in self.receiver.requests)
        self.assertEqual(['/alerts', '/alerts', '/other'], paths)
        by_dest = {d['destination_id']: d for d in self.deliveries(
            notification=created['notification_uuid'], medium='webhook')}
        self.assertEqual('delivered', by_dest[hook['id']]['status'])
        self.assertEqual('delivered', by_dest[other['id']]['status'])
        # The log delivery had succeeded: it was not sent again.
        self.assertEqual(1, self.only(created, medium='log')['attempts'])

    def test_an_ignored_notification_is_routed_again(self):
        self.flags(default_destinations=[], group='engine')
        created = self.notify(statuses=['ignored'])
        self.subscribe(self.destination())
        self.reprocess(created['id'])
        self.wait_for_status(created['id'], ['finished'])
        self.assertEqual('delivered', self.only(created)['status'])

    def test_members_cannot_reprocess(self):
        self.subscribe(self.destination())
        self.answers.append((400, {}, b'not now'))
        created = self.notify(statuses=['failed'])
        self.reprocess(created['id'], headers=V1_6, status=403)

    def test_a_finished_notification_is_a_conflict(self):
        created = self.notify()
        body = self.reprocess(created['id'], status=409)
        self.assertIn('only a failed or ignored',
                      body['conflictingRequest']['message'])
        self.reprocess(created['id'], headers=dict(ADMIN, **V1_5),
                       status=404)
