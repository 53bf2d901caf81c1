"""Raw database connections for the redirect's link reads and the click log's folder, one per process and thread.

Through SQLAlchemy (pool checkout, events, Core compilation, result
wrapping) the plumbing of a small statement costs several times the
statement; here a connection opened once per process (and thread) is kept,
statements are plain SQL with ``?`` placeholders (:class:`api.rawsql.Raw`),
and the drivers prepare them once (sqlite3's statement cache; psycopg
prepares server side).

- SQLite: the same pragmas as :func:`api.db.make_engine` (WAL,
  ``synchronous=NORMAL``), write transactions with ``BEGIN IMMEDIATE``.
- PostgreSQL: psycopg with ``statement_timeout`` and
  ``idle_in_transaction_session_timeout`` so no click transaction stays open
  long (the rollups' watermark relies on that, see :mod:`api.services.reports`).

A connection is re-opened after ``fork`` (gunicorn's workers each open
their own). :meth:`ClickStore.close` closes them all; it runs when the app's
engine is disposed.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from typing import Any, Iterator

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
        self._on_close: list[Any] = []
        #: The driver's exceptions: what a failing database raises here.
        self.errors: tuple[type[BaseException], ...]
        if self.sqlite:
            self.errors = (sqlite3.Error,)
        else:
            import psycopg

            self.errors = (psycopg.Error,)

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
        self._local = threading.local()


EXTENSION_KEY = "tasklink.clickstore"
