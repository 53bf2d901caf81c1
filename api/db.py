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
from pathlib import Path
from typing import Iterator

import click
from flask.cli import with_appcontext
from flask import Flask, current_app
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from .config import private_directory

EXTENSION_KEY = "tasklink.engine"


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs of SPEC §1 and name the drivers Tasklink ships with."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL, tuned per backend.

    SQLite: WAL (readers never block the writer), ``synchronous=NORMAL``
    (a commit survives a killed process; only power loss can drop the last
    commits), foreign keys on, a busy timeout instead of instant "locked"
    errors, and ``BEGIN IMMEDIATE`` for write transactions so two writers
    queue instead of failing on a read-to-write upgrade.
    """
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        create_private_file(Path(database).expanduser().resolve())
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy (not pysqlite) decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tasklink_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

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


def is_sqlite(engine: Engine | Connection) -> bool:
    """True when the engine or connection talks to SQLite."""
    return engine.dialect.name == "sqlite"


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
    with engine.connect() as conn:
        with conn.begin():
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
    return dt.datetime.now(dt.timezone.utc)


def get_engine(app: Flask | None = None) -> Engine:
    """The engine of the given app, or of the current one."""
    app = app or current_app
    return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    """Create the app's engine and register the ``init-db`` command."""
    app.extensions[EXTENSION_KEY] = make_engine(app.config["DATABASE_URL"])
    app.cli.add_command(init_db_command)


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
