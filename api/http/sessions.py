"""Partner sign-in and sign-out: ``POST /api/v1/auth/login`` and ``POST /api/v1/auth/logout``."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from .. import db
from ..services import sessions
from .auth import current_partner
from .limits import login_limits
from .openapi import errors, json_body, json_response, ref
from .parsing import json_object, string_field

bp = Blueprint("sessions", __name__, url_prefix="/api/v1/auth")


def iso_utc(moment) -> str:  # type: ignore[no-untyped-def]
    """ISO 8601 in UTC with a ``Z``, to the second."""
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@bp.post("/login")
@login_limits
def login() -> tuple[Response, int]:
    """E-mail and password → a signed token that expires (one answer for every wrong credential)."""
    body = json_object(("email", "password"))
    email = string_field(body, "email", required=True, max_length=254)
    password = string_field(body, "password", required=True, max_length=256)
    with db.reading() as conn:
        token, expires_at = sessions.sign_in(conn, current_app.config["SECRET_KEYS"], email, password)
    return jsonify({"token": token, "expires_at": iso_utc(expires_at), "token_type": "Bearer"}), 200


@bp.post("/logout")
def logout() -> tuple[str, int]:
    """Revoke every token of the signed-in partner (all devices)."""
    partner = current_partner()
    with db.transaction() as conn:
        sessions.sign_out_everywhere(conn, partner.id)
    return "", 204


OPENAPI_SCHEMAS = {
    "LoginRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["email", "password"],
        "properties": {
            "email": {"type": "string", "maxLength": 254, "example": "partner@demo.test"},
            "password": {"type": "string", "maxLength": 256, "example": "demo-partner"},
        },
    },
    "Session": {
        "type": "object",
        "required": ["token", "expires_at"],
        "properties": {
            "token": {"type": "string", "description": "Send as Authorization: Bearer TOKEN"},
            "expires_at": {"type": "string", "format": "date-time"},
            "token_type": {"type": "string", "enum": ["Bearer"]},
        },
    },
}

OPENAPI_PATHS = {
    "/api/v1/auth/login": {
        "post": {
            "summary": "Sign in as a partner",
            "description": "Failed attempts are rate limited per e-mail and per client address "
            "(TASKLINK_RATELIMIT_LOGIN, default 10/minute); beyond it every attempt is answered 429.",
            "operationId": "login",
            "tags": ["partner"],
            "security": [],
            "requestBody": json_body(ref("LoginRequest")),
            "responses": {
                "200": json_response("A session token", ref("Session")),
                **errors(400, 401, 429),
            },
        }
    },
    "/api/v1/auth/logout": {
        "post": {
            "summary": "Sign out everywhere: every token of the partner stops working",
            "operationId": "logout",
            "tags": ["partner"],
            "security": [{"partnerToken": []}],
            "responses": {"204": {"description": "Signed out"}, **errors(401)},
        }
    },
}
