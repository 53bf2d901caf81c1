"""Partner sessions: signed, expiring bearer tokens that can be revoked.

A token carries the partner id, the partner's ``token_version`` and a keyed
fingerprint of the account (:func:`account_data`). Bumping the version
(:func:`api.services.partners.revoke_tokens`) makes every older token fail;
the fingerprint makes a token fail once the account it was issued to is gone,
even when a new account gets the same id and starts at version 1 again.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Connection

from ..db import utcnow
from ..errors import AuthenticationError, NotFound
from ..i18n import Message
from ..signing import BadData, account_fingerprint, fingerprint_matches, partner_session_serializer
from . import partners

TOKEN_TTL = dt.timedelta(days=30)


def account_data(partner: partners.Partner) -> str:
    """What a session is bound to: the account's id, creation time, e-mail and password hash.

    Id and creation time tell this account from any later one with the same
    id; the e-mail and the password hash make a change of either sign every
    session out, as a password change after a leak should. All of it comes with
    the row the token check reads anyway, so binding costs one HMAC a request.
    """
    return "\x1f".join((str(partner.id), partner.created_at.isoformat(), partner.email, partner.password_hash))


def issue_partner_token(keys: Sequence[str], partner: partners.Partner) -> tuple[str, dt.datetime]:
    """A new token for the partner and the moment it expires."""
    serializer = partner_session_serializer(keys)
    token = serializer.dumps(
        {"p": partner.id, "v": partner.token_version, "a": account_fingerprint(keys[0], account_data(partner))}
    )
    # The expiry is computed from the timestamp inside the token, so what the
    # client is told and what the server enforces are the same second.
    _payload, issued = serializer.loads(token, return_timestamp=True)
    return token, issued.astimezone(dt.UTC) + TOKEN_TTL


def sign_in(conn: Connection, keys: Sequence[str], email: object, password: object) -> tuple[str, dt.datetime]:
    """Check a partner's e-mail and password and issue a token: ``(token, expires_at)``."""
    return issue_partner_token(keys, partners.authenticate(conn, email, password))


def sign_out_everywhere(conn: Connection, partner_id: int) -> None:
    """Revoke every token the partner holds (the extension's Log out calls this)."""
    partners.revoke_tokens(conn, partner_id)


@functools.lru_cache(maxsize=8)
def _serializer(keys: tuple[str, ...]) -> URLSafeTimedSerializer:
    # Built once per key list: every authenticated request verifies a token.
    return partner_session_serializer(keys)


@dataclass(frozen=True, slots=True)
class TokenClaim:
    """What a token's valid signature vouches for; :func:`partner_from_token` checks it against the account."""

    partner_id: int
    version: int
    fingerprint: object


def token_claim(
    keys: Sequence[str],
    token: str,
    max_age: dt.timedelta = TOKEN_TTL,
    now: dt.datetime | None = None,
) -> TokenClaim:
    """The signed, unexpired claim of a token (no database read), or :class:`AuthenticationError`.

    Enough to count a request against the partner's rate limit; not enough to
    let it act, which needs :func:`partner_from_token` (a signed-out session
    or a changed account still carries a valid signature).
    """
    try:
        payload, issued = _serializer(tuple(keys)).loads(token, return_timestamp=True)
    except BadData as exc:  # a bad signature, or a signed value that is no payload
        raise AuthenticationError(Message("Sign in to continue: the session token is not valid."), "bad_token") from exc
    if (now or utcnow()) - issued.astimezone(dt.UTC) > max_age:
        raise AuthenticationError(Message("Your session has expired; sign in again."), "token_expired")
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int) or not isinstance(payload.get("v"), int):
        raise AuthenticationError(Message("Sign in to continue: the session token is not valid."), "bad_token")
    return TokenClaim(payload["p"], payload["v"], payload.get("a"))


def partner_from_token(
    conn: Connection,
    keys: Sequence[str],
    token: str | TokenClaim,
    max_age: dt.timedelta = TOKEN_TTL,
    now: dt.datetime | None = None,
) -> partners.Partner:
    """The partner a token belongs to, or :class:`AuthenticationError` saying why not.

    ``token`` may be a claim :func:`token_claim` already checked. ``now``
    defaults to the current time; the expiry check uses it rather than
    itsdangerous' own clock so tests can pass time in instead of sleeping.
    One read: the account by its primary key.
    """
    claim = token if isinstance(token, TokenClaim) else token_claim(keys, token, max_age, now)
    try:
        partner = partners.get_partner(conn, claim.partner_id)
    except NotFound as exc:
        raise AuthenticationError(Message("Sign in to continue: the session token is not valid."), "bad_token") from exc
    if partner.token_version != claim.version:
        raise AuthenticationError(Message("This session was signed out; sign in again."), "token_revoked")
    # Any key may have made the fingerprint: sessions survive a key rotation like their signatures do.
    # A token without one (made before fingerprints) fails here too.
    if not fingerprint_matches(keys, account_data(partner), claim.fingerprint):
        raise AuthenticationError(
            Message("This session belongs to an account that has changed or no longer exists; sign in again."),
            "token_revoked",
        )
    return partner
