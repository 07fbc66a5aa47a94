"""Database access: one function per operation, enginefacade transactions,
SQLAlchemy 2.0 ``select()`` style."""

import datetime
import os
import time

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from notifier import exception
from notifier.db import models

LOG = logging.getLogger(__name__)

# Statuses are masakari's.
NEW, RUNNING, FINISHED, ERROR, FAILED, IGNORED = (
    'new', 'running', 'finished', 'error', 'failed', 'ignored')
STATUSES = (NEW, RUNNING, FINISHED, ERROR, FAILED, IGNORED)
DONE_STATUSES = (FINISHED, FAILED, IGNORED)

# Delivery statuses.
PENDING, DELIVERED = 'pending', 'delivered'

_CONFIGURED = False


def configure(conf):
    """Configure the global enginefacade once per process."""
    global _CONFIGURED
    if _CONFIGURED:
        return
    _CONFIGURED = True
    enginefacade.configure(sqlite_fk=True)
    url = conf.database.connection or ''
    if url.startswith('sqlite:///') and len(url) > len('sqlite:///'):
        path = url[len('sqlite:///'):].split('?')[0]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if url.startswith('sqlite'):
        setup_sqlite(get_engine(), pool_size=conf.database.max_pool_size,
                     max_overflow=conf.database.max_overflow)
    else:
        ping_when_idle(get_engine())


def setup_sqlite(engine, pool_size=None, max_overflow=None):
    """Make SQLite safe for the API and engine threads of one process.

    Every transaction starts with BEGIN IMMEDIATE, so that a transaction
    that reads and then writes waits for the write lock up front instead
    of failing with "database is locked" when it upgrades its lock. That
    serializes all transactions, reads included, which is what a
    single-node SQLite install can afford; a file database also uses WAL,
    so that commits are cheap.
    """
    # oslo.db's own listener emits a plain (deferred) BEGIN; take its
    # place, keeping its in_transaction marker that its commit and
    # rollback listeners clear.
    for listener in list(engine.dispatch.begin):
        if listener.__name__ == '_sqlite_emit_begin':
            sa.event.remove(engine, 'begin', listener)

    @sa.event.listens_for(engine, 'begin')
    def _begin_immediate(conn):
        if 'in_transaction' not in conn.info:
            conn.exec_driver_sql('BEGIN IMMEDIATE')
            conn.info['in_transaction'] = True

    if engine.url.database and engine.url.database != ':memory:':
        _pool_sqlite_connections(engine, pool_size, max_overflow)
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute('PRAGMA journal_mode=WAL')
        finally:
            raw.close()


def _pool_sqlite_connections(engine, pool_size, max_overflow):
    """Keep a file database's connections open between transactions.

    oslo.db gives a file database a NullPool: every transaction opens the
    file, reads the schema and, closing the last connection, checkpoints
    the WAL, several milliseconds and fsyncs per transaction. A QueuePool
    of the [database] max_pool_size/max_overflow connections, with
    oslo.db's connect-time set-up (the pool's event dispatch) kept.
    """
    old = engine.pool
    if not isinstance(old, sa.pool.NullPool):
        return
    engine.pool = sa.pool.QueuePool(
        old._creator, pool_size=pool_size or 5,
        max_overflow=50 if max_overflow is None else max_overflow,
        recycle=old._recycle, echo=old.echo,
        logging_name=old._orig_logging_name,
        reset_on_return=old._reset_on_return, pre_ping=False,
        _dispatch=old.dispatch, dialect=old._dialect)
    old.dispose()


#: Seconds a pooled connection may sit unused and still be taken without
#: a ping first (see :func:`ping_when_idle`).
PING_AFTER_IDLE = 1.0


def ping_when_idle(engine, idle=PING_AFTER_IDLE):
    """Ping a pooled connection when it is taken only if it sat unused for
    more than ``idle`` seconds.

    oslo.db has the pool ping every connection it hands out: a round trip
    before every transaction, about a tenth of the CPU and of the latency
    of a notification's create. A connection given back less than a
    second ago was working then; one that sat idle longer (the database
    restarted, a server or proxy timeout closed it) is pinged and, if it
    is dead, replaced before use, as before. A connection that dies within
    the second fails its transaction, and SQLAlchemy then replaces every
    connection of the pool.
    """
    pool = engine.pool
    if not getattr(pool, '_pre_ping', False):
        return
    pool._pre_ping = False  # our checkout listener decides instead
    dialect = engine.dialect

    @sa.event.listens_for(pool, 'checkin')
    def _given_back(dbapi_connection, record):
        record.info['notifier_given_back'] = time.monotonic()

    @sa.event.listens_for(pool, 'checkout')
    def _taken(dbapi_connection, record, proxy):
        given_back = record.info.get('notifier_given_back')
        if given_back is not None and time.monotonic() - given_back < idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as e:
            # The pool discards it and takes (or opens) another.
            raise sa.exc.DisconnectionError(
                'the pooled connection failed its ping: %s' % e)


def get_engine():
    return enginefacade.writer.get_engine()


def _seconds(value):
    return datetime.timedelta(seconds=value)


def _paginate(stmt, model, sort_key, sort_dir, limit, marker):
    """Keyset pagination on (sort_key, id), both in ``sort_dir``."""
    column = getattr(model, sort_key)
    ascending = sort_dir == 'asc'
    if marker is not None:
        value = getattr(marker, sort_key)
        # "key <= value AND (key < value OR id < marker id)" rather than
        # "key < value OR (key = value AND id < marker id)": the same rows,
        # but the first conjunct is a range the databases read from an
        # index on (key, id) instead of scanning (0.5 s at 1M rows).
        if sort_key == 'id':
            after = model.id > marker.id if ascending else \
                model.id < marker.id
        elif ascending:
            after = sa.and_(column >= value, sa.or_(
                column > value, model.id > marker.id))
        else:
            after = sa.and_(column <= value, sa.or_(
                column < value, model.id < marker.id))
        stmt = stmt.where(after)
    order = sa.asc if ascending else sa.desc
    if sort_key == 'id':
        stmt = stmt.order_by(order(model.id))
    else:
        stmt = stmt.order_by(order(column), order(model.id))
    return stmt.limit(limit)


# Hosts

def _host_query(project_id):
    stmt = sa.select(models.Host)
    if project_id is not None:
        stmt = stmt.where(models.Host.project_id == project_id)
    return stmt


@enginefacade.reader
def host_get(context, host_id, project_id=None):
    host = context.session.scalars(
        _host_query(project_id).where(models.Host.uuid == host_id)).first()
    if host is None:
        raise exception.HostNotFound(id=host_id)
    return host


@enginefacade.reader
def host_get_by_name(context, project_id, name):
    return context.session.scalars(
        _host_query(project_id).where(models.Host.name == name)).first()


@enginefacade.reader
def host_list(context, project_id=None, filters=None, limit=None,
              marker=None, sort_key='created_at', sort_dir='desc'):
    filters = filters or {}
    stmt = _host_query(project_id)
    if 'name' in filters:
        stmt = stmt.where(models.Host.name == filters['name'])
    if 'on_maintenance' in filters:
        stmt = stmt.where(
            models.Host.on_maintenance == filters['on_maintenance'])
    marker_row = None
    if marker is not None:
        marker_row = context.session.scalars(
            _host_query(project_id).where(
                models.Host.uuid == marker)).first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker, resource='host')
    stmt = _paginate(stmt, models.Host, sort_key, sort_dir, limit,
                     marker_row)
    return list(context.session.scalars(stmt))


@enginefacade.writer
def host_create(context, project_id, name, on_maintenance=False):
    host = models.Host(uuid=uuidutils.generate_uuid(), project_id=project_id,
                       name=name, on_maintenance=on_maintenance)
    context.session.add(host)
    try:
        context.session.flush()
    except db_exc.DBDuplicateEntry:
        raise exception.HostExists(name=name)
    return host


def host_get_or_create(context, project_id, name):
    """The project's host of that name, registering it if it is new.

    Two requests that register the same new host at once both get the one
    row: the unique key decides, the loser reads the winner's row.
    """
    host = host_get_by_name(context, project_id, name)
    if host is not None:
        return host
    try:
        host = host_create(context, project_id, name)
    except exception.HostExists:
        return host_get_by_name(context, project_id, name)
    LOG.info('Registered host %(name)s (%(uuid)s) in project %(project)s',
             {'name': name, 'uuid': host.uuid, 'project': project_id})
    return host


@enginefacade.writer
def host_update(context, host_id, values, project_id=None):
    host = host_get(context, host_id, project_id=project_id)
    try:
        return _update_owned(host, values, context.session)
    except db_exc.DBDuplicateEntry:
        raise exception.HostExists(name=values.get('name'))


@enginefacade.writer
def host_delete(context, host_id, project_id=None):
    host = host_get(context, host_id, project_id=project_id)
    context.session.delete(host)


# Notifications

def _notification_query(project_id):
    stmt = sa.select(models.Notification)
    if project_id is not None:
        stmt = stmt.where(models.Notification.project_id == project_id)
    return stmt


# The ingest path is SQLAlchemy Core on the transaction's connection rather
# than ORM flushes: its statements are built once, so each execution is a
# compiled-cache hit, and each step is one round trip (the host lookup, the
# dedup claim, the insert with its id from lastrowid or RETURNING, the
# commit). It is the hottest write of the service.
_HOSTS = models.Host.__table__
_NOTIFICATIONS = models.Notification.__table__
_DEDUP = models.NotificationDedup.__table__

_HOST_BY_NAME = sa.select(
    _HOSTS.c.uuid, _HOSTS.c.name, _HOSTS.c.on_maintenance).where(
    _HOSTS.c.project_id == sa.bindparam('project_id'),
    _HOSTS.c.name == sa.bindparam('name'))
_HOST_INSERT = _HOSTS.insert()
_NOTIFICATION_INSERT = _NOTIFICATIONS.insert()
_DEDUP_ROW = {'key': sa.bindparam('dedup_key'),
              'notification_uuid': sa.bindparam('claim_uuid'),
              'expires_at': sa.bindparam('claim_expires')}


def _dedup_upsert(insert):
    # Inserts the row, or takes it over if it has expired; a live row is
    # left as it is and the rowcount is 0. Concurrent claims of one key
    # wait for each other on the row, and see the winner's expiry.
    stmt = insert(_DEDUP).values(_DEDUP_ROW)
    return stmt.on_conflict_do_update(
        index_elements=[_DEDUP.c.key],
        set_={'notification_uuid': stmt.excluded.notification_uuid,
              'expires_at': stmt.excluded.expires_at},
        where=_DEDUP.c.expires_at <= sa.bindparam('now'))


_DEDUP_UPSERT = {'postgresql': _dedup_upsert(postgresql.insert),
                 'sqlite': _dedup_upsert(sqlite.insert)}
# MySQL's upsert cannot say whether it inserted or left a live row alone
# (SQLAlchemy connects with CLIENT_FOUND_ROWS: both count 1), so it is
# INSERT IGNORE, and only when the row exists, a locking read of its expiry
# and the takeover of an expired row. The read shares the lock the ignored
# INSERT took: concurrent duplicates do not upgrade it, so do not deadlock.
_DEDUP_INSERT_IGNORE = sa.insert(_DEDUP).values(_DEDUP_ROW).prefix_with(
    'IGNORE')
_DEDUP_EXPIRY = sa.select(_DEDUP.c.expires_at).where(
    _DEDUP.c.key == sa.bindparam('dedup_key')).with_for_update(read=True)
_DEDUP_TAKEOVER = sa.update(_DEDUP).where(
    _DEDUP.c.key == sa.bindparam('dedup_key'),
    _DEDUP.c.expires_at <= sa.bindparam('now')).values(
        notification_uuid=sa.bindparam('claim_uuid'),
        expires_at=sa.bindparam('claim_expires'))


def _dedup_claim(connection, params):
    """Whether this notification may have the dedup key: there is no row
    for it, or the row has expired (``params``: dedup_key, claim_uuid,
    claim_expires, now)."""
    upsert = _DEDUP_UPSERT.get(connection.dialect.name)
    if upsert is not None:
        return connection.execute(upsert, params).rowcount == 1
    if connection.execute(_DEDUP_INSERT_IGNORE, params).rowcount:
        return True
    expires_at = connection.execute(_DEDUP_EXPIRY, params).scalar()
    if expires_at is not None and expires_at > params['now']:
        return False
    return connection.execute(_DEDUP_TAKEOVER, params).rowcount == 1


# On MySQL two transactions that find a dedup row (the INSERT IGNORE that
# met it) and then take it over, or that insert a key another one has just
# released, can deadlock; the retry, a new transaction, sees the winner's
# row and refuses the duplicate.
@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
@enginefacade.writer.connection
def notification_create(context, values, dedup_key=None, dedup_interval=0):
    """Store a new notification, refusing a duplicate atomically.

    The dedup row for ``dedup_key`` is taken over if it has expired, or
    inserted if there is none. Whichever concurrent request does that first
    wins; the others wait for it on the row (or fail on the primary key)
    and get :class:`exception.DuplicateNotification`. The notification is
    inserted in the same transaction, so a refused one leaves nothing
    behind.
    """
    return _notification_insert(context.connection, values, dedup_key,
                                dedup_interval)


def _notification_insert(connection, values, dedup_key, dedup_interval):
    now = timeutils.utcnow()
    row = dict(values, notification_uuid=uuidutils.generate_uuid(),
               status=NEW, created_at=now, updated_at=now)
    if dedup_key and dedup_interval:
        if not _dedup_claim(connection, {
                'dedup_key': dedup_key,
                'claim_uuid': row['notification_uuid'],
                'claim_expires': now + _seconds(dedup_interval),
                'now': now}):
            raise exception.DuplicateNotification(interval=dedup_interval)
    result = connection.execute(_NOTIFICATION_INSERT, row)
    # A detached row as the ORM would have loaded it, for the callers and
    # the views; no session ever holds it.
    return models.Notification(id=result.inserted_primary_key[0], **row)


class _HostRaced(Exception):
    """Another transaction registered the same new host first."""


@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
@enginefacade.writer.connection
def _notification_create_on_host(context, values, auto_register,
                                 dedup_key, dedup_interval):
    connection = context.connection
    registered = False
    host = connection.execute(_HOST_BY_NAME, {
        'project_id': values['project_id'],
        'name': values['hostname']}).first()
    if host is None:
        if not auto_register:
            raise exception.HostNotRegistered(hostname=values['hostname'])
        now = timeutils.utcnow()
        host_uuid = uuidutils.generate_uuid()
        try:
            connection.execute(_HOST_INSERT, {
                'uuid': host_uuid, 'project_id': values['project_id'],
                'name': values['hostname'], 'on_maintenance': False,
                'created_at': now, 'updated_at': now})
        except db_exc.DBDuplicateEntry:
            raise _HostRaced()
        registered = True
    elif host.on_maintenance:
        # The stored name: MySQL's collation matches names regardless of
        # case.
        raise exception.HostOnMaintenance(hostname=host.name,
                                          host_id=host.uuid)
    else:
        host_uuid = host.uuid
    values = dict(values, source_host_uuid=host_uuid)
    return (_notification_insert(connection, values, dedup_key,
                                 dedup_interval), registered)


def notification_create_on_host(context, values, auto_register=True,
                                dedup_key=None, dedup_interval=0):
    """Resolve the notification's host, registering it if it is new and
    ``auto_register`` is set, and store the notification, in one
    transaction (the ingest path: one commit per accepted notification).

    Raises HostNotRegistered, HostOnMaintenance or DuplicateNotification
    (see :func:`notification_create`); a refused notification leaves
    nothing behind, not even a newly registered host. Two requests that
    register the same new host at once: the unique key decides, and the
    loser's transaction is rolled back and run again, seeing the winner's
    host.
    """
    for attempt in range(3):
        try:
            notification, registered = _notification_create_on_host(
                context, values, auto_register, dedup_key, dedup_interval)
        except _HostRaced:
            continue
        if registered:
            LOG.info('Registered host %(name)s (%(uuid)s) in project '
                     '%(project)s', {'name': values['hostname'],
                                     'uuid': notification.source_host_uuid,
                                     'project': values['project_id']})
        return notification
    raise exception.HostExists(name=values['hostname'])


def _find_notification(session, notification_id, project_id):
    stmt = _notification_query(project_id)
    if uuidutils.is_uuid_like(notification_id):
        stmt = stmt.where(
            models.Notification.notification_uuid == notification_id)
    else:
        try:
            stmt = stmt.where(models.Notification.id == int(notification_id))
        except (TypeError, ValueError):
            raise exception.NotificationNotFound(id=notification_id)
    return session.scalars(stmt).first()


@enginefacade.reader
def notification_get(context, notification_id, project_id=None):
    """A notification by integer id or uuid (masakari clients use both)."""
    notification = _find_notification(context.session, notification_id,
                                      project_id)
    if notification is None:
        raise exception.NotificationNotFound(id=notification_id)
    return notification


# The list of notifications, the API's most frequent read. Most of a
# page's CPU goes to its rows' columns, which PyMySQL parses one by one in
# Python: the statements read only the columns the list shows, with no
# ORM objects, and its times as the text the API shows (PyMySQL parsed
# each DATETIME and strftime formatted it back, a third of a page's CPU
# for the same text). Building the statements cost 0.6 to 0.9 ms a page:
# they are built once for each shape of request, the request's values
# bound at execution.
_LISTED = ('id', 'notification_uuid', 'type', 'hostname', 'source_host_uuid',
           'generated_time', 'payload', 'status', 'project_id', 'created_at',
           'updated_at')
_LISTED_TIMES = ('generated_time', 'created_at', 'updated_at')
_LIST_FILTERS = ('type', 'status', 'source_host_uuid', 'generated_since')
_LIST_STATEMENTS = {}


def _listed_column(name, dialect):
    column = _NOTIFICATIONS.c[name]
    if name == 'payload':  # the JSON text as stored
        return sa.type_coerce(column, sa.Text()).label(name)
    if name not in _LISTED_TIMES:
        return column
    # YYYY-MM-DDTHH:MM:SS.ffffff; SQLite keeps the text SQLAlchemy wrote,
    # YYYY-MM-DD HH:MM:SS.ffffff.
    if dialect == 'mysql':
        text = sa.func.date_format(column, '%Y-%m-%dT%H:%i:%s.%f')
    elif dialect == 'postgresql':
        text = sa.func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS.US')
    else:
        text = sa.func.replace(column, ' ', 'T')
    return sa.type_coerce(text, sa.String()).label(name)


class _BoundMarker:
    """A marker for :func:`_paginate` whose sort key and id are bound at
    execution (``marker_key``, ``marker_id``)."""

    def __init__(self, sort_key):
        setattr(self, sort_key, sa.bindparam('marker_key'))
        self.id = sa.bindparam('marker_id')


def _list_statements(dialect, sort_key, sort_dir, scoped, filters,
                     limited):
    """The marker's lookups (by uuid and by id) and the page's statement
    for this shape of request; the values are bound at execution."""
    key = (dialect, sort_key, sort_dir, scoped, filters, limited)
    statements = _LIST_STATEMENTS.get(key)
    if statements is not None:
        return statements
    n = _NOTIFICATIONS.c
    scope = [n.project_id == sa.bindparam('project_id')] if scoped else []
    keys = [n.id] if sort_key == 'id' else [n[sort_key], n.id]
    ids = sa.select(*keys).where(*scope)
    markers = (ids.where(n.notification_uuid == sa.bindparam('marker')),
               ids.where(n.id == sa.bindparam('marker')))
    # The page's ids first, from an index alone, then their rows: MariaDB
    # reads "SELECT * ... WHERE key <= marker's ORDER BY key DESC LIMIT
    # 100" by walking the whole project backwards through the table (4 s
    # at 1M rows), but the ids of the page from the index range. The page
    # is sorted on the ids' own columns: sorting the joined rows, MariaDB
    # copies them, payloads included, to a temporary table on disk.
    for name in filters:
        if name == 'generated_since':
            ids = ids.where(n.generated_time >= sa.bindparam(name))
        else:
            ids = ids.where(n[name] == sa.bindparam(name))
    limit = sa.bindparam('limit', type_=sa.Integer()) if limited else None
    marker = _BoundMarker(sort_key)
    order = sa.asc if sort_dir == 'asc' else sa.desc
    pages = []
    for after in (None, marker):
        page = _paginate(ids, n, sort_key, sort_dir, limit, after).subquery()
        pages.append(sa.select(
            *[_listed_column(name, dialect) for name in _LISTED]).join_from(
            _NOTIFICATIONS, page, n.id == page.c.id).order_by(
            order(page.c[sort_key]), order(page.c.id)))
    statements = _LIST_STATEMENTS[key] = (markers, pages)
    return statements


@enginefacade.reader.connection
def notification_list(context, project_id=None, filters=None, limit=None,
                      marker=None, sort_key='created_at', sort_dir='desc'):
    """A page of notifications: rows of the columns in ``_LISTED``, whose
    times are text (views.isotime's format, the year on 4 digits) and
    whose payloads are the stored JSON text, for
    :func:`notifier.views.notifications_json`.
    """
    filters = filters or {}
    connection = context.connection
    (by_uuid, by_id), (first, after) = _list_statements(
        connection.dialect.name, sort_key, sort_dir, project_id is not None,
        tuple(name for name in _LIST_FILTERS if name in filters),
        limit is not None)
    params = dict(filters, project_id=project_id, limit=limit)
    if marker is None:
        return connection.execute(first, params).all()
    by, value = by_uuid, marker
    if not uuidutils.is_uuid_like(marker):
        try:
            by, value = by_id, int(marker)
        except (TypeError, ValueError):
            by = None
    marker_row = None
    if by is not None:
        marker_row = connection.execute(by, dict(params, marker=value)).first()
    if marker_row is None:
        raise exception.MarkerNotFound(marker=marker,
                                       resource='notification')
    return connection.execute(after, dict(
        params, marker_key=getattr(marker_row, sort_key),
        marker_id=marker_row.id)).all()


@enginefacade.reader
def deliveries_for_notification(context, notification_id,
                                model=models.Notification):
    return list(context.session.scalars(
        sa.select(models.Delivery)
        .where(_owner_column(model) == notification_id)
        .order_by(models.Delivery.id)))


# The engine's side. Notifications and messages (direct messages and
# broadcasts) are queued alike: the functions below take the model,
# Notification by default, and work on either.

def _owner_column(model):
    """The column of a delivery that points at its ``model`` row."""
    if model is models.Message:
        return models.Delivery.message_id
    return models.Delivery.notification_id


def _claimable(now, n=models.Notification):
    """Whether a row may be claimed at ``now``; ``n`` is the model, or a
    table's columns."""
    return sa.or_(
        n.status == NEW,
        sa.and_(n.status == RUNNING, n.lease_until < now),
        sa.and_(n.status == ERROR, n.next_attempt_at <= now))


@enginefacade.writer
def notification_claim(context, notification_id, engine, lease,
                       model=models.Notification):
    """Claim a notification (or message) for ``engine`` with a
    compare-and-set: the one-item case of :func:`notifications_claim`.
    Returns the claimed row, or None if someone else has it or there is
    nothing to do.
    """
    claimed = notifications_claim(context, [notification_id], engine, lease,
                                  model=model)
    return claimed[0] if claimed else None


@enginefacade.reader
def notifications_due(context, recast_after, limit,
                      model=models.Notification):
    """Ids of notifications the periodic task should pick up.

    New ones nobody took within ``recast_after`` seconds (a lost cast),
    running ones whose engine's lease expired (a crashed engine) and ones
    whose retry is due. Oldest first.
    """
    now = timeutils.utcnow()
    n = model
    stmt = (sa.select(n.id)
            .where(sa.or_(
                sa.and_(n.status == NEW,
                        n.updated_at <= now - _seconds(recast_after)),
                sa.and_(n.status == RUNNING, n.lease_until < now),
                sa.and_(n.status == ERROR, n.next_attempt_at <= now)))
            .order_by(n.id).limit(limit))
    return list(context.session.scalars(stmt))


@enginefacade.writer
def deliveries_ensure(context, notification_id, targets,
                      model=models.Notification):
    """Create the deliveries of a notification that do not exist yet.

    ``targets`` maps a target key (such as ``default:log`` or
    ``destination:<uuid>``) to its (medium, destination id or None).
    Re-running it after a crash is harmless: existing deliveries, and what
    they already achieved, are kept. Returns every delivery. The one-item
    case of :func:`deliveries_ensure_many`.
    """
    owner = context.session.get(model, notification_id)
    return deliveries_ensure_many(context, {owner: targets},
                                  model=model)[notification_id]


@enginefacade.writer
def delivery_record_attempt(context, delivery_id, engine, started_at,
                            latency_ms, outcome, status, receipt=None,
                            error=None, next_attempt_at=None, message=None,
                            recipients=None):
    """Record one attempt and the delivery's resulting state together.

    ``message`` (the rendered :class:`notifier.drivers.base.Message`) and
    the ``recipients`` the driver reported go into the ledger.
    ``attempts`` counts the current budget (a resend resets it); the
    history numbers every attempt ever made. See
    :func:`delivery_record_attempts` for several at once.
    """
    delivery_record_attempts(context, [dict(
        delivery_id=delivery_id, engine=engine, started_at=started_at,
        latency_ms=latency_ms, outcome=outcome, status=status,
        receipt=receipt, error=error, next_attempt_at=next_attempt_at,
        message=message, recipients=recipients)])


@enginefacade.writer
def notification_extend_lease(context, notification_id, engine, lease,
                              model=models.Notification):
    """Push the lease of a notification this engine holds ``lease`` seconds
    ahead; False if the engine no longer holds it."""
    return bool(notifications_extend_lease(context, [notification_id],
                                           engine, lease, model=model))


@enginefacade.writer
def notification_release(context, notification_id, engine, status,
                         next_attempt_at=None, model=models.Notification):
    """Set the outcome of a claimed notification and drop the lease.

    Guarded by ``claimed_by``: an engine whose lease expired and was taken
    over cannot overwrite its successor's work. Returns True if it applied.
    """
    return bool(_release_many(
        context.session, [(notification_id, engine, status, next_attempt_at)],
        model=model))


@enginefacade.writer
def notifications_expire(context, max_age, model=models.Notification):
    """Give up notifications older than ``max_age`` seconds: ``failed``.

    Their unfinished deliveries fail too, with the reason recorded.
    Returns the number of notifications expired.
    """
    now = timeutils.utcnow()
    cutoff = now - _seconds(max_age)
    n = model
    session = context.session
    # A resent or re-processed notification's age counts from then.
    since = (sa.func.coalesce(n.requeued_at, n.created_at)
             if hasattr(n, 'requeued_at') else n.created_at)
    ids = list(session.scalars(
        sa.select(n.id).where(n.status.in_((NEW, RUNNING, ERROR)),
                              since < cutoff)))
    if not ids:
        return 0
    session.execute(
        sa.update(models.Delivery)
        .where(_owner_column(model).in_(ids),
               models.Delivery.status == PENDING)
        .values(status=FAILED, next_attempt_at=None,
                last_error='Expired: not delivered within %d seconds '
                           '([engine] notification_max_age).' % max_age,
                updated_at=now)
        .execution_options(synchronize_session=False))
    return session.execute(
        sa.update(n)
        .where(n.id.in_(ids), n.status.in_((NEW, RUNNING, ERROR)))
        .values(status=FAILED, lease_until=None, next_attempt_at=None,
                updated_at=now)
        .execution_options(synchronize_session=False)).rowcount


@enginefacade.writer
def purge(context, older_than_days):
    """Delete done notifications (and their deliveries) older than that,
    and expired duplicate-detection rows. Returns the count deleted."""
    now = timeutils.utcnow()
    n = models.Notification
    session = context.session
    session.execute(sa.delete(models.NotificationDedup).where(
        models.NotificationDedup.expires_at < now))
    cutoff = now - datetime.timedelta(days=older_than_days)
    ids = sa.select(n.id).where(n.status.in_(DONE_STATUSES),
                                n.updated_at < cutoff)
    deliveries = sa.select(models.Delivery.id).where(
        models.Delivery.notification_id.in_(ids))
    session.execute(sa.delete(models.DeliveryAttempt).where(
        models.DeliveryAttempt.delivery_id.in_(deliveries)))
    session.execute(sa.delete(models.Delivery).where(
        models.Delivery.notification_id.in_(ids)))
    count = _messages_purge(session, cutoff)
    return count + session.execute(
        sa.delete(n).where(n.status.in_(DONE_STATUSES),
                           n.updated_at < cutoff)).rowcount



# Destinations and subscriptions

def _owned(model, project_id):
    stmt = sa.select(model)
    if project_id is not None:
        stmt = stmt.where(model.project_id == project_id)
    return stmt


def _list(context, model, project_id, filters, limit, marker, sort_key,
          sort_dir, resource):
    stmt = _owned(model, project_id)
    for name, value in (filters or {}).items():
        stmt = stmt.where(getattr(model, name) == value)
    marker_row = None
    if marker is not None:
        marker_row = context.session.scalars(
            _owned(model, project_id).where(model.uuid == marker)).first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker, resource=resource)
    return list(context.session.scalars(
        _paginate(stmt, model, sort_key, sort_dir, limit, marker_row)))


def _get_owned(session, model, uuid, project_id, not_found):
    row = session.scalars(_owned(model, project_id).where(
        model.uuid == uuid)).first()
    if row is None:
        raise not_found(id=uuid)
    return row


def _update_owned(row, values, session):
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return row


@enginefacade.reader
def destination_get(context, destination_id, project_id=None):
    return _get_owned(context.session, models.Destination, destination_id,
                      project_id, exception.DestinationNotFound)


@enginefacade.reader
def destination_get_by_id(context, destination_id):
    """By the internal integer id, for the engine; None if deleted."""
    return context.session.get(models.Destination, destination_id)


@enginefacade.reader
def destination_list(context, project_id=None, filters=None, limit=None,
                     marker=None, sort_key='created_at', sort_dir='desc'):
    return _list(context, models.Destination, project_id, filters, limit,
                 marker, sort_key, sort_dir, 'destination')


@enginefacade.writer
def destination_create(context, values):
    destination = models.Destination(uuid=uuidutils.generate_uuid(),
                                     **values)
    context.session.add(destination)
    context.session.flush()
    return destination


@enginefacade.writer
def destination_update(context, destination_id, values, project_id=None):
    return _update_owned(destination_get(context, destination_id,
                                         project_id=project_id),
                         values, context.session)


@enginefacade.writer
def destination_delete(context, destination_id, project_id=None):
    context.session.delete(destination_get(context, destination_id,
                                           project_id=project_id))


@enginefacade.reader
def subscription_get(context, subscription_id, project_id=None):
    return _get_owned(context.session, models.Subscription, subscription_id,
                      project_id, exception.SubscriptionNotFound)


@enginefacade.reader
def subscription_list(context, project_id=None, filters=None, limit=None,
                      marker=None, sort_key='created_at', sort_dir='desc'):
    return _list(context, models.Subscription, project_id, filters, limit,
                 marker, sort_key, sort_dir, 'subscription')


def _project_destinations(session, project_id, destination_ids):
    """The project's destinations with these uuids; a missing one (or
    another project's) is a 404 naming it."""
    found = {d.uuid: d for d in session.scalars(
        sa.select(models.Destination).where(
            models.Destination.project_id == project_id,
            models.Destination.uuid.in_(destination_ids)))}
    for destination_id in destination_ids:
        if destination_id not in found:
            raise exception.DestinationNotFound(id=destination_id)
    return [found[d] for d in destination_ids]


@enginefacade.writer
def subscription_create(context, values, destination_ids):
    session = context.session
    subscription = models.Subscription(uuid=uuidutils.generate_uuid(),
                                       **values)
    subscription.destinations = _project_destinations(
        session, values['project_id'], destination_ids)
    session.add(subscription)
    session.flush()
    return subscription


@enginefacade.writer
def subscription_update(context, subscription_id, values,
                        destination_ids=None, project_id=None):
    subscription = subscription_get(context, subscription_id,
                                    project_id=project_id)
    if destination_ids is not None:
        subscription.destinations = _project_destinations(
            context.session, subscription.project_id, destination_ids)
    return _update_owned(subscription, values, context.session)


@enginefacade.writer
def subscription_delete(context, subscription_id, project_id=None):
    context.session.delete(subscription_get(context, subscription_id,
                                            project_id=project_id))


@enginefacade.reader
def subscriptions_enabled(context, project_id):
    """The project's enabled subscriptions with their destinations (one
    statement, built once: the engine routes with it on every claim)."""
    return list(context.session.scalars(
        _SUBSCRIPTIONS_ENABLED, {'b_project': project_id}).unique())


_SUBSCRIPTIONS_ENABLED = (
    sa.select(models.Subscription)
    .where(models.Subscription.project_id == sa.bindparam('b_project'),
           models.Subscription.enabled.is_(True))
    .options(orm.joinedload(models.Subscription.destinations)))


# Destination health: the circuit breaker of notifier.engine.health and
# the disabling of a destination whose receiver is gone. Every change is
# one guarded UPDATE or a locked read-modify-write, so that engines that
# report on one destination at once do not lose each other's counts.

HEALTH_RESET = {'consecutive_failures': 0, 'trips': 0, 'paused_until': None,
                'probing': False, 'health_reason': None}


@enginefacade.reader
def destinations_unhealthy(context, destination_ids, known=None):
    """Those of these destinations that have failures counted or are
    paused (most have neither: one cheap query per fan-out). ``known``:
    destinations by id read already in the caller's transaction; only the
    others are read."""
    found, missing = _split_known(destination_ids, known)
    unhealthy = [d for d in found.values()
                 if d.consecutive_failures or d.trips]
    if missing:
        d = models.Destination
        unhealthy.extend(context.session.scalars(
            sa.select(d).where(d.id.in_(missing),
                               sa.or_(d.consecutive_failures > 0,
                                      d.trips > 0))))
    return unhealthy


def _split_known(ids, known):
    """``ids`` (None left out) as the rows ``known`` has of them, by id,
    and the sorted ids it lacks."""
    ids = {i for i in ids if i is not None}
    known = known or {}
    return ({i: known[i] for i in ids & known.keys()},
            sorted(ids - known.keys()))


@enginefacade.writer
def destination_claim_probe(context, destination_id, window):
    """Take the half-open probe of a paused destination whose pause is
    over: True for the one engine that wins it, which then sends one
    delivery; the destination stays paused ``window`` seconds more for
    the others."""
    now = timeutils.utcnow()
    d = models.Destination
    return bool(context.session.execute(
        sa.update(d)
        .where(d.id == destination_id, d.trips > 0,
               sa.or_(d.paused_until.is_(None), d.paused_until <= now))
        .values(probing=True, paused_until=now + _seconds(window))
        .execution_options(synchronize_session=False)).rowcount)


@enginefacade.writer
def destination_record_failure(context, destination_id, reason, threshold,
                               pause, max_pause):
    """Count a transient failure; open the breaker at ``threshold``
    consecutive ones, or re-open it for twice as long when the half-open
    probe failed. Returns the destination, or None if it was deleted."""
    session = context.session
    dest = session.scalars(
        sa.select(models.Destination)
        .where(models.Destination.id == destination_id)
        .with_for_update()).first()
    if dest is None:
        return None
    now = timeutils.utcnow()
    dest.consecutive_failures += 1
    if dest.probing:
        dest.trips += 1
        dest.probing = False
        dest.paused_until = now + _seconds(
            min(pause * 2 ** (dest.trips - 1), max_pause))
        dest.health_reason = reason[:1024]
    elif not dest.trips and threshold and \
            dest.consecutive_failures >= threshold:
        dest.trips = 1
        dest.paused_until = now + _seconds(min(pause, max_pause))
        dest.health_reason = reason[:1024]
    session.flush()
    return dest


@enginefacade.writer
def destination_record_success(context, destination_id):
    """The destination answered: close its breaker. True if it was not
    already closed."""
    d = models.Destination
    return bool(context.session.execute(
        sa.update(d)
        .where(d.id == destination_id,
               sa.or_(d.consecutive_failures > 0, d.trips > 0))
        .values(**HEALTH_RESET)
        .execution_options(synchronize_session=False)).rowcount)


@enginefacade.writer
def destination_disable(context, destination_id, reason):
    """Disable a destination on the engine's initiative, saying why."""
    d = models.Destination
    return bool(context.session.execute(
        sa.update(d)
        .where(d.id == destination_id, d.enabled.is_(True))
        .values(enabled=False, health_reason=reason[:1024],
                paused_until=None, probing=False,
                updated_at=timeutils.utcnow())
        .execution_options(synchronize_session=False)).rowcount)


@enginefacade.writer
def delivery_defer(context, delivery_ids, until):
    """Postpone pending deliveries to ``until`` without an attempt."""
    dl = models.Delivery
    context.session.execute(
        sa.update(dl)
        .where(dl.id.in_(delivery_ids), dl.status == PENDING)
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False))


# Direct messages and broadcasts (queued like notifications: see above)

@enginefacade.writer
def message_create(context, values):
    now = timeutils.utcnow()
    message = models.Message(uuid=uuidutils.generate_uuid(), status=NEW,
                             created_at=now, updated_at=now, **values)
    context.session.add(message)
    context.session.flush()
    return message


@enginefacade.reader
def message_get(context, message_id, project_id=None, kind=None):
    """A message by uuid; a broadcast is not a message and vice versa."""
    stmt = _owned(models.Message, project_id).where(
        models.Message.uuid == message_id)
    if kind is not None:
        stmt = stmt.where(models.Message.kind == kind)
    message = context.session.scalars(stmt).first()
    if message is None:
        if kind == 'broadcast':
            raise exception.BroadcastNotFound(id=message_id)
        raise exception.MessageNotFound(id=message_id)
    return message


@enginefacade.writer
def message_set_recipients(context, message_id, engine, recipients):
    """Store a broadcast's resolved recipients (by the engine that holds
    it, once: later runs use them); True if it applied."""
    m = models.Message
    return bool(context.session.execute(
        sa.update(m)
        .where(m.id == message_id, m.claimed_by == engine)
        .values(recipients=recipients, updated_at=timeutils.utcnow())
        .execution_options(synchronize_session=False)).rowcount)


@enginefacade.writer
def delivery_give_up(context, delivery_id, reason):
    """Fail a pending delivery now (a fallback medium that failed: the
    next medium takes over); True if it was still pending."""
    d = models.Delivery
    return bool(context.session.execute(
        sa.update(d)
        .where(d.id == delivery_id, d.status == PENDING)
        .values(status=FAILED, next_attempt_at=None, last_error=reason,
                updated_at=timeutils.utcnow())
        .execution_options(synchronize_session=False)).rowcount)


def _messages_purge(session, cutoff):
    m = models.Message
    ids = sa.select(m.id).where(m.status.in_(DONE_STATUSES),
                                m.updated_at < cutoff)
    deliveries = sa.select(models.Delivery.id).where(
        models.Delivery.message_id.in_(ids))
    session.execute(sa.delete(models.DeliveryAttempt).where(
        models.DeliveryAttempt.delivery_id.in_(deliveries)))
    session.execute(sa.delete(models.Delivery).where(
        models.Delivery.message_id.in_(ids)))
    return session.execute(
        sa.delete(m).where(m.status.in_(DONE_STATUSES),
                           m.updated_at < cutoff)).rowcount


# Ledger: the deliveries of a project, with what was sent and to whom;
# resend of a failed delivery and re-processing of a failed notification.

def _delivery_query(project_id):
    stmt = sa.select(models.Delivery).options(
        orm.joinedload(models.Delivery.notification),
        orm.joinedload(models.Delivery.message))
    if project_id is not None:
        stmt = stmt.where(models.Delivery.project_id == project_id)
    return stmt


def _find_delivery(session, delivery_id, project_id):
    delivery = session.scalars(_delivery_query(project_id).where(
        models.Delivery.uuid == delivery_id)).first()
    if delivery is None:
        raise exception.DeliveryNotFound(id=delivery_id)
    return delivery


@enginefacade.reader
def delivery_get(context, delivery_id, project_id=None):
    """A delivery by uuid, with its notification and attempts."""
    return _find_delivery(context.session, delivery_id, project_id)


@enginefacade.reader
def delivery_list(context, project_id=None, filters=None, limit=None,
                  marker=None, sort_key='created_at', sort_dir='desc'):
    """Deliveries, filtered by ``notification`` (uuid or integer id),
    ``message`` (a direct message's or broadcast's uuid),
    ``destination_id`` (uuid; matches after the destination was deleted
    too), ``medium``, ``status``, and ``since``/``until`` (created at or
    after, before)."""
    filters = filters or {}
    d = models.Delivery
    stmt = _delivery_query(project_id)
    if 'notification' in filters:
        n = models.Notification
        value = filters['notification']
        if uuidutils.is_uuid_like(value):
            match = n.notification_uuid == value
        elif value.isdigit():
            match = n.id == int(value)
        else:
            match = sa.false()
        stmt = stmt.where(d.notification_id.in_(
            sa.select(n.id).where(match)))
    if 'message' in filters:
        stmt = stmt.where(d.message_id.in_(
            sa.select(models.Message.id).where(
                models.Message.uuid == filters['message'])))
    if 'destination_id' in filters:
        stmt = stmt.where(d.target == 'destination:%s' %
                          filters['destination_id'])
    for name in ('medium', 'status'):
        if name in filters:
            stmt = stmt.where(getattr(d, name) == filters[name])
    if 'since' in filters:
        stmt = stmt.where(d.created_at >= filters['since'])
    if 'until' in filters:
        stmt = stmt.where(d.created_at < filters['until'])
    marker_row = None
    if marker is not None:
        marker_row = context.session.scalars(_owned(d, project_id).where(
            d.uuid == marker)).first()
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker,
                                           resource='delivery')
    return list(context.session.scalars(
        _paginate(stmt, d, sort_key, sort_dir, limit, marker_row)).unique())


def _requeue(session, now, delivery_ids):
    """Failed deliveries pending again with a fresh attempt budget; the
    history keeps their earlier attempts. Returns how many changed."""
    d = models.Delivery
    return session.execute(
        sa.update(d)
        .where(d.id.in_(delivery_ids), d.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=None,
                last_error=None, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount


@enginefacade.writer
def delivery_resend(context, delivery_id, project_id=None):
    """Put a failed delivery back in the queue, keeping its uuid.

    Its notification becomes ``error`` with a retry due now, which an
    engine claims (on the cast the API sends, or from the periodic task
    if that is lost), so that only the pending delivery is sent again.
    Both changes are compare-and-sets in one transaction: a delivery that
    is not failed, or a notification that an engine holds, is a conflict
    and nothing changes. Returns the delivery.
    """
    session = context.session
    delivery = _find_delivery(session, delivery_id, project_id)
    if delivery.status != FAILED:
        raise exception.DeliveryNotResendable(
            id=delivery_id, status=delivery.status,
            hint=('A delivered one would be dropped as a duplicate by a '
                  'receiver that deduplicates by id; post a new '
                  'notification to alert again.'
                  if delivery.status == DELIVERED else
                  'A pending one is retried by the engine already.'))
    if delivery.notification_id is None:
        raise exception.DeliveryNotResendable(
            id=delivery_id, status=delivery.status,
            hint='Only the deliveries of notifications can be resent.')
    now = timeutils.utcnow()
    n = models.Notification
    notification = delivery.notification
    if not session.execute(
            sa.update(n)
            .where(n.id == notification.id,
                   n.status.in_((FINISHED, FAILED, ERROR)))
            .values(status=ERROR, next_attempt_at=now, requeued_at=now,
                    lease_until=None, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount:
        raise exception.NotificationBusy(
            id=notification.notification_uuid, status=notification.status)
    if not _requeue(session, now, [delivery.id]):
        # Changed since it was read: the transaction is rolled back.
        raise exception.DeliveryNotResendable(
            id=delivery_id, status='no longer failed',
            hint='Show it again to see its state.')
    session.flush()
    session.refresh(notification)
    session.refresh(delivery)
    return delivery


@enginefacade.writer
def notification_reprocess(context, notification_id, project_id=None):
    """Process a failed or ignored notification again, as if new.

    Its failed deliveries become pending with a fresh attempt budget
    (delivered ones are not sent again), and routing runs again, so that
    destinations subscribed since then get a delivery too. Returns the
    notification, which the caller casts to an engine.
    """
    session = context.session
    notification = _find_notification(session, notification_id, project_id)
    if notification is None:
        raise exception.NotificationNotFound(id=notification_id)
    now = timeutils.utcnow()
    n = models.Notification
    if not session.execute(
            sa.update(n)
            .where(n.id == notification.id,
                   n.status.in_((FAILED, IGNORED)))
            .values(status=NEW, next_attempt_at=None, requeued_at=now,
                    lease_until=None, claimed_by=None, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount:
        hint = {
            FINISHED: 'Every delivery of a finished notification '
                      'succeeded.',
            ERROR: 'Its pending deliveries are retried already; resend a '
                   'failed one with POST /v1/deliveries/{id}/resend.',
        }.get(notification.status, 'An engine is working on it.')
        raise exception.NotificationNotReprocessable(
            id=notification.notification_uuid, status=notification.status,
            hint=hint)
    _requeue(session, now, list(session.scalars(
        sa.select(models.Delivery.id).where(
            models.Delivery.notification_id == notification.id))))
    session.flush()
    session.refresh(notification)
    return notification


# Templates

def _template_row(session, template_id, project_id):
    return session.scalars(sa.select(models.Template).where(
        models.Template.template_id == template_id,
        models.Template.project_id == project_id)).first()


@enginefacade.reader
def template_rows(context, template_id, project_id=None):
    """The edits of ``template_id`` that may apply to ``project_id``: the
    system default's edit (project id '') and the project's override, in
    that order, None where there is none."""
    scopes = [''] + ([project_id] if project_id else [])
    found = {row.project_id: row for row in context.session.scalars(
        _TEMPLATE_ROWS, {'b_template': template_id, 'b_scopes': scopes})}
    return [found.get(scope) for scope in scopes]


# Built once: the engine reads a template for every claim.
_TEMPLATE_ROWS = sa.select(models.Template).where(
    models.Template.template_id == sa.bindparam('b_template'),
    models.Template.project_id.in_(sa.bindparam('b_scopes', expanding=True)))


@enginefacade.reader
def template_rows_all(context, project_id=None):
    """Every edit that may apply to ``project_id``: template id to the
    list :func:`template_rows` gives for it."""
    scopes = [''] + ([project_id] if project_id else [])
    found = {}
    for row in context.session.scalars(sa.select(models.Template).where(
            models.Template.project_id.in_(scopes))):
        found.setdefault(row.template_id, {})[row.project_id] = row
    return {template_id: [by_scope.get(scope) for scope in scopes]
            for template_id, by_scope in found.items()}


@oslo_db_api.wrap_db_retry(
    max_retries=3, retry_on_deadlock=True,
    exception_checker=lambda e: isinstance(e, db_exc.DBDuplicateEntry))
@enginefacade.writer
def template_save(context, template_id, project_id, values, user_id=None):
    """Create or change the edit of ``template_id`` in ``project_id`` (''
    for the system default): ``values`` may set ``config``, ``text_body``
    and ``html_body``. The version increases by one. Two concurrent first
    saves: the loser's insert fails on the unique key and is retried as an
    update."""
    session = context.session
    row = _template_row(session, template_id, project_id)
    if row is None:
        row = models.Template(template_id=template_id, project_id=project_id,
                              config={}, version=0)
        session.add(row)
    elif not row.overridden:
        row.config, row.text_body, row.html_body = {}, None, None
    row.overridden = True
    for key, value in values.items():
        setattr(row, key, value)
    row.version += 1
    row.user_id = user_id
    session.flush()
    return row


@enginefacade.writer
def template_revert(context, template_id, project_id, user_id=None):
    """Remove the edit of ``template_id`` in ``project_id`` so that the
    default applies again; the row stays, with a new version."""
    row = _template_row(context.session, template_id, project_id)
    if row is None or not row.overridden:
        raise exception.TemplateNotOverridden(
            id=template_id,
            scope='system default edit' if project_id == ''
            else 'override in your project')
    row.overridden = False
    row.config, row.text_body, row.html_body = {}, None, None
    row.version += 1
    row.user_id = user_id
    context.session.flush()
    return row


# The engine's fan-out in bulk: fewer transactions (and commits) per
# delivery.

@enginefacade.reader
def destinations_get_by_ids(context, destination_ids, known=None):
    """``{id: destination}`` of the destinations with these internal ids
    that still exist (one query for a notification's deliveries).
    ``known``: as for :func:`destinations_unhealthy`."""
    found, missing = _split_known(destination_ids, known)
    if missing:
        found.update((d.id, d) for d in context.session.scalars(
            sa.select(models.Destination)
            .where(models.Destination.id.in_(missing))))
    return found


@enginefacade.writer
def delivery_record_attempts(context, attempts):
    """Record several attempts in one transaction (one commit): each item
    is the keyword arguments of :func:`delivery_record_attempt`, with the
    same effect on the delivery and its history. All are recorded or none
    is. Plain UPDATE and INSERT statements: no delivery is loaded.

    An item may also carry, or be only, ``release``: ``(notification id,
    engine, status, next attempt time)``, the :func:`notification_release`
    of a notification whose other attempts are all recorded, applied after
    the attempts. Returns the notification ids whose release applied.
    """
    releases = [a['release'] for a in attempts if a.get('release')]
    attempts = [a for a in attempts if a.get('delivery_id') is not None]
    session = context.session
    if attempts:
        _record_attempts(session, attempts)
    return _release_many(session, releases)


_DELIVERIES = models.Delivery.__table__
#: The columns an attempt sets that are its delivery's own, even among the
#: deliveries of one notification; see _update_attempted.
_OWN = ('last_attempt_at', 'receipt', 'recipients')
#: The most deliveries one UPDATE sets.
_MOST_UPDATED = 50
# Core statements built once, with bind parameters (SQLAlchemy caches
# their compiled form): building an UPDATE per batch cost more CPU than
# running it.
_ATTEMPTED_UPDATES = {}


def _attempted_update(shared, own, n):
    """UPDATE n deliveries (ids ``b_id<i>``): attempts = attempts + 1, the
    ``shared`` columns from bind parameters of the same names, and each
    delivery's ``own`` columns from ``b_<column><i>``, chosen by id."""
    key = (shared, own, n)
    stmt = _ATTEMPTED_UPDATES.get(key)
    if stmt is None:
        d = _DELIVERIES
        ids = [sa.bindparam('b_id%d' % i) for i in range(n)]

        def each(column):
            values = [sa.bindparam('b_%s%d' % (column, i),
                                   type_=d.c[column].type)
                      for i in range(n)]
            if n == 1:
                return values[0]
            return sa.case(*zip(ids, values), value=d.c.id)

        stmt = _ATTEMPTED_UPDATES[key] = (
            sa.update(d).where(d.c.id.in_(ids))
            .values(attempts=d.c.attempts + 1,
                    **{c: sa.bindparam(c) for c in shared},
                    **{c: each(c) for c in own}))
    return stmt


def _update_attempted(connection, attempted):
    """UPDATE the deliveries of ``attempted``, (delivery id, columns to
    set) each, and attempts = attempts + 1. Deliveries that set the same
    columns to the same values but their own (``_OWN``: those of one
    notification that succeeded, say) share a statement: one round trip,
    and the message's bodies sent once, instead of one of each per
    delivery."""
    groups = {}  # the columns set -> statements: (shared values, members)
    for delivery_id, values in attempted:
        shared = {k: v for k, v in values.items() if k not in _OWN}
        key = (tuple(c for c in _OWN if c in values),
               tuple(sorted(shared.items())))
        statements = groups.setdefault(key, [])
        # A delivery attempted twice in one batch counts twice: its second
        # attempt goes into another statement.
        if (not statements or delivery_id in statements[-1][1]
                or len(statements[-1][1]) == _MOST_UPDATED):
            statements.append((shared, {}))
        statements[-1][1][delivery_id] = values
    for (own, _), statements in groups.items():
        for shared, members in statements:
            params = dict(shared)
            for i, (delivery_id, values) in enumerate(members.items()):
                params['b_id%d' % i] = delivery_id
                params.update(('b_%s%d' % (c, i), values[c]) for c in own)
            connection.execute(
                _attempted_update(tuple(sorted(shared)), own, len(members)),
                params)


_ATTEMPTS = models.DeliveryAttempt.__table__
_ATTEMPT_NUMBERS = (
    sa.select(_ATTEMPTS.c.delivery_id, sa.func.max(_ATTEMPTS.c.number))
    .where(_ATTEMPTS.c.delivery_id.in_(sa.bindparam('b_ids',
                                                    expanding=True)))
    .group_by(_ATTEMPTS.c.delivery_id))
_ATTEMPT_INSERT = _ATTEMPTS.insert()


def _record_attempts(session, attempts):
    connection = session.connection()
    numbers = dict(connection.execute(_ATTEMPT_NUMBERS, {
        'b_ids': sorted({a['delivery_id'] for a in attempts})}).all())
    attempted, rows = [], []
    now = timeutils.utcnow()
    for a in attempts:
        values = {'status': a['status'],
                  'last_attempt_at': a['started_at'],
                  'next_attempt_at': a.get('next_attempt_at'),
                  'last_error': a.get('error'), 'updated_at': now}
        message = a.get('message')
        if message is not None:
            values.update(subject=message.subject, text_body=message.text,
                          html_body=message.html, template=message.template,
                          template_version=message.template_version)
        if a.get('recipients'):
            values['recipients'] = list(a['recipients'])
        if a.get('receipt') is not None:
            values['receipt'] = a['receipt']
        if a['status'] == DELIVERED:
            values['delivered_at'] = now
        attempted.append((a['delivery_id'], values))
        number = numbers.get(a['delivery_id'], 0) + 1
        numbers[a['delivery_id']] = number
        rows.append({'delivery_id': a['delivery_id'], 'number': number,
                     'engine': a['engine'], 'started_at': a['started_at'],
                     'latency_ms': a['latency_ms'],
                     'outcome': a['outcome'], 'receipt': a.get('receipt'),
                     'error': a.get('error')})
    _update_attempted(connection, attempted)
    connection.execute(_ATTEMPT_INSERT, rows)


# Notifications claimed, fanned out and released in batches: an engine
# fed faster than one notification at a time does one claim, one look-up
# of deliveries and one release transaction per batch rather than per
# notification.

# The claim, the engine's first statements for every notification, is
# built once per model with bind parameters: a Core UPDATE, and the read
# of the claimed rows.
def _claim_statements(model):
    t, n = model.__table__, model
    ids = sa.bindparam('b_ids', expanding=True)
    update = (
        sa.update(t)
        .where(t.c.id.in_(ids), _claimable(sa.bindparam('b_now'), t.c))
        .values(status=RUNNING, claimed_by=sa.bindparam('b_engine'),
                lease_until=sa.bindparam('b_until'),
                updated_at=sa.bindparam('b_now')))
    select = (
        sa.select(n)
        .where(n.id.in_(ids), n.status == RUNNING,
               n.claimed_by == sa.bindparam('b_engine'),
               n.lease_until == sa.bindparam('b_until'))
        .order_by(n.id))
    return update, select


_CLAIMS = {model: _claim_statements(model)
           for model in (models.Notification, models.Message)}


@enginefacade.writer
def notifications_claim(context, notification_ids, engine, lease,
                        model=models.Notification):
    """Claim notifications (or messages) for ``engine`` with a
    compare-and-set.

    Only a new notification, one whose retry is due, or one whose previous
    engine let its lease expire can be claimed, and only by one engine:
    the UPDATE's WHERE clause is evaluated under the row lock. Returns the
    rows claimed, by id; the others are someone else's or have nothing to
    do.

    The caller must not pass ids it holds already: the claimed rows are
    read back by ``claimed_by`` and the new lease.
    """
    ids = sorted(set(notification_ids))
    if not ids:
        return []
    now = timeutils.utcnow()
    params = {'b_ids': ids, 'b_engine': engine, 'b_now': now,
              'b_until': now + _seconds(lease)}
    update, select = _CLAIMS[model]
    if not context.session.connection().execute(update, params).rowcount:
        return []
    return list(context.session.scalars(select, params))


# The deliveries of claimed notifications: one INSERT of every target that
# does not ignore an existing delivery (a notification claimed again after
# a crash or for a retry keeps what it achieved), then one read of them
# all, without the attempts' history (loaded only if used).
_MYSQL_DELIVERY_INSERT = mysql.insert(_DELIVERIES).on_duplicate_key_update(
    id=_DELIVERIES.c.id)
_DELIVERY_INSERTS = {
    'mysql': _MYSQL_DELIVERY_INSERT,
    'mariadb': _MYSQL_DELIVERY_INSERT,
    'postgresql': postgresql.insert(_DELIVERIES).on_conflict_do_nothing(),
    'sqlite': sqlite.insert(_DELIVERIES).on_conflict_do_nothing(),
}
_DELIVERIES_OF = {
    model: sa.select(models.Delivery)
    .where(_owner_column(model).in_(sa.bindparam('b_ids', expanding=True)))
    .options(orm.lazyload(models.Delivery.attempt_records))
    .order_by(models.Delivery.id)
    for model in (models.Notification, models.Message)}


@enginefacade.writer
def deliveries_ensure_many(context, targets, model=models.Notification):
    """:func:`deliveries_ensure` for several notifications (or messages)
    in one transaction: ``targets`` maps a notification (the row) to its
    targets. Returns ``{notification id: [deliveries by id]}``."""
    session = context.session
    column = _owner_column(model)
    now = timeutils.utcnow()
    rows = [{column.key: owner.id, 'uuid': uuidutils.generate_uuid(),
             'target': target, 'medium': medium,
             'destination_id': destination_id, 'status': PENDING,
             'attempts': 0, 'project_id': owner.project_id,
             'created_at': now, 'updated_at': now}
            for owner, wanted in targets.items()
            for target, (medium, destination_id) in wanted.items()]
    connection = session.connection()
    if rows:
        connection.execute(_DELIVERY_INSERTS[connection.dialect.name], rows)
    found = {owner.id: [] for owner in targets}
    for delivery in session.scalars(_DELIVERIES_OF[model],
                                    {'b_ids': list(found)}):
        found[getattr(delivery, column.key)].append(delivery)
    return found


_RELEASES = {}


def _release_many(session, releases, model=models.Notification):
    """:func:`notification_release` of each (notification id, engine,
    status, next attempt time): one UPDATE per distinct outcome rather
    than per notification. Returns the ids it applied to."""
    groups = {}
    for nid, engine, status, next_attempt_at in releases:
        groups.setdefault((engine, status, next_attempt_at), []).append(nid)
    n = model.__table__
    stmt = _RELEASES.get(model)
    if stmt is None:
        stmt = _RELEASES[model] = (
            sa.update(n)
            .where(n.c.id.in_(sa.bindparam('b_ids', expanding=True)),
                   n.c.status == RUNNING,
                   n.c.claimed_by == sa.bindparam('b_engine'))
            .values(status=sa.bindparam('status'), lease_until=None,
                    next_attempt_at=sa.bindparam('next_attempt_at'),
                    updated_at=sa.bindparam('updated_at')))
    released = set()
    connection = session.connection() if groups else None
    for (engine, status, next_attempt_at), ids in groups.items():
        done = connection.execute(stmt, {
            'b_ids': sorted(ids), 'b_engine': engine, 'status': status,
            'next_attempt_at': next_attempt_at,
            'updated_at': timeutils.utcnow()}).rowcount
        if done == len(ids):
            released.update(ids)
        elif done:  # some were taken over: the others are ours now
            released.update(session.scalars(
                sa.select(n.c.id).where(n.c.id.in_(ids),
                                        n.c.claimed_by == engine,
                                        n.c.status == status,
                                        n.c.lease_until.is_(None))))
    return released


@enginefacade.writer
def notifications_release(context, engine, outcomes):
    """:func:`notification_release` of several notifications in one
    transaction: ``outcomes`` maps an id to its (status, next attempt
    time). Returns the ids it applied to."""
    return _release_many(context.session, [
        (nid, engine, status, next_attempt_at)
        for nid, (status, next_attempt_at) in outcomes.items()])


@enginefacade.reader
def notifications_taken_over(context, notification_ids, engine,
                             model=models.Notification):
    """Ids of those of these notifications (or messages) another engine
    has claimed since ``engine`` did."""
    n = model
    return list(context.session.scalars(
        sa.select(n.id).where(n.id.in_(sorted(set(notification_ids))),
                              n.claimed_by != engine).order_by(n.id)))


@enginefacade.writer
def notifications_extend_lease(context, notification_ids, engine, lease,
                               model=models.Notification):
    """:func:`notification_extend_lease` of several notifications; the
    number whose lease this engine still held and extended."""
    ids = sorted(set(notification_ids))
    if not ids:
        return 0
    n = model
    now = timeutils.utcnow()
    return context.session.execute(
        sa.update(n)
        .where(n.id.in_(ids), n.status == RUNNING, n.claimed_by == engine)
        .values(lease_until=now + _seconds(lease), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
