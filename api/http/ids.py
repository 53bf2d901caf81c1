"""Database ids at the edge: the range the API answers with, and what lies beyond it.

Ids are 32-bit database integers. A client may send any positive whole
number; one beyond :data:`MAX_ID` is well-formed input that no row has, so it
becomes :data:`NO_ID` and the lookup answers its usual "not found" (or an
empty list for a filter), and the database driver never sees a number it
cannot bind.
"""

from __future__ import annotations

#: Every id the API answers with is at most this.
MAX_ID = 2**31 - 1
#: What an id beyond the database's range becomes: no row has it.
NO_ID = 0


def id_from_digits(digits: str) -> int:
    """ASCII digits as an id: :data:`NO_ID` for 0 and for anything beyond :data:`MAX_ID` (however long)."""
    significant = digits.lstrip("0")
    # Checked by length first: int() refuses strings of more than 4300 digits.
    if not significant or len(significant) > len(str(MAX_ID)) or int(significant) > MAX_ID:
        return NO_ID
    return int(significant)


def id_in_range(value: int) -> int:
    """A positive id as the database sees it: itself, or :data:`NO_ID` beyond :data:`MAX_ID`."""
    return value if value <= MAX_ID else NO_ID
