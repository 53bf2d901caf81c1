"""task archive: tasks.archived_at (NULL while the task takes new links)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

An archived task offers no new links; the links made for it keep redirecting
and earning as before. A nullable column added in place on both databases
(no table copy: on SQLite ``ADD COLUMN`` only appends to the schema text).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("archived_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
