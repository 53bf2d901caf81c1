"""CSV exports (api/exports.py): text a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from api.exports import csv_bytes, neutralise_cell


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


# (cell as given, cell as written)
HOSTILE = [
    ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
    ("=1+1", "'=1+1"),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("-", "'-"),
    ("spring", "spring"),
    ("a=b", "a=b"),
    (" =1", " =1"),  # only the first character counts
    ("'=1", "'=1"),  # already quoted text is left as it is
    ("", ""),
]


@pytest.mark.parametrize(("cell", "written"), HOSTILE, ids=[repr(cell) for cell, _ in HOSTILE])
def test_text_cells_starting_a_formula_get_a_quote(cell: str, written: str) -> None:
    assert neutralise_cell(cell) == written
    assert read_csv(csv_bytes(["Shared ID"], [[cell]])) == [["Shared ID"], [written]]


@pytest.mark.parametrize("number", [0, 7, -5, -2.5, 1e-3, Decimal("-1.50"), Decimal("40.00"), True])
def test_numbers_stay_numbers(number: object) -> None:
    assert neutralise_cell(number) is number
    assert read_csv(csv_bytes(["n"], [[number]])) == [["n"], [str(number)]]


def test_none_is_an_empty_cell() -> None:
    assert neutralise_cell(None) is None
    assert read_csv(csv_bytes(["a", "b"], [[None, "x"]])) == [["a", "b"], ["", "x"]]


def test_other_values_are_text_and_neutralised_as_text() -> None:
    class Label:
        def __str__(self) -> str:
            return "-label"

    assert neutralise_cell(Label()) == "'-label"


def test_numpy_numbers_stay_numbers() -> None:
    numpy = pytest.importorskip("numpy")
    assert neutralise_cell(numpy.int64(-3)) == -3
    assert read_csv(csv_bytes(["n"], [[numpy.int64(-3), numpy.float64(-0.5)]])) == [["n"], ["-3", "-0.5"]]


def test_the_header_is_neutralised_and_the_file_is_utf8_csv() -> None:
    data = csv_bytes(["=label", "Clicks"], [['Café, "Nord"', 3], ["=1", -1]])
    assert data == b'\'=label,Clicks\r\n"Caf\xc3\xa9, ""Nord""",3\r\n\'=1,-1\r\n'
