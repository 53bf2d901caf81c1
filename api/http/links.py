"""The partner's links: create (short or regular), list, read, disable/enable.

``url`` and ``display_url`` start with ``BASE_URL`` (``TASKLINK_BASE_URL``)
or, when it is not set, the URL the request came in on.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from .. import db
from ..services import links
from ..services.links import REPORTING_FIELDS
from ..schema import SUB_ID_MAX
from .auth import current_partner, partner_claim
from .limits import link_creation_limit
from .openapi import ID_INPUT_SCHEMA, ID_SCHEMA, errors, json_body, json_response, ref
from .parsing import bool_field, id_field, json_object, query_id, query_int, string_field

bp = Blueprint("links", __name__, url_prefix="/api/v1/links")

MAX_LANDING_URL = 2048
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CREATE_FIELDS = ("task_id", "landing_url", "landing_page_id", "kind", *REPORTING_FIELDS)


def base_url() -> str:
    """The public base of tracking links."""
    return str(current_app.config.get("BASE_URL") or request.host_url).rstrip("/")


def link_json(link: links.Link) -> dict[str, Any]:
    """The link shape of the partner API, with URLs on this deployment's base."""
    return links.to_json(link, base_url(), current_app.config["SECRET_KEYS"])


@bp.post("")
@link_creation_limit
def create_link() -> ResponseReturnValue:
    """Make a link for one of the partner's tasks (every rule is checked by the service)."""
    partner_claim()  # 401 for a missing or bad token before the body is looked at
    body = json_object(CREATE_FIELDS)
    task_id = id_field(body, "task_id", required=True)
    # An empty landing URL field means "none given": the task's page or the default.
    landing_url = (string_field(body, "landing_url", max_length=MAX_LANDING_URL) or "").strip() or None
    landing_page_id = id_field(body, "landing_page_id")
    kind = string_field(body, "kind", max_length=16) or "short"
    reporting = {name: string_field(body, name, max_length=SUB_ID_MAX) for name in REPORTING_FIELDS}
    with db.transaction() as conn:
        # The account is checked in the link's own transaction: one unit of work per link.
        partner = current_partner(conn)
        link = links.create_link(
            conn, partner.id, task_id,  # type: ignore[arg-type]
            kind=kind, landing_url=landing_url, landing_page_id=landing_page_id, reporting=reporting,
        )
        # Raising here rolls the new link back: no partner is handed a link that cannot be followed.
        links.check_followable(link, base_url(), current_app.config["SECRET_KEYS"])
    response = jsonify(link_json(link))
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/links/{link.id}"
    return response


@bp.get("")
def list_links() -> ResponseReturnValue:
    """The partner's links (all, or one task's), newest first, a page at a time, with counts."""
    partner = current_partner()
    task_id = query_id("task_id")
    limit = query_int("limit", DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    offset = query_int("offset", 0, minimum=0)
    with db.reading() as conn:
        found, total = links.list_links(conn, partner.id, task_id, limit=limit or DEFAULT_PAGE_SIZE, offset=offset or 0)
    return jsonify({"links": [link_json(link) for link in found], "total": total, "limit": limit, "offset": offset})


@bp.get("/<id:link_id>")
def get_link(link_id: int) -> ResponseReturnValue:
    """One of the partner's links."""
    partner = current_partner()
    with db.reading() as conn:
        link = links.get_link(conn, partner.id, link_id)
    return jsonify(link_json(link))


@bp.patch("/<id:link_id>")
def update_link(link_id: int) -> ResponseReturnValue:
    """Disable or enable a link (a disabled link sends visitors to the campaign's default page)."""
    partner = current_partner()
    body = json_object(("disabled",))
    disabled = bool_field(body, "disabled", required=True)
    with db.transaction() as conn:
        link = links.set_disabled(conn, partner.id, link_id, bool(disabled))
    return jsonify(link_json(link))


# --- OpenAPI -----------------------------------------------------------------

_REPORTING = {
    name: {"type": "string", "maxLength": SUB_ID_MAX, "nullable": True, "description": "Reporting info"}
    for name in REPORTING_FIELDS
}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "LinkRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["task_id"],
        "properties": {
            "task_id": ID_INPUT_SCHEMA,
            "landing_url": {
                "type": "string",
                "maxLength": MAX_LANDING_URL,
                "nullable": True,
                "description": "Manual mode: any http(s) URL on the campaign's allowed domains, without the "
                "campaign's click-id parameter in any spelling (empty: none given)",
            },
            "landing_page_id": {
                **ID_INPUT_SCHEMA,
                "nullable": True,
                "description": "Manual or choose mode: one of the campaign's landing pages",
            },
            "kind": {"type": "string", "enum": ["short", "regular"], "default": "short", "nullable": True},
            **_REPORTING,
        },
        "description": "Give landing_url or landing_page_id (not both), or neither for the task's page or the "
        "campaign's default.",
    },
    "Link": {
        "type": "object",
        "required": [
            "id", "task_id", "kind", "url", "display_url", "landing_url", "subId1", "subId2", "subId3",
            "sharedid", "disabled", "created_at", "clicks", "conversions",
        ],
        "properties": {
            "id": ID_SCHEMA,
            "task_id": ID_SCHEMA,
            "campaign_id": ID_SCHEMA,
            "kind": {"type": "string", "enum": ["short", "regular"]},
            "url": {"type": "string", "description": "The full link, with reporting info: what Copy copies"},
            "display_url": {"type": "string", "description": "The shareable link without reporting info"},
            "landing_url": {"type": "string"},
            **_REPORTING,
            "disabled": {"type": "boolean"},
            "disabled_by": {
                "type": "string", "enum": ["partner", "advertiser", None], "nullable": True,
                "description": "Who disabled the link (null while enabled); a link the advertiser disabled cannot "
                               "be enabled by the partner, and earns nothing",
            },
            "created_at": {"type": "string", "format": "date-time"},
            "clicks": {"type": "integer", "minimum": 0, "description": "Every recorded click"},
            "billable_clicks": {"type": "integer", "minimum": 0,
                                "description": "Clicks the advertiser pays for (see the report's invalid_clicks)"},
            "conversions": {"type": "integer", "minimum": 0},
        },
    },
    "LinkPage": {
        "type": "object",
        "required": ["links", "total", "limit", "offset"],
        "properties": {
            "links": {"type": "array", "items": ref("Link")},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    },
    "LinkUpdate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["disabled"],
        "properties": {"disabled": {"type": "boolean"}},
    },
}

_SECURITY = [{"partnerToken": []}]
_LINK_ID = {"name": "link_id", "in": "path", "required": True, "schema": ID_INPUT_SCHEMA}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/links": {
        "post": {
            "summary": "Create a short (default) or regular link for a task",
            "description": "Rate limited per partner (TASKLINK_RATELIMIT_LINKS, default 120/minute). "
            "422 names the first missing condition (campaign, membership, task, tracking, pay for "
            "performance) or a landing page the campaign does not allow (code landing_page_not_allowed, or "
            "click_id_param_in_url for a landing URL that carries the campaign's click-id parameter); 422 link_too_long when the path and "
            f"query of url (percent-encoded) would exceed {links.MAX_REQUEST_TARGET:,} bytes, so that every "
            "link issued can be followed (servers refuse request lines over about 4 KB; gunicorn's limit is "
            "4,094 bytes). A regular link's token carries its landing URL, so long landing URLs and long "
            "reporting info together can reach it.",
            "operationId": "createLink",
            "tags": ["partner"],
            "security": _SECURITY,
            "requestBody": json_body(ref("LinkRequest")),
            "responses": {
                "201": json_response(
                    "The new link",
                    ref("Link"),
                    headers={"Location": {"description": "The link's URL in this API", "schema": {"type": "string"}}},
                ),
                **errors(400, 401, 404, 409, 422, 429),
            },
        },
        "get": {
            "summary": "The partner's links, newest first, with click and conversion counts",
            "operationId": "listLinks",
            "tags": ["partner"],
            "security": _SECURITY,
            "parameters": [
                {"name": "task_id", "in": "query", "required": False, "schema": ID_INPUT_SCHEMA},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}},
                {"name": "offset", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}},
            ],
            "responses": {"200": json_response("A page of links", ref("LinkPage")), **errors(400, 401)},
        },
    },
    "/api/v1/links/{link_id}": {
        "get": {
            "summary": "One of the partner's links",
            "operationId": "getLink",
            "tags": ["partner"],
            "security": _SECURITY,
            "parameters": [_LINK_ID],
            "responses": {"200": json_response("The link", ref("Link")), **errors(401, 404)},
        },
        "patch": {
            "summary": "Disable or enable a link",
            "operationId": "updateLink",
            "tags": ["partner"],
            "security": _SECURITY,
            "parameters": [_LINK_ID],
            "requestBody": json_body(ref("LinkUpdate")),
            "responses": {"200": json_response("The link", ref("Link")), **errors(400, 401, 403, 404)},
        },
    },
}
