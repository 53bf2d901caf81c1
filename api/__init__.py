"""Tasklink API: signed tracking links, redirects, conversions and reports.

``create_app`` is the only entry point: ``flask --app api run`` in
development, ``gunicorn "api:create_app()"`` in production.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .config import Settings, default_database_url, instance_folder, load_settings, private_directory
from .errors import ConfigurationError

if TYPE_CHECKING:
    # Flask is imported by create_app, not by ``import api``: gunicorn's master
    # imports the package for its settings (api/gunicorn_conf.py) and must not
    # load the web stack before each gevent worker has patched the standard library.
    from flask import Flask

__all__ = ["create_app"]


def _test_settings(instance_path: str, test_config: Mapping[str, Any]) -> dict[str, Any]:
    keys = test_config.get("SECRET_KEYS")
    if not keys:
        raise ConfigurationError("test_config must give SECRET_KEYS.")
    base = Settings(database_url=default_database_url(instance_path), secret_keys=tuple(keys)).flask_config()
    base.update(test_config)
    base["SECRET_KEY"] = next(iter(keys))
    return base


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, the click pipeline, CLI commands, then the HTTP blueprints."""
    from flask import Flask

    # The instance folder (SQLite file, click log, demo key) is ./instance or
    # TASKLINK_INSTANCE_PATH, whatever the install mode: Flask's own default for
    # an installed package is <venv>/var/api-instance, which a rebuilt venv deletes
    # together with the clicks still waiting in its log.
    app = Flask(__name__, instance_path=instance_folder(), instance_relative_config=True)
    private_directory(app.instance_path)
    if test_config is None:
        app.config.from_mapping(load_settings(app.instance_path).flask_config())
    else:
        app.config.from_mapping(_test_settings(app.instance_path, test_config))
    # Never let Flask's own JSON sort keys or pretty-print on the hot path.
    app.json.sort_keys = False  # type: ignore[attr-defined]

    from . import cli, core, db
    from .http import register_http

    # Settings, engine and the click pipeline: the same core the CLI and the admin use.
    core.attach(app, core.open_core(app.config, app.instance_path))
    app.cli.add_command(db.init_db_command)
    cli.init_app(app)
    register_http(app)
    _trust_proxies(app, int(app.config.get("TRUSTED_PROXIES") or 0))
    if not app.testing:
        _freeze_startup_heap()
    return app


def _freeze_startup_heap() -> None:
    """Hide the objects made at startup from the garbage collector's full passes (``gc.freeze``).

    They live as long as the process (Flask, SQLAlchemy, the limiter: about
    67,000 objects, twice a bare Flask app's), yet every full collection
    walked them all. Measured with ``bench/redirect.py`` under gunicorn:
    about 80 µs less CPU per redirect. Objects made later are collected as usual.
    """
    gc.collect()
    gc.freeze()


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind ``hops`` reverse proxies, take the client address and scheme from their headers.

    ``X-Forwarded-For`` is read only ``hops`` entries from the right (the ones
    our own proxies appended), so a client cannot choose its address by
    sending the header itself: rate limits per address and the visitor hash
    of the uniqueness rule see the real client. ``X-Forwarded-Host`` is not
    trusted; set ``TASKLINK_BASE_URL`` for the links' public base.
    """
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)  # type: ignore[method-assign]
