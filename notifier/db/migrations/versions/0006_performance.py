"""Performance: indexes for the list API's sorts within a project.

GET /v1/notifications is scoped to the caller's project and sorted on one
of its sort keys (then id): an index on (project_id, sort key, id) reads a
page of 100 in key order, whatever the size of the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (project_id, created_at) exists since 0001: the default sort.
SORT_KEYS = ('updated_at', 'generated_time', 'type', 'status',
             'source_host_uuid')


def upgrade():
    for key in SORT_KEYS:
        op.create_index('notifications_project_id_%s_idx' % key,
                        'notifications', ['project_id', key, 'id'])
    op.create_index('notifications_project_id_id_idx', 'notifications',
                    ['project_id', 'id'])
