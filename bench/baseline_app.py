"""The baseline for ``bench/links.py``: a bare Flask app with one JSON endpoint.

It reads a JSON body and answers a small JSON object with 201: the least any
link-creating endpoint must do, served by the same gunicorn settings.
"""

from __future__ import annotations

import secrets

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/links")
def create() -> tuple[object, int]:
    """Echo the task id with a random code."""
    body = request.get_json(force=True)
    return jsonify({"task_id": body.get("task_id"), "code": secrets.token_urlsafe(5)}), 201
