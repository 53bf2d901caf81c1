"""Saying that a dependency is failing, once a minute per worker and kind: not a traceback per request.

During a database outage every request fails the same way; logging each
(the redirect path once wrote 17,000 tracebacks, 15 MB, in ten seconds) buries
the one line an operator needs and can fill the disk the click log needs.
:func:`report` logs the first failure of a kind, then at most one line per
:data:`INTERVAL` seconds saying how many more there were.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("tasklink.outages")

#: Seconds between two log lines of the same kind in one process.
INTERVAL = 60.0

_lock = threading.Lock()
_last: dict[str, float] = {}
_suppressed: dict[str, int] = {}


def describe(error: BaseException) -> str:
    """The error in one short line: its type and the first line of its message."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def report(
    kind: str, what: str, error: BaseException | None = None, clock: Callable[[], float] = time.monotonic
) -> bool:
    """Log ``what`` (and the error, in one line) unless this kind was logged less than a minute ago.

    Returns whether a line was written. Never raises.
    """
    now = clock()
    with _lock:
        last = _last.get(kind)
        if last is not None and now - last < INTERVAL:
            _suppressed[kind] = _suppressed.get(kind, 0) + 1
            return False
        _last[kind] = now
        more = _suppressed.pop(kind, 0)
    detail = f" ({describe(error)})" if error is not None else ""
    since = f"; {more} more since the last report" if more else ""
    log.error("%s%s%s", what, detail, since)
    return True


def reset() -> None:
    """Forget what was reported (tests)."""
    with _lock:
        _last.clear()
        _suppressed.clear()
