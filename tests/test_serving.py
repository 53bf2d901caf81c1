"""The production server (``api/gunicorn_conf.py``, see README "Deployment") is safe from slow clients.

50 connections that send their request headers (slowloris) or their body
one byte at a time and never finish must not hold up other visitors'
redirects: with gunicorn's sync workers two slow-header clients stopped
every redirect. The bound here is generous (a busy CI machine);
``bench/slow_clients.py`` measures the real figures against the other
candidate servers.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from test_tracking_durability import free_port, make_link, start_server

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.slow_clients import SlowClients, paced_redirects  # noqa: E402

SLOW_CLIENTS = 50


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["header", "body"])
def test_slow_clients_do_not_stall_other_visitors_redirects(engine, world, database_url, tmp_path, kind) -> None:
    link = make_link(engine, world)
    port = free_port()
    log = tmp_path / "server.log"
    server = start_server(database_url, port, log)
    try:
        # A slow client the server cuts off connects again at once: 50 keep trying throughout.
        with SlowClients(port, SLOW_CLIENTS, interval=1.0, kind=kind) as slow:
            time.sleep(2.5)  # each has sent a few bytes: whatever they can hold, they hold now
            visits = paced_redirects(port, [f"/s/{link.code}"], seconds=5, rate=20, clients=4, timeout=5)
        assert slow.opened >= SLOW_CLIENTS
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    answered = len(visits.seconds)
    assert visits.failures == 0, f"{visits.failures} of {answered + visits.failures} redirects failed: {visits.errors}"
    assert answered >= 50
    assert visits.quantile(0.99) < 1000, f"p99 {visits.quantile(0.99):.0f} ms; log: {log.read_text()[-1000:]}"
