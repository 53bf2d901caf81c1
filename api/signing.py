"""itsdangerous serializers: one salt per purpose, key rotation newest first.

``TASKLINK_SECRET_KEYS`` lists keys newest first; itsdangerous wants
them oldest first and signs with the last, so the list is reversed here and
nowhere else. A token made for one purpose never verifies for another because
each purpose has its own salt.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from itsdangerous import (
    BadData,
    BadSignature,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes

LINK_SALT = "tasklink.link.v1"
PARTNER_SESSION_SALT = "tasklink.partner-session.v1"
IP_HASH_CONTEXT = b"tasklink.ip-hash.v1"
ACCOUNT_FINGERPRINT_CONTEXT = b"tasklink.account-fingerprint.v1"
CLICK_ID_CONTEXT = b"tasklink.click-id.v1"

__all__ = [
    "BadData",
    "BadSignature",
    "SignatureExpired",
    "account_fingerprint",
    "click_id_keys",
    "fingerprint_matches",
    "ip_hash_key",
    "link_serializer",
    "partner_session_serializer",
]


class _CanonicalSignatureMixin:
    """Accept a signature only in its one canonical base64 spelling.

    The last base64 character of a 20-byte signature carries spare bits, so
    itsdangerous alone accepts a few other last characters for the same
    signature. Changing any character of a token makes it
    invalid: re-encoding the decoded signature must give back the exact text.
    """

    def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
        try:
            canonical = base64_encode(base64_decode(sig)) == want_bytes(sig)
        except Exception:  # malformed base64 is simply a bad signature
            return False
        return canonical and super().verify_signature(value, sig)  # type: ignore[misc]


class CanonicalSigner(_CanonicalSignatureMixin, Signer):
    """:class:`Signer` that refuses non-canonical signatures."""


class CanonicalTimestampSigner(_CanonicalSignatureMixin, TimestampSigner):
    """:class:`TimestampSigner` that refuses non-canonical signatures."""


def _oldest_first(keys: Sequence[str]) -> list[str]:
    if not keys:
        raise ValueError("at least one secret key is required")
    return list(reversed(keys))


def link_serializer(keys: Sequence[str]) -> URLSafeSerializer:
    """Signs regular-link tokens. They do not expire: a printed link must keep working."""
    return URLSafeSerializer(_oldest_first(keys), salt=LINK_SALT, signer=CanonicalSigner)


def partner_session_serializer(keys: Sequence[str]) -> URLSafeTimedSerializer:
    """Signs partner bearer tokens; the caller passes ``max_age`` when loading."""
    return URLSafeTimedSerializer(_oldest_first(keys), salt=PARTNER_SESSION_SALT, signer=CanonicalTimestampSigner)


def ip_hash_key(keys: Sequence[str]) -> bytes:
    """The key for hashing IP addresses, derived from the newest secret key.

    Derived rather than the secret itself, so the IP hashes reveal nothing
    about the signing key. Rotating keys changes it: visitors seen before the
    rotation count as new once more, which only affects the 24-hour
    uniqueness rule.
    """
    return hmac.new(keys[0].encode(), IP_HASH_CONTEXT, hashlib.sha256).digest()


def click_id_keys(keys: Sequence[str]) -> tuple[bytes, ...]:
    """The keys that tag click ids (:mod:`api.services.clicks`), one per secret key, newest first.

    Derived per purpose like :func:`ip_hash_key`, so a click id's tag says
    nothing about the signing keys. The newest tags new click ids; every one
    verifies, so rotating keys keeps the ids of clicks made before the
    rotation verifiable for as long as the old key stays in the list.
    """
    if not keys:
        raise ValueError("at least one secret key is required")
    return tuple(hmac.new(key.encode(), CLICK_ID_CONTEXT, hashlib.sha256).digest() for key in keys)


def load_link_token(keys: Sequence[str], token: str) -> dict[str, Any]:
    """Verify and decode a regular-link token; raise ``BadSignature`` for anything but a good one.

    A token of another format signed with our key and salt (a timed token's
    ``payload.timestamp`` verifies as a plain signed value) passes the
    signature yet fails to decode: itsdangerous raises ``BadPayload`` for it,
    which is not a ``BadSignature``, so it is turned into one here and callers
    need to catch only one exception.
    """
    try:
        payload = link_serializer(keys).loads(token)
    except BadSignature:
        raise
    except BadData as exc:
        raise BadSignature(f"link token cannot be decoded: {exc}") from exc
    if not isinstance(payload, dict):
        raise BadSignature("link token payload is not an object")
    return payload


@functools.lru_cache(maxsize=32)
def _fingerprint_key(key: str) -> bytes:
    # Derived, so a fingerprint reveals nothing about the signing key itself.
    return hmac.new(key.encode(), ACCOUNT_FINGERPRINT_CONTEXT, hashlib.sha256).digest()


def account_fingerprint(key: str, account: str) -> str:
    """A short keyed fingerprint (HMAC-SHA256, 128 bits, URL-safe base64) of an account's identifying data.

    A session token carries it so that the token authenticates only the very
    account it was issued to: an account created later under the same id
    (SQLite reuses the id of a deleted last row) has other data, so another
    fingerprint. Keyed, so a token does not expose a plain hash of that data.
    """
    digest = hmac.new(_fingerprint_key(key), account.encode("utf-8"), hashlib.sha256).digest()[:16]
    return base64_encode(digest).decode("ascii")


def fingerprint_matches(keys: Sequence[str], account: str, fingerprint: object) -> bool:
    """Whether ``fingerprint`` was made from ``account`` with any of the keys (so key rotation keeps sessions)."""
    if not isinstance(fingerprint, str):
        return False
    return any(hmac.compare_digest(account_fingerprint(key, account), fingerprint) for key in keys)
