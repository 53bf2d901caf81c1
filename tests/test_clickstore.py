"""The redirect's raw connections (api/clickstore.py): a bounded pool per process, whatever runs the requests."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from api.clickstore import MAX_CONNECTIONS, ClickStore

ROOT = Path(__file__).resolve().parent.parent


def test_threads_share_at_most_max_connections(engine, database_url) -> None:
    store = ClickStore(database_url)
    barrier = threading.Barrier(16)

    def reader() -> None:
        barrier.wait()
        for _ in range(50):
            with store.autocommit() as raw:
                assert raw.one("SELECT 1") == (1,)

    threads = [threading.Thread(target=reader) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert 1 <= len(store._open) <= MAX_CONNECTIONS
    finally:
        store.close()


def test_a_failed_unit_of_work_is_rolled_back_and_its_connection_reused(engine, database_url) -> None:
    store = ClickStore(database_url)
    try:
        with pytest.raises(RuntimeError), store.writing() as raw:
            raw.run("INSERT INTO click_log_segments (segment, stored_bytes) VALUES (?, ?)", ("rolled-back", 1))
            raise RuntimeError("the unit of work fails")
        with store.autocommit() as raw:
            assert raw.all("SELECT segment FROM click_log_segments") == []
        assert len(store._open) == 1
    finally:
        store.close()


GREENLETS = """
from gevent import monkey
monkey.patch_all()
import sys
import gevent
from api.clickstore import MAX_CONNECTIONS, ClickStore

store = ClickStore(sys.argv[1])

def visitor():
    with store.autocommit() as raw:
        raw.one("SELECT 1")
        gevent.sleep(0.01)  # a greenlet that waits while it holds its connection (a PostgreSQL round trip)

gevent.joinall([gevent.spawn(visitor) for _ in range(100)])
print(len(store._open))
store.close()
"""


def test_greenlets_share_at_most_max_connections(engine, database_url) -> None:
    """Under gevent workers ``threading.local`` is per greenlet (one per client connection): the pool bounds them."""
    result = subprocess.run(
        [sys.executable, "-c", GREENLETS, database_url], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert 1 <= int(result.stdout.strip()) <= MAX_CONNECTIONS
