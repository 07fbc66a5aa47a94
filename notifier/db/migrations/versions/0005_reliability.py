"""Reliability: destination health (circuit breaker and HTTP 410).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('destinations') as batch:
        batch.add_column(sa.Column('consecutive_failures', sa.Integer,
                                   nullable=False, server_default='0'))
        batch.add_column(sa.Column('trips', sa.Integer, nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('paused_until', DateTime,
                                   nullable=True))
        batch.add_column(sa.Column('probing', sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('health_reason', sa.String(1024),
                                   nullable=True))
