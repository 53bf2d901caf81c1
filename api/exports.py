"""CSV exports a spreadsheet cannot run: every CSV Tasklink writes goes through :func:`csv_bytes`.

Cells of a report hold text that visitors and partners chose (a Shared ID
comes straight from a clicked URL's query). A spreadsheet opening the CSV
reads a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula, and a
leading tab or carriage return can hide one; ``=HYPERLINK(...)`` or worse
would run on the advertiser's machine. As OWASP recommends for CSV injection,
such a text cell is written with a single quote in front, which spreadsheets
show as text and do not evaluate. Numbers we produce ourselves are written as
they are: a negative payout is a number, not a formula. Only the first
character is checked, as in OWASP's rule.
"""

from __future__ import annotations

import csv
import io
import numbers
from collections.abc import Iterable, Sequence

#: A text cell starting with one of these is a formula (or hides one) to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: object) -> object:
    """A cell as it is safe to write to CSV.

    Numbers (``int``, ``float``, ``Decimal``, numpy's) and ``None`` come back
    unchanged. Anything else is text: when it starts with one of
    :data:`FORMULA_STARTS` it gets a single quote in front, otherwise it comes
    back as it is (as ``str``).
    """
    if value is None or isinstance(value, numbers.Number):
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file (UTF-8, RFC 4180 quoting and line ends) with every cell passed through :func:`neutralise_cell`.

    ``None`` is written as an empty cell. The header is neutralised too: column
    names can come from data (a label chosen by a user).
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([neutralise_cell(name) for name in header])
    writer.writerows([neutralise_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
