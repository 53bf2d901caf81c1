"""postbacks: tagged click ids (up to 64 characters), conversions waiting for their click

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

- clicks.click_id: ``VARCHAR(32)`` becomes ``VARCHAR(64)`` (click ids are 36
  characters since they carry a tag). In place on both databases: on
  PostgreSQL widening a ``varchar`` changes the catalog only (no rewrite of
  the table or of its unique index); on SQLite, which never enforces the
  length, only the declared type in the schema text changes, by SQLite's own
  documented procedure for changes that leave the stored data as it is
  (https://www.sqlite.org/lang_altertable.html, "otheralter"). A table copy
  is out of the question: with foreign keys on, dropping the old clicks table
  would cascade-delete every conversion.
- pending_conversions: postbacks that came while their click was still on its
  way from a click log to the clicks table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _sqlite_declare_click_id(conn: Connection, old: str, new: str) -> None:
    """Change the declared type of clicks.click_id in SQLite's schema text (no data changes)."""
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'clicks'").scalar()
    before, after = f"click_id {old} NOT NULL", f"click_id {new} NOT NULL"
    if not isinstance(sql, str) or sql.count(before) != 1:
        raise RuntimeError(f"clicks.click_id is not declared as {old} NOT NULL; not changing it")
    version = int(conn.exec_driver_sql("PRAGMA schema_version").scalar())  # type: ignore[arg-type]
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'clicks'", (sql.replace(before, after),)
        )
        # Every connection re-reads the schema when its version changes.
        conn.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def _click_id_type(old: int, new: int) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        _sqlite_declare_click_id(conn, f"VARCHAR({old})", f"VARCHAR({new})")
    else:
        op.alter_column(
            "clicks",
            "click_id",
            type_=sa.String(length=new),
            existing_type=sa.String(length=old),
            existing_nullable=False,
        )


def upgrade() -> None:
    _click_id_type(32, 64)
    op.create_table(
        "pending_conversions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advertiser_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("click_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=255), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="waiting", nullable=False),
        sa.Column("error", sa.String(length=32), nullable=True),
        sa.Column("conversion_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('waiting', 'recorded', 'failed')", name=op.f("ck_pending_conversions_status")),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_pending_conversions_amount")),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["advertisers.id"],
            name=op.f("fk_pending_conversions_advertiser_id_advertisers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_pending_conversions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversion_id"],
            ["conversions.id"],
            name=op.f("fk_pending_conversions_conversion_id_conversions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_conversions")),
        sa.UniqueConstraint("advertiser_id", "click_id", "order_id", name="uq_pending_conversions_click_order"),
    )
    op.create_index("ix_pending_conversions_status", "pending_conversions", ["status"], unique=False)
    op.create_index(
        "ix_pending_conversions_campaign_received", "pending_conversions", ["campaign_id", "received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_pending_conversions_campaign_received", table_name="pending_conversions")
    op.drop_index("ix_pending_conversions_status", table_name="pending_conversions")
    op.drop_table("pending_conversions")
    # On PostgreSQL this fails while clicks with ids longer than 32 characters
    # (every click made since the upgrade) are stored: they would not fit.
    _click_id_type(64, 32)
