"""HTTP layer: thin blueprints that parse input, call a service, and shape the answer.

``MODULES`` lists every blueprint module (each has a ``bp`` and documents its
paths in ``OPENAPI_PATHS``); add a new module here and nowhere else.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from . import cors, errors, limits, links, openapi, partner, sessions

MODULES = [openapi, sessions, partner, links]


class IdConverter(IntegerConverter):
    """``<id:name>``: a database id, 1 to 2^31-1; anything else is a 404, never a database error."""

    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(map, min=1, max=openapi.MAX_ID)


def register_http(app: Flask) -> None:
    """Error handlers first, then rate limits and CORS, then every blueprint."""
    app.url_map.converters["id"] = IdConverter
    errors.init_app(app)
    limits.init_app(app)
    cors.init_app(app)
    for module in MODULES:
        app.register_blueprint(module.bp)
