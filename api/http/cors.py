"""CORS for the browser extension: only the configured origins, only under ``/api/``.

With no ``EXTENSION_ORIGINS`` configured nothing is added, so no browser
page can read the API's answers.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS


def init_app(app: Flask) -> None:
    """Admit ``EXTENSION_ORIGINS`` (exact matches) to ``/api/*``."""
    origins = [origin for origin in app.config.get("EXTENSION_ORIGINS") or [] if origin]
    if not origins:
        return
    CORS(
        app,
        resources={r"/api/*": {"origins": origins}},
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After"],
        methods=["GET", "POST", "PATCH", "OPTIONS"],
        max_age=600,
    )
