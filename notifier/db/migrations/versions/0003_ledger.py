"""Delivery ledger: rendered content, recipients and the template used.

Deliveries get their project (copied from their notification, so that the
ledger is filtered and paginated without a join), what was rendered for
them, who received them, the template and its version, and when they were
last attempted; indexes serve every filter and sort of
``GET /v1/deliveries``. Notifications get ``requeued_at``: when a resend or
a re-processing put them back in the queue, from which their maximum age
counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op
from oslo_db.sqlalchemy import types as db_types
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
# A rendered body may exceed MySQL's 64 KiB TEXT.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('project_id', sa.String(255),
                                   nullable=True))
        batch.add_column(sa.Column('subject', sa.Text, nullable=True))
        batch.add_column(sa.Column('text_body', LongText, nullable=True))
        batch.add_column(sa.Column('html_body', LongText, nullable=True))
        batch.add_column(sa.Column('recipients', db_types.JsonEncodedList,
                                   nullable=True))
        batch.add_column(sa.Column('template', sa.String(255),
                                   nullable=True))
        batch.add_column(sa.Column('template_version', sa.Integer,
                                   nullable=True))
        batch.add_column(sa.Column('last_attempt_at', DateTime,
                                   nullable=True))

    # Existing deliveries belong to their notification's project.
    deliveries = sa.table('deliveries',
                          sa.column('project_id', sa.String),
                          sa.column('notification_id', sa.Integer))
    notifications = sa.table('notifications',
                             sa.column('id', sa.Integer),
                             sa.column('project_id', sa.String))
    op.execute(deliveries.update().values(project_id=(
        sa.select(notifications.c.project_id)
        .where(notifications.c.id == deliveries.c.notification_id)
        .scalar_subquery())))

    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('project_id', existing_type=sa.String(255),
                           nullable=False)
        # With the id: pages are ordered by (sort key, id).
        batch.create_index('deliveries_project_id_created_at_idx',
                           ['project_id', 'created_at', 'id'])
        batch.create_index('deliveries_project_id_updated_at_idx',
                           ['project_id', 'updated_at', 'id'])
        batch.create_index('deliveries_created_at_idx', ['created_at'])
        batch.create_index('deliveries_updated_at_idx', ['updated_at'])
        batch.create_index('deliveries_medium_idx', ['medium'])
        batch.create_index('deliveries_target_idx', ['target'])

    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('requeued_at', DateTime, nullable=True))
