"""The partner's links: create (short or regular), list, read, disable/enable.

``url`` and ``display_url`` start with ``BASE_URL`` (``TASKLINK_BASE_URL``)
or, when it is not set, the URL the request came in on.
"""
from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from .. import db
from ..services import links, sessions
from ..services.partners import Partner
from .apidoc import Answer, operation, respond
from .auth import current_partner
from .limits import link_creation_limit
from .models import (
    DEFAULT_PAGE_SIZE,
    Link,
    LinkListQuery,
    LinkPage,
    LinkRequest,
    LinkUpdate,
)

bp = Blueprint("links", __name__, url_prefix="/api/v1/links")


def base_url() -> str:
    """The public base of tracking links."""
    return str(current_app.config.get("BASE_URL") or request.host_url).rstrip("/")


def link_model(link: links.Link) -> Link:
    """The link shape of the partner API, with URLs on this deployment's base."""
    keys: Sequence[str] = current_app.config["SECRET_KEYS"]
    return Link.of(link, base_url(), keys)


@bp.post("")
@link_creation_limit
@operation(
    "createLink", "Create a short (default) or regular link for a task",
    description="Rate limited per partner (TASKLINK_RATELIMIT_LINKS, default 120/minute). "
    "422 names the first missing condition (campaign, membership, task, tracking, pay for "
    "performance) or a landing page the campaign does not allow (code landing_page_not_allowed, or "
    "click_id_param_in_url for a landing URL that carries the campaign's click-id parameter); 422 link_too_long when "
    f"the path and query of url (percent-encoded) would exceed {links.MAX_REQUEST_TARGET:,} bytes, so that every "
    "link issued can be followed (servers refuse request lines over about 4 KB; gunicorn's limit is "
    "4,094 bytes). A regular link's token carries its landing URL, so long landing URLs and long "
    "reporting info together can reach it.",
    body=LinkRequest,
    caller="partner_claim",
    responses={201: Answer("The new link", Link, {"Location": "The link's URL in this API"})},
    errors=(404, 409, 422, 429),
)
def create_link(caller: sessions.TokenClaim, body: LinkRequest) -> ResponseReturnValue:
    """Make a link for one of the partner's tasks (every rule is checked by the service)."""
    # An empty landing URL field means "none given": the task's page or the default.
    landing_url = (body.landing_url or "").strip() or None
    with db.transaction() as conn:
        # The account is checked in the link's own transaction: one unit of work per link.
        partner = current_partner(conn)
        link = links.create_link(
            conn, partner.id, body.task_id,
            kind=body.kind or "short", landing_url=landing_url, landing_page_id=body.landing_page_id,
            reporting=body.reporting(),
        )
        # Raising here rolls the new link back: no partner is handed a link that cannot be followed.
        links.check_followable(link, base_url(), current_app.config["SECRET_KEYS"])
    return respond(link_model(link), 201, {"Location": f"/api/v1/links/{link.id}"})


@bp.get("")
@operation("listLinks", "The partner's links, newest first, with click and conversion counts", query=LinkListQuery,
           responses={200: Answer("A page of links", LinkPage)})
def list_links(caller: Partner, query: LinkListQuery) -> ResponseReturnValue:
    """The partner's links (all, or one task's), newest first, a page at a time, with counts."""
    with db.reading() as conn:
        found, total = links.list_links(conn, caller.id, query.task_id, limit=query.limit or DEFAULT_PAGE_SIZE,
                                        offset=query.offset)
    return respond(LinkPage(links=[link_model(link) for link in found], total=total, limit=query.limit,
                            offset=query.offset))


@bp.get("/<id:link_id>")
@operation("getLink", "One of the partner's links", responses={200: Answer("The link", Link)}, errors=(404,))
def get_link(caller: Partner, link_id: int) -> ResponseReturnValue:
    """One of the partner's links."""
    with db.reading() as conn:
        link = links.get_link(conn, caller.id, link_id)
    return respond(link_model(link))


@bp.patch("/<id:link_id>")
@operation("updateLink", "Disable or enable a link", body=LinkUpdate, responses={200: Answer("The link", Link)},
           errors=(403, 404))
def update_link(caller: Partner, link_id: int, body: LinkUpdate) -> ResponseReturnValue:
    """Disable or enable a link (a disabled link sends visitors to the campaign's default page)."""
    with db.transaction() as conn:
        link = links.set_disabled(conn, caller.id, link_id, body.disabled)
    return respond(link_model(link))
