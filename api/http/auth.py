"""Who is calling: a partner (bearer session token) or an advertiser (bearer API key).

Views call :func:`current_partner` or :func:`current_advertiser`; each raises
:class:`AuthenticationError` (401) when the credentials are missing or wrong.
The identity is resolved once per request and kept on ``flask.g``.
"""

from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy import Connection

from .. import db
from ..errors import AuthenticationError
from ..i18n import Message
from ..services import advertisers, sessions
from ..services.advertisers import Advertiser
from ..services.partners import Partner

MAX_TOKEN_LENGTH = 1024


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if there is one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token.strip()


def partner_claim() -> sessions.TokenClaim:
    """The signed claim of this request's partner token, without reading the account, or 401.

    The rate limiter counts a request by it; :func:`current_partner` checks it
    against the account before anything is done.
    """
    if "tasklink_claim" not in g:
        token = bearer_token()
        if token is None:
            raise AuthenticationError(Message("Sign in to continue: no session token was sent."), "no_token")
        g.tasklink_claim = sessions.token_claim(current_app.config["SECRET_KEYS"], token)
    return g.tasklink_claim  # type: ignore[no-any-return]


def current_partner(conn: Connection | None = None) -> Partner:
    """The signed-in partner of this request, or 401.

    Given ``conn``, the account is read in that transaction (a view that
    writes anyway saves a unit of work of its own); else in a short read.
    """
    if "tasklink_partner" not in g:
        claim = partner_claim()
        keys = current_app.config["SECRET_KEYS"]
        if conn is not None:
            g.tasklink_partner = sessions.partner_from_token(conn, keys, claim)
        else:
            with db.reading() as reading:
                g.tasklink_partner = sessions.partner_from_token(reading, keys, claim)
    return g.tasklink_partner  # type: ignore[no-any-return]


def current_advertiser() -> Advertiser:
    """The advertiser whose API key this request carries, or 401."""
    if "tasklink_advertiser" not in g:
        token = bearer_token()
        if token is None:
            raise AuthenticationError(
                Message("An advertiser API key is required (Authorization: Bearer KEY)."), "no_api_key"
            )
        with db.reading() as conn:
            g.tasklink_advertiser = advertisers.by_api_key(conn, token)
    return g.tasklink_advertiser  # type: ignore[no-any-return]


def current_identity() -> Partner | Advertiser:
    """For endpoints both sides use (reports): the advertiser when the key is one, else the partner."""
    try:
        return current_advertiser()
    except AuthenticationError:
        return current_partner()
