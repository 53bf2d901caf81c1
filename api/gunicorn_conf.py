"""How Tasklink is served, in production and in the demo: gunicorn with gevent workers, settings in this one place.

    gunicorn -c python:api.gunicorn_conf --bind 127.0.0.1:8000 "api:create_app()"

``README.md`` (Deployment), ``scripts/demo.sh``, ``bench/slow_clients.py``,
``bench/cluster.py`` and the tests that start a server all run this command
(:func:`command` spells it), so they run what production runs. A setting
given on the command line wins over this file (``--workers 2`` in the tests).

Why gevent workers (measured with ``bench/slow_clients.py``; figures and the
other candidates in the README): each client connection is a greenlet, so a
client that sends its headers or its body slowly holds a greenlet and a
socket, not a worker process (gunicorn's sync workers: two such clients
stopped every redirect) nor a thread (gunicorn's gthread workers give one
from the first byte of the headers; granian's Rust side reads the headers
but a thread reads the body). What the app does for it:
:mod:`api.clickstore` pools its connections instead of keeping one per
thread (``threading.local`` is per greenlet once patched); psycopg 3 sees
the patched ``select`` and waits cooperatively; ``import api`` does not
load Flask, so gunicorn's master (which imports this module) loads nothing
gevent must patch first; the click log waits for its flush lock without a
blocking ``flock`` (which would stop the whole worker, the greenlet holding
the lock included); sqlite3 calls block the worker for their (short)
duration, as they did a sync worker; the click log's flusher thread runs as
a greenlet, and a worker that stops cleanly still stores its last clicks at
exit (``tests/test_click_log.py``).
"""

from __future__ import annotations

import os
import sys

#: Each client connection is a greenlet of its worker (gunicorn patches the
#: standard library with gevent in each worker, before the app is imported).
worker_class = "gevent"
#: Two worker processes per core: a worker is one Python thread, so one per
#: core keeps the cores busy, and a second covers what blocks a whole worker
#: for a moment (a sqlite3 call waiting for the write lock, password hashing at sign-in).
workers = 2 * (os.cpu_count() or 1)
#: Connections one worker holds at once (gunicorn's default): past that it
#: stops accepting until some close. Slow-header clients are cut off (below) long before.
worker_connections = 1000
#: Seconds a client gets to send a request's headers, on a new connection or a
#: kept-alive one; then it is closed. A browser sends them at once; a client
#: that trickles them (slowloris) holds its greenlet this long at most.
keepalive = 5
#: A worker silent this long (a real hang) is killed and replaced; no request comes near it.
timeout = 30
#: On a stop or restart, workers finish their requests and store their last
#: clicks (api/clicklog.py) within this time.
graceful_timeout = 30
#: Workers are recycled now and then, a guard against slow leaks. Not much
#: more often: a new worker costs about a second of CPU to load the app, and at
#: this machine's 2,000–3,000 redirects/s per worker 20,000 requests (the value
#: before) came every few seconds, which cost the benchmark's rounds up to half their rate.
max_requests = 200_000
max_requests_jitter = 20_000
#: No control socket (gunicorn 27's ``gunicornc``; nothing here uses it): every
#: master on a host would bind the same default path ($HOME/.gunicorn/gunicorn.ctl),
#: and the tests and benchmarks run several servers at once.
control_socket_disable = True

#: The app gunicorn serves.
APP = "api:create_app()"


def command(bind: str = "127.0.0.1:8000", app: str = APP, workers_override: int | None = None) -> list[str]:
    """The gunicorn command line serving ``app`` on ``bind`` with these settings (``workers_override``: fewer workers)."""
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:api.gunicorn_conf", "--bind", bind]
    if workers_override is not None:
        argv += ["--workers", str(workers_override)]
    return [*argv, app]
