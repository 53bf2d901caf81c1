"""Money as exact decimals: whole minor units in the database, strings in JSON.

Amounts never pass through binary floats. A currency's exponent comes from
ISO 4217 (most have 2 decimals; the exceptions are listed).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pycountry

from .errors import ValidationError
from .i18n import Message

# ISO 4217 currencies whose minor unit is not 1/100.
_EXPONENTS = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# ASCII digits only: \d alone would take "١٢" or "１２", which Decimal reads as 12.  # noqa: RUF003
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,4})?$", re.ASCII)

#: The largest amount Tasklink takes, in minor units of any currency: a sale,
#: a payout per conversion or per click (90,000,000.00 USD, 9,000,000.000 KWD,
#: 9,000,000,000 JPY). Reports add amounts up in SQL as signed 64-bit integers,
#: and SQLite's SUM fails on overflow rather than growing; with every amount at
#: most this, even 10^9 of them sum to 9·10^18, below 2^63 - 1 (about 9.22·10^18).
MAX_MINOR = 9_000_000_000


def currency_code(value: object) -> str:
    """Validate an ISO 4217 currency code (upper case), from pycountry's maintained list."""
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise ValidationError(Message("Currency must be a 3-letter ISO 4217 code such as USD."), "invalid_currency")
    if pycountry.currencies.get(alpha_3=value) is None:
        raise ValidationError(
            Message("{value} is not an ISO 4217 currency code (such as USD, EUR or JPY).", value=value),
            "invalid_currency",
        )
    return value


def exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit."""
    return _EXPONENTS.get(currency, 2)


def parse_amount(value: object, field: str = "amount") -> Decimal:
    """A non-negative decimal from a JSON string or number, refusing floats' surprises.

    Accepts ``"12.50"``, ``12.5`` or ``12``; refuses booleans, negatives, NaN,
    exponents and more than 4 decimals.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationError(
            Message('{field} must be a decimal number such as "12.50".', field=field), "invalid_amount"
        )
    text = repr(value) if isinstance(value, float) else str(value)
    text = text.strip()
    if not _AMOUNT.match(text):
        raise ValidationError(
            Message(
                '{field} must be a non-negative decimal number with at most 4 decimals, such as "12.50".', field=field
            ),
            "invalid_amount",
        )
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already refuses these
        raise ValidationError(Message("{field} is not a number.", field=field), "invalid_amount") from exc


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal amount to whole minor units, rounding half up."""
    scale = Decimal(1).scaleb(-exponent(currency))
    return int((amount / scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def check_minor(minor: int, currency: str, field: str = "amount", code: str = "invalid_amount") -> int:
    """``minor`` when it is at most :data:`MAX_MINOR`; else a :class:`ValidationError` naming the maximum."""
    if minor > MAX_MINOR:
        raise ValidationError(
            Message(
                "{field} must be at most {maximum} {currency} ({units} minor units), so that reports can always "
                "add them up.",
                field=field,
                maximum=format_minor(MAX_MINOR, currency),
                currency=currency,
                units=format(MAX_MINOR, ","),
            ),
            code,
        )
    return minor


def from_minor(minor: int, currency: str) -> Decimal:
    """Whole minor units to an exact decimal with the currency's decimals."""
    return Decimal(minor).scaleb(-exponent(currency)).quantize(Decimal(1).scaleb(-exponent(currency)))


def format_minor(minor: int | None, currency: str) -> str:
    """Minor units as the decimal string of the JSON API (``"12.50"``)."""
    return str(from_minor(int(minor or 0), currency))
