"""HTTP layer: thin blueprints that parse input, call a service, and shape the answer.

``MODULES`` lists every blueprint module (each has a ``bp`` and documents its
paths in ``OPENAPI_PATHS``); add a new module here and nowhere else.
"""
from __future__ import annotations

from flask import Flask

from . import errors, openapi

MODULES = [openapi]


def register_http(app: Flask) -> None:
    """Error handlers first, then every blueprint."""
    errors.init_app(app)
    for module in MODULES:
        app.register_blueprint(module.bp)
