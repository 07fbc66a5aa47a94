"""Direct messages and broadcasts.

A ``messages`` table, queued and claimed like notifications, and
deliveries that belong to a notification or to a message: exactly one of
``deliveries.notification_id`` and ``deliveries.message_id`` is set.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from alembic import op
from oslo_db.sqlalchemy import types as db_types
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=True),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('medium', sa.String(32), nullable=False),
        sa.Column('request', db_types.JsonEncodedDict(mysql_as_medium=True),
                  nullable=False),
        sa.Column('recipients',
                  db_types.JsonEncodedType(mysql_as_medium=True),
                  nullable=True),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('request_id', sa.String(64), nullable=True),
        sa.Column('claimed_by', sa.String(255), nullable=True),
        sa.Column('lease_until', DateTime, nullable=True),
        sa.Column('next_attempt_at', DateTime, nullable=True),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False),
        sa.UniqueConstraint('uuid', name='uniq_messages0uuid'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('messages_project_id_created_at_idx', 'messages',
                    ['project_id', 'created_at'])
    op.create_index('messages_status_updated_at_idx', 'messages',
                    ['status', 'updated_at'])

    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('message_id', sa.Integer, nullable=True))
        batch.alter_column('notification_id', existing_type=sa.Integer,
                           nullable=True)
        batch.create_foreign_key('deliveries_message_id_fkey', 'messages',
                                 ['message_id'], ['id'], ondelete='CASCADE')
        batch.create_unique_constraint('uniq_deliveries0message_id0target',
                                       ['message_id', 'target'])
        batch.create_check_constraint(
            'deliveries_one_owner_ck',
            '(notification_id IS NULL) <> (message_id IS NULL)')
