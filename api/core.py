"""The core every part of Tasklink runs on: settings, the database engine, and the click pipeline.

The API (``create_app``), the operator CLI and the Streamlit admin each need
the same three things and nothing of each other: the admin needs no
blueprints, rate limiter, CORS or redirect app to read reports or store the
clicks waiting in this host's click log. :func:`open_core` builds them from
the ``TASKLINK_*`` settings; :func:`attach` hands them to a Flask app.

Opening a core starts nothing: no thread, no connection. Only a process that
serves requests starts its click log's flusher (with its first request, see
:class:`api.http.tracking.PathDispatcher`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

from . import clicklog, clickstore, db
from .config import instance_folder, load_settings


@dataclass(frozen=True)
class Core:
    """Settings (as the Flask config keys), the engine, and the click pipeline of one database."""

    config: Mapping[str, Any]
    instance_path: str
    engine: Engine
    click_store: clickstore.ClickStore
    click_log: clicklog.ClickLog

    def close(self) -> None:
        """Close the click log, the click store's connections and the engine's pool."""
        self.engine.dispose()  # closes the store (and the log) through the engine_disposed event


def open_core(config: Mapping[str, Any], instance_path: str) -> Core:
    """The engine and the click pipeline for ``config`` (the keys :meth:`api.config.Settings.flask_config` makes)."""
    engine = db.make_engine(config["DATABASE_URL"])
    store = clickstore.ClickStore(engine.url.render_as_string(hide_password=False))
    event.listen(engine, "engine_disposed", lambda _engine: store.close())
    directory = config.get("CLICK_LOG_DIR") or os.path.join(instance_path, "click-log")
    click_log = clicklog.ClickLog(directory, store, config["DATABASE_URL"])
    store.on_close(click_log.close)
    return Core(config, instance_path, engine, store, click_log)


def from_environment(environ: Mapping[str, str] | None = None) -> Core:
    """A core from the ``TASKLINK_*`` variables, as the API builds its own (for the admin and scripts)."""
    instance_path = instance_folder(environ)
    return open_core(load_settings(instance_path, environ).flask_config(), instance_path)


def attach(app: Any, core: Core) -> None:
    """Make ``core`` the Flask app's: ``db.get_engine(app)``, ``clicklog.of(app)`` and the store find it."""
    app.extensions[db.EXTENSION_KEY] = core.engine
    app.extensions[clickstore.EXTENSION_KEY] = core.click_store
    app.extensions[clicklog.EXTENSION_KEY] = core.click_log
    app.extensions[CORE_KEY] = core


CORE_KEY = "tasklink.core"


def of(app: Any) -> Core:
    """The core of a Flask app."""
    return app.extensions[CORE_KEY]  # type: ignore[no-any-return]
