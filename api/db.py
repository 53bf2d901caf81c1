"""The data layer: one engine per app, transactions, and the ``init-db`` command.

Services take a SQLAlchemy ``Connection`` and never commit; the caller (a
view, a CLI command, the admin) opens the unit of work with
:func:`transaction` (writes) or :func:`reading` (reads), so a failure half-way
rolls everything back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from .config import private_directory

EXTENSION_KEY = "tasklink.engine"


def normalize_database_url(url: str) -> str:
    """Accept plain database URLs and name the drivers Tasklink ships with."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


#: The longest a request waits for a database connection to open, or for a lock
#: (SQLite's write lock, a PostgreSQL row lock), before it answers 503.
CONNECT_TIMEOUT = 1.5
LOCK_TIMEOUT_MS = 1500
#: After a failed connection attempt, new attempts are refused at once for this
#: long: during an outage one request per worker and second finds out, the rest
#: answer 503 without waiting.
RETRY_PAUSE = 1.0


class ConnectGuard:
    """Opens database connections within :data:`CONNECT_TIMEOUT`, and not at all just after one failed.

    libpq cannot give up on a connection attempt in less than two seconds
    (and waits much longer for a host that drops packets), so the attempt
    runs in a helper thread and the caller stops waiting after the timeout;
    a late connection is closed by that thread.
    """

    def __init__(self, timeout: float = CONNECT_TIMEOUT, pause: float = RETRY_PAUSE) -> None:
        self.timeout = timeout
        self.pause = pause
        self._failed_at = float("-inf")
        self._lock = threading.Lock()

    def connect(self, open_connection: Callable[[], Any], error: type[Exception]) -> Any:
        """``open_connection()`` within the timeout; ``error`` (the driver's class) when it fails or is paused."""
        if time.monotonic() - self._failed_at < self.pause:
            raise error("the database was unreachable a moment ago; not trying again yet")
        box: dict[str, Any] = {}
        done = threading.Event()

        def attempt() -> None:
            try:
                connection = open_connection()
            except BaseException as failure:
                box["error"] = failure
                connection = None
            with self._lock:
                if box.get("abandoned") and connection is not None:
                    with contextlib.suppress(Exception):
                        connection.close()
                    return
                box["connection"] = connection
                done.set()

        threading.Thread(target=attempt, name="tasklink-db-connect", daemon=True).start()
        if not done.wait(self.timeout):
            with self._lock:
                if not done.is_set():
                    box["abandoned"] = True
            if box.get("abandoned"):
                self._failed_at = time.monotonic()
                raise error(f"connecting to the database took longer than {self.timeout:g} s")
        if "error" in box:
            self._failed_at = time.monotonic()
            raise box["error"]
        self._failed_at = float("-inf")
        return box["connection"]


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL, tuned per backend.

    Both: a request never waits on a failing database for long. Connections
    open within :data:`CONNECT_TIMEOUT` or fail (:class:`ConnectGuard`), a
    lock is waited for at most :data:`LOCK_TIMEOUT_MS`; the API then answers
    503 (:mod:`api.http.errors`).

    SQLite: WAL (readers never block the writer), ``synchronous=NORMAL``
    (a commit survives a killed process; only power loss can drop the last
    commits), foreign keys on, and ``BEGIN IMMEDIATE`` for write transactions
    so two writers queue (up to the lock timeout) instead of failing on a
    read-to-write upgrade.
    """
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        import psycopg

        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            pool_timeout=CONNECT_TIMEOUT,
            connect_args={"connect_timeout": 2, "options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
        )
        guard = ConnectGuard()

        @event.listens_for(engine, "do_connect")
        def _guarded_connect(dialect, _record, cargs, cparams):  # type: ignore[no-untyped-def]
            return guard.connect(lambda: dialect.loaded_dbapi.connect(*cargs, **cparams), psycopg.OperationalError)

        return engine

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        create_private_file(Path(database).expanduser().resolve())
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": LOCK_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy (not pysqlite) decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        statement = "BEGIN IMMEDIATE" if conn.get_execution_options().get("tasklink_write", False) else "BEGIN"
        # Straight to the driver: through exec_driver_sql the BEGIN cost more
        # than a link creation's queries. Its errors are SQLAlchemy's all the same.
        try:
            conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc

    return engine


def create_private_file(path: Path) -> None:
    """Create the SQLite file empty and owner-only (0600) before SQLite first opens it, if it is missing.

    SQLite itself creates a database with the process umask's permissions,
    usually world-readable, and its -wal and -shm files copy the database
    file's: creating it 0600 first keeps all three private (an empty file is
    a new database to SQLite). The folder is made 0700 when it is new. An
    existing file keeps the permissions its operator chose.
    """
    private_directory(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


@contextlib.contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """A write unit of work: commits on success, rolls back on any exception."""
    engine = engine or get_engine()
    with engine.connect() as conn:
        conn.execution_options(tasklink_write=True)
        with conn.begin():
            yield conn


@contextlib.contextmanager
def reading(engine: Engine | None = None) -> Iterator[Connection]:
    """A read-only unit of work (one consistent snapshot on both backends)."""
    engine = engine or get_engine()
    with engine.connect() as conn, conn.begin():
        yield conn


def ping(engine: Engine | None = None) -> bool:
    """Whether the database answers a trivial query now (for health checks)."""
    try:
        with reading(engine) as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except SQLAlchemyError:
        return False


def utcnow() -> dt.datetime:
    """The current time, aware and in UTC (the only kind the tables accept)."""
    return dt.datetime.now(dt.UTC)


def get_engine(app: Flask | None = None) -> Engine:
    """The engine of the given app, or of the current one."""
    app = app or current_app
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the schema, or upgrade an older one in place (safe to run twice)."""
    from . import migrations

    engine = get_engine()
    before, after = migrations.upgrade(engine)
    if before == after:
        click.echo(f"Database is up to date (revision {after}).")
    else:
        click.echo(f"Database upgraded from {before or 'empty'} to {after}.")
