"""Partner sessions: signed, expiring bearer tokens that can be revoked.

A token carries the partner id and the partner's ``token_version``; bumping
the version (:func:`api.services.partners.revoke_tokens`) makes every older
token fail.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from sqlalchemy import Connection

from ..errors import AuthenticationError, NotFound
from ..signing import BadSignature, SignatureExpired, partner_session_serializer
from . import partners

TOKEN_TTL = dt.timedelta(days=30)


def issue_partner_token(keys: Sequence[str], partner: partners.Partner) -> tuple[str, dt.datetime]:
    """A new token for the partner and the moment it expires."""
    token = partner_session_serializer(keys).dumps({"p": partner.id, "v": partner.token_version})
    return token, dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + TOKEN_TTL


def partner_from_token(
    conn: Connection, keys: Sequence[str], token: str, max_age: dt.timedelta = TOKEN_TTL
) -> partners.Partner:
    """The partner a token belongs to, or :class:`AuthenticationError` saying why not."""
    serializer = partner_session_serializer(keys)
    try:
        payload = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise AuthenticationError("Your session has expired; sign in again.", "token_expired") from exc
    except BadSignature as exc:
        raise AuthenticationError("Sign in to continue: the session token is not valid.", "bad_token") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int) or not isinstance(payload.get("v"), int):
        raise AuthenticationError("Sign in to continue: the session token is not valid.", "bad_token")
    try:
        partner = partners.get_partner(conn, payload["p"])
    except NotFound as exc:
        raise AuthenticationError("Sign in to continue: the session token is not valid.", "bad_token") from exc
    if partner.token_version != payload["v"]:
        raise AuthenticationError("This session was signed out; sign in again.", "token_revoked")
    return partner
