"""What the benchmarks share: a free port, an app under a WSGI server, and wrk's figures.

``bench/links.py``, ``bench/redirect.py`` and ``bench/slow_clients.py`` each
serve the real app and a bare Flask baseline with the same settings through
:func:`start_server`, so the two sides of a ratio differ only in the app.

The servers it knows (:data:`SERVERS`) are the candidates
``bench/slow_clients.py`` compares: gunicorn with its ``sync`` and
``gthread`` workers (gunicorn's defaults), gunicorn with ``gevent`` workers
as production runs it (:mod:`api.gunicorn_conf`), ``waitress`` and
``granian``. Each runs the same number of processes, and the threaded ones
:data:`THREADS` request threads per process (waitress, a single process,
gets as many threads as the others have in all). An app is named the
gunicorn way, ``module:name`` for a WSGI callable or ``module:factory()``
for a factory; :func:`server_argv` spells it for each server.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from api import gunicorn_conf

ROOT = Path(__file__).resolve().parent.parent

#: The servers :func:`start_server` can start; ``gevent`` is the production server (:mod:`api.gunicorn_conf`).
SERVERS = ("sync", "gthread", "gevent", "waitress", "granian")
#: Request threads per process for the threaded servers (gthread, waitress, granian).
THREADS = 4


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _split_spec(spec: str) -> tuple[str, bool]:
    """``module:factory()`` → (``module:factory``, True); ``module:app`` → (``module:app``, False)."""
    if spec.endswith("()"):
        return spec[:-2], True
    return spec, False


def server_argv(server: str, spec: str, port: int, workers: int = 2, threads: int = THREADS) -> list[str]:
    """The command line that serves ``spec`` on 127.0.0.1:``port`` with ``server``.

    ``workers`` is the number of processes (waitress has only one: it gets
    ``workers * threads`` threads, the same number of request threads as the others).
    """
    target, factory = _split_spec(spec)
    if server == "gevent":  # exactly the production settings (api/gunicorn_conf.py), fewer workers if asked
        return gunicorn_conf.command(f"127.0.0.1:{port}", spec, workers_override=workers)
    if server in ("sync", "gthread"):  # gunicorn's defaults otherwise, as before
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            server,
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT),
        ]
        if server == "gthread":
            argv += ["--threads", str(threads)]
        return [*argv, spec]
    if server == "waitress":
        argv = [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", str(workers * threads)]
        return argv + (["--call"] if factory else []) + [target]
    if server == "granian":  # Rust (hyper) reads the headers; the app runs in a pool of blocking threads
        argv = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--log-level",
            "warning",
        ]
        return argv + (["--factory"] if factory else []) + [target]
    raise ValueError(f"unknown server {server!r}; one of {', '.join(SERVERS)}")


def wait_until_serving(port: int, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:  # type: ignore[type-arg]
    """Return once ``port`` answers HTTP (any status); raise with the log's tail if it never does."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/s/not-a-code", timeout=1)
            return
        except urllib.error.HTTPError:  # any HTTP answer (a 404 here) means it serves
            return
        except OSError:
            time.sleep(0.1)
    stop_server(process, grace=0)
    raise SystemExit(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")


def start_server(
    server: str, spec: str, port: int, env: dict[str, str], log: Path, workers: int = 2, threads: int = THREADS
) -> subprocess.Popen:  # type: ignore[type-arg]
    """``server`` serving ``spec`` in its own process group; returns once it answers HTTP."""
    process = subprocess.Popen(
        server_argv(server, spec, port, workers, threads),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until_serving(port, process, log)
    return process


def stop_server(process: subprocess.Popen, grace: float = 30.0) -> None:  # type: ignore[type-arg]
    """Graceful stop (SIGTERM: workers finish and store their last clicks); the whole group is killed after ``grace`` s."""
    if grace > 0:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # leftovers of the group (or everything, after the grace)
    process.wait()


def start_gunicorn(spec: str, port: int, env: dict[str, str], log: Path, workers: int = 2) -> subprocess.Popen:  # type: ignore[type-arg]
    """gunicorn (sync workers) serving ``spec``: :func:`start_server` with ``"sync"``."""
    return start_server("sync", spec, port, env, log, workers=workers)


def stop_gunicorn(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Graceful stop (workers finish and store their last clicks); kill after 30 s."""
    stop_server(process)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in a process group (gunicorn and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 (pgrp), counted after the command name
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wrk_figures(report: str) -> tuple[float, int, int]:
    """From wrk's report: requests per second, requests completed, answers that were not 2xx or 3xx."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    return rate, total, int(errors.group(1)) if errors else 0
