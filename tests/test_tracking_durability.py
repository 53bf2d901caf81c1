"""Nothing lost: every answered redirect has its click row, under concurrency and after SIGKILL."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from api import db, gunicorn_conf
from api.schema import clicks
from api.services import links
from conftest import SECRET_KEYS

ROOT = Path(__file__).resolve().parent.parent
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"


def make_link(engine, world):  # type: ignore[no-untyped-def]
    with db.transaction(engine) as conn:
        return links.create_link(conn, world.partner.id, world.task.id)


def click_count(engine) -> int:  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(clicks)).scalar_one())


def stored_click_ids(engine) -> set[str]:  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return {row[0] for row in conn.execute(select(clicks.c.click_id))}


def click_id_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["clickid"][0]


@pytest.mark.slow
def test_n_concurrent_clicks_make_exactly_n_rows(app, engine, world) -> None:
    link = make_link(engine, world)
    threads_count, per_thread = 16, 10
    barrier = threading.Barrier(threads_count)
    received: list[str] = []
    lock = threading.Lock()

    def visitor(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        for _ in range(per_thread):
            answer = client.get(
                f"/s/{link.code}", headers={"User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}
            )
            assert answer.status_code == 302
            with lock:
                received.append(click_id_of(answer.headers["Location"]))

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = threads_count * per_thread
    assert len(received) == total and len(set(received)) == total
    assert click_count(engine) == total
    assert stored_click_ids(engine) == set(received)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, port: int, log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    """The production server (``api/gunicorn_conf.py``, 2 workers) in its own process group (one SIGKILL takes all of it).

    Its click log lives next to ``log``, so a restart on the same ``log`` finds it again.
    """
    env = {
        **os.environ,
        "TASKLINK_DATABASE_URL": database_url,
        "TASKLINK_SECRET_KEYS": ",".join(SECRET_KEYS),
        "TASKLINK_CLICK_LOG_DIR": str(log.parent / "click-log"),
    }
    process = subprocess.Popen(
        gunicorn_conf.command(f"127.0.0.1:{port}", workers_override=2),
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/s/warmup-none")
            answer = connection.getresponse()
            answer.read()
            connection.close()
            if answer.status == 404:
                return process
        except OSError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")


@pytest.mark.slow
def test_sigkill_mid_stream_loses_no_answered_click(engine, world, database_url, tmp_path) -> None:
    link = make_link(engine, world)
    port = free_port()
    log = tmp_path / "server.log"
    server = start_server(database_url, port, log)
    received: list[str] = []
    stop = threading.Event()

    def stream(n: int) -> None:
        while not stop.is_set():
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", f"/s/{link.code}", headers={"User-Agent": f"{BROWSER} v{n}"})
                answer = connection.getresponse()
                answer.read()
                connection.close()
                if answer.status == 302:
                    # Counted only once the whole answer arrived: the redirect the visitor follows.
                    received.append(click_id_of(answer.getheader("Location") or ""))
            except (OSError, http.client.HTTPException):
                return  # the server is gone: the stream ends

    streams = [threading.Thread(target=stream, args=(n,)) for n in range(4)]
    try:
        for thread in streams:
            thread.start()
        deadline = time.time() + 20
        while len(received) < 200 and time.time() < deadline:
            time.sleep(0.01)
        os.killpg(server.pid, signal.SIGKILL)  # master and workers, mid-stream
        server.wait(timeout=10)
    finally:
        stop.set()
        for thread in streams:
            thread.join(timeout=10)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    answered = set(received)
    assert len(answered) >= 200, f"only {len(answered)} clicks before the kill; log: {log.read_text()[-1000:]}"

    restarted = start_server(database_url, port, log)
    try:
        # The restarted node stores what the killed one logged, before any new click.
        deadline = time.time() + 30
        missing = answered - stored_click_ids(engine)
        while missing and time.time() < deadline:
            time.sleep(0.2)
            missing = answered - stored_click_ids(engine)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", f"/s/{link.code}", headers={"User-Agent": BROWSER})
        answer = connection.getresponse()
        answer.read()
        connection.close()
        assert answer.status == 302
    finally:
        os.killpg(restarted.pid, signal.SIGKILL)
        restarted.wait(timeout=10)
    assert not missing, f"{len(missing)} of {len(answered)} answered clicks have no row"
