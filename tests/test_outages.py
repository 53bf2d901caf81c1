"""When the database fails: known links keep redirecting from memory, nothing answered is lost, logs stay short.

The fault suite (tests/test_faults.py) stops a real PostgreSQL under load;
these tests break the database connection of one app in-process, on both
backends, so each rule can be checked alone.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from api import clicklog, clickstore, create_app, db, outages
from api.schema import change_counter, clicks
from api.services import campaigns, landing_pages, links, memberships

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"


def version(engine) -> int:  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return int(conn.execute(select(change_counter.c.version)).scalar() or 0)


@pytest.mark.parametrize("change", ["link", "campaign", "membership", "page", "domains", "link deleted"])
def test_every_change_the_redirect_reads_moves_the_change_counter(engine, world, change) -> None:
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
    before = version(engine)
    with db.transaction(engine) as conn:
        if change == "link":
            links.set_disabled(conn, world.partner.id, link.id, True)
        elif change == "campaign":
            campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, pay_for_performance=False)
        elif change == "membership":
            memberships.set_status_for(conn, world.partner.id, world.campaign.id, "ended")
        elif change == "page":
            landing_pages.add_landing_page(conn, world.advertiser.id, world.campaign.id, "New", "https://brand.test/n")
        elif change == "domains":
            landing_pages.set_allowed_domains(conn, world.advertiser.id, world.campaign.id, ["brand.test"])
        else:
            conn.execute(text("DELETE FROM links WHERE id = :id"), {"id": link.id})
    assert version(engine) > before


def test_a_new_link_does_not_move_the_counter(engine, world) -> None:
    """Link creation is the busy write; a link nobody has clicked is in no cache."""
    before = version(engine)
    with db.transaction(engine) as conn:
        links.create_link(conn, world.partner.id, world.task.id)
    assert version(engine) == before


class Outage:
    """Makes every new database statement of the redirect's connections fail, until ended."""

    def __init__(self, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        self.store = app.extensions[clickstore.EXTENSION_KEY]
        self.monkeypatch = monkeypatch
        self.calls = 0

    def start(self) -> None:
        error = self.store.errors[0]

        @contextlib.contextmanager
        def refuse(*_args, **_kwargs):  # type: ignore[no-untyped-def]
            self.calls += 1
            raise error("connection refused (test outage)")
            yield  # pragma: no cover - a generator that fails before yielding

        self.monkeypatch.setattr(self.store, "_connection", refuse)

    def end(self) -> None:
        self.monkeypatch.undo()


@pytest.fixture
def outage_app(app_config, engine):  # type: ignore[no-untyped-def]
    app = create_app({**app_config, "REDIRECT_CACHE_SECONDS": 1.0})
    app.test_client_class = FlaskClient  # the test flushes when it wants
    yield app
    db.get_engine(app).dispose()


def test_known_links_keep_redirecting_and_unknown_ones_get_a_503_while_the_database_is_down(
    outage_app, engine, world, monkeypatch, caplog
) -> None:
    outages.reset()
    with db.transaction(engine) as conn:
        known = links.create_link(conn, world.partner.id, world.task.id, landing_url="https://deals.brand.test/k")
        unknown = links.create_link(conn, world.partner.id, world.task.id)
    client = outage_app.test_client()
    assert client.get(f"/s/{known.code}", headers={"User-Agent": BROWSER}).status_code == 302
    outage = Outage(outage_app, monkeypatch)
    outage.start()
    answers = [
        client.get(f"/s/{known.code}", headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})
        for n in range(50)
    ]
    assert {a.status_code for a in answers} == {302}
    assert all(a.headers["Location"].startswith("https://deals.brand.test/k?clickid=") for a in answers)
    refused = client.get(f"/s/{unknown.code}", headers={"User-Agent": BROWSER})
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert b"try again" in refused.data and b"Traceback" not in refused.data
    assert outage.calls <= 2  # asked once, then the worker stops waiting on it
    lines = [r for r in caplog.records if r.name == "tasklink.outages"]
    assert len(lines) == 1 and "Traceback" not in caplog.text
    outage.end()
    clicklog.of(outage_app).flush()  # the database is back: every answered click is stored
    with db.reading(engine) as conn:
        assert conn.execute(select(clicks.c.id)).all().__len__() == 51


def test_past_the_stale_bound_a_known_link_is_a_503_too(outage_app, engine, world, monkeypatch) -> None:
    from api.http.tracking import CACHE_KEY

    now = [1000.0]
    cache = outage_app.extensions[CACHE_KEY]
    cache.clock = lambda: now[0]
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
    client = outage_app.test_client()
    assert client.get(f"/s/{link.code}", headers={"User-Agent": BROWSER}).status_code == 302
    Outage(outage_app, monkeypatch).start()
    now[0] += 3599
    assert client.get(f"/s/{link.code}", headers={"User-Agent": BROWSER}).status_code == 302
    now[0] += 2
    assert client.get(f"/s/{link.code}", headers={"User-Agent": BROWSER}).status_code == 503


def test_outage_reports_are_one_line_a_minute_per_kind() -> None:
    outages.reset()
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    error = sqlite3.OperationalError("unable to open database file\nmore detail")
    assert outages.report("db", "down", error, clock=clock)
    assert not outages.report("db", "down", error, clock=clock)
    assert outages.report("disk", "full", error, clock=clock)  # another kind has its own minute
    now[0] = 61
    assert outages.report("db", "down", error, clock=clock)
    assert outages.describe(error) == "OperationalError: unable to open database file"


def test_the_outage_log_says_how_many_were_left_out(caplog) -> None:
    outages.reset()
    now = [0.0]
    caplog.set_level(logging.ERROR, "tasklink.outages")
    for _ in range(5):
        outages.report("db", "down", None, clock=lambda: now[0])
    now[0] = 60
    outages.report("db", "down", None, clock=lambda: now[0])
    assert [r.getMessage() for r in caplog.records] == ["down", "down; 4 more since the last report"]
