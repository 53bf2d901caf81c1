"""What the benchmarks share: a free port, an app under gunicorn, and wrk's figures.

``bench/links.py`` and ``bench/redirect.py`` each serve the real app and a
bare Flask baseline with the same settings through :func:`start_gunicorn`,
so the two sides of a ratio differ only in the app.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(spec: str, port: int, env: dict[str, str], log: Path, workers: int = 2) -> subprocess.Popen:  # type: ignore[type-arg]
    """gunicorn (sync workers) serving ``spec`` in its own process group; returns once it answers HTTP."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "sync", "--log-level", "warning", "--chdir", str(ROOT), spec],
        env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/s/not-a-code", timeout=1)
            return process
        except urllib.error.HTTPError:  # any HTTP answer (a 404 here) means it serves
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start: {log.read_text()[-2000:]}")


def stop_gunicorn(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Graceful stop (workers finish and store their last clicks); kill after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk_figures(report: str) -> tuple[float, int, int]:
    """From wrk's report: requests per second, requests completed, answers that were not 2xx or 3xx."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    return rate, total, int(errors.group(1)) if errors else 0
