"""Advertisers: accounts, sign-in for the admin, and the API key for postbacks."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..db import utcnow
from ..errors import AuthenticationError, Conflict, NotFound
from ..i18n import Message
from ..schema import advertisers
from . import accounts
from .sign_in_limits import SignInLimiter

API_KEY_PREFIX = "tlk_"


@dataclass(frozen=True)
class Advertiser:
    id: int
    name: str
    email: str
    api_key_hint: str
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> Advertiser:
        return cls(row.id, row.name, row.email, row.api_key_hint, row.created_at)


def hash_api_key(api_key: str) -> str:
    """sha256 hex of an API key (keys are random and long, so no salt is needed)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def _hint(api_key: str) -> str:
    return api_key[:4] + "…" + api_key[-4:]


def new_api_key() -> str:
    """A fresh random API key, shown to the advertiser once."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def create_advertiser(
    conn: Connection, name: str, email: str, password: str, api_key: str | None = None
) -> tuple[Advertiser, str]:
    """Create an advertiser; return it with its API key (the only time the key is seen)."""
    api_key = api_key or new_api_key()
    values = {
        "name": accounts.normalize_name(name),
        "email": accounts.normalize_email(email),
        "password_hash": accounts.hash_password(password),
        "api_key_hash": hash_api_key(api_key),
        "api_key_hint": _hint(api_key),
        "created_at": utcnow(),
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(advertisers).values(**values).returning(advertisers.c.id)).scalar_one()
    except IntegrityError as exc:
        raise Conflict(
            Message("An advertiser with the e-mail {email} already exists.", email=values["email"]), "email_taken"
        ) from exc
    return get_advertiser(conn, new_id), api_key


def get_advertiser(conn: Connection, advertiser_id: int) -> Advertiser:
    """The advertiser with this id, or :class:`NotFound`."""
    row = conn.execute(select(advertisers).where(advertisers.c.id == advertiser_id)).first()
    if row is None:
        raise NotFound(Message("No such advertiser."))
    return Advertiser.from_row(row)


def find_by_email(conn: Connection, email: str) -> Advertiser | None:
    """The advertiser with this e-mail, or ``None``."""
    row = accounts.find_by_email(conn, advertisers, email)
    return None if row is None else Advertiser.from_row(row)


def authenticate(conn: Connection, email: object, password: object) -> Advertiser:
    """Sign-in: the advertiser, or :class:`AuthenticationError` (the same for an unknown e-mail)."""
    return Advertiser.from_row(accounts.authenticate(conn, advertisers, email, password))


def sign_in(conn: Connection, limiter: SignInLimiter, email: object, password: object) -> Advertiser:
    """The admin's sign-in: refused while the e-mail has too many recent failures, and a failure counts.

    Raises :class:`AuthenticationError` (``rate_limited`` or the wrong-credentials one).
    """
    limiter.check(email)
    try:
        return authenticate(conn, email, password)
    except AuthenticationError:
        limiter.failed(email)
        raise


def by_api_key(conn: Connection, api_key: object) -> Advertiser:
    """The advertiser owning an API key, or :class:`AuthenticationError`."""
    if not isinstance(api_key, str) or not api_key or len(api_key) > 200:
        raise AuthenticationError(Message("A valid advertiser API key is required."), "bad_api_key")
    row = conn.execute(select(advertisers).where(advertisers.c.api_key_hash == hash_api_key(api_key))).first()
    if row is None:
        raise AuthenticationError(Message("A valid advertiser API key is required."), "bad_api_key")
    return Advertiser.from_row(row)


def rotate_api_key(conn: Connection, advertiser_id: int) -> str:
    """Replace the advertiser's API key; the old one stops working at once."""
    api_key = new_api_key()
    result = conn.execute(
        update(advertisers)
        .where(advertisers.c.id == advertiser_id)
        .values(api_key_hash=hash_api_key(api_key), api_key_hint=_hint(api_key))
    )
    if result.rowcount != 1:
        raise NotFound(Message("No such advertiser."))
    return api_key
