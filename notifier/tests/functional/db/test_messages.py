"""Messages in notifier.db.api on SQLite, MariaDB and PostgreSQL: the
claim protocol shared with notifications, deliveries that belong to a
message, the one-owner check and purge."""

import datetime

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from notifier import context
from notifier.db import api as db
from notifier.db import models
from notifier.tests import base
from notifier.tests import fixtures
from notifier.tests.functional.db import test_api

load_tests = test_fixtures.optimize_module_test_loader()

PROJECT = test_api.PROJECT


class _MessageTests:

    def setUp(self):
        super().setUp()
        self.engine = self.database()
        self.ctx = context.get_admin_context()

    def database(self):
        return enginefacade.writer.get_engine()

    def message(self, kind='message', medium='slack'):
        return db.message_create(self.ctx, {
            'project_id': PROJECT, 'user_id': 'alice', 'kind': kind,
            'medium': medium, 'request': {'m_body': 'hello'}})

    def insert_delivery(self, **owners):
        with self.engine.begin() as conn:
            conn.execute(sa.insert(models.Delivery).values(
                uuid=uuidutils.generate_uuid(), target='t', medium='log',
                status='pending', attempts=0, project_id=PROJECT,
                created_at=timeutils.utcnow(),
                updated_at=timeutils.utcnow(), **owners))

    def test_one_of_concurrent_engines_claims_a_message(self):
        message = self.message()
        outcomes = test_api.run_concurrently(
            lambda i: db.notification_claim(
                context.get_admin_context(), message.id, 'engine-%d' % i, 60,
                model=models.Message))
        claimed = [r for r, e in outcomes if r is not None]
        errors = [e for r, e in outcomes if e is not None]
        self.assertEqual([], errors)
        self.assertEqual(1, len(claimed))
        self.assertEqual('running', claimed[0].status)

    def test_claim_lease_release_and_due_work_on_messages(self):
        message = self.message()
        self.assertEqual([], db.notifications_due(self.ctx, 30, 10,
                                                  model=models.Message))
        self.assertIsNotNone(db.notification_claim(
            self.ctx, message.id, 'e1', 60, model=models.Message))
        self.assertIsNone(db.notification_claim(
            self.ctx, message.id, 'e2', 60, model=models.Message))
        self.assertTrue(db.notification_extend_lease(
            self.ctx, message.id, 'e1', 60, model=models.Message))
        self.assertFalse(db.notification_release(
            self.ctx, message.id, 'e2', db.FINISHED, model=models.Message))
        retry_at = timeutils.utcnow() - datetime.timedelta(seconds=1)
        self.assertTrue(db.notification_release(
            self.ctx, message.id, 'e1', db.ERROR, retry_at,
            model=models.Message))
        self.assertEqual([message.id], db.notifications_due(
            self.ctx, 30, 10, model=models.Message))
        # Messages and notifications are separate queues.
        self.assertEqual([], db.notifications_due(self.ctx, 30, 10))

    def test_deliveries_of_a_message_are_ensured_once(self):
        message = self.message()
        targets = {'fallback:slack': ('slack', None)}
        first = db.deliveries_ensure(self.ctx, message.id, targets,
                                     model=models.Message)
        again = db.deliveries_ensure(self.ctx, message.id, targets,
                                     model=models.Message)
        self.assertEqual([d.id for d in first], [d.id for d in again])
        self.assertEqual(message.id, first[0].message_id)
        self.assertIsNone(first[0].notification_id)
        self.assertEqual([first[0].id], [d.id for d in (
            db.deliveries_for_notification(self.ctx, message.id,
                                           model=models.Message))])
        # The same id as a notification's is another owner.
        self.assertEqual([], db.deliveries_for_notification(self.ctx,
                                                            message.id))

    def test_a_delivery_has_exactly_one_owner(self):
        message = self.message()
        notification = db.notification_create(
            self.ctx, test_api.notification_values())
        # MariaDB's check failure (4025) is not one oslo.db translates.
        refused = (db_exc.DBError, sa.exc.DBAPIError)
        self.assertRaises(refused, self.insert_delivery)
        self.assertRaises(refused, self.insert_delivery,
                          notification_id=notification.id,
                          message_id=message.id)
        self.insert_delivery(message_id=message.id)
        self.insert_delivery(notification_id=notification.id)

    def test_recipients_are_stored_by_the_engine_holding_the_broadcast(self):
        message = self.message(kind='broadcast', medium='email')
        self.assertIsNone(message.recipients)
        db.notification_claim(self.ctx, message.id, 'e1', 60,
                              model=models.Message)
        recipients = [{'project_id': 'p', 'user_id': 'u', 'name': 'n',
                       'email': 'u@example.org'}]
        self.assertFalse(db.message_set_recipients(self.ctx, message.id,
                                                   'e2', recipients))
        self.assertTrue(db.message_set_recipients(self.ctx, message.id,
                                                  'e1', recipients))
        self.assertEqual(recipients, db.message_get(
            self.ctx, message.uuid, kind='broadcast').recipients)

    def test_purge_removes_old_done_messages_with_their_deliveries(self):
        old, live = self.message(), self.message()
        for message in (old, live):
            db.deliveries_ensure(self.ctx, message.id,
                                 {'slack': ('slack', None)},
                                 model=models.Message)
        past = timeutils.utcnow() - datetime.timedelta(days=40)
        with self.engine.begin() as conn:
            conn.execute(sa.update(models.Message).where(
                models.Message.id == old.id).values(
                    status=db.FINISHED, updated_at=past))
        self.assertEqual(1, db.purge(self.ctx, 30))
        with self.engine.connect() as conn:
            left = set(conn.scalars(sa.select(models.Message.id)))
            owners = set(conn.scalars(sa.select(models.Delivery.message_id)))
        self.assertEqual({live.id}, left)
        self.assertEqual({live.id}, owners)


class TestMessagesSQLite(_MessageTests, base.TestCase):

    def database(self):
        return self.useFixture(fixtures.SQLiteDatabase()).engine


class TestMessagesMySQL(test_fixtures.OpportunisticDBTestMixin,
                        _MessageTests, base.TestCase):
    FIXTURE = test_api.MigratedMySQL


class TestMessagesPostgreSQL(test_fixtures.OpportunisticDBTestMixin,
                             _MessageTests, base.TestCase):
    FIXTURE = test_api.MigratedPostgreSQL
