"""The redirect, the hot path: ``GET|HEAD /s/<code>`` and ``GET|HEAD /c/<token>`` (SPEC §4).

Three steps, as Shlink does it:

1. **resolve** the link (:mod:`api.services.redirects`): unknown code or bad
   signature → 404 page, nothing recorded;
2. **decide whether to track**: only a ``GET`` on a campaign with click
   tracking on records a click (``HEAD`` answers the same redirect and records
   nothing);
3. **record** the click (:func:`api.services.clicks.record_click`) and commit
   it *before* the 302 is sent, so an answered redirect is never a lost click.

The client address is ``request.remote_addr``: behind reverse proxies set
``TASKLINK_TRUSTED_PROXIES`` (``ProxyFix`` then reads exactly the
``X-Forwarded-For`` entries our proxies appended), so the address hashed is
the visitor's and not the proxy's, and a client cannot pick its own.
"""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, Response, current_app, request

from .. import db
from ..errors import NotFound
from ..rawsql import Raw
from ..services import clicks, redirects
from ..services.redirects import Target
from ..signing import ip_hash_key

bp = Blueprint("tracking", __name__)

#: Documented in ``OPENAPI_PATHS`` only for completeness: these are not under /api/v1.
OPENAPI_PATHS: dict[str, object] = {}


def should_track(method: str, target: Target) -> bool:
    """Step two: record a click only for a GET on a campaign with click tracking on."""
    return method == "GET" and target.click_tracking


def _ip_key() -> bytes:
    key = current_app.extensions.get("tasklink.ip-key")
    if key is None:
        key = current_app.extensions["tasklink.ip-key"] = ip_hash_key(current_app.config["SECRET_KEYS"])
    return key  # type: ignore[no-any-return]


def redirect_to(url: str) -> Response:
    """A bare 302 (no body); never cached, so every visit comes back through here."""
    return Response(status=302, headers={"Location": url, "Cache-Control": "private, no-store"})


def follow(resolve: Callable[[Raw], Target | None]) -> Response:
    """Resolve → decide → record, committed before answering."""
    tracking = request.method == "GET"
    unit = db.transaction() if tracking else db.reading()
    with unit as conn:
        raw = Raw.of(conn)
        target = resolve(raw)
        if target is None:
            raise NotFound("This link does not exist or is no longer valid.", "link_not_found")
        url, live = redirects.destination(raw, target)
        if url is None:
            raise NotFound("This link is no longer active.", "link_inactive")
        if should_track(request.method, target):
            visit = clicks.visit_from_request(
                _ip_key(),
                request.headers.get("User-Agent"),
                request.headers.get("Referer"),
                request.remote_addr,
                request.args,
                target.reporting,
            )
            click_id = clicks.record_click(
                raw,
                link_id=target.link_id,
                campaign_id=target.campaign_id,
                partner_id=target.partner_id,
                task_id=target.task_id,
                visit=visit,
                payout_model=target.payout_model,
                payout_value=target.payout_value,
                pay_for_performance=target.pay_for_performance,
                live=live,
                now=db.utcnow(),
            )
            url = clicks.add_click_id(url, target.click_id_param, click_id)
    return redirect_to(url)


@bp.route("/s/<code>", methods=["GET"])
def short_link(code: str) -> Response:
    """A short link."""
    return follow(lambda raw: redirects.resolve_code(raw, code))


@bp.route("/c/<token>", methods=["GET"])
def regular_link(token: str) -> Response:
    """A regular (signed) link."""
    return follow(lambda raw: redirects.resolve_token(raw, current_app.config["SECRET_KEYS"], token))
