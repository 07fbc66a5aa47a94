"""SQLAlchemy models. Every constraint and index is named, and every filter
and sort the API offers has an index."""

from oslo_db.sqlalchemy import types as db_types
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
# A rendered body may exceed MySQL's 64 KiB TEXT.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')


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
        # 0006: the list API's sorts within a project.
        sa.Index('notifications_project_id_updated_at_idx',
                 'project_id', 'updated_at', 'id'),
        sa.Index('notifications_project_id_generated_time_idx',
                 'project_id', 'generated_time', 'id'),
        sa.Index('notifications_project_id_type_idx',
                 'project_id', 'type', 'id'),
        sa.Index('notifications_project_id_status_idx',
                 'project_id', 'status', 'id'),
        sa.Index('notifications_project_id_source_host_uuid_idx',
                 'project_id', 'source_host_uuid', 'id'),
        sa.Index('notifications_project_id_id_idx', 'project_id', 'id'),
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
    #: When a resend or a re-processing last put it back in the queue; its
    #: maximum age counts from then.
    requeued_at = sa.Column(DateTime, nullable=True)


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
        # The ledger's filters and sorts.
        sa.Index('deliveries_project_id_created_at_idx',
                 'project_id', 'created_at', 'id'),
        sa.Index('deliveries_project_id_updated_at_idx',
                 'project_id', 'updated_at', 'id'),
        sa.Index('deliveries_created_at_idx', 'created_at'),
        sa.Index('deliveries_updated_at_idx', 'updated_at'),
        sa.Index('deliveries_medium_idx', 'medium'),
        sa.Index('deliveries_target_idx', 'target'),
        # A delivery belongs to a notification or to a message (a direct
        # message or a broadcast), never both, never neither.
        sa.UniqueConstraint('message_id', 'target',
                            name='uniq_deliveries0message_id0target'),
        sa.CheckConstraint('(notification_id IS NULL) <> '
                           '(message_id IS NULL)',
                           name='deliveries_one_owner_ck'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    notification_id = sa.Column(
        sa.Integer,
        sa.ForeignKey('notifications.id', ondelete='CASCADE',
                      name='deliveries_notification_id_fkey'),
        nullable=True)
    message_id = sa.Column(
        sa.Integer,
        sa.ForeignKey('messages.id', ondelete='CASCADE',
                      name='deliveries_message_id_fkey'),
        nullable=True)
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
    # The ledger: the owner's project, what was last rendered and who
    # received it, the template used, when it was last attempted.
    project_id = sa.Column(sa.String(255), nullable=False)
    subject = sa.Column(sa.Text, nullable=True)
    text_body = sa.Column(LongText, nullable=True)
    html_body = sa.Column(LongText, nullable=True)
    recipients = sa.Column(db_types.JsonEncodedList, nullable=True)
    template = sa.Column(sa.String(255), nullable=True)
    template_version = sa.Column(sa.Integer, nullable=True)
    last_attempt_at = sa.Column(DateTime, nullable=True)

    notification = orm.relationship('Notification', lazy='select')
    message = orm.relationship('Message', lazy='select')
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
    # Health (notifier.engine.health): the circuit breaker's consecutive
    # transient failures, times it opened in a row, until when it stays
    # open, whether its half-open probe is out, and why it opened or why
    # the engine disabled the destination.
    consecutive_failures = sa.Column(sa.Integer, nullable=False, default=0,
                                     server_default='0')
    trips = sa.Column(sa.Integer, nullable=False, default=0,
                      server_default='0')
    paused_until = sa.Column(DateTime, nullable=True)
    probing = sa.Column(sa.Boolean, nullable=False, default=False,
                        server_default=sa.false())
    health_reason = sa.Column(sa.String(1024), nullable=True)


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


class Message(TimestampMixin, Base):
    """A direct message or a broadcast: sent through the same pipeline as
    a notification (claimed with a lease, delivered, retried), but with
    content given by the caller instead of routing rules.

    ``medium`` says how it goes out: ``slack``, ``email``, ``any`` (the
    operator's fallback list), ``destination`` (one of the project's
    destinations, in ``request``) or, for a broadcast, ``email`` to the
    recipients resolved into ``recipients`` by the engine.
    """

    __tablename__ = 'messages'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_messages0uuid'),
        sa.Index('messages_project_id_created_at_idx',
                 'project_id', 'created_at'),
        sa.Index('messages_status_updated_at_idx', 'status', 'updated_at'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=True)
    kind = sa.Column(sa.String(16), nullable=False)
    medium = sa.Column(sa.String(32), nullable=False)
    request = sa.Column(db_types.JsonEncodedDict(mysql_as_medium=True),
                        nullable=False)
    recipients = sa.Column(db_types.JsonEncodedType(mysql_as_medium=True),
                           nullable=True)
    status = sa.Column(sa.String(16), nullable=False, default='new')
    request_id = sa.Column(sa.String(64), nullable=True)
    claimed_by = sa.Column(sa.String(255), nullable=True)
    lease_until = sa.Column(DateTime, nullable=True)
    next_attempt_at = sa.Column(DateTime, nullable=True)


class Template(TimestampMixin, Base):
    """An edit of a message template: a project's override of a system
    template, or (project_id '') an admin's edit of the system default.

    ``config`` holds only the fields the edit sets; a body that is NULL is
    the default's. Removing an override clears it and keeps the row, so
    that ``version`` keeps increasing (the ledger names template versions).
    """

    __tablename__ = 'templates'
    __table_args__ = (
        sa.UniqueConstraint('project_id', 'template_id',
                            name='uniq_templates0project_id0template_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    template_id = sa.Column(sa.String(64), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    overridden = sa.Column(sa.Boolean, nullable=False, default=True)
    config = sa.Column(db_types.JsonEncodedDict, nullable=False)
    text_body = sa.Column(LongText, nullable=True)
    html_body = sa.Column(LongText, nullable=True)
    version = sa.Column(sa.Integer, nullable=False, default=1)
    user_id = sa.Column(sa.String(255), nullable=True)
