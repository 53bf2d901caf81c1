"""invitations: the ``invited`` membership status, memberships.invited_at, email_invitations

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

An advertiser who adds a partner by e-mail now invites them: the membership
is ``invited`` until the partner accepts (``active``) or declines
(``declined``). ``invited_at`` marks memberships that started as an
invitation. An e-mail without a partner account gets a row in
``email_invitations``, which becomes an invited membership when an account
with that e-mail is created.

The CHECK constraint on memberships.status only gains a value, so no stored
row can fail it. On PostgreSQL it is dropped and created again; on SQLite the
constraint's text in the schema is changed in place by SQLite's documented
procedure for changes that leave the stored data as it is
(https://www.sqlite.org/lang_altertable.html, "otheralter"): a table copy
would drop the change-counter triggers migration 0004 put on memberships.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = "status IN ('active', 'pending', 'declined', 'ended')"
_NEW = "status IN ('active', 'pending', 'declined', 'ended', 'invited')"


def _sqlite_replace_check(conn: Connection, old: str, new: str) -> None:
    """Change the text of memberships' status CHECK in SQLite's schema (no data changes)."""
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'memberships'").scalar()
    if not isinstance(sql, str) or sql.count(old) != 1:
        raise RuntimeError(f"memberships.status is not checked as {old}; not changing it")
    version = int(conn.exec_driver_sql("PRAGMA schema_version").scalar())  # type: ignore[arg-type]
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'memberships'", (sql.replace(old, new),)
        )
        # Every connection re-reads the schema when its version changes.
        conn.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _status_check(old: str, new: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        _sqlite_replace_check(conn, old, new)
    else:
        op.drop_constraint(op.f("ck_memberships_status"), "memberships", type_="check")
        op.create_check_constraint(op.f("ck_memberships_status"), "memberships", new)


def upgrade() -> None:
    _status_check(_OLD, _NEW)
    op.add_column("memberships", sa.Column("invited_at", sa.DateTime(), nullable=True))
    op.create_table(
        "email_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_email_invitations_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_invitations")),
        sa.UniqueConstraint("campaign_id", "email", name="uq_email_invitations_campaign_email"),
    )
    with op.batch_alter_table("email_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_invitations_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_invitations_email"), ["email"], unique=False)


def downgrade() -> None:
    op.drop_table("email_invitations")
    # Invitations nobody answered are withdrawn; the old schema has no word for them.
    op.execute("DELETE FROM memberships WHERE status = 'invited'")
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # DROP COLUMN copies nothing on SQLite >= 3.35 and keeps the triggers.
        op.execute("ALTER TABLE memberships DROP COLUMN invited_at")
    else:
        op.drop_column("memberships", "invited_at")
    _status_check(_NEW, _OLD)
