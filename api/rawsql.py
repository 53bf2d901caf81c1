"""Plain DBAPI access for the redirect's hot path, the same on SQLite and PostgreSQL.

The redirect runs a handful of fixed statements; going through SQLAlchemy
Core costs more than the statements themselves. :class:`Raw` wraps a DBAPI
connection (``sqlite3`` or ``psycopg``), lets every statement be written
once with ``?`` placeholders, and converts times to what each backend stores
for a :class:`~api.schema.UTCDateTime` column (naive UTC; on SQLite the text
``YYYY-MM-DD HH:MM:SS.ffffff`` SQLAlchemy writes, so both kinds of writers
compare and sort alike).

Statement preparation is left to the drivers: ``sqlite3`` keeps a cache of
prepared statements per connection, and psycopg prepares server side once a
statement has run a few times on a connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def naive_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime as naive UTC (what both backends store)."""
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def sqlite_text(naive: dt.datetime) -> str:
    """A naive UTC datetime as the text SQLAlchemy writes on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    # isoformat with a fixed timespec is the same text as strftime(_SQLITE_TIME), several times faster.
    return naive.isoformat(" ", "microseconds")


class Raw:
    """A DBAPI connection with one placeholder style and backend-neutral times.

    It never begins or ends transactions itself: the caller does (a
    SQLAlchemy transaction, or :class:`api.clickstore.ClickStore`'s own).
    """

    __slots__ = ("_statements", "dbapi", "sqlite")

    def __init__(self, dbapi_connection: Any, sqlite: bool) -> None:
        self.dbapi = dbapi_connection
        self.sqlite = sqlite
        self._statements: dict[str, str] = {}

    @classmethod
    def of(cls, conn: Connection) -> Raw:
        """The DBAPI connection under a SQLAlchemy connection (inside its transaction)."""
        return cls(conn.connection.driver_connection, conn.dialect.name == "sqlite")

    def _sql(self, sql: str) -> str:
        if self.sqlite:
            return sql
        converted = self._statements.get(sql)
        if converted is None:
            converted = self._statements[sql] = sql.replace("?", "%s")
        return converted

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row of a query, or ``None``."""
        return self.dbapi.execute(self._sql(sql), params).fetchone()  # type: ignore[no-any-return]

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        return self.dbapi.execute(self._sql(sql), params).fetchall()  # type: ignore[no-any-return]

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute a statement; the number of rows it changed."""
        return int(self.dbapi.execute(self._sql(sql), params).rowcount)

    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Execute a statement once per row (one prepared statement; pipelined on PostgreSQL); rows changed."""
        cursor = self.dbapi.cursor()
        try:
            cursor.executemany(self._sql(sql), rows)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def time(self, value: dt.datetime) -> Any:
        """An aware datetime as the backend stores a UTCDateTime column."""
        return self.naive_time(naive_utc(value))

    def naive_time(self, value: dt.datetime) -> Any:
        """A naive UTC datetime as the backend stores a UTCDateTime column (the bulk path of :meth:`time`)."""
        return sqlite_text(value) if self.sqlite else value

    @staticmethod
    def read_time(value: Any) -> dt.datetime:
        """A stored UTCDateTime value back as an aware UTC datetime."""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
