"""Partner sign-in and sign-out: ``POST /api/v1/auth/login`` and ``POST /api/v1/auth/logout``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from .. import db
from ..services import sessions
from ..services.partners import Partner
from .apidoc import Answer, operation, respond
from .limits import login_limits
from .models import LoginRequest, Session

bp = Blueprint("sessions", __name__, url_prefix="/api/v1/auth")


@bp.post("/login")
@login_limits
@operation(
    "login",
    "Sign in as a partner",
    caller=None,
    body=LoginRequest,
    description="Failed attempts are rate limited per e-mail and per client address "
    "(TASKLINK_RATELIMIT_LOGIN, default 10/minute); beyond it every attempt is answered 429.",
    responses={200: Answer("A session token", Session)},
    errors=(401, 429),
)
def login(body: LoginRequest) -> Response:
    """E-mail and password → a signed token that expires (one answer for every wrong credential)."""
    with db.reading() as conn:
        token, expires_at = sessions.sign_in(conn, current_app.config["SECRET_KEYS"], body.email, body.password)
    return respond(Session(token=token, expires_at=expires_at.replace(microsecond=0), token_type="Bearer"))


@bp.post("/logout")
@operation(
    "logout", "Sign out everywhere: every token of the partner stops working", responses={204: Answer("Signed out")}
)
def logout(caller: Partner) -> tuple[str, int]:
    """Revoke every token of the partner (all devices)."""
    with db.transaction() as conn:
        sessions.sign_out_everywhere(conn, caller.id)
    return "", 204
