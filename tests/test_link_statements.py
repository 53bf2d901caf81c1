"""Link creation's statement budget: one transaction, the account, the rules in one read, one INSERT.

A partner waits on every statement (and on PostgreSQL on every round trip),
so the number is a budget: a change that adds a query to link creation
fails here and has to say why, rather than slowing every link silently.
Counted at both layers that talk to the database: SQLAlchemy's cursor
executions and the DBAPI statements of :class:`api.rawsql.Raw`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from api import db, rawsql
from api.services import campaigns, landing_pages

#: BEGIN, the account by primary key, every rule in one SELECT, the INSERT, COMMIT.
READS, WRITES = 2, 1


class Statements:
    """What one block of code sent to the app's database."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.begins = 0
        self.commits = 0

    @property
    def verbs(self) -> list[str]:
        return [statement.split(None, 1)[0].upper() for statement in self.sql]


@pytest.fixture
def statements(app, monkeypatch) -> Iterator[Statements]:  # type: ignore[no-untyped-def]
    seen = Statements()
    engine = db.get_engine(app)
    # Only this thread's statements: the request runs here (test client), while threads other
    # tests left running (a click-log flusher, a postback sender) may use the database meanwhile.
    here = threading.get_ident()

    def cursor(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == here:
            seen.sql.append(statement)

    def begin(_conn: Any) -> None:
        if threading.get_ident() == here:
            seen.begins += 1

    def commit(_conn: Any) -> None:
        if threading.get_ident() == here:
            seen.commits += 1

    for name in ("one", "all", "run", "run_many"):
        original = getattr(rawsql.Raw, name)

        def counted(self: rawsql.Raw, sql: str, *args: Any, _original: Any = original) -> Any:
            if threading.get_ident() == here:
                seen.sql.append(sql)
            return _original(self, sql, *args)

        monkeypatch.setattr(rawsql.Raw, name, counted)
    listeners = (("before_cursor_execute", cursor), ("begin", begin), ("commit", commit))
    for name, listener in listeners:
        event.listen(engine, name, listener)
    yield seen
    for name, listener in listeners:
        event.remove(engine, name, listener)


@pytest.mark.parametrize(
    "body",
    [
        {"subId1": "spring", "sharedid": "news"},
        {"kind": "regular"},
        {"landing_url": "https://shop.brand.test/item?id=7"},
        {"landing_page_id": "sale"},
    ],
    ids=["short", "regular", "landing_url", "landing_page_id"],
)
def test_a_link_costs_one_transaction_two_reads_and_one_insert(client, make, world, auth, statements, body) -> None:
    headers = auth(world.partner)
    if body.get("landing_page_id") == "sale":
        with db.reading(make.engine) as conn:
            pages = landing_pages.list_landing_pages(conn, world.campaign.id)
        body = {"landing_page_id": next(page.id for page in pages if page.name == "Sale")}
    statements.sql.clear()
    statements.begins = statements.commits = 0

    response = client.post("/api/v1/links", headers=headers, json={"task_id": world.task.id, **body})

    assert response.status_code == 201, response.json
    assert statements.verbs == ["SELECT"] * READS + ["INSERT"] * WRITES, statements.sql
    assert (statements.begins, statements.commits) == (1, 1)
    # The link is really there, with what was asked for.
    link = client.get(f"/api/v1/links/{response.json['id']}", headers=headers).json
    assert link["kind"] == body.get("kind", "short")
    if "landing_url" in body:
        assert link["landing_url"] == body["landing_url"]
    if "landing_page_id" in body:
        assert link["landing_url"] == "https://brand.test/sale"


def test_a_refused_link_writes_nothing(client, make, world, auth, statements) -> None:
    """A rule that fails is found by the one read: no INSERT, and the transaction is rolled back."""
    with db.transaction(make.engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, status="paused")
    statements.sql.clear()
    statements.begins = statements.commits = 0

    response = client.post("/api/v1/links", headers=auth(world.partner), json={"task_id": world.task.id})

    assert response.status_code == 422 and response.json["error"]["code"] == "campaign_not_active"
    assert statements.verbs == ["SELECT"] * READS, statements.sql
    assert statements.commits == 0
