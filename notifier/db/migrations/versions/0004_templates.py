"""Message templates: system defaults and per-project overrides.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op
from oslo_db.sqlalchemy import types as db_types
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microseconds on MySQL too (its DATETIME keeps whole seconds).
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
# A body may exceed MySQL's 64 KiB TEXT.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'templates',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('template_id', sa.String(64), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('overridden', sa.Boolean, nullable=False),
        sa.Column('config', db_types.JsonEncodedDict, nullable=False),
        sa.Column('text_body', LongText, nullable=True),
        sa.Column('html_body', LongText, nullable=True),
        sa.Column('version', sa.Integer, nullable=False),
        sa.Column('user_id', sa.String(255), nullable=True),
        sa.Column('created_at', DateTime, nullable=False),
        sa.Column('updated_at', DateTime, nullable=False),
        sa.UniqueConstraint('project_id', 'template_id',
                            name='uniq_templates0project_id0template_id'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4')
