"""Destinations and subscriptions; deliveries know their destination.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op
from oslo_db.sqlalchemy import types as db_types
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', DateTime, nullable=False),
            sa.Column('updated_at', DateTime, nullable=False)]


def upgrade():
    op.create_table(
        'destinations',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('medium', sa.String(32), nullable=False),
        sa.Column('settings', db_types.JsonEncodedDict, nullable=False),
        sa.Column('secrets', sa.Text, nullable=True),
        sa.Column('enabled', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_destinations0uuid'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('destinations_project_id_created_at_idx',
                    'destinations', ['project_id', 'created_at'])

    op.create_table(
        'subscriptions',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('filters', db_types.JsonEncodedDict, nullable=False),
        sa.Column('enabled', sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_subscriptions0uuid'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('subscriptions_project_id_enabled_idx',
                    'subscriptions', ['project_id', 'enabled'])

    op.create_table(
        'subscription_destinations',
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
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
    op.create_index('subscription_destinations_destination_id_idx',
                    'subscription_destinations', ['destination_id'])

    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('destination_id', sa.Integer,
                                   nullable=True))
        batch.create_foreign_key('deliveries_destination_id_fkey',
                                 'destinations', ['destination_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index('deliveries_destination_id_idx',
                           ['destination_id'])
