"""The click log (api/clicklog.py): appended before the redirect answers, stored exactly once, whatever happens.

These tests use a plain client (no flush after each redirect, unlike the
suite's ``client``), so they see what a running node does on its own.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from api import clicklog, db
from api.clickstore import ClickStore
from api.schema import click_log_segments, clicks
from api.services import campaigns, links
from test_tracking_durability import free_port, start_server

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"


@pytest.fixture
def plain(app):  # type: ignore[no-untyped-def]
    """A test client that leaves storing the clicks to the app."""
    app.test_client_class = FlaskClient
    return app.test_client()


@pytest.fixture
def link(engine, world):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return links.create_link(conn, world.partner.id, world.task.id)


def stored(engine) -> list:  # type: ignore[type-arg]
    with db.reading(engine) as conn:
        return conn.execute(select(clicks).order_by(clicks.c.id)).all()


def visit(client, link, agent=BROWSER, address="203.0.113.9") -> str:  # type: ignore[no-untyped-def]
    answer = client.get(f"/s/{link.code}", headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return parse_qs(urlsplit(answer.headers["Location"]).query)["clickid"][0]


def log_lines(app) -> list[list]:  # type: ignore[no-untyped-def, type-arg]
    lines = []
    for path in clicklog.of(app).segments():
        lines.extend(json.loads(line) for line in path.read_bytes().splitlines())
    return lines


def test_the_click_is_in_the_log_when_the_visitor_is_redirected_and_stored_moments_later(app, plain, engine, link):
    click_id = visit(plain, link)
    assert [line["click_id"] for line in log_lines(app)] == [click_id]
    deadline = time.time() + 10
    while not stored(engine) and time.time() < deadline:
        time.sleep(0.05)
    [row] = stored(engine)
    assert row.click_id == click_id and row.link_id == link.id and row.billable is True


def test_a_flush_stores_each_logged_click_exactly_once(app, plain, engine, link):
    click_log = clicklog.of(app)
    click_log.close()  # no background flusher: this test flushes by hand
    ids = [visit(plain, link, address=f"198.51.100.{n}") for n in range(25)]
    assert click_log.flush() == 25
    assert click_log.flush() == 0
    assert [row.click_id for row in stored(engine)] == ids
    # The segment this process still writes to stays, with its offset stored.
    [segment] = click_log.segments()
    with db.reading(engine) as conn:
        offsets = dict(conn.execute(select(click_log_segments)).all())
    assert offsets == {segment.name: segment.stat().st_size}
    assert click_log.pending_bytes() == 0


def test_uniqueness_follows_the_time_of_the_clicks_across_segments(app, engine, link, tmp_path):
    """Two processes logged the same visitor; the earlier click is the unique one, whoever logged it."""
    click_log = clicklog.of(app)
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign(conn, link.campaign_id)
    from api.services import clicks as click_service

    visit_data = click_service.visit_from_request(b"k" * 32, {"User-Agent": BROWSER}, "192.0.2.4", {}, (None,) * 4)

    def record(at: str, click_id: str) -> dict:  # type: ignore[type-arg]
        import datetime as dt

        return (
            click_service.click_record(
                link_id=link.id,
                campaign_id=link.campaign_id,
                partner_id=link.partner_id,
                task_id=link.task_id,
                visit=visit_data,
                payout_model=campaign.payout_model,
                payout_value=campaign.payout_value,
                now=dt.datetime.fromisoformat(at),
                click_id=click_id,
            )
            .to_json()
            .decode()
        )

    # An older writer's segment (name sorts first) holds the *later* click.
    click_log.directory.mkdir(parents=True, exist_ok=True)
    (click_log.directory / f"{click_log.tag}-h-1-1{clicklog.SUFFIX}").write_text(
        record("2026-11-01T10:00:05+00:00", "later") + "\n"
    )
    (click_log.directory / f"{click_log.tag}-h-2-2{clicklog.SUFFIX}").write_text(
        record("2026-11-01T10:00:01+00:00", "earlier") + "\n"
    )
    assert click_log.flush() == 2
    flags = {row.click_id: row.billable for row in stored(engine)}
    assert flags == {"earlier": True, "later": False}
    assert click_log.segments() == []  # nobody writes to them: stored, then deleted


def test_an_unfinished_last_line_waits_while_its_writer_lives_and_is_dropped_after(app, plain, engine, link):
    import fcntl

    click_log = clicklog.of(app)
    click_log.close()
    first = visit(plain, link)
    [_segment] = click_log.segments()
    # A writer that is killed half-way through a line (its visitor never got an answer).
    other = click_log.directory / f"{click_log.tag}-h-9-{time.time_ns()}{clicklog.SUFFIX}"
    fd = os.open(other, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    fcntl.flock(fd, fcntl.LOCK_SH)
    os.write(fd, b'["half-written",')
    assert click_log.flush() == 1 and [row.click_id for row in stored(engine)] == [first]
    assert other.exists()  # still held: the rest of the line may come
    os.close(fd)  # the writer dies
    assert click_log.flush() == 0
    assert not other.exists()
    assert len(stored(engine)) == 1  # nothing made of the broken line


@pytest.mark.parametrize(
    "bad",
    [
        b"this is not a click",
        b'{"v": 2, "click_id": "x"}',  # a record missing its fields
        b'["too", "short"]',  # neither version's shape
        b'{"v": 1, "click_id": "x"}',  # a version that never had objects
    ],
)
def test_an_unreadable_line_is_set_aside_in_quarantine_and_the_rest_stored(app, plain, engine, link, caplog, bad):
    click_log = clicklog.of(app)
    click_log.close()
    first = visit(plain, link)
    [segment] = click_log.segments()
    with segment.open("ab") as handle:
        handle.write(bad + b"\n")
    second = visit(plain, link, address="203.0.113.10")
    assert click_log.flush() == 2
    assert [row.click_id for row in stored(engine)] == [first, second]
    assert "set aside in quarantine" in caplog.text
    assert click_log.quarantined_lines() == 1
    [kept] = [json.loads(line) for line in (click_log.directory / clicklog.QUARANTINE).read_text().splitlines()]
    assert kept["line"] == bad.decode() and kept["segment"] == segment.name
    assert oct((click_log.directory / clicklog.QUARANTINE).stat().st_mode & 0o777) == "0o600"


def test_lines_of_every_record_version_are_stored(app, engine, link, world):
    """A deploy must store what older (and newer) workers left in the log, never drop it."""
    click_log = clicklog.of(app)
    click_log.close()
    when = "2026-11-30 10:00:00.000000"
    ids = (link.id, link.campaign_id, link.partner_id, link.task_id)
    v1 = ["v1-click", *ids, when, None, None, None, "s", "Mozilla/5.0", None, "ip", "vis", False, 500]
    v1_bot = ["v1-bot", *ids, when, None, None, None, None, "curl/8", None, "ip", "vis", True, 500]
    newer = {
        "v": 3,
        "click_id": "v3-click",
        "link_id": link.id,
        "campaign_id": link.campaign_id,
        "partner_id": link.partner_id,
        "task_id": link.task_id,
        "created_at": when,
        "sub_id1": None,
        "sub_id2": None,
        "sub_id3": None,
        "shared_id": None,
        "user_agent": "Mozilla/5.0",
        "referrer": None,
        "ip_hash": "ip2",
        "visitor_hash": "vis2",
        "is_bot": False,
        "reason": None,
        "payout_if_billable": 0,
        "daily_cap": 5,
        "a_field_from_the_future": [1, 2],
    }
    click_log.directory.mkdir(parents=True, exist_ok=True)
    (click_log.directory / f"{click_log.tag}-h-1-1{clicklog.SUFFIX}").write_text(
        "\n".join(json.dumps(line) for line in (v1, v1_bot, newer)) + "\n"
    )
    assert click_log.flush() == 3
    rows = {row.click_id: (row.billable, row.reason, row.shared_id) for row in stored(engine)}
    assert rows == {"v1-click": (True, None, "s"), "v1-bot": (False, "bot", None), "v3-click": (True, None, None)}
    assert click_log.quarantined_lines() == 0


def test_a_click_whose_link_is_gone_is_skipped_without_blocking_the_others(app, plain, engine, world, link, make):
    click_log = clicklog.of(app)
    click_log.close()
    doomed_campaign = make.campaign(world.advertiser.id, world.program.id)
    make.membership(world.partner.id, doomed_campaign.id)
    doomed_task = make.task(world.advertiser.id, doomed_campaign.id)
    with db.transaction(engine) as conn:
        doomed = links.create_link(conn, world.partner.id, doomed_task.id)
    lost = visit(plain, doomed)
    kept = visit(plain, link)
    with db.transaction(engine) as conn:  # the advertiser deletes the campaign before the flush
        conn.execute(text("DELETE FROM campaigns WHERE id = :id"), {"id": doomed_campaign.id})
    click_log.flush()
    assert [row.click_id for row in stored(engine)] == [kept]
    assert lost != kept


def test_segments_of_another_database_are_left_alone(app, engine, tmp_path):
    click_log = clicklog.of(app)
    foreign = click_log.directory / f"{clicklog.database_tag('sqlite:///elsewhere.db')}-h-1-1{clicklog.SUFFIX}"
    click_log.directory.mkdir(parents=True, exist_ok=True)
    foreign.write_text('["x",1,1,1,1,"2026-11-01 10:00:00.000000",null,null,null,null,null,null,"i","v",false,0]\n')
    assert click_log.flush() == 0
    assert foreign.exists() and stored(engine) == []


def test_concurrent_flushers_store_every_click_once(app, plain, engine, link, database_url):
    clicklog.of(app).close()
    ids = {visit(plain, link, address=f"198.51.100.{n % 250}", agent=f"{BROWSER} {n}") for n in range(300)}
    flushers = [clicklog.ClickLog(clicklog.of(app).directory, ClickStore(database_url), database_url) for _ in range(4)]
    threads = [threading.Thread(target=flusher.flush) for flusher in flushers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {row.click_id for row in stored(engine)} == ids
    with db.reading(engine) as conn:
        assert conn.execute(select(func.count()).select_from(clicks)).scalar_one() == 300
    for flusher in flushers:
        flusher.store.close()


def test_threads_appending_at_once_write_whole_lines_across_segment_changes(app, monkeypatch):
    """A threaded server appends from several threads (or greenlets) to its process's one segment."""
    from api.services import clicks as click_service

    click_log = clicklog.of(app)
    click_log.close()  # no flusher: the lines stay in the files to be read here
    # A new segment every few dozen lines, so threads keep writing while another releases the old one.
    monkeypatch.setattr(clicklog, "MAX_SEGMENT_BYTES", 4096)
    threads_count, per_thread = 8, 400
    failures: list[BaseException] = []
    barrier = threading.Barrier(threads_count)

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            try:
                click_log.append(
                    click_service.ClickRecord(
                        f"t{n}-{i}",
                        1,
                        1,
                        1,
                        1,
                        "2026-11-01 10:00:00.000000",
                        "x" * (i % 50),
                        None,
                        None,
                        None,
                        None,
                        None,
                        "i",
                        "v",
                        False,
                        None,
                        0,
                        5,
                    )
                )
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    lines = [line for path in click_log.segments() for line in path.read_bytes().split(b"\n")[:-1]]
    ids = [json.loads(line)["click_id"] for line in lines]  # every line whole: each one parses
    assert sorted(ids) == sorted(f"t{n}-{i}" for n in range(threads_count) for i in range(per_thread))
    assert len(click_log.segments()) > 10


FLUSH_LOCK_UNDER_GEVENT = """
from gevent import monkey
monkey.patch_all()
import sys
import gevent
from api import clicklog
from api.clickstore import ClickStore

click_log = clicklog.ClickLog(sys.argv[1], ClickStore(sys.argv[2]), sys.argv[2])
order = []

def flusher(name, hold):
    with click_log._flush_lock(wait=True) as mine:
        assert mine
        order.append(name)
        gevent.sleep(hold)  # a flush waiting for PostgreSQL yields to the worker's other requests

first = gevent.spawn(flusher, "first", 0.3)
gevent.sleep(0.05)
second = gevent.spawn(flusher, "second", 0)
gevent.joinall([first, second], timeout=10, raise_error=True)
print(",".join(order))
"""


def test_a_flush_waiting_for_another_in_the_same_gevent_worker_lets_it_finish(tmp_path, database_url):
    """Two requests of one gevent worker flush at once: the second waits without stopping the first."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", FLUSH_LOCK_UNDER_GEVENT, str(tmp_path / "click-log"), database_url],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "first,second"


def test_a_report_counts_clicks_still_in_the_log(app, plain, engine, world, link):
    clicklog.of(app).close()
    visit(plain, link)
    answer = plain.get("/api/v1/reports/summary", headers={"Authorization": f"Bearer {world.api_key}"})
    assert answer.status_code == 200
    assert answer.json["totals"]["clicks"] == 1


def test_a_conversion_for_a_click_still_in_the_log_is_recorded(app, plain, engine, world, link):
    clicklog.of(app).close()
    click_id = visit(plain, link)
    answer = plain.post(
        "/api/v1/conversions",
        headers={"Authorization": f"Bearer {world.api_key}"},
        json={"click_id": click_id, "order_id": "O-1", "amount": "10.00", "currency": "USD"},
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["click_id"] == click_id


def test_the_flush_clicks_command_stores_what_waits(app, plain, engine, link, runner):
    clicklog.of(app).close()
    visit(plain, link)
    visit(plain, link, address="203.0.113.11")
    result = runner.invoke(args=["flush-clicks"])
    assert result.exit_code == 0 and "Stored 2 logged clicks." in result.output
    assert len(stored(engine)) == 2


def test_a_click_that_cannot_be_logged_is_not_redirected(app, plain, engine, link, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    clicklog.of(app).close()
    broken = clicklog.ClickLog(blocker / "click-log", clicklog.of(app).store, app.config["DATABASE_URL"])
    app.extensions[clicklog.EXTENSION_KEY] = broken
    answer = plain.get(f"/s/{link.code}", headers={"User-Agent": BROWSER})
    assert answer.status_code == 503
    assert "Location" not in answer.headers
    assert "try again" in answer.get_data(as_text=True)


@pytest.mark.slow
def test_a_node_stopped_cleanly_stores_its_last_clicks_itself(engine, link, database_url, tmp_path: Path):
    import http.client

    port = free_port()
    server = start_server(database_url, port, tmp_path / "server.log")
    try:
        for n in range(30):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", f"/s/{link.code}", headers={"User-Agent": f"{BROWSER} {n}"})
            assert connection.getresponse().status == 302
            connection.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server's graceful shutdown
        server.wait(timeout=30)
    assert len(stored(engine)) == 30
    assert list((tmp_path / "click-log").glob("*.clicks")) == []


def test_a_failed_flush_moves_nothing_and_the_next_one_stores_everything(app, plain, engine, link, monkeypatch, caplog):
    from api.services import clicks as click_service

    click_log = clicklog.of(app)
    click_log.close()
    ids = [visit(plain, link, address=f"198.51.100.{n}") for n in range(5)]
    real_store = click_service.store_clicks

    def store_then_fail(raw, records):  # type: ignore[no-untyped-def]
        real_store(raw, records)  # rows written in the transaction, then the database fails
        raise RuntimeError("database went away")

    monkeypatch.setattr(click_service, "store_clicks", store_then_fail)
    click_log.flush_quietly()
    click_log.flush_quietly()
    assert stored(engine) == [] and click_log.pending_bytes() > 0
    assert caplog.text.count("failed; they wait there") == 1  # logged once, not on every retry
    monkeypatch.setattr(click_service, "store_clicks", real_store)
    assert click_log.flush() == 5
    assert [row.click_id for row in stored(engine)] == ids


def test_an_idle_flush_opens_no_transaction(app, plain, engine, link, monkeypatch):
    click_log = clicklog.of(app)
    click_log.close()
    visit(plain, link)
    assert click_log.flush() == 1
    transactions = []
    real_writing = click_log.store.writing

    def counting_writing():  # type: ignore[no-untyped-def]
        transactions.append(1)
        return real_writing()

    monkeypatch.setattr(click_log.store, "writing", counting_writing)
    assert click_log.flush() == 0 and click_log.flush() == 0
    assert transactions == []  # nothing new: no write transaction (an idle node stays off the database)
    visit(plain, link, address="203.0.113.12")
    assert click_log.flush() == 1 and transactions == [1]


def test_the_click_log_folder_and_files_are_owner_only(app, plain, link, usual_umask) -> None:
    log = clicklog.of(app)
    visit(plain, link)
    segments = log.segments()
    assert segments and all(path.stat().st_mode & 0o777 == 0o600 for path in segments)
    assert log.directory.stat().st_mode & 0o777 == 0o700
    log.flush()
    assert (log.directory / "flush.lock").stat().st_mode & 0o777 == 0o600
