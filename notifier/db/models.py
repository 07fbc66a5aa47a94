"""SQLAlchemy models. Every constraint and index is named, and every filter
and sort the API offers has an index."""

from oslo_db.sqlalchemy import types as db_types
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


class Base(orm.DeclarativeBase):
    pass


def _now():
    return timeutils.utcnow()


class TimestampMixin:
    created_at = sa.Column(DateTime, nullable=False, default=_now)
    updated_at = sa.Column(DateTime, nullable=False, default=_now,
                           onupdate=_now)


class Host(TimestampMixin, Base):
    """A monitored host; on_maintenance makes its notifications a 409."""

    __tablename__ = 'hosts'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_hosts0uuid'),
        sa.UniqueConstraint('project_id', 'name',
                            name='uniq_hosts0project_id0name'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    on_maintenance = sa.Column(sa.Boolean, nullable=False, default=False)


class Notification(TimestampMixin, Base):
    """A failure alert, masakari's notification. The database is the queue:
    the engine claims rows with a compare-and-set on status and lease."""

    __tablename__ = 'notifications'
    __table_args__ = (
        sa.UniqueConstraint('notification_uuid',
                            name='uniq_notifications0notification_uuid'),
        sa.Index('notifications_project_id_created_at_idx',
                 'project_id', 'created_at'),
        sa.Index('notifications_created_at_idx', 'created_at'),
        sa.Index('notifications_updated_at_idx', 'updated_at'),
        sa.Index('notifications_generated_time_idx', 'generated_time'),
        sa.Index('notifications_type_idx', 'type'),
        sa.Index('notifications_source_host_uuid_idx', 'source_host_uuid'),
        sa.Index('notifications_status_updated_at_idx',
                 'status', 'updated_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    notification_uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    type = sa.Column(sa.String(36), nullable=False)
    hostname = sa.Column(sa.String(255), nullable=False)
    source_host_uuid = sa.Column(sa.String(36), nullable=False)
    generated_time = sa.Column(DateTime, nullable=False)
    payload = sa.Column(db_types.JsonEncodedDict(mysql_as_medium=True),
                        nullable=False)
    status = sa.Column(sa.String(16), nullable=False, default='new')
    request_id = sa.Column(sa.String(64), nullable=True)
    claimed_by = sa.Column(sa.String(255), nullable=True)
    lease_until = sa.Column(DateTime, nullable=True)
    next_attempt_at = sa.Column(DateTime, nullable=True)


class NotificationDedup(Base):
    """One row per (project, type, host, payload) seen recently.

    The primary key makes duplicate detection a decision of the database:
    of two concurrent identical notifications only one can insert (or take
    over an expired row), whatever the number of API processes.
    """

    __tablename__ = 'notification_dedup'
    __table_args__ = (
        sa.Index('notification_dedup_expires_at_idx', 'expires_at'),
    )

    key = sa.Column(sa.String(64), primary_key=True)
    notification_uuid = sa.Column(sa.String(36), nullable=False)
    expires_at = sa.Column(DateTime, nullable=False)


class Delivery(TimestampMixin, Base):
    """One notification sent to one target; the ledger of what went where."""

    __tablename__ = 'deliveries'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_deliveries0uuid'),
        sa.UniqueConstraint('notification_id', 'target',
                            name='uniq_deliveries0notification_id0target'),
        sa.Index('deliveries_status_next_attempt_at_idx',
                 'status', 'next_attempt_at'),
        sa.Index('deliveries_destination_id_idx', 'destination_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    notification_id = sa.Column(
        sa.Integer,
        sa.ForeignKey('notifications.id', ondelete='CASCADE',
                      name='deliveries_notification_id_fkey'),
        nullable=False)
    target = sa.Column(sa.String(255), nullable=False)
    medium = sa.Column(sa.String(32), nullable=False)
    destination_id = sa.Column(
        sa.Integer,
        sa.ForeignKey('destinations.id', ondelete='SET NULL',
                      name='deliveries_destination_id_fkey'),
        nullable=True)
    status = sa.Column(sa.String(16), nullable=False, default='pending')
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    next_attempt_at = sa.Column(DateTime, nullable=True)
    receipt = sa.Column(sa.Text, nullable=True)
    last_error = sa.Column(sa.Text, nullable=True)
    delivered_at = sa.Column(DateTime, nullable=True)

    attempt_records = orm.relationship(
        'DeliveryAttempt', order_by='DeliveryAttempt.number',
        lazy='selectin', cascade='all, delete-orphan', passive_deletes=True)


class DeliveryAttempt(Base):
    """Each attempt of a delivery: when, by which engine, how it went."""

    __tablename__ = 'delivery_attempts'
    __table_args__ = (
        sa.UniqueConstraint('delivery_id', 'number',
                            name='uniq_delivery_attempts0delivery_id0number'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    delivery_id = sa.Column(
        sa.Integer,
        sa.ForeignKey('deliveries.id', ondelete='CASCADE',
                      name='delivery_attempts_delivery_id_fkey'),
        nullable=False)
    number = sa.Column(sa.Integer, nullable=False)
    engine = sa.Column(sa.String(255), nullable=False)
    started_at = sa.Column(DateTime, nullable=False)
    latency_ms = sa.Column(sa.Float, nullable=False)
    outcome = sa.Column(sa.String(16), nullable=False)
    receipt = sa.Column(sa.Text, nullable=True)
    error = sa.Column(sa.Text, nullable=True)


subscription_destinations = sa.Table(
    'subscription_destinations', Base.metadata,
    sa.Column('subscription_id', sa.Integer,
              sa.ForeignKey('subscriptions.id', ondelete='CASCADE',
                            name='subscription_destinations_'
                                 'subscription_id_fkey'),
              primary_key=True),
    sa.Column('destination_id', sa.Integer,
              sa.ForeignKey('destinations.id', ondelete='CASCADE',
                            name='subscription_destinations_'
                                 'destination_id_fkey'),
              primary_key=True),
    sa.Index('subscription_destinations_destination_id_idx',
             'destination_id'),
    mysql_engine='InnoDB',
)


class Destination(TimestampMixin, Base):
    """Where to deliver: a medium and its settings. Secret settings are
    kept apart, encrypted (see notifier.crypto)."""

    __tablename__ = 'destinations'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_destinations0uuid'),
        sa.Index('destinations_project_id_created_at_idx',
                 'project_id', 'created_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=True)
    name = sa.Column(sa.String(255), nullable=False)
    medium = sa.Column(sa.String(32), nullable=False)
    settings = sa.Column(db_types.JsonEncodedDict, nullable=False)
    secrets = sa.Column(sa.Text, nullable=True)
    enabled = sa.Column(sa.Boolean, nullable=False, default=True)


class Subscription(TimestampMixin, Base):
    """Routing: which of a project's notifications go to which of its
    destinations. Empty filters match everything."""

    __tablename__ = 'subscriptions'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_subscriptions0uuid'),
        sa.Index('subscriptions_project_id_enabled_idx',
                 'project_id', 'enabled'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=True)
    name = sa.Column(sa.String(255), nullable=False)
    filters = sa.Column(db_types.JsonEncodedDict, nullable=False)
    enabled = sa.Column(sa.Boolean, nullable=False, default=True)

    destinations = orm.relationship(
        'Destination', secondary=subscription_destinations,
        order_by='Destination.id', lazy='selectin')
