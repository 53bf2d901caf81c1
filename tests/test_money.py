"""Exact amounts (api.money): what an amount may look like."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api import money
from api.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", "12.50"),
        (12.5, "12.5"),
        (12, "12"),
        ("0", "0"),
        (" 7.1 ", "7.1"),
        ("999999999999.9999", "999999999999.9999"),
    ],
)
def test_amounts_are_read_exactly(value, expected) -> None:
    assert money.parse_amount(value) == Decimal(expected)


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        -1,
        "1e3",
        "NaN",
        float("nan"),
        float("inf"),
        "12,50",
        "",
        True,
        None,
        "\u0661\u0662",
        "\uff11\uff12",
        "1\u00b2",
        "1.\u0663",
        "1234567890123",
        "1.23456",
    ],
)
def test_anything_else_is_refused(value) -> None:
    with pytest.raises(ValidationError):
        money.parse_amount(value)


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "KWD", "CHF"])
def test_iso_4217_currencies_are_accepted(code) -> None:
    assert money.currency_code(code) == code


@pytest.mark.parametrize("code", ["ABC", "XYZ", "QQQ", "usd", "US", "USDD", "", None, 840])
def test_codes_that_are_not_iso_4217_currencies_are_refused(code) -> None:
    with pytest.raises(ValidationError) as refused:
        money.currency_code(code)
    assert refused.value.code == "invalid_currency"
