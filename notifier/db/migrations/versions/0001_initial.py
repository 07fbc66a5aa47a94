"""The initial schema: hosts, notifications, duplicate detection and the
delivery ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op
from oslo_db.sqlalchemy import types as db_types
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', DateTime, nullable=False),
            sa.Column('updated_at', DateTime, nullable=False)]


def upgrade():
    op.create_table(
        'hosts',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('on_maintenance', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_hosts0uuid'),
        sa.UniqueConstraint('project_id', 'name',
                            name='uniq_hosts0project_id0name'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')

    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('notification_uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('type', sa.String(36), nullable=False),
        sa.Column('hostname', sa.String(255), nullable=False),
        sa.Column('source_host_uuid', sa.String(36), nullable=False),
        sa.Column('generated_time', DateTime, nullable=False),
        sa.Column('payload', db_types.JsonEncodedDict(mysql_as_medium=True),
                  nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('request_id', sa.String(64), nullable=True),
        sa.Column('claimed_by', sa.String(255), nullable=True),
        sa.Column('lease_until', DateTime, nullable=True),
        sa.Column('next_attempt_at', DateTime, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint('notification_uuid',
                            name='uniq_notifications0notification_uuid'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    for name, columns in [
            ('notifications_project_id_created_at_idx',
             ['project_id', 'created_at']),
            ('notifications_created_at_idx', ['created_at']),
            ('notifications_updated_at_idx', ['updated_at']),
            ('notifications_generated_time_idx', ['generated_time']),
            ('notifications_type_idx', ['type']),
            ('notifications_source_host_uuid_idx', ['source_host_uuid']),
            ('notifications_status_updated_at_idx', ['status', 'updated_at'])]:
        op.create_index(name, 'notifications', columns)

    op.create_table(
        'notification_dedup',
        sa.Column('key', sa.String(64), primary_key=True),
        sa.Column('notification_uuid', sa.String(36), nullable=False),
        sa.Column('expires_at', DateTime, nullable=False),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('notification_dedup_expires_at_idx',
                    'notification_dedup', ['expires_at'])

    op.create_table(
        'deliveries',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('notification_id', sa.Integer,
                  sa.ForeignKey('notifications.id', ondelete='CASCADE',
                                name='deliveries_notification_id_fkey'),
                  nullable=False),
        sa.Column('target', sa.String(255), nullable=False),
        sa.Column('medium', sa.String(32), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('attempts', sa.Integer, nullable=False),
        sa.Column('next_attempt_at', DateTime, nullable=True),
        sa.Column('receipt', sa.Text, nullable=True),
        sa.Column('last_error', sa.Text, nullable=True),
        sa.Column('delivered_at', DateTime, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_deliveries0uuid'),
        sa.UniqueConstraint('notification_id', 'target',
                            name='uniq_deliveries0notification_id0target'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('deliveries_status_next_attempt_at_idx', 'deliveries',
                    ['status', 'next_attempt_at'])

    op.create_table(
        'delivery_attempts',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('delivery_id', sa.Integer,
                  sa.ForeignKey('deliveries.id', ondelete='CASCADE',
                                name='delivery_attempts_delivery_id_fkey'),
                  nullable=False),
        sa.Column('number', sa.Integer, nullable=False),
        sa.Column('engine', sa.String(255), nullable=False),
        sa.Column('started_at', DateTime, nullable=False),
        sa.Column('latency_ms', sa.Float, nullable=False),
        sa.Column('outcome', sa.String(16), nullable=False),
        sa.Column('receipt', sa.Text, nullable=True),
        sa.Column('error', sa.Text, nullable=True),
        sa.UniqueConstraint('delivery_id', 'number',
                            name='uniq_delivery_attempts0delivery_id0number'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
