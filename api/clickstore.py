"""Raw database connections for the redirect's link reads and the click log's folder: a small pool per process.

Through SQLAlchemy (pool checkout, events, Core compilation, result
wrapping) the plumbing of a small statement costs several times the
statement; here connections opened once per process are kept, statements
are plain SQL with ``?`` placeholders (:class:`api.rawsql.Raw`), and the
drivers prepare them once (sqlite3's statement cache; psycopg prepares
server side).

- SQLite: the same pragmas as :func:`api.db.make_engine` (WAL,
  ``synchronous=NORMAL``), write transactions with ``BEGIN IMMEDIATE``.
- PostgreSQL: psycopg with ``statement_timeout`` and
  ``idle_in_transaction_session_timeout`` so no click transaction stays open
  long (the rollups' watermark relies on that, see :mod:`api.services.reports`).

Each unit of work (:meth:`ClickStore.writing`, :meth:`ClickStore.autocommit`)
takes an idle connection of the process, or opens one, and gives it back
when it ends; at most :data:`MAX_CONNECTIONS` are in use at once, a unit of
work beyond that waits for one. The pool, rather than a connection per
thread, is what keeps this right under gevent workers (``api/gunicorn_conf.py``):
monkey-patching makes ``threading.local`` local to each greenlet, which is
one per client connection, so a connection per thread became a connection
per visitor, never closed (seen: 32 redirects opened 34 PostgreSQL
connections). Under sync workers the pool holds one connection, two while
the flusher thread stores clicks beside a request.

Connections are re-opened after ``fork`` (gunicorn's workers each open
their own). :meth:`ClickStore.close` closes them all; it runs when the app's
engine is disposed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import make_url

from .db import ConnectGuard
from .rawsql import Raw

#: How long a SQLite statement waits for the write lock (milliseconds).
BUSY_TIMEOUT_MS = 250
#: How long a click statement may run on PostgreSQL (milliseconds).
PG_STATEMENT_TIMEOUT_MS = 10_000
#: Connections a process uses at once at most. A unit of work holds one for
#: a statement or a batch (well under a millisecond for a redirect's read),
#: so a few serve a worker on one core; PostgreSQL sees at most this many per worker.
MAX_CONNECTIONS = 4


class ClickStore:
    """Raw connections to the app's database for the hot path, pooled per process."""

    def __init__(self, database_url: str, max_connections: int = MAX_CONNECTIONS) -> None:
        url = make_url(database_url)
        self.sqlite = url.get_backend_name() == "sqlite"
        if self.sqlite:
            self._target = url.database or ":memory:"
        else:
            self._target = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.max_connections = max_connections
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._idle: list[Raw] = []
        self._slots = threading.BoundedSemaphore(max_connections)
        self._open: list[Any] = []
        self._on_close: list[Any] = []
        self._guard = ConnectGuard()
        #: The driver's exceptions: what a failing database raises here.
        self.errors: tuple[type[BaseException], ...]
        if self.sqlite:
            self.errors = (sqlite3.Error,)
        else:
            import psycopg

            self.errors = (psycopg.Error,)

    def _connect(self) -> Any:
        if self.sqlite:
            # A short busy timeout: reads never wait on the write lock (WAL), and a
            # flush that finds it held (a backup, a long admin transaction) gives up
            # at once and is retried later, rather than holding a worker (with gevent,
            # every visitor of the process) while the lock lasts.
            dbapi = sqlite3.connect(
                self._target,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
                cached_statements=64,
            )
            for pragma in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
                f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
            ):
                dbapi.execute(pragma)
        else:
            import psycopg

            # Autocommit: a single statement is its own transaction (one round
            # trip); :meth:`writing` opens an explicit one when several belong together.
            # Within db.CONNECT_TIMEOUT or not at all, and not again for a second after
            # a failure: during an outage a redirect never waits on the database.
            dbapi = self._guard.connect(
                lambda: psycopg.connect(
                    self._target,
                    autocommit=True,
                    prepare_threshold=0,
                    connect_timeout=2,
                    options=f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS} "
                    f"-c idle_in_transaction_session_timeout={PG_STATEMENT_TIMEOUT_MS}",
                ),
                psycopg.OperationalError,
            )
        with self._lock:
            self._open.append(dbapi)
        return dbapi

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Raw]:
        """An idle connection of this process (or a new one) for one unit of work; given back after it."""
        if self._pid != os.getpid():
            self._forked()
        self._slots.acquire()
        try:
            try:
                raw = self._idle.pop()  # one atomic step, for threads and greenlets alike
            except IndexError:
                raw = Raw(self._connect(), self.sqlite)
            try:
                yield raw
            except BaseException:
                if self._rollback(raw):
                    self._idle.append(raw)
                raise
            self._idle.append(raw)
        finally:
            self._slots.release()

    def _forked(self) -> None:
        """In a forked child: the parent's connections stay the parent's (not closed here, not used)."""
        with self._lock:
            if self._pid != os.getpid():
                self._idle, self._open = [], []
                self._slots = threading.BoundedSemaphore(self.max_connections)
                self._pid = os.getpid()

    # --- units of work -------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self) -> Iterator[Raw]:
        """A write transaction, committed on success (before the caller answers), rolled back otherwise."""
        with self._connection() as raw:
            dbapi = raw.dbapi
            dbapi.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            yield raw
            dbapi.execute("COMMIT")

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[Raw]:
        """Statements that each are their own transaction, committed when ``execute`` returns.

        For one-statement units of work such as recording a click: on SQLite an
        ``INSERT`` takes the write lock before it reads anything, so an
        ``INSERT … SELECT`` decides and writes atomically; on PostgreSQL the
        commit is durable (``synchronous_commit``) before ``execute`` returns.
        """
        with self._connection() as raw:
            yield raw

    def _rollback(self, raw: Raw) -> bool:
        """Roll back what a failed unit of work left open; False (and closed) when the connection is broken."""
        try:
            if self.sqlite:
                if raw.dbapi.in_transaction:
                    raw.dbapi.execute("ROLLBACK")
            elif raw.dbapi.info.transaction_status:
                raw.dbapi.execute("ROLLBACK")
            return True
        except Exception:
            # A broken connection: the next unit of work opens a new one.
            with contextlib.suppress(Exception):
                raw.dbapi.close()
            return False

    def on_close(self, callback: Any) -> None:
        """Run ``callback()`` first when the store closes (the click log's folder uses these connections)."""
        self._on_close.append(callback)

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        for callback in self._on_close:
            callback()
        with self._lock:
            connections, self._open = self._open, []
        for dbapi in connections:
            with contextlib.suppress(Exception):
                dbapi.close()
        self._idle = []


EXTENSION_KEY = "tasklink.clickstore"
