"""Tasklink API: signed tracking links, redirects, conversions and reports.

``create_app`` is the only entry point: ``flask --app api run`` in
development, ``gunicorn "api:create_app()"`` in production.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Flask

from .config import Settings, default_database_url, load_settings
from .errors import ConfigurationError

__all__ = ["create_app"]


def _test_settings(instance_path: str, test_config: Mapping[str, Any]) -> dict[str, Any]:
    keys = test_config.get("SECRET_KEYS")
    if not keys:
        raise ConfigurationError("test_config must give SECRET_KEYS.")
    base = Settings(database_url=default_database_url(instance_path), secret_keys=tuple(keys)).flask_config()
    base.update(test_config)
    base["SECRET_KEY"] = list(keys)[0]
    return base


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, CLI commands, then the HTTP blueprints."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    if test_config is None:
        app.config.from_mapping(load_settings(app.instance_path).flask_config())
    else:
        app.config.from_mapping(_test_settings(app.instance_path, test_config))
    # Never let Flask's own JSON sort keys or pretty-print on the hot path.
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from . import cli, db
    from .http import register_http

    db.init_app(app)
    cli.init_app(app)
    register_http(app)
    return app
