"""Versioned schema migrations (Alembic), run by ``flask --app api init-db``.

The scripts live in ``versions/``; :func:`upgrade` runs them on a connection we
hand to Alembic, so no ``alembic.ini`` or second database URL is needed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

HERE = Path(__file__).parent


def alembic_config() -> Config:
    """An Alembic configuration pointing at this package's scripts."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` when it has no schema yet."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision``; return the revisions before and after."""
    before = current_revision(engine)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return before, current_revision(engine)
