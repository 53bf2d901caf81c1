"""The partner's links: create (short or regular), list, read, disable/enable, and their QR codes.

``url`` and ``display_url`` start with ``BASE_URL`` (``TASKLINK_BASE_URL``)
or, when it is not set, the URL the request came in on.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from .. import db
from ..services import links, qr, sessions
from ..services.partners import Partner
from .apidoc import Answer, operation, respond
from .auth import current_partner
from .limits import link_creation_limit, qr_code_limit
from .models import (
    DEFAULT_PAGE_SIZE,
    Link,
    LinkListQuery,
    LinkPage,
    LinkRequest,
    LinkUpdate,
    QrQuery,
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
    "createLink",
    "Create a short (default) or regular link for a task",
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
            conn,
            partner.id,
            body.task_id,
            kind=body.kind or "short",
            landing_url=landing_url,
            landing_page_id=body.landing_page_id,
            reporting=body.reporting(),
        )
        # Raising here rolls the new link back: no partner is handed a link that cannot be followed.
        links.check_followable(link, base_url(), current_app.config["SECRET_KEYS"])
    return respond(link_model(link), 201, {"Location": f"/api/v1/links/{link.id}"})


@bp.get("")
@operation(
    "listLinks",
    "The partner's links, newest first, with click and conversion counts",
    query=LinkListQuery,
    responses={200: Answer("A page of links", LinkPage)},
)
def list_links(caller: Partner, query: LinkListQuery) -> ResponseReturnValue:
    """The partner's links (all, or one task's), newest first, a page at a time, with counts."""
    with db.reading() as conn:
        found, total = links.list_links(
            conn, caller.id, query.task_id, limit=query.limit or DEFAULT_PAGE_SIZE, offset=query.offset
        )
    return respond(
        LinkPage(links=[link_model(link) for link in found], total=total, limit=query.limit, offset=query.offset)
    )


@bp.get("/<id:link_id>")
@operation("getLink", "One of the partner's links", responses={200: Answer("The link", Link)}, errors=(404,))
def get_link(caller: Partner, link_id: int) -> ResponseReturnValue:
    """One of the partner's links."""
    with db.reading() as conn:
        link = links.get_link(conn, caller.id, link_id)
    return respond(link_model(link))


@bp.patch("/<id:link_id>")
@operation(
    "updateLink",
    "Disable or enable a link",
    body=LinkUpdate,
    responses={200: Answer("The link", Link)},
    errors=(403, 404),
)
def update_link(caller: Partner, link_id: int, body: LinkUpdate) -> ResponseReturnValue:
    """Disable or enable a link (a disabled link sends visitors to the campaign's default page)."""
    with db.transaction() as conn:
        link = links.set_disabled(conn, caller.id, link_id, body.disabled)
    return respond(link_model(link))


#: The browser may reuse a code for five minutes, then asks again with If-None-Match (a 304 costs no drawing).
#: Not longer: a code follows TASKLINK_BASE_URL, and a regular link's token the newest signing key.
QR_CACHE_CONTROL = "private, max-age=300"
_QR_DESCRIPTION = (
    "The link's QR code. It encodes the link's url (with its reporting info, as Copy copies it) unless "
    "encode=display_url asks for the link without it. Only the partner's own links: another partner's link is "
    "404 like an unknown one. Cacheable by the partner's browser only (Cache-Control: private, max-age=300) and "
    "answered with a strong ETag: a request with If-None-Match naming it gets 304 without a body. 400 "
    f"invalid_query for a scale outside {qr.MIN_SCALE}–{qr.MAX_SCALE}, a margin outside "
    f"{qr.MIN_MARGIN}–{qr.MAX_MARGIN} or another encode; 422 qr_too_long when the text is over the 2,953 bytes "
    "a QR code holds (a regular link with a long landing URL and reporting info). Rate limited per partner "
    "(TASKLINK_RATELIMIT_QR, default 60/minute): drawing the largest code takes about a quarter of a second."
)
_QR_HEADERS = {"ETag": "Names this picture; send it back in If-None-Match", "Cache-Control": QR_CACHE_CONTROL}


def qr_answer(caller: Partner, link_id: int, query: QrQuery, fmt: qr.QrFormat) -> Response:
    """The code of one of the partner's links, or 304 when the client's copy (If-None-Match) is current."""
    with db.reading() as conn:
        link = links.get_link(conn, caller.id, link_id)
    keys: Sequence[str] = current_app.config["SECRET_KEYS"]
    text = qr.encoded_text(link, base_url(), keys, query.encode)
    etag = qr.qr_etag(text, fmt, query.scale, query.margin)
    headers = {"Cache-Control": QR_CACHE_CONTROL}
    if request.if_none_match.contains(etag):
        response = Response(status=304, headers=headers)
    else:
        code = qr.link_qr(link, base_url(), keys, fmt, encode=query.encode, scale=query.scale, margin=query.margin)
        response = Response(code.content, 200, headers, mimetype=code.media_type)
    response.set_etag(etag)
    return response


@bp.get("/<id:link_id>/qr.svg")
@qr_code_limit
@operation(
    "getLinkQrSvg",
    "The link's QR code as SVG",
    description=_QR_DESCRIPTION,
    query=QrQuery,
    responses={
        200: Answer("The QR code", headers=_QR_HEADERS, media_types=("image/svg+xml",)),
        304: Answer("The copy named in If-None-Match is current", headers=_QR_HEADERS),
    },
    errors=(404, 422, 429),
)
def link_qr_svg(caller: Partner, link_id: int, query: QrQuery) -> ResponseReturnValue:
    """One of the partner's links as an SVG QR code."""
    return qr_answer(caller, link_id, query, "svg")


@bp.get("/<id:link_id>/qr.png")
@qr_code_limit
@operation(
    "getLinkQrPng",
    "The link's QR code as PNG",
    description=_QR_DESCRIPTION,
    query=QrQuery,
    responses={
        200: Answer("The QR code", headers=_QR_HEADERS, media_types=("image/png",)),
        304: Answer("The copy named in If-None-Match is current", headers=_QR_HEADERS),
    },
    errors=(404, 422, 429),
)
def link_qr_png(caller: Partner, link_id: int, query: QrQuery) -> ResponseReturnValue:
    """One of the partner's links as a PNG QR code."""
    return qr_answer(caller, link_id, query, "png")
