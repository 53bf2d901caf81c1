"""A local Tasklink cluster: one Redis and N app nodes (the production server, api/gunicorn_conf.py) on one PostgreSQL.

Used by ``tests/test_scale_out.py`` and ``bench/scale.py``. Everything binds
to 127.0.0.1 on free ports; every process is started in its own process
group and is stopped (SIGKILL for the group) when the cluster exits, even
when the caller crashes: the children also get ``PR_SET_PDEATHSIG`` so they
die with the process that started them.

    with Cluster(database_url, nodes=2) as cluster:
        cluster.flask("seed-demo", "--force")
        a, b = cluster.nodes
        urllib.request.urlopen(a.url + "/api/v1/openapi.json")
        cluster.kill(0)       # SIGKILL node 0 (master and workers), like a crashed machine
        cluster.restart(0)    # same port, same settings

Start and stop the cluster from the main thread: the parent-death signal is
tied to the thread that forked, so a node started from a worker thread would
die with that thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from api import gunicorn_conf  # noqa: E402
from bench.serving import free_port  # noqa: E402

READY_PATH = "/api/v1/openapi.json"
DEFAULT_SECRET_KEYS = ("cluster-key-newest-not-for-production", "cluster-key-older-not-for-production")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """In the child before exec: own process group, and SIGKILL when the parent goes away."""
    os.setpgid(0, 0)
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _spawn(argv: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    preexec = _die_with_parent if threading.current_thread() is threading.main_thread() else None
    with log.open("ab") as out:
        return subprocess.Popen(
            list(argv),
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=preexec,
            start_new_session=preexec is None,
        )


def _kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal a process and everything in its group (the server's main process and workers)."""
    if process.poll() is None or sig == signal.SIGKILL:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


@dataclass
class Node:
    """One app node: the server's main process with its workers on ``port``."""

    index: int
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def click_log(self) -> Path:
        """The node's own click-log directory, as on a host of its own (next to its log)."""
        return self.log.with_name(f"{self.log.stem}-click-log")

    @property
    def url(self) -> str:
        """The node's base URL (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        """True while the server's main process runs."""
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    """Redis plus ``nodes`` nodes serving ``api:create_app()`` sharing one database.

    Each node is the production server (:mod:`api.gunicorn_conf`) with
    ``workers`` worker processes; ``env`` adds or overrides ``TASKLINK_*``
    variables (for example a small ``TASKLINK_RATELIMIT_LOGIN``).
    """

    database_url: str
    nodes_count: int = 2
    workers: int = 2
    secret_keys: Sequence[str] = DEFAULT_SECRET_KEYS
    env: dict[str, str] = field(default_factory=dict)
    redis: bool = True
    startup_timeout: float = 30.0
    workdir: Path | None = None
    nodes: list[Node] = field(default_factory=list, init=False)
    redis_port: int | None = field(default=None, init=False)
    _redis: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False)

    # --- lifecycle -------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Redis, then ``init-db`` once, then every node; returns when all answer."""
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tasklink-cluster-")
            self.workdir = Path(self._tmp.name)
        if self.redis:
            self._start_redis()
        self.flask("init-db")
        self.nodes = [Node(i, free_port(), self.workdir / f"node{i}.log") for i in range(self.nodes_count)]
        for node in self.nodes:
            self._start_node(node)
        for node in self.nodes:
            self.wait_ready(node)

    def stop(self) -> None:
        """Stop every node and Redis (SIGKILL to each process group); remove the work folder."""
        for node in self.nodes:
            if node.process is not None:
                _kill_group(node.process)
        if self._redis is not None:
            _kill_group(self._redis)
            self._redis = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- processes -------------------------------------------------------------

    @property
    def app_env(self) -> dict[str, str]:
        """The environment every node (and every ``flask`` command) runs with."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("TASKLINK_")}
        env.update(
            TASKLINK_DATABASE_URL=self.database_url,
            TASKLINK_SECRET_KEYS=",".join(self.secret_keys),
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        )
        if self.redis_port is not None:
            env["TASKLINK_RATELIMIT_STORAGE"] = f"redis://127.0.0.1:{self.redis_port}/0"
        env.update(self.env)
        return env

    def flask(self, *args: str) -> str:
        """Run ``flask --app api ARGS`` with the cluster's settings; return its output."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "api", *args],
            env=self.app_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _start_redis(self, port: int | None = None) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
        assert self.workdir is not None
        self.redis_port = port or free_port()
        # No persistence: rate-limit counters are disposable by design.
        self._redis = _spawn(
            [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--protected-mode",
                "yes",
                "--loglevel",
                "warning",
            ],
            dict(os.environ),
            self.workdir / "redis.log",
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(64).startswith(b"+PONG"):
                    return
            if self._redis.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start:\n{self._log(self.workdir / 'redis.log')}")

    def stop_redis(self) -> None:
        """SIGKILL Redis (to see how the nodes cope without it); :meth:`start_redis` brings it back."""
        if self._redis is not None:
            _kill_group(self._redis)
            self._redis = None

    def start_redis(self) -> None:
        """Start Redis again on the same port (empty: the counters were in memory)."""
        if self._redis is None and self.redis_port is not None:
            self._start_redis(self.redis_port)

    def server_argv(self, node: Node) -> list[str]:
        """The command line of a node: the production server (:mod:`api.gunicorn_conf`) on the node's port."""
        return gunicorn_conf.command(f"127.0.0.1:{node.port}", workers_override=self.workers)

    def _start_node(self, node: Node) -> None:
        env = {"TASKLINK_CLICK_LOG_DIR": str(node.click_log), **self.app_env}  # env= may name another
        node.process = _spawn(self.server_argv(node), env, node.log)

    def wait_ready(self, node: Node) -> None:
        """Wait until the node answers ``GET /api/v1/openapi.json`` with 200."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not node.alive:
                break
            try:
                with urllib.request.urlopen(node.url + READY_PATH, timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.05)
        raise RuntimeError(f"node {node.index} did not become ready:\n{self._log(node.log)}")

    def kill(self, index: int) -> None:
        """SIGKILL node ``index``: its master and all its workers at once, as if the machine died."""
        node = self.nodes[index]
        if node.process is not None:
            _kill_group(node.process, signal.SIGKILL)

    def restart(self, index: int) -> None:
        """Start node ``index`` again on the same port (after :meth:`kill`) and wait until it answers."""
        node = self.nodes[index]
        if node.alive:
            self.kill(index)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _port_busy(node.port):
            time.sleep(0.05)
        self._start_node(node)
        self.wait_ready(node)

    @staticmethod
    def _log(path: Path) -> str:
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def _port_busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- PostgreSQL databases for a run -----------------------------------------------


def with_database(url: str, name: str) -> str:
    """``url`` with its database name replaced by ``name`` (query, host and user kept)."""
    from sqlalchemy.engine import make_url

    from api.db import normalize_database_url

    return make_url(normalize_database_url(url)).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database(server_url: str, name: str, keep: bool = False) -> Iterator[str]:
    """A new, empty PostgreSQL database ``name`` on the server of ``server_url``; dropped afterwards."""
    from sqlalchemy import create_engine, text

    admin = create_engine(with_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    quoted = '"' + name.replace('"', '""') + '"'
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {quoted}"))
        yield with_database(server_url, name)
    finally:
        if not keep:
            with contextlib.suppress(Exception), admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


def is_postgresql(url: str | None) -> bool:
    """True for a PostgreSQL URL (any driver spelling)."""
    return bool(url) and url.split(":", 1)[0].split("+", 1)[0] in {"postgres", "postgresql"}  # type: ignore[union-attr]
