"""Database access: one function per operation, enginefacade transactions,
SQLAlchemy 2.0 ``select()`` style."""

import datetime
import os

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

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
        setup_sqlite(get_engine())


def setup_sqlite(engine):
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
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute('PRAGMA journal_mode=WAL')
        finally:
            raw.close()


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
        if ascending:
            after = sa.or_(column > value,
                           sa.and_(column == value, model.id > marker.id))
        else:
            after = sa.or_(column < value,
                           sa.and_(column == value, model.id < marker.id))
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


# On MySQL the UPDATE of a missing dedup row gap-locks its key, and two
# concurrent INSERTs into that gap deadlock; the retry, a new transaction,
# sees the winner's row and refuses the duplicate.
@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
@enginefacade.writer
def notification_create(context, values, dedup_key=None, dedup_interval=0):
    """Store a new notification, refusing a duplicate atomically.

    The dedup row for ``dedup_key`` is taken over if it has expired, or
    inserted if there is none. Whichever concurrent request does that first
    wins; the others fail on the row lock or the primary key and get
    :class:`exception.DuplicateNotification`. The notification is inserted
    in the same transaction, so a refused one leaves nothing behind.
    """
    now = timeutils.utcnow()
    notification = models.Notification(
        notification_uuid=uuidutils.generate_uuid(), status=NEW,
        created_at=now, updated_at=now, **values)
    session = context.session
    if dedup_key and dedup_interval:
        expires = now + _seconds(dedup_interval)
        taken = session.execute(
            sa.update(models.NotificationDedup)
            .where(models.NotificationDedup.key == dedup_key,
                   models.NotificationDedup.expires_at <= now)
            .values(notification_uuid=notification.notification_uuid,
                    expires_at=expires)
            .execution_options(synchronize_session=False)).rowcount
        if not taken:
            session.add(models.NotificationDedup(
                key=dedup_key,
                notification_uuid=notification.notification_uuid,
                expires_at=expires))
            try:
                session.flush()
            except db_exc.DBDuplicateEntry:
                raise exception.DuplicateNotification(interval=dedup_interval)
    session.add(notification)
    session.flush()
    return notification


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


@enginefacade.reader
def notification_list(context, project_id=None, filters=None, limit=None,
                      marker=None, sort_key='created_at', sort_dir='desc'):
    filters = filters or {}
    model = models.Notification
    stmt = _notification_query(project_id)
    for name in ('type', 'status', 'source_host_uuid'):
        if name in filters:
            stmt = stmt.where(getattr(model, name) == filters[name])
    if 'generated_since' in filters:
        stmt = stmt.where(model.generated_time >= filters['generated_since'])
    marker_row = None
    if marker is not None:
        try:
            marker_row = _find_notification(context.session, marker,
                                            project_id)
        except exception.NotificationNotFound:
            marker_row = None
        if marker_row is None:
            raise exception.MarkerNotFound(marker=marker,
                                           resource='notification')
    stmt = _paginate(stmt, model, sort_key, sort_dir, limit, marker_row)
    return list(context.session.scalars(stmt))


@enginefacade.reader
def deliveries_for_notification(context, notification_id):
    return list(context.session.scalars(
        sa.select(models.Delivery)
        .where(models.Delivery.notification_id == notification_id)
        .order_by(models.Delivery.id)))


# The engine's side

def _claimable(now):
    n = models.Notification
    return sa.or_(
        n.status == NEW,
        sa.and_(n.status == RUNNING, n.lease_until < now),
        sa.and_(n.status == ERROR, n.next_attempt_at <= now))


@enginefacade.writer
def notification_claim(context, notification_id, engine, lease):
    """Claim a notification for ``engine`` with a compare-and-set.

    Only a new notification, one whose retry is due, or one whose previous
    engine let its lease expire can be claimed, and only by one engine:
    the UPDATE's WHERE clause is evaluated under the row lock. Returns the
    claimed row, or None if someone else has it or there is nothing to do.
    """
    now = timeutils.utcnow()
    n = models.Notification
    claimed = context.session.execute(
        sa.update(n)
        .where(n.id == notification_id, _claimable(now))
        .values(status=RUNNING, claimed_by=engine,
                lease_until=now + _seconds(lease), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        return None
    return context.session.scalars(
        sa.select(n).where(n.id == notification_id)).one()


@enginefacade.reader
def notifications_due(context, recast_after, limit):
    """Ids of notifications the periodic task should pick up.

    New ones nobody took within ``recast_after`` seconds (a lost cast),
    running ones whose engine's lease expired (a crashed engine) and ones
    whose retry is due. Oldest first.
    """
    now = timeutils.utcnow()
    n = models.Notification
    stmt = (sa.select(n.id)
            .where(sa.or_(
                sa.and_(n.status == NEW,
                        n.updated_at <= now - _seconds(recast_after)),
                sa.and_(n.status == RUNNING, n.lease_until < now),
                sa.and_(n.status == ERROR, n.next_attempt_at <= now)))
            .order_by(n.id).limit(limit))
    return list(context.session.scalars(stmt))


@enginefacade.writer
def deliveries_ensure(context, notification_id, targets):
    """Create the deliveries of a notification that do not exist yet.

    ``targets`` maps a target key (such as ``default:log`` or
    ``destination:<uuid>``) to its (medium, destination id or None).
    Re-running it after a crash is harmless: existing deliveries, and what
    they already achieved, are kept. Returns every delivery.
    """
    session = context.session
    existing = {d.target: d for d in session.scalars(
        sa.select(models.Delivery)
        .where(models.Delivery.notification_id == notification_id))}
    for target, (medium, destination_id) in targets.items():
        if target not in existing:
            delivery = models.Delivery(
                uuid=uuidutils.generate_uuid(),
                notification_id=notification_id, target=target,
                medium=medium, destination_id=destination_id,
                status=PENDING, attempts=0)
            session.add(delivery)
            existing[target] = delivery
    session.flush()
    return sorted(existing.values(), key=lambda d: d.id)


@enginefacade.writer
def delivery_record_attempt(context, delivery_id, engine, started_at,
                            latency_ms, outcome, status, receipt=None,
                            error=None, next_attempt_at=None):
    """Record one attempt and the delivery's resulting state together."""
    session = context.session
    delivery = session.get(models.Delivery, delivery_id)
    delivery.attempts += 1
    delivery.status = status
    delivery.next_attempt_at = next_attempt_at
    if receipt is not None:
        delivery.receipt = receipt
    delivery.last_error = error
    if status == DELIVERED:
        delivery.delivered_at = timeutils.utcnow()
    session.add(models.DeliveryAttempt(
        delivery_id=delivery_id, number=delivery.attempts, engine=engine,
        started_at=started_at, latency_ms=latency_ms, outcome=outcome,
        receipt=receipt, error=error))
    session.flush()
    return delivery


@enginefacade.writer
def notification_extend_lease(context, notification_id, engine, lease):
    """Push the lease of a notification this engine holds ``lease`` seconds
    ahead; False if the engine no longer holds it."""
    n = models.Notification
    now = timeutils.utcnow()
    return bool(context.session.execute(
        sa.update(n)
        .where(n.id == notification_id, n.status == RUNNING,
               n.claimed_by == engine)
        .values(lease_until=now + _seconds(lease), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount)


@enginefacade.writer
def notification_release(context, notification_id, engine, status,
                         next_attempt_at=None):
    """Set the outcome of a claimed notification and drop the lease.

    Guarded by ``claimed_by``: an engine whose lease expired and was taken
    over cannot overwrite its successor's work. Returns True if it applied.
    """
    n = models.Notification
    return bool(context.session.execute(
        sa.update(n)
        .where(n.id == notification_id, n.status == RUNNING,
               n.claimed_by == engine)
        .values(status=status, lease_until=None,
                next_attempt_at=next_attempt_at,
                updated_at=timeutils.utcnow())
        .execution_options(synchronize_session=False)).rowcount)


@enginefacade.writer
def notifications_expire(context, max_age):
    """Give up notifications older than ``max_age`` seconds: ``failed``.

    Their unfinished deliveries fail too, with the reason recorded.
    Returns the number of notifications expired.
    """
    now = timeutils.utcnow()
    cutoff = now - _seconds(max_age)
    n = models.Notification
    session = context.session
    ids = list(session.scalars(
        sa.select(n.id).where(n.status.in_((NEW, RUNNING, ERROR)),
                              n.created_at < cutoff)))
    if not ids:
        return 0
    session.execute(
        sa.update(models.Delivery)
        .where(models.Delivery.notification_id.in_(ids),
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
    return session.execute(
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
    """The project's enabled subscriptions with their destinations."""
    return list(context.session.scalars(
        sa.select(models.Subscription).where(
            models.Subscription.project_id == project_id,
            models.Subscription.enabled.is_(True))))
