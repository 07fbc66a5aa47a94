"""notifier.db.api on SQLite, MariaDB and PostgreSQL: duplicate detection,
the claim protocol of the engine, the delivery ledger, listing and purge.

The concurrent tests release their threads together, each with its own
context and so its own transaction, and let the database decide; they are
the races the design relies on. MySQL and PostgreSQL use oslo.db's
opportunistic ``openstack_citest`` databases, migrated once per test worker
and emptied after each test; their tests skip when the server does not
answer. SQLite is a migrated file with foreign keys on, as in production.
"""

import contextlib
import datetime
import hashlib
import itertools
import threading
import time

from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import provision
from oslo_db.sqlalchemy import test_fixtures
from oslo_serialization import jsonutils
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from notifier import context
from notifier.db import api as db
from notifier.db import migration
from notifier.db import models
from notifier.drivers import base as drivers_base
from notifier.engine import recorder
from notifier import exception
from notifier.tests import base
from notifier.tests import fixtures
from notifier import views

load_tests = test_fixtures.optimize_module_test_loader()

PROJECT = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6'
HOST_1 = '7f1c6e43-8a55-4c4a-9d0b-2d3f0c8e1a01'
HOST_2 = '0b9e2a7d-3c4f-4e1b-8a6d-5f2e9c7b3d02'
THREADS = 10
# Bound on any wait in these tests (threads, lock waits), in seconds.
TIMEOUT = 30
# How the dedup claim starts: an upsert on SQLite and PostgreSQL, an
# INSERT IGNORE on MySQL.
DEDUP_INSERT = ('INSERT INTO notification_dedup',
                'INSERT IGNORE INTO notification_dedup')


def notification_values(**overrides):
    values = {
        'project_id': PROJECT,
        'type': 'COMPUTE_HOST',
        'hostname': 'compute-1',
        'source_host_uuid': HOST_1,
        'generated_time': datetime.datetime(2026, 11, 23, 10, 0, 0),
        'payload': {'event': 'STOPPED', 'host_status': 'UNKNOWN',
                    'cluster_status': 'OFFLINE'},
    }
    values.update(overrides)
    return values


def run_concurrently(func, count=THREADS):
    """Call ``func(i)`` for i in range(count) from ``count`` threads
    released together. Returns ``[(result, exception), ...]`` by i."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=TIMEOUT)
            outcomes[i] = (func(i), None)
        except Exception as e:
            outcomes[i] = (None, e)

    threads = [threading.Thread(target=run, args=(i,), daemon=True)
               for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = sum(thread.is_alive() for thread in threads)
    if running:
        raise AssertionError('%d of %d threads still running after %d s' %
                             (running, count, TIMEOUT))
    return outcomes


class _MigratedSchema(test_fixtures.GeneratesSchemaFromMigrations,
                      test_fixtures.DeletesFromSchema):
    """The schema from the migrations, built once per database; the rows
    are deleted after each test."""

    def generate_schema_migrations(self, engine):
        migration.upgrade('head', engine=engine)

    def delete_from_schema(self, engine):
        with engine.begin() as conn:
            for table in reversed(models.Base.metadata.sorted_tables):
                conn.execute(table.delete())


class MigratedMySQL(_MigratedSchema, test_fixtures.MySQLOpportunisticFixture):
    pass


class MigratedPostgreSQL(_MigratedSchema,
                         test_fixtures.PostgresqlOpportunisticFixture):
    pass


class MigratedPyMySQL(MigratedMySQL):
    """The MySQL server through PyMySQL, OpenStack's usual driver, as well
    as through mysqlclient (the suite's). oslo.db keeps one admin URL per
    database type; this one is registered under a name of its own."""

    DRIVER = 'mysql+pymysql'

    def _get_resources(self):  # asked before the database is set up
        registry = provision.Backend.backends_by_database_type
        if self.DRIVER not in registry and 'mysql' in registry:
            url = registry['mysql'].url.set(drivername=self.DRIVER)
            registry[self.DRIVER] = provision.Backend('mysql', url)
        return super()._get_resources()


class _DBAPITests:
    """The tests; a subclass provides the database behind the global
    enginefacade."""

    # True where the database lets one transaction at a time past its
    # first write (SQLite's database lock; with db.api.setup_sqlite, past
    # its BEGIN), so that transactions cannot be held side by side there.
    one_transaction_at_a_time = False

    def setUp(self):
        super().setUp()
        self.engine = self.database()
        self.ctx = context.get_admin_context()

    def database(self):
        return enginefacade.writer.get_engine()

    # Helpers

    def create(self, **overrides):
        return db.notification_create(self.ctx, notification_values(
            **overrides))

    def set_columns(self, model, row_id, **values):
        """Change a row behind the API's back (to move it in time)."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(model).where(model.id == row_id)
                         .values(**values))

    def count(self, model, *where):
        with self.engine.connect() as conn:
            return conn.scalar(sa.select(sa.func.count())
                               .select_from(model).where(*where))

    @contextlib.contextmanager
    def lockstep_before(self, statement, parties=THREADS):
        """Hold every connection before executing ``statement`` (the start
        of an SQL statement) until ``parties`` of them have got there: the
        worst interleaving, where every transaction has done its checks
        before any of them writes. Only the first ``parties`` executions
        wait, so a retried transaction passes. A no-op where transactions
        cannot interleave."""
        if self.one_transaction_at_a_time:
            yield
            return
        barrier = threading.Barrier(parties)
        arrivals = itertools.count()
        broken = []

        def wait(conn, cursor, sql, parameters, context, executemany):
            if (sql.lstrip().startswith(statement) and
                    next(arrivals) < parties):
                try:
                    barrier.wait(timeout=10)
                except threading.BrokenBarrierError:
                    broken.append(sql)

        sa.event.listen(self.engine, 'before_cursor_execute', wait)
        try:
            yield
        finally:
            sa.event.remove(self.engine, 'before_cursor_execute', wait)
        self.assertEqual([], broken,
                         'Not all %d transactions got to %r together' %
                         (parties, statement))

    def ago(self, **delta):
        return timeutils.utcnow() - datetime.timedelta(**delta)

    def from_now(self, **delta):
        return timeutils.utcnow() + datetime.timedelta(**delta)

    # notification_create

    def test_create_stores_a_new_notification_with_a_uuid(self):
        before = timeutils.utcnow().replace(microsecond=0)
        created = self.create()

        self.assertTrue(uuidutils.is_uuid_like(created.notification_uuid))
        stored = db.notification_get(self.ctx, created.notification_uuid)
        self.assertEqual(created.id, stored.id)
        self.assertEqual('new', stored.status)
        self.assertEqual(PROJECT, stored.project_id)
        self.assertEqual('COMPUTE_HOST', stored.type)
        self.assertEqual(HOST_1, stored.source_host_uuid)
        self.assertEqual(notification_values()['payload'], stored.payload)
        self.assertEqual(datetime.datetime(2026, 11, 23, 10, 0, 0),
                         stored.generated_time)
        self.assertIsNone(stored.claimed_by)
        self.assertIsNone(stored.lease_until)
        self.assertGreaterEqual(stored.created_at, before)
        self.assertEqual(stored.notification_uuid,
                         db.notification_get(self.ctx, str(stored.id))
                         .notification_uuid)

    def test_notifications_without_a_dedup_key_are_all_stored(self):
        first = self.create()
        second = self.create()

        self.assertNotEqual(first.notification_uuid,
                            second.notification_uuid)
        self.assertEqual(2, self.count(models.Notification))

    def test_duplicate_within_the_interval_is_refused_and_not_stored(self):
        first = db.notification_create(self.ctx, notification_values(),
                                       dedup_key='k1', dedup_interval=60)

        self.assertRaises(exception.DuplicateNotification,
                          db.notification_create, self.ctx,
                          notification_values(), dedup_key='k1',
                          dedup_interval=60)
        self.assertEqual(1, self.count(models.Notification))
        # Another key is another notification.
        db.notification_create(self.ctx, notification_values(),
                               dedup_key='k2', dedup_interval=60)
        self.assertEqual(2, self.count(models.Notification))
        self.assertEqual(first.notification_uuid,
                         db.notification_get(self.ctx, first.id)
                         .notification_uuid)

    def test_duplicate_is_accepted_again_after_the_interval(self):
        first = db.notification_create(self.ctx, notification_values(),
                                       dedup_key='k1', dedup_interval=1)
        self.assertRaises(exception.DuplicateNotification,
                          db.notification_create, self.ctx,
                          notification_values(), dedup_key='k1',
                          dedup_interval=1)

        time.sleep(1.1)
        # The stored expiry may be rounded to the column's precision (whole
        # seconds on MySQL), so allow a short, bounded grace.
        deadline = time.monotonic() + 2
        while True:
            try:
                again = db.notification_create(
                    self.ctx, notification_values(), dedup_key='k1',
                    dedup_interval=1)
                break
            except exception.DuplicateNotification:
                if time.monotonic() > deadline:
                    self.fail('A duplicate was still refused 3 s after a '
                              'dedup interval of 1 s')
                time.sleep(0.1)

        self.assertNotEqual(first.notification_uuid, again.notification_uuid)
        self.assertEqual(2, self.count(models.Notification))
        with self.engine.connect() as conn:
            owner = conn.scalar(
                sa.select(models.NotificationDedup.notification_uuid)
                .where(models.NotificationDedup.key == 'k1'))
        self.assertEqual(again.notification_uuid, owner)

    def _assert_one_winner(self, outcomes):
        winners = [result for result, error in outcomes if error is None]
        errors = [error for result, error in outcomes if error is not None]
        unexpected = [repr(e) for e in errors
                      if not isinstance(e, exception.DuplicateNotification)]
        self.assertEqual([], unexpected,
                         'Every loser must get DuplicateNotification')
        self.assertEqual(1, len(winners))
        self.assertEqual(1, self.count(
            models.Notification,
            models.Notification.notification_uuid.in_(
                [w.notification_uuid for w in winners])))
        return winners[0]

    def test_concurrent_duplicates_store_exactly_one(self):
        def create(i):
            return db.notification_create(
                context.get_admin_context(), notification_values(),
                dedup_key='same', dedup_interval=60)

        # Every request has found no dedup row before any of them inserts
        # one, as when identical alerts arrive at several API workers.
        with self.lockstep_before(DEDUP_INSERT):
            outcomes = run_concurrently(create)

        self._assert_one_winner(outcomes)
        self.assertEqual(1, self.count(models.Notification))

    def test_concurrent_duplicates_after_expiry_store_exactly_one(self):
        db.notification_create(self.ctx, notification_values(),
                               dedup_key='same', dedup_interval=60)
        with self.engine.begin() as conn:
            conn.execute(sa.update(models.NotificationDedup)
                         .values(expires_at=self.ago(seconds=5)))

        outcomes = run_concurrently(
            lambda i: db.notification_create(
                context.get_admin_context(), notification_values(),
                dedup_key='same', dedup_interval=60))

        self._assert_one_winner(outcomes)
        self.assertEqual(2, self.count(models.Notification))

    # notification_claim and notification_release

    def test_claim_of_a_new_notification_takes_it(self):
        created = self.create()

        claimed = db.notification_claim(self.ctx, created.id, 'engine-a', 60)

        self.assertEqual(created.id, claimed.id)
        self.assertEqual('running', claimed.status)
        self.assertEqual('engine-a', claimed.claimed_by)
        self.assertGreater(claimed.lease_until, self.from_now(seconds=30))

    def test_second_claim_of_a_new_notification_gets_nothing(self):
        created = self.create()

        self.assertIsNotNone(
            db.notification_claim(self.ctx, created.id, 'engine-a', 60))
        self.assertIsNone(
            db.notification_claim(self.ctx, created.id, 'engine-b', 60))
        self.assertEqual('engine-a',
                         db.notification_get(self.ctx, created.id).claimed_by)

    def test_concurrent_claims_give_the_notification_to_exactly_one(self):
        created = self.create()

        outcomes = run_concurrently(
            lambda i: db.notification_claim(
                context.get_admin_context(), created.id, 'engine-%d' % i, 60))

        self.assertEqual([], [repr(e) for _, e in outcomes if e is not None])
        winners = [n for n, _ in outcomes if n is not None]
        self.assertEqual(1, len(winners))
        self.assertEqual(winners[0].claimed_by,
                         db.notification_get(self.ctx, created.id).claimed_by)

    def test_running_notification_with_a_live_lease_cannot_be_claimed(self):
        created = self.create()
        db.notification_claim(self.ctx, created.id, 'engine-a', 60)

        self.assertIsNone(
            db.notification_claim(self.ctx, created.id, 'engine-b', 60))

    def test_running_notification_with_an_expired_lease_is_taken_over(self):
        created = self.create()
        db.notification_claim(self.ctx, created.id, 'engine-a', 60)
        self.set_columns(models.Notification, created.id,
                         lease_until=self.ago(seconds=5))

        claimed = db.notification_claim(self.ctx, created.id, 'engine-b', 60)

        self.assertEqual('engine-b', claimed.claimed_by)
        self.assertGreater(claimed.lease_until, timeutils.utcnow())

    def test_error_notification_is_claimable_once_its_retry_is_due(self):
        created = self.create()
        self.set_columns(models.Notification, created.id, status='error',
                         next_attempt_at=self.from_now(minutes=5))
        self.assertIsNone(
            db.notification_claim(self.ctx, created.id, 'engine-a', 60))

        self.set_columns(models.Notification, created.id,
                         next_attempt_at=self.ago(seconds=5))
        claimed = db.notification_claim(self.ctx, created.id, 'engine-a', 60)

        self.assertEqual('running', claimed.status)
        self.assertEqual('engine-a', claimed.claimed_by)

    def test_done_notifications_cannot_be_claimed(self):
        for status in db.DONE_STATUSES:
            created = self.create()
            self.set_columns(models.Notification, created.id, status=status)
            self.assertIsNone(
                db.notification_claim(self.ctx, created.id, 'engine-a', 60),
                status)

    def test_release_applies_only_for_the_engine_holding_the_claim(self):
        created = self.create()
        db.notification_claim(self.ctx, created.id, 'engine-a', 60)

        self.assertFalse(db.notification_release(
            self.ctx, created.id, 'engine-b', 'finished'))
        self.assertEqual('running',
                         db.notification_get(self.ctx, created.id).status)

        retry_at = self.from_now(minutes=1).replace(microsecond=0)
        self.assertTrue(db.notification_release(
            self.ctx, created.id, 'engine-a', 'error',
            next_attempt_at=retry_at))
        released = db.notification_get(self.ctx, created.id)
        self.assertEqual('error', released.status)
        self.assertIsNone(released.lease_until)
        self.assertEqual(retry_at, released.next_attempt_at)
        # Released is released: a second release does not apply.
        self.assertFalse(db.notification_release(
            self.ctx, created.id, 'engine-a', 'finished'))

    def test_release_by_an_engine_whose_lease_was_taken_over_fails(self):
        created = self.create()
        db.notification_claim(self.ctx, created.id, 'engine-a', 60)
        self.set_columns(models.Notification, created.id,
                         lease_until=self.ago(seconds=5))
        db.notification_claim(self.ctx, created.id, 'engine-b', 60)

        self.assertFalse(db.notification_release(
            self.ctx, created.id, 'engine-a', 'failed'))
        self.assertTrue(db.notification_release(
            self.ctx, created.id, 'engine-b', 'finished'))
        self.assertEqual('finished',
                         db.notification_get(self.ctx, created.id).status)

    # The same in batches

    def test_batch_claim_takes_only_the_claimable_ones(self):
        free, held, done = self.create(), self.create(), self.create()
        db.notification_claim(self.ctx, held.id, 'engine-b', 60)
        self.set_columns(models.Notification, done.id, status='finished')

        claimed = db.notifications_claim(
            self.ctx, [done.id, held.id, free.id, free.id], 'engine-a', 60)

        self.assertEqual([free.id], [n.id for n in claimed])
        self.assertEqual('engine-a', claimed[0].claimed_by)
        self.assertEqual('engine-b',
                         db.notification_get(self.ctx, held.id).claimed_by)
        self.assertEqual([], db.notifications_claim(
            self.ctx, [free.id, held.id], 'engine-c', 60))

    def test_batch_release_skips_what_another_engine_took_over(self):
        kept, lost, failed = self.create(), self.create(), self.create()
        db.notifications_claim(self.ctx, [kept.id, lost.id, failed.id],
                               'engine-a', 60)
        self.set_columns(models.Notification, lost.id,
                         lease_until=self.ago(seconds=5))
        db.notification_claim(self.ctx, lost.id, 'engine-b', 60)

        released = db.notifications_release(self.ctx, 'engine-a', {
            kept.id: ('finished', None), lost.id: ('finished', None),
            failed.id: ('failed', None)})

        self.assertEqual({kept.id, failed.id}, released)
        self.assertEqual('finished',
                         db.notification_get(self.ctx, kept.id).status)
        self.assertEqual('failed',
                         db.notification_get(self.ctx, failed.id).status)
        still = db.notification_get(self.ctx, lost.id)
        self.assertEqual(('running', 'engine-b'),
                         (still.status, still.claimed_by))

    def test_batch_lease_extension_counts_what_the_engine_holds(self):
        mine, theirs = self.create(), self.create()
        db.notifications_claim(self.ctx, [mine.id], 'engine-a', 10)
        db.notifications_claim(self.ctx, [theirs.id], 'engine-b', 10)

        self.assertEqual(1, db.notifications_extend_lease(
            self.ctx, [mine.id, theirs.id], 'engine-a', 600))
        self.assertGreater(db.notification_get(self.ctx, mine.id)
                           .lease_until, self.from_now(seconds=300))
        self.assertLess(db.notification_get(self.ctx, theirs.id)
                        .lease_until, self.from_now(seconds=60))

    def test_batch_ensure_keeps_existing_deliveries(self):
        first, second = self.create(), self.create()
        before = db.deliveries_ensure(self.ctx, first.id,
                                      {'default:log': ('log', None)})
        rows = {n.id: n for n in db.notifications_claim(
            self.ctx, [first.id, second.id], 'engine-a', 60)}

        got = db.deliveries_ensure_many(self.ctx, {
            rows[first.id]: {'default:log': ('log', None),
                             'default:email': ('email', None)},
            rows[second.id]: {'default:log': ('log', None)}})

        self.assertEqual(before[0].id, got[first.id][0].id)
        self.assertEqual(['default:log', 'default:email'],
                         [d.target for d in got[first.id]])
        self.assertEqual(['default:log'], [d.target for d in got[second.id]])
        self.assertEqual({second.project_id},
                         {d.project_id for d in got[second.id]})
        self.assertEqual(3, self.count(models.Delivery))

    def test_attempt_record_can_carry_the_release(self):
        created = self.create()
        db.notification_claim(self.ctx, created.id, 'engine-a', 60)
        [log] = db.deliveries_ensure(self.ctx, created.id,
                                     {'default:log': ('log', None)})

        released = db.delivery_record_attempts(self.ctx, [dict(
            delivery_id=log.id, engine='engine-a',
            started_at=timeutils.utcnow(), latency_ms=1.0,
            outcome='delivered', status='delivered',
            release=(created.id, 'engine-a', 'finished', None))])

        self.assertEqual({created.id}, released)
        self.assertEqual('finished',
                         db.notification_get(self.ctx, created.id).status)
        self.assertEqual(['delivered'], [
            d.status for d in db.deliveries_for_notification(
                self.ctx, created.id)])

    # Deliveries

    def test_deliveries_ensure_creates_one_delivery_per_target_once(self):
        created = self.create()
        targets = {'default:log': ('log', None),
                   'ops:webhook': ('webhook', None)}

        first = db.deliveries_ensure(self.ctx, created.id, targets)
        second = db.deliveries_ensure(self.ctx, created.id, targets)

        self.assertEqual([d.uuid for d in first], [d.uuid for d in second])
        self.assertEqual({'default:log': 'log', 'ops:webhook': 'webhook'},
                         {d.target: d.medium for d in second})
        self.assertEqual(['pending', 'pending'], [d.status for d in second])
        self.assertEqual(2, self.count(models.Delivery))

    def test_deliveries_ensure_keeps_what_existing_deliveries_achieved(self):
        created = self.create()
        (log,) = db.deliveries_ensure(self.ctx, created.id,
                                      {'default:log': ('log', None)})
        db.delivery_record_attempt(self.ctx, log.id, 'engine-a',
                                   timeutils.utcnow(), 1.5, 'delivered',
                                   db.DELIVERED, receipt='r-1')

        after = db.deliveries_ensure(self.ctx, created.id,
                                     {'default:log': ('log', None),
                                      'ops:webhook': ('webhook', None)})

        by_target = {d.target: d for d in after}
        self.assertEqual(log.uuid, by_target['default:log'].uuid)
        self.assertEqual('delivered', by_target['default:log'].status)
        self.assertEqual(1, by_target['default:log'].attempts)
        self.assertEqual('pending', by_target['ops:webhook'].status)
        self.assertEqual(2, self.count(models.Delivery))

    def test_record_attempt_counts_attempts_and_keeps_each_one(self):
        created = self.create()
        (delivery,) = db.deliveries_ensure(self.ctx, created.id,
                                           {'ops:webhook': ('webhook', None)})
        retry_at = self.from_now(seconds=30).replace(microsecond=0)
        started = self.ago(seconds=2).replace(microsecond=0)

        db.delivery_record_attempt(
            self.ctx, delivery.id, 'engine-a', started, 12.5, 'retry',
            db.PENDING, error='HTTP 503', next_attempt_at=retry_at)
        (pending,) = db.deliveries_for_notification(self.ctx, created.id)
        self.assertEqual(1, pending.attempts)
        self.assertEqual('pending', pending.status)
        self.assertEqual('HTTP 503', pending.last_error)
        self.assertEqual(retry_at, pending.next_attempt_at)

        db.delivery_record_attempt(
            self.ctx, delivery.id, 'engine-b', timeutils.utcnow(), 3.0,
            'delivered', db.DELIVERED, receipt='msg-42')
        (done,) = db.deliveries_for_notification(self.ctx, created.id)
        self.assertEqual(2, done.attempts)
        self.assertEqual('delivered', done.status)
        self.assertEqual('msg-42', done.receipt)
        self.assertIsNone(done.last_error)
        self.assertIsNone(done.next_attempt_at)
        self.assertIsNotNone(done.delivered_at)
        self.assertEqual(
            [(1, 'engine-a', 'retry', 'HTTP 503', None),
             (2, 'engine-b', 'delivered', None, 'msg-42')],
            [(a.number, a.engine, a.outcome, a.error, a.receipt)
             for a in done.attempt_records])
        self.assertEqual(started, done.attempt_records[0].started_at)
        self.assertEqual(12.5, done.attempt_records[0].latency_ms)

    def test_record_attempts_together_as_one_by_one(self):
        created = self.create()
        a, b = db.deliveries_ensure(self.ctx, created.id,
                                    {'ops:a': ('webhook', None),
                                     'ops:b': ('email', None)})
        db.delivery_record_attempt(self.ctx, a.id, 'engine-a',
                                   self.ago(seconds=9), 1.0, 'retry',
                                   db.PENDING, error='HTTP 503')
        message = drivers_base.Message(
            delivery_id=b.uuid, subject='Subject', text='Text', event={},
            event_type='t', html='<p>x</p>', template='compute_host',
            template_version=3)
        started = self.ago(seconds=2).replace(microsecond=0)
        retry_at = self.from_now(seconds=30).replace(microsecond=0)

        db.delivery_record_attempts(self.ctx, [
            dict(delivery_id=a.id, engine='engine-b', started_at=started,
                 latency_ms=2.5, outcome='delivered', status=db.DELIVERED,
                 receipt='r-2', recipients=('https://x.example',)),
            dict(delivery_id=b.id, engine='engine-b', started_at=started,
                 latency_ms=4.0, outcome='retry', status=db.PENDING,
                 error='421 busy', next_attempt_at=retry_at,
                 message=message)])

        by_target = {d.target: d for d in db.deliveries_for_notification(
            self.ctx, created.id)}
        done, pending = by_target['ops:a'], by_target['ops:b']
        self.assertEqual((2, 'delivered', 'r-2', None, None),
                         (done.attempts, done.status, done.receipt,
                          done.last_error, done.next_attempt_at))
        self.assertIsNotNone(done.delivered_at)
        self.assertEqual(['https://x.example'], done.recipients)
        self.assertEqual(started, done.last_attempt_at)
        self.assertEqual([(1, 'engine-a', 'retry'),
                          (2, 'engine-b', 'delivered')],
                         [(x.number, x.engine, x.outcome)
                          for x in done.attempt_records])
        self.assertEqual((1, 'pending', '421 busy', retry_at, 'Subject',
                          'Text', '<p>x</p>', 'compute_host', 3),
                         (pending.attempts, pending.status,
                          pending.last_error, pending.next_attempt_at,
                          pending.subject, pending.text_body,
                          pending.html_body, pending.template,
                          pending.template_version))
        self.assertIsNone(pending.delivered_at)
        self.assertEqual([(1, 4.0, '421 busy')],
                         [(x.number, x.latency_ms, x.error)
                          for x in pending.attempt_records])

    def test_attempts_sharing_an_update_keep_their_own_columns(self):
        # The attempts of one notification that succeeded share one
        # UPDATE; each delivery still gets its own start, receipt and
        # recipients, and one without recipients keeps those it had.
        created = self.create()
        deliveries = db.deliveries_ensure(
            self.ctx, created.id,
            {'ops:%d' % i: ('webhook', None) for i in range(4)})
        ids = [d.id for d in deliveries]
        db.delivery_record_attempt(
            self.ctx, ids[3], 'engine-a', self.ago(seconds=9), 1.0, 'retry',
            db.PENDING, error='HTTP 503', recipients=('https://old.example',))
        message = drivers_base.Message(
            delivery_id='x', subject='Subject', text='Text', event={},
            event_type='t')
        starts = [self.ago(seconds=5 - i).replace(microsecond=0)
                  for i in range(4)]

        updates = []

        def record(conn, cursor, statement, params, context, many):
            if statement.startswith('UPDATE deliveries'):
                updates.append(len(params) if many else 1)

        engine = db.get_engine()
        sa.event.listen(engine, 'before_cursor_execute', record)
        try:
            db.delivery_record_attempts(self.ctx, [
                dict(delivery_id=ids[i], engine='engine-b',
                     started_at=starts[i], latency_ms=1.0,
                     outcome='delivered', status=db.DELIVERED,
                     receipt='HTTP 20%d' % i, message=message,
                     recipients=('https://%d.example' % i,) if i < 3 else ())
                for i in range(4)])
        finally:
            sa.event.remove(engine, 'before_cursor_execute', record)

        # One round trip for the three with recipients, one for the other.
        self.assertEqual([1, 1], updates)

        after = {d.id: d for d in db.deliveries_for_notification(
            self.ctx, created.id)}
        self.assertEqual(
            [(1, 'delivered', 'HTTP 200', ['https://0.example'], starts[0]),
             (1, 'delivered', 'HTTP 201', ['https://1.example'], starts[1]),
             (1, 'delivered', 'HTTP 202', ['https://2.example'], starts[2]),
             (2, 'delivered', 'HTTP 203', ['https://old.example'],
              starts[3])],
            [(after[i].attempts, after[i].status, after[i].receipt,
              after[i].recipients, after[i].last_attempt_at) for i in ids])
        self.assertEqual({'Subject'}, {d.subject for d in after.values()})

    def test_two_attempts_of_a_delivery_in_one_batch_both_count(self):
        created = self.create()
        (delivery,) = db.deliveries_ensure(self.ctx, created.id,
                                           {'ops:a': ('webhook', None)})
        started = self.ago(seconds=2).replace(microsecond=0)

        db.delivery_record_attempts(self.ctx, [
            dict(delivery_id=delivery.id, engine='engine-a',
                 started_at=started, latency_ms=1.0, outcome='retry',
                 status=db.PENDING, error='HTTP 503')] * 2)

        (after,) = db.deliveries_for_notification(self.ctx, created.id)
        self.assertEqual(2, after.attempts)
        self.assertEqual([1, 2], [a.number for a in after.attempt_records])

    def test_attempt_recorder_commits_every_concurrent_attempt(self):
        created = self.create()
        deliveries = db.deliveries_ensure(
            self.ctx, created.id,
            {'ops:%d' % i: ('webhook', None) for i in range(THREADS)})
        rec = recorder.AttemptRecorder()

        outcomes = run_concurrently(lambda i: rec.record(
            context.get_admin_context(), delivery_id=deliveries[i].id,
            engine='engine-a', started_at=timeutils.utcnow(),
            latency_ms=1.0, outcome='delivered', status=db.DELIVERED))

        self.assertEqual([None] * THREADS, [e for _, e in outcomes])
        after = db.deliveries_for_notification(self.ctx, created.id)
        self.assertEqual([(1, 'delivered')] * THREADS,
                         [(d.attempts, d.status) for d in after])
        self.assertEqual(THREADS, self.count(models.DeliveryAttempt))

    def test_attempt_recorder_reports_the_releases_of_a_commit_at_once(self):
        mine, other = self.create(), self.create()
        db.notifications_claim(self.ctx, [mine.id], 'engine-a', 60)
        db.notifications_claim(self.ctx, [other.id], 'engine-b', 60)
        reported = []
        rec = recorder.AttemptRecorder(on_released=reported.append)
        batch = [
            recorder._Pending({'release': (mine.id, 'engine-a', db.FINISHED,
                                           None)}, note='mine'),
            # Claimed by another engine: its release does not apply.
            recorder._Pending({'release': (other.id, 'engine-a',
                                           db.FINISHED, None)},
                              note='other'),
            recorder._Pending({'release': None}, note='no release')]

        rec._commit(self.ctx, batch)
        rec._released(batch)

        self.assertEqual([[('mine', db.FINISHED)]], reported)
        self.assertEqual([True, False, False],
                         [item.released for item in batch])

    def test_attempt_recorder_keeps_good_attempts_of_a_failed_batch(self):
        created = self.create()
        (good,) = db.deliveries_ensure(self.ctx, created.id,
                                       {'ops:a': ('webhook', None)})
        batch = [recorder._Pending(dict(
            delivery_id=delivery_id, engine='engine-a',
            started_at=timeutils.utcnow(), latency_ms=1.0,
            outcome='delivered', status=db.DELIVERED))
            for delivery_id in (good.id, 987654)]  # the second is gone

        recorder.AttemptRecorder._commit(self.ctx, batch)

        self.assertIsNone(batch[0].error)
        self.assertIsNotNone(batch[1].error)
        self.assertTrue(all(item.done for item in batch))
        (after,) = db.deliveries_for_notification(self.ctx, created.id)
        self.assertEqual((1, 'delivered'), (after.attempts, after.status))

    # The periodic task's queries

    def test_due_returns_stale_new_expired_running_and_due_error(self):
        ids = {}
        for name in ('fresh_new', 'stale_new', 'running_live',
                     'running_expired', 'error_due', 'error_later',
                     'finished'):
            ids[name] = self.create().id
        self.set_columns(models.Notification, ids['stale_new'],
                         updated_at=self.ago(minutes=5))
        self.set_columns(models.Notification, ids['running_live'],
                         status='running', claimed_by='engine-a',
                         lease_until=self.from_now(minutes=5),
                         updated_at=self.ago(minutes=5))
        self.set_columns(models.Notification, ids['running_expired'],
                         status='running', claimed_by='engine-a',
                         lease_until=self.ago(seconds=5))
        self.set_columns(models.Notification, ids['error_due'],
                         status='error', next_attempt_at=self.ago(seconds=5))
        self.set_columns(models.Notification, ids['error_later'],
                         status='error',
                         next_attempt_at=self.from_now(minutes=5))
        self.set_columns(models.Notification, ids['finished'],
                         status='finished', updated_at=self.ago(minutes=5))

        due = db.notifications_due(self.ctx, recast_after=60, limit=100)

        self.assertEqual([ids['stale_new'], ids['running_expired'],
                          ids['error_due']], due)
        self.assertEqual([ids['stale_new'], ids['running_expired']],
                         db.notifications_due(self.ctx, recast_after=60,
                                              limit=2))

    def test_expire_fails_old_unfinished_notifications_and_deliveries(self):
        ids = {}
        for name in ('old_new', 'old_running', 'old_error', 'old_finished',
                     'young_new'):
            ids[name] = self.create().id
        for name in ('old_new', 'old_running', 'old_error', 'old_finished'):
            self.set_columns(models.Notification, ids[name],
                             created_at=self.ago(hours=2))
        self.set_columns(models.Notification, ids['old_running'],
                         status='running', claimed_by='engine-a',
                         lease_until=self.from_now(minutes=5))
        self.set_columns(models.Notification, ids['old_error'],
                         status='error', next_attempt_at=self.from_now(
                             minutes=5))
        self.set_columns(models.Notification, ids['old_finished'],
                         status='finished')
        pending, delivered = db.deliveries_ensure(
            self.ctx, ids['old_error'],
            {'ops:webhook': ('webhook', None), 'default:log': ('log', None)})
        if pending.target != 'ops:webhook':
            pending, delivered = delivered, pending
        db.delivery_record_attempt(self.ctx, delivered.id, 'engine-a',
                                   timeutils.utcnow(), 1.0, 'delivered',
                                   db.DELIVERED)
        (young,) = db.deliveries_ensure(self.ctx, ids['young_new'],
                                        {'default:log': ('log', None)})

        self.assertEqual(3, db.notifications_expire(self.ctx, max_age=3600))

        status = {name: db.notification_get(self.ctx, i)
                  for name, i in ids.items()}
        self.assertEqual(
            {'old_new': 'failed', 'old_running': 'failed',
             'old_error': 'failed', 'old_finished': 'finished',
             'young_new': 'new'},
            {name: n.status for name, n in status.items()})
        self.assertIsNone(status['old_running'].lease_until)
        self.assertIsNone(status['old_error'].next_attempt_at)
        deliveries = {d.target: d for d in db.deliveries_for_notification(
            self.ctx, ids['old_error'])}
        self.assertEqual('failed', deliveries['ops:webhook'].status)
        self.assertIn('Expired', deliveries['ops:webhook'].last_error)
        self.assertIn('3600 seconds', deliveries['ops:webhook'].last_error)
        self.assertEqual('delivered', deliveries['default:log'].status)
        self.assertIsNone(deliveries['default:log'].last_error)
        (young_after,) = db.deliveries_for_notification(self.ctx,
                                                        ids['young_new'])
        self.assertEqual('pending', young_after.status)
        # Nothing left to expire.
        self.assertEqual(0, db.notifications_expire(self.ctx, max_age=3600))

    # notification_list

    def _create_25(self):
        """25 notifications whose created_at and type repeat, so that a
        page boundary falls inside a run of equal sort keys."""
        base_time = datetime.datetime(2026, 11, 23, 9, 0, 0)
        types = ('COMPUTE_HOST', 'PROCESS', 'VM')
        rows = []
        for i in range(25):
            n = self.create(type=types[i % 3])
            created_at = base_time + datetime.timedelta(minutes=i % 4)
            self.set_columns(models.Notification, n.id,
                             created_at=created_at)
            rows.append({'id': n.id, 'uuid': n.notification_uuid,
                         'created_at': created_at, 'type': types[i % 3]})
        return rows

    def _walk_pages(self, sort_key, sort_dir):
        ids, sizes, marker = [], [], None
        for _ in range(5):  # 3 pages expected; bounded in case of a loop
            page = db.notification_list(self.ctx, limit=10, marker=marker,
                                        sort_key=sort_key, sort_dir=sort_dir)
            sizes.append(len(page))
            ids.extend(n.id for n in page)
            if len(page) < 10:
                break
            marker = page[-1].notification_uuid
        return ids, sizes

    def test_list_pages_by_marker_give_every_row_once_in_order(self):
        rows = self._create_25()

        for sort_key in ('created_at', 'type'):
            for sort_dir in ('asc', 'desc'):
                expected = [r['id'] for r in sorted(
                    rows, key=lambda r: (r[sort_key], r['id']),
                    reverse=sort_dir == 'desc')]
                ids, sizes = self._walk_pages(sort_key, sort_dir)
                self.assertEqual([10, 10, 5], sizes, (sort_key, sort_dir))
                self.assertEqual(expected, ids, (sort_key, sort_dir))

    def test_list_marker_may_be_the_integer_id(self):
        rows = self._create_25()
        expected = [r['id'] for r in sorted(
            rows, key=lambda r: (r['created_at'], r['id']))]

        page = db.notification_list(self.ctx, limit=10,
                                    marker=str(expected[9]),
                                    sort_key='created_at', sort_dir='asc')

        self.assertEqual(expected[10:20], [n.id for n in page])

    def test_list_filters(self):
        a = self.create(type='VM', source_host_uuid=HOST_1,
                        generated_time=datetime.datetime(2026, 11, 1))
        b = self.create(type='VM', source_host_uuid=HOST_2,
                        generated_time=datetime.datetime(2026, 11, 20))
        c = self.create(type='PROCESS', source_host_uuid=HOST_2,
                        generated_time=datetime.datetime(2026, 11, 22))
        self.set_columns(models.Notification, c.id, status='finished')

        def ids(**filters):
            return {n.id for n in db.notification_list(self.ctx,
                                                       filters=filters)}

        self.assertEqual({a.id, b.id, c.id}, ids())
        self.assertEqual({a.id, b.id}, ids(type='VM'))
        self.assertEqual({c.id}, ids(status='finished'))
        self.assertEqual({a.id, b.id}, ids(status='new'))
        self.assertEqual({b.id, c.id}, ids(source_host_uuid=HOST_2))
        self.assertEqual({b.id, c.id}, ids(
            generated_since=datetime.datetime(2026, 11, 20)))
        self.assertEqual({b.id}, ids(
            type='VM', source_host_uuid=HOST_2,
            generated_since=datetime.datetime(2026, 11, 2)))
        self.assertEqual(set(), ids(type='VM', status='finished'))

    def test_list_is_limited_to_the_project(self):
        mine = self.create()
        self.create(project_id='another-project')

        self.assertEqual([mine.id], [n.id for n in db.notification_list(
            self.ctx, project_id=PROJECT)])

    def test_list_with_an_unknown_marker_raises_marker_not_found(self):
        self.create()

        for marker in (uuidutils.generate_uuid(), '987654'):
            self.assertRaises(exception.MarkerNotFound,
                              db.notification_list, self.ctx, limit=10,
                              marker=marker)

    # The API passes any string of 1 to 36 characters as the marker.

    def test_list_with_a_marker_that_is_not_an_id_raises_marker_not_found(
            self):
        self.create()

        self.assertRaises(exception.MarkerNotFound, db.notification_list,
                          self.ctx, limit=10, marker='not-an-id')

    def test_list_with_a_marker_beyond_the_id_range_raises_marker_not_found(
            self):
        self.create()

        self.assertRaises(exception.MarkerNotFound, db.notification_list,
                          self.ctx, limit=10, marker='99999999999')

    def test_list_marker_from_another_project_is_not_found(self):
        theirs = self.create(project_id='another-project')

        self.assertRaises(exception.MarkerNotFound, db.notification_list,
                          self.ctx, project_id=PROJECT,
                          marker=theirs.notification_uuid)

    def test_list_renders_the_notification_view_byte_for_byte(self):
        # The list reads its times as text and its payloads as stored, and
        # writes its JSON itself: the bytes must be those of the API's
        # encoder over views.notification of each row, whatever the
        # values (times with and without microseconds, a year before
        # 1000, strings that JSON escapes, a payload with non-ASCII text,
        # floats, big integers and nesting).
        project = 'pr\u00f8ject "x"'
        payload = {'event': 'STOPPED',
                   'note': 'caf\u00e9 "q" \\ \n\x01 \U0001f600',
                   'ratio': 0.1, 'big': 12345678901234567890, 'neg': -0.0,
                   'nested': {'list': [1, 2.5e-07, None, True, 'x']}}
        ids = [
            self.create(project_id=project, payload=payload,
                        generated_time=datetime.datetime(
                            2026, 11, 23, 10, 0, 0, 1)).id,
            self.create(project_id=project, hostname='h\u00f4te\t"1"',
                        generated_time=datetime.datetime(
                            5, 1, 2, 3, 4, 5)).id,
        ]
        self.set_columns(models.Notification, ids[1], status='finished',
                         created_at=datetime.datetime(2026, 11, 23, 11),
                         updated_at=datetime.datetime(2026, 11, 23, 12, 0, 0,
                                                      999999))

        for sort_key in ('created_at', 'generated_time'):
            rows = db.notification_list(self.ctx, project_id=project,
                                        sort_key=sort_key)
            expected = jsonutils.dumps({'notifications': [
                views.notification(db.notification_get(self.ctx, row.id))
                for row in rows]})
            self.assertEqual(sorted(ids), sorted(row.id for row in rows))
            self.assertEqual(expected, views.notifications_json(rows))
        text = views.notifications_json(rows)
        self.assertIn('"generated_time": "5-01-02T03:04:05.000000"', text)
        self.assertIn('"generated_time": "2026-11-23T10:00:00.000001"',
                      text)
        self.assertIn('"created_at": "2026-11-23T11:00:00.000000", '
                      '"updated_at": "2026-11-23T12:00:00.999999"', text)
        self.assertIn('"hostname": "h\\u00f4te\\t\\"1\\""', text)
        self.assertIn('"project_id": "pr\\u00f8ject \\"x\\""', text)
        self.assertIn('"payload": {"event": "STOPPED", "note": '
                      '"caf\\u00e9 \\"q\\" \\\\ \\n\\u0001 '
                      '\\ud83d\\ude00", "ratio": 0.1, '
                      '"big": 12345678901234567890, "neg": -0.0, '
                      '"nested": {"list": [1, 2.5e-07, null, true, "x"]}}',
                      text)
        self.assertEqual('{"notifications": []}', views.notifications_json(
            db.notification_list(self.ctx, project_id='nobody')))

    # Hosts

    def test_host_get_or_create_returns_the_existing_host(self):
        first = db.host_get_or_create(self.ctx, PROJECT, 'compute-1')
        again = db.host_get_or_create(self.ctx, PROJECT, 'compute-1')
        other = db.host_get_or_create(self.ctx, 'another-project',
                                      'compute-1')

        self.assertEqual(first.uuid, again.uuid)
        self.assertNotEqual(first.uuid, other.uuid)
        self.assertEqual(2, self.count(models.Host))

    def test_concurrent_host_get_or_create_registers_one_host(self):
        # Every request finds no host and tries to register it.
        with self.lockstep_before('INSERT INTO hosts'):
            outcomes = run_concurrently(
                lambda i: db.host_get_or_create(context.get_admin_context(),
                                                PROJECT, 'compute-9'))

        self.assertEqual([], [repr(e) for _, e in outcomes if e is not None])
        uuids = {host.uuid for host, _ in outcomes}
        self.assertEqual(1, len(uuids))
        self.assertEqual(1, self.count(models.Host))
        self.assertEqual(uuids.pop(),
                         db.host_get_by_name(self.ctx, PROJECT,
                                             'compute-9').uuid)

    # notification_create_on_host (the ingest path, one transaction)

    def _on_host(self, ctx=None, auto_register=True, **overrides):
        values = notification_values(**overrides)
        del values['source_host_uuid']
        return db.notification_create_on_host(
            ctx or self.ctx, values, auto_register=auto_register,
            dedup_key=hashlib.sha256(repr(
                (values['hostname'], values['payload'])).encode()).hexdigest(),
            dedup_interval=60)

    def test_create_on_host_registers_a_new_host_and_reuses_it(self):
        first = self._on_host(payload={'event': 'STOPPED', 'n': 1})
        again = self._on_host(payload={'event': 'STOPPED', 'n': 2})

        host = db.host_get_by_name(self.ctx, PROJECT, 'compute-1')
        self.assertEqual(host.uuid, first.source_host_uuid)
        self.assertEqual(host.uuid, again.source_host_uuid)
        self.assertEqual(1, self.count(models.Host))
        self.assertEqual(2, self.count(models.Notification))

    def test_create_on_host_refuses_unregistered_and_maintenance(self):
        self.assertRaises(exception.HostNotRegistered, self._on_host,
                          auto_register=False)
        self.assertEqual(0, self.count(models.Host))
        host = db.host_create(self.ctx, PROJECT, 'compute-1',
                              on_maintenance=True)

        self.assertRaises(exception.HostOnMaintenance, self._on_host)
        db.host_update(self.ctx, host.uuid, {'on_maintenance': False})
        self.assertEqual(host.uuid, self._on_host().source_host_uuid)
        self.assertEqual(1, self.count(models.Notification))

    def test_create_on_host_refused_duplicate_leaves_no_new_host(self):
        first = self._on_host()
        db.host_delete(self.ctx, first.source_host_uuid)

        # The dedup row outlives the host: the duplicate is refused and
        # its transaction, host registration included, rolled back.
        self.assertRaises(exception.DuplicateNotification, self._on_host)
        self.assertEqual(0, self.count(models.Host))
        self.assertEqual(1, self.count(models.Notification))

    def test_concurrent_creates_on_a_new_host_register_one_host(self):
        # Every transaction finds no host and tries to register it; the
        # losers are run again and use the winner's host.
        with self.lockstep_before('INSERT INTO hosts'):
            outcomes = run_concurrently(
                lambda i: self._on_host(context.get_admin_context(),
                                        hostname='compute-7',
                                        payload={'event': 'STOPPED',
                                                 'n': i}))

        self.assertEqual([], [repr(e) for _, e in outcomes if e is not None])
        host = db.host_get_by_name(self.ctx, PROJECT, 'compute-7')
        self.assertEqual({host.uuid},
                         {n.source_host_uuid for n, _ in outcomes})
        self.assertEqual(1, self.count(models.Host))
        self.assertEqual(len(outcomes), self.count(models.Notification))

    def _dedup_rows(self):
        with self.engine.connect() as conn:
            return conn.execute(sa.select(
                models.NotificationDedup.key,
                models.NotificationDedup.notification_uuid,
                models.NotificationDedup.expires_at)).all()

    def test_create_on_host_returns_the_stored_row(self):
        created = self._on_host(request_id='req-0123')

        stored = db.notification_get(self.ctx, created.id)
        for column in models.Notification.__table__.columns.keys():
            self.assertEqual(getattr(stored, column),
                             getattr(created, column), column)

    def test_refused_duplicate_leaves_the_live_dedup_row_alone(self):
        first = self._on_host()
        before = self._dedup_rows()

        self.assertRaises(exception.DuplicateNotification, self._on_host)
        self.assertEqual(before, self._dedup_rows())
        self.assertEqual(first.notification_uuid,
                         before[0].notification_uuid)
        self.assertEqual(1, self.count(models.Notification))

    def test_expired_dedup_row_is_taken_over_at_once(self):
        self._on_host()
        with self.engine.begin() as conn:
            conn.execute(sa.update(models.NotificationDedup)
                         .values(expires_at=self.ago(seconds=1)))

        again = self._on_host()

        (row,) = self._dedup_rows()
        self.assertEqual(again.notification_uuid, row.notification_uuid)
        self.assertGreater(row.expires_at, self.from_now(seconds=50))
        self.assertEqual(2, self.count(models.Notification))
        self.assertRaises(exception.DuplicateNotification, self._on_host)

    def test_concurrent_duplicates_are_refused_without_deadlocks(self):
        # A refused duplicate only reads the dedup row it met, so that
        # duplicates arriving together wait for the winner and are refused
        # at once rather than deadlocking and being retried a second later.
        deadlocks = []

        def record(error_context):
            if 'deadlock' in str(error_context.original_exception).lower():
                deadlocks.append(error_context.original_exception)

        sa.event.listen(self.engine, 'handle_error', record, insert=True)
        self.addCleanup(sa.event.remove, self.engine, 'handle_error', record)

        def create(i):
            return self._on_host(context.get_admin_context())

        # First a new key, then the same key again while its row is live;
        # the host exists, so that only the dedup row is contended.
        db.host_create(self.ctx, PROJECT, 'compute-1')
        with self.lockstep_before(DEDUP_INSERT):
            first = run_concurrently(create)
        with self.lockstep_before(DEDUP_INSERT):
            again = run_concurrently(create)

        self._assert_one_winner(first)
        self.assertEqual(
            [exception.DuplicateNotification] * THREADS,
            [type(e) for _, e in again])
        self.assertEqual([], deadlocks)
        self.assertEqual(1, self.count(models.Notification))

    # purge

    def _with_delivery_and_attempt(self, notification_id):
        (delivery,) = db.deliveries_ensure(self.ctx, notification_id,
                                           {'default:log': ('log', None)})
        db.delivery_record_attempt(self.ctx, delivery.id, 'engine-a',
                                   timeutils.utcnow(), 1.0, 'delivered',
                                   db.DELIVERED)
        return delivery.id

    def test_purge_deletes_only_old_done_notifications_with_their_ledger(self):
        ids, deliveries = {}, {}
        for name, status, age_days in (
                ('old_finished', 'finished', 10),
                ('old_failed', 'failed', 10),
                ('old_ignored', 'ignored', 10),
                ('old_error', 'error', 10),
                ('old_new', 'new', 10),
                ('young_finished', 'finished', 1)):
            n = self.create()
            ids[name] = n.id
            deliveries[name] = self._with_delivery_and_attempt(n.id)
            self.set_columns(models.Notification, n.id, status=status,
                             updated_at=self.ago(days=age_days))
        db.notification_create(self.ctx, notification_values(),
                               dedup_key='expired', dedup_interval=60)
        db.notification_create(self.ctx, notification_values(),
                               dedup_key='live', dedup_interval=60)
        with self.engine.begin() as conn:
            conn.execute(sa.update(models.NotificationDedup)
                         .where(models.NotificationDedup.key == 'expired')
                         .values(expires_at=self.ago(seconds=5)))

        self.assertEqual(3, db.purge(self.ctx, older_than_days=7))

        kept = {'old_error', 'old_new', 'young_finished'}
        with self.engine.connect() as conn:
            remaining = set(conn.scalars(sa.select(models.Notification.id)))
            remaining_deliveries = set(conn.scalars(
                sa.select(models.Delivery.id)))
            remaining_attempts = set(conn.scalars(
                sa.select(models.DeliveryAttempt.delivery_id)))
            dedup_keys = set(conn.scalars(
                sa.select(models.NotificationDedup.key)))
        self.assertEqual({ids[k] for k in kept},
                         remaining & set(ids.values()))
        self.assertEqual({deliveries[k] for k in kept}, remaining_deliveries)
        self.assertEqual({deliveries[k] for k in kept}, remaining_attempts)
        self.assertEqual({'live'}, dedup_keys)


class TestDBAPISQLite(_DBAPITests, base.TestCase):
    one_transaction_at_a_time = True

    def database(self):
        return self.useFixture(fixtures.SQLiteDatabase()).engine


class TestDBAPIMySQL(test_fixtures.OpportunisticDBTestMixin, _DBAPITests,
                     base.TestCase):
    FIXTURE = MigratedMySQL

    def test_the_driver_is_mysqlclient(self):
        self.assertEqual('mysqldb', self.engine.dialect.driver)


class TestDBAPIPyMySQL(test_fixtures.OpportunisticDBTestMixin, _DBAPITests,
                       base.TestCase):
    FIXTURE = MigratedPyMySQL

    def test_the_driver_is_pymysql(self):
        self.assertEqual('pymysql', self.engine.dialect.driver)


class TestDBAPIPostgreSQL(test_fixtures.OpportunisticDBTestMixin,
                          _DBAPITests, base.TestCase):
    FIXTURE = MigratedPostgreSQL
