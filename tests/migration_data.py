"""A database at an old schema revision, with the rows every revision has, for tests of one migration's data."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from api import migrations
from conftest import drop_everything

#: The newest revision: what ``migrations.upgrade`` ends at.
HEAD = ScriptDirectory.from_config(migrations.alembic_config()).get_current_head()
NOW = "2026-11-30 10:00:00"

#: An advertiser, a program, a campaign and a partner: the same columns in every revision since 0001.
OWNERS = (
    "INSERT INTO advertisers (id, name, email, password_hash, api_key_hash, api_key_hint, created_at) "
    f"VALUES (1, 'B', 'b@x.test', 'h', 'k', 'hint', '{NOW}')",
    f"INSERT INTO programs (id, advertiser_id, name, created_at) VALUES (1, 1, 'P', '{NOW}')",
    f"INSERT INTO campaigns (id, program_id, name, created_at) VALUES (1, 1, 'C', '{NOW}')",
    f"INSERT INTO partners (id, name, email, password_hash, created_at) VALUES (1, 'P', 'p@x.test', 'h', '{NOW}')",
)


def task_and_link(*, disabled: bool = False) -> tuple[str, ...]:
    """Task 1 and short link 1 of partner 1 on campaign 1."""
    return (
        f"INSERT INTO tasks (id, campaign_id, title, created_at) VALUES (1, 1, 'T', '{NOW}')",
        "INSERT INTO links (id, partner_id, task_id, campaign_id, kind, code, landing_url, disabled, created_at) "
        f"VALUES (1, 1, 1, 1, 'short', 'abcdefg', 'https://b.test/', {'true' if disabled else 'false'}, '{NOW}')",
    )


def database_at(engine: Engine, revision: str, *statements: str) -> None:
    """Empty the database, migrate it to ``revision``, insert :data:`OWNERS` and then ``statements``."""
    drop_everything(engine)
    migrations.upgrade(engine, revision)
    with engine.begin() as conn:
        for statement in (*OWNERS, *statements):
            conn.execute(text(statement))


def click_and_conversion(click_id: str) -> tuple[str, ...]:
    """A billable click ``click_id`` on link 1 and a pending conversion of it (the columns of 0004 onwards)."""
    return (
        "INSERT INTO clicks (click_id, link_id, campaign_id, partner_id, task_id, created_at, ip_hash, "
        f"visitor_hash, is_bot, billable, payout_minor) VALUES ('{click_id}', 1, 1, 1, 1, '{NOW}', 'i', 'v', "
        "false, true, 0)",
        "INSERT INTO conversions (click_pk, campaign_id, link_id, partner_id, task_id, order_id, amount_minor, "
        f"currency, payout_minor, status, created_at, updated_at) SELECT id, 1, 1, 1, 1, 'o1', 100, 'USD', 0, "
        f"'pending', '{NOW}', '{NOW}' FROM clicks",
    )
