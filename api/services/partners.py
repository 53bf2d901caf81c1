"""Partners: accounts, sign-in, and revoking their tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, insert, update
from sqlalchemy.exc import IntegrityError

from ..db import utcnow
from ..errors import Conflict, NotFound
from ..i18n import Message
from ..rawsql import Raw
from ..schema import partners
from . import accounts, memberships


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    email: str
    token_version: int
    created_at: dt.datetime
    #: Read with the row only to bind session tokens to this account (see
    #: api.services.sessions); kept out of repr so it never reaches a log.
    password_hash: str = field(repr=False, compare=False)

    @classmethod
    def from_row(cls, row: Row[Any]) -> Partner:
        return cls(row.id, row.name, row.email, row.token_version, row.created_at, row.password_hash)


def create_partner(conn: Connection, name: str, email: str, password: str) -> Partner:
    """Create a partner account; invitations waiting for its e-mail become its invited memberships."""
    values = {
        "name": accounts.normalize_name(name),
        "email": accounts.normalize_email(email),
        "password_hash": accounts.hash_password(password),
        "created_at": utcnow(),
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(partners).values(**values).returning(partners.c.id)).scalar_one()
    except IntegrityError as exc:
        raise Conflict(
            Message("A partner with the e-mail {email} already exists.", email=values["email"]), "email_taken"
        ) from exc
    memberships.claim_email_invitations(conn, new_id, str(values["email"]))
    return get_partner(conn, new_id)


# Every authenticated partner request reads its account by primary key: written
# for the DBAPI connection, which costs a fraction of building the statement.
_BY_ID = "SELECT id, name, email, token_version, created_at, password_hash FROM partners WHERE id = ?"


def get_partner(conn: Connection, partner_id: int) -> Partner:
    """The partner with this id, or :class:`NotFound`."""
    row = Raw.of(conn).one(_BY_ID, (partner_id,))
    if row is None:
        raise NotFound(Message("No such partner."))
    return Partner(row[0], row[1], row[2], row[3], Raw.read_time(row[4]), row[5])


def find_by_email(conn: Connection, email: str) -> Partner | None:
    """The partner with this e-mail, or ``None``."""
    row = accounts.find_by_email(conn, partners, email)
    return None if row is None else Partner.from_row(row)


def authenticate(conn: Connection, email: object, password: object) -> Partner:
    """Sign-in: the partner, or :class:`AuthenticationError` (the same for an unknown e-mail)."""
    return Partner.from_row(accounts.authenticate(conn, partners, email, password))


def revoke_tokens(conn: Connection, partner_id: int) -> int:
    """Invalidate every token issued to the partner so far; return the new version."""
    result = conn.execute(
        update(partners)
        .where(partners.c.id == partner_id)
        .values(token_version=partners.c.token_version + 1)
        .returning(partners.c.token_version)
    ).first()
    if result is None:
        raise NotFound(Message("No such partner."))
    return int(result.token_version)
