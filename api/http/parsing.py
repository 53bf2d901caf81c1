"""Reading request input at the edge: JSON bodies and query parameters, or a clear 400.

Everything a view receives has passed through here, so services see values
of the right type and size.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from flask import request

from ..errors import ValidationError
from .openapi import MAX_ID

MAX_BODY_BYTES = 64 * 1024
#: What an id beyond the database's range becomes: no row has it, so the
#: lookup answers its usual "not found" (or an empty list for a filter), and
#: the database driver never sees a number it cannot bind.
NO_ID = 0


def request_json() -> Any:
    """The request body parsed as JSON, or ``None`` when it is not JSON (or too large to read).

    Whatever the body, this never raises: nesting deep enough to exhaust the
    parser's recursion is treated as "not JSON" too, not as a server error.
    """
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    try:
        return request.get_json(silent=True, force=True)
    except RecursionError:
        return None


def is_text(value: str) -> bool:
    """True when ``value`` can be stored: encodable as UTF-8 (JSON can smuggle in lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_object(allowed: Iterable[str]) -> dict[str, Any]:
    """The request's JSON object; refuses other bodies and fields not in ``allowed``."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ValidationError("The request body is too large.", "body_too_large")
    body = request_json()
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.", "invalid_json")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(unknown)}.", "unknown_field")
    return body


def string_field(body: dict[str, Any], name: str, *, required: bool = False, max_length: int = 255) -> str | None:
    """A string field (trimmed), ``None`` when absent or null and not required."""
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(f"{name} is required.", "missing_field")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string.", "invalid_field")
    if not is_text(value):
        raise ValidationError(f"{name} must be valid Unicode text.", "invalid_field")
    if len(value) > max_length:
        raise ValidationError(f"{name} must be at most {max_length} characters.", "invalid_field")
    return value


def id_field(body: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    """An id field: any positive whole number (booleans, floats and strings refused), ``None`` when absent.

    One beyond :data:`MAX_ID` is a well-formed id that no row has: :data:`NO_ID`.
    """
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(f"{name} is required.", "missing_field")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{name} must be a positive whole number.", "invalid_field")
    return value if value <= MAX_ID else NO_ID


def id_from_digits(digits: str) -> int:
    """ASCII digits as an id: :data:`NO_ID` for 0 and for anything beyond :data:`MAX_ID` (however long)."""
    significant = digits.lstrip("0")
    # Checked by length first: int() refuses strings of more than 4300 digits.
    if not significant or len(significant) > len(str(MAX_ID)) or int(significant) > MAX_ID:
        return NO_ID
    return int(significant)


def query_id(name: str) -> int | None:
    """An id query parameter (a filter): positive digits, ``None`` when absent; beyond the range, :data:`NO_ID`."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    # isascii: str.isdigit() also accepts "²" and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
        raise ValidationError(f"{name} must be a positive whole number.", "invalid_query")
    return id_from_digits(raw)


def bool_field(body: dict[str, Any], name: str, *, required: bool = False) -> bool | None:
    """A JSON boolean field."""
    value = body.get(name)
    if value is None:
        if required:
            raise ValidationError(f"{name} is required.", "missing_field")
        return None
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false.", "invalid_field")
    return value


def query_int(name: str, default: int | None = None, minimum: int = 1, maximum: int = 2**31 - 1) -> int | None:
    """A whole-number query parameter within bounds."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # isascii: str.isdigit() also accepts "²" and other digits int() refuses.
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
        raise ValidationError(f"{name} must be a whole number from {minimum} to {maximum}.", "invalid_query")
    return int(raw)


def query_date(name: str, default: dt.date) -> dt.date:
    """An ISO date (YYYY-MM-DD) query parameter."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(f"{name} must be a date such as 2026-01-31.", "invalid_query") from exc


def query_choice(name: str, choices: Iterable[str], default: str) -> str:
    """A query parameter that must be one of ``choices``."""
    raw = request.args.get(name)
    options = list(choices)
    if raw is None or raw == "":
        return default
    if raw not in options:
        raise ValidationError(f"{name} must be one of {', '.join(options)}.", "invalid_query")
    return raw
