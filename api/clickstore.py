"""The redirect's own database connections: one raw DBAPI connection per worker process (and thread).

A redirect runs four small statements and one commit. Through SQLAlchemy
(pool checkout, events, Core compilation, result wrapping) the plumbing cost
several times the statements; here a connection opened once per process is
kept, statements are plain SQL with ``?`` placeholders (:class:`api.rawsql.Raw`),
and the drivers prepare them once (sqlite3's statement cache; psycopg
prepares server side from the first execution).

- SQLite: the same pragmas as :func:`api.db.make_engine` (WAL,
  ``synchronous=NORMAL``: a commit is in the WAL before the answer, so a
  killed process loses nothing; only power loss can drop the newest commits),
  write transactions with ``BEGIN IMMEDIATE``.
- PostgreSQL: psycopg with ``statement_timeout`` and
  ``idle_in_transaction_session_timeout`` so no click transaction stays open
  long (the rollups' watermark relies on that, see :mod:`api.services.reports`).

A connection is per thread and re-opened after ``fork`` (gunicorn's workers
each open their own). :meth:`ClickStore.close` closes them all; it runs when
the app's engine is disposed.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from typing import Any, Iterator

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from .rawsql import Raw

#: How long a click statement may run on PostgreSQL (milliseconds).
PG_STATEMENT_TIMEOUT_MS = 10_000


class ClickStore:
    """Raw connections to the app's database for the hot path, kept per process and thread."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.sqlite = url.get_backend_name() == "sqlite"
        if self.sqlite:
            self._target = url.database or ":memory:"
        else:
            self._target = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Any] = []
        self._write_lock_path = f"{self._target}-writers.lock" if self.sqlite and self._target != ":memory:" else None

    # --- connections -------------------------------------------------------------

    def _connect(self) -> Any:
        if self.sqlite:
            dbapi = sqlite3.connect(self._target, isolation_level=None, check_same_thread=False,
                                    timeout=30, cached_statements=64)
            for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                           "PRAGMA busy_timeout=30000"):
                dbapi.execute(pragma)
        else:
            import psycopg

            # Autocommit: a single statement is its own transaction (one round
            # trip); :meth:`writing` opens an explicit one when several belong together.
            dbapi = psycopg.connect(
                self._target,
                autocommit=True,
                prepare_threshold=0,
                options=f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS} "
                f"-c idle_in_transaction_session_timeout={PG_STATEMENT_TIMEOUT_MS}",
            )
        with self._lock:
            self._open.append(dbapi)
        return dbapi

    def _write_lock_fd(self) -> int | None:
        local = self._local
        fd = getattr(local, "lock_fd", None)
        if fd is None and self._write_lock_path is not None:
            fd = local.lock_fd = os.open(self._write_lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            with self._lock:
                self._open.append(fd)
        return fd

    def raw(self) -> Raw:
        """This thread's connection (opened on first use, and again in a forked child)."""
        local = self._local
        raw = getattr(local, "raw", None)
        if raw is None or local.pid != os.getpid():
            raw = local.raw = Raw(self._connect(), self.sqlite)
            local.pid = os.getpid()
        return raw  # type: ignore[no-any-return]

    def _discard(self) -> None:
        raw = getattr(self._local, "raw", None)
        self._local.raw = None
        if raw is not None:
            with contextlib.suppress(Exception):
                raw.dbapi.close()

    # --- units of work -------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[Raw]:
        """A write transaction, committed on success (before the caller answers), rolled back otherwise."""
        raw = self.raw()
        dbapi = raw.dbapi
        try:
            dbapi.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            yield raw
            dbapi.execute("COMMIT")
        except BaseException:
            self._rollback(raw)
            raise

    @contextlib.contextmanager
    def queued_write(self) -> Iterator[Raw]:
        """One autocommit write statement, writers of this database queued by an OS lock first.

        SQLite lets one writer at a time in and makes the others *sleep*
        (1, 2, 5, 10 ms… between retries) while its lock is taken; for a
        50-microsecond insert that sleeping, not the insert, would limit the
        throughput of several worker processes. ``flock`` on a lock file
        queues them instead and wakes the next one the moment the lock is
        released (the kernel drops it if a process dies holding it).
        PostgreSQL needs no such thing.
        """
        fd = self._write_lock_fd()
        if fd is None:
            with self.autocommit() as raw:
                yield raw
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with self.autocommit() as raw:
                yield raw
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[Raw]:
        """Statements that each are their own transaction, committed when ``execute`` returns.

        For one-statement units of work such as recording a click: on SQLite an
        ``INSERT`` takes the write lock before it reads anything, so an
        ``INSERT … SELECT`` decides and writes atomically; on PostgreSQL the
        commit is durable (``synchronous_commit``) before ``execute`` returns.
        """
        raw = self.raw()
        try:
            yield raw
        except BaseException:
            self._rollback(raw)
            raise

    def _rollback(self, raw: Raw) -> None:
        try:
            if self.sqlite:
                if raw.dbapi.in_transaction:
                    raw.dbapi.execute("ROLLBACK")
            else:
                raw.dbapi.execute("ROLLBACK") if raw.dbapi.info.transaction_status else None
        except Exception:
            # A broken connection: the next request opens a new one.
            self._discard()

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        with self._lock:
            connections, self._open = self._open, []  # connections and lock-file descriptors
        for dbapi in connections:
            with contextlib.suppress(Exception):
                os.close(dbapi) if isinstance(dbapi, int) else dbapi.close()
        self._local = threading.local()


EXTENSION_KEY = "tasklink.clickstore"


def init_app(app: Any, engine: Engine) -> ClickStore:
    """Attach a store for the app's database; it closes when the engine is disposed."""
    store = ClickStore(str(engine.url.render_as_string(hide_password=False)))
    app.extensions[EXTENSION_KEY] = store
    event.listen(engine, "engine_disposed", lambda _engine: store.close())
    return store
