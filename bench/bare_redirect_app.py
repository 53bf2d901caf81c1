"""The baseline for ``bench/redirect.py``: a bare Flask app answering ``/s/<code>`` with a 302.

The codes and their landing URLs come from the JSON file named by
``BENCH_CODES`` and live in a dict in memory: the least any redirecting
endpoint must do, served by the same gunicorn settings as the real app.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response, abort

app = Flask(__name__)
with open(os.environ["BENCH_CODES"], encoding="utf-8") as handle:
    TARGETS: dict[str, str] = json.load(handle)


@app.get("/s/<code>")
def follow(code: str) -> Response:
    """302 to the code's landing URL, 404 for an unknown code."""
    url = TARGETS.get(code)
    if url is None:
        abort(404)
    return Response(status=302, headers={"Location": url})
