"""HTTP layer: thin blueprints that parse input, call a service, and shape the answer."""
from __future__ import annotations

from flask import Flask

from . import errors


def register_http(app: Flask) -> None:
    """Error handlers first, then every blueprint."""
    errors.init_app(app)
