"""``GET /tag.js``: the landing tag an advertiser puts on their site (served in every mode).

The script (``api/data/tag.js``, no dependencies) reads the campaign's
click-id parameter from the landing URL, keeps it in a first-party cookie
(``tasklink_click``) for the attribution window, and exposes it as
``Tasklink.clickId()``; the advertiser's server reads the same cookie at
checkout and sends the postback with its API key. It is the same bytes for
everyone, so browsers and CDNs may keep it: ``Cache-Control`` for an hour
(a new version reaches every site within that), and an ``ETag`` so a
revalidation costs a 304 without the body.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

bp = Blueprint("tag", __name__)

#: The cookie the tag writes and an advertiser's server reads.
COOKIE = "tasklink_click"
#: A value that could be one of our click ids: 36 URL-safe base64 characters (30 for ids made before they were tagged).
PLAUSIBLE_CLICK_ID = re.compile(r"[A-Za-z0-9_-]{36}|[A-Za-z0-9_-]{30}")
#: How long browsers and shared caches may reuse the script without asking again.
MAX_AGE = 3600

SCRIPT = resources.files("api").joinpath("data/tag.js").read_bytes()
ETAG = hashlib.sha256(SCRIPT).hexdigest()[:20]


def plausible_click_id(value: str | None) -> str | None:
    """``value`` when it has the shape of one of our click ids, else ``None`` (the tag's own rule, server side)."""
    if value and PLAUSIBLE_CLICK_ID.fullmatch(value):
        return value
    return None


@bp.get("/tag.js")
def tag_js() -> ResponseReturnValue:
    """The landing tag, cacheable; ``304`` when the browser already has this version."""
    response = Response(SCRIPT, content_type="text/javascript; charset=utf-8")
    response.set_etag(ETAG)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    # An advertiser's page may require cross-origin resources to opt in (COEP); the tag is public anyway.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)
