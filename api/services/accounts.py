"""What advertisers and partners share: e-mail rules and password hashing."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, Row, Table, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import AuthenticationError, ValidationError
from ..i18n import Message

# werkzeug's default (scrypt). Tests lower the cost; nothing else should.
PASSWORD_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# Checked against when the e-mail is unknown, so both cases take as long.
_DUMMY_HASH: str | None = None


def normalize_email(value: object) -> str:
    """Lower-cased, trimmed e-mail; refuses anything that is not one."""
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value.strip()):
        raise ValidationError(Message("Enter a valid e-mail address."), "invalid_email")
    return value.strip().lower()


def normalize_name(value: object, what: str = Message("Name")) -> str:
    """A trimmed, non-empty display name of at most 200 characters (``what`` names it: a :class:`Message`)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(Message("{what} must not be empty.", what=what), "invalid_name")
    if len(value.strip()) > 200:
        raise ValidationError(
            Message("{what} must be at most {limit} characters.", what=what, limit=200), "invalid_name"
        )
    return value.strip()


def hash_password(password: object) -> str:
    """Hash a new password after checking its length."""
    if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValidationError(
            Message(
                "The password must be {minimum} to {maximum} characters long.",
                minimum=MIN_PASSWORD_LENGTH,
                maximum=MAX_PASSWORD_LENGTH,
            ),
            "invalid_password",
        )
    return generate_password_hash(password, method=PASSWORD_METHOD)


def password_matches(password_hash: str | None, password: object) -> bool:
    """Constant-work check: an unknown account costs as much as a wrong password."""
    global _DUMMY_HASH
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash("not-a-real-password", method=PASSWORD_METHOD)
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


def find_by_email(conn: Connection, table: Table, email: object) -> Row[Any] | None:
    """The account row of ``table`` with this e-mail (any case, trimmed), or ``None``."""
    if not isinstance(email, str):
        return None
    return conn.execute(select(table).where(table.c.email == email.strip().lower())).first()


def authenticate(conn: Connection, table: Table, email: object, password: object) -> Row[Any]:
    """The account row whose e-mail and password match; one error for every failure."""
    row = find_by_email(conn, table, email)
    if not password_matches(row.password_hash if row is not None else None, password) or row is None:
        raise AuthenticationError(Message("Wrong e-mail or password."), "bad_credentials")
    return row
