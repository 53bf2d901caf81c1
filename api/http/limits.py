"""Rate limits, all in one place: login attempts, link creation and QR codes.

Limits are read from the config at request time (``RATELIMIT_LOGIN``,
``RATELIMIT_LINKS``, ``RATELIMIT_QR``, in the ``limits`` library's notation such as
``10/minute``) and counted in fixed windows in ``RATELIMIT_STORAGE_URI`` —
``memory://`` for one process, ``redis://…`` so several app nodes share one
count. ``RATELIMIT_ENABLED = False`` turns them all off.

- Login: failed attempts (answers 401) are counted per e-mail *and* per client
  address; once either count reaches the limit, every attempt (right password
  or not) is answered 429 until the window passes. Successful sign-ins cost
  nothing, so a person who types the password right is never locked out by
  their own earlier use.
- Link creation and QR codes: every attempt is counted per partner (per
  address before sign-in), which lets a busy person through and stops a script.

A breach answers the API's error shape with ``Retry-After``. When the
shared storage is unreachable, each node counts in its own memory until it
answers again.

Only the decorated views pay for a limit: no hook runs on other
requests. Counting goes through the ``limits`` library for a shared storage
(under the keys Flask-Limiter used: ``LIMITER/<key>/<scope>/<limit>``), and
through :class:`MemoryWindows` in ``memory://``, which needs no timer thread
to expire its windows.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, after_this_request, current_app, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from ..errors import TasklinkError
from ..i18n import Message
from .errors import error_response
from .validation import is_text, request_json

F = TypeVar("F", bound=Callable[..., object])

EXTENSION_KEY = "tasklink.rate-limits"


def _address_key() -> str:
    return "addr:" + (request.remote_addr or "unknown")


def _login_email_key() -> str:
    """The e-mail of a login body, normalised as sign-in does (``email:-`` when there is none).

    A body without an e-mail is refused with 400 before any password check,
    so its shared bucket only ever counts the odd blank e-mail.
    """
    body = request_json()
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip() or not is_text(email):
        return "email:-"
    return "email:" + email.strip().lower()[:254]


def _partner_key() -> str:
    """The partner a valid token names; a request without one is counted by address (and then refused).

    Only the token's signature is checked here, not the account (the view
    does that in its own transaction): a signed-out session's requests count
    against its partner, and are refused all the same.
    """
    from .auth import partner_claim

    try:
        return f"partner:{partner_claim().partner_id}"
    except TasklinkError:
        return _address_key()


def _login_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LOGIN") or "10/minute")


def too_many(reset_at: float) -> Response:
    """The 429 answer, with ``Retry-After`` in whole seconds (at least 1)."""
    retry_after = max(1, int(reset_at - time.time()))
    message = (
        Message("Too many attempts; try again in 1 second.")
        if retry_after == 1
        else Message("Too many attempts; try again in {seconds} seconds.", seconds=retry_after)
    )
    response = error_response(429, "rate_limited", message)
    response.headers["Retry-After"] = str(retry_after)
    return response


class MemoryWindows:
    """Fixed windows counted in this process: key → [end of the window, count].

    Expired windows are dropped when the table has grown to twice its size
    after the last sweep, so it stays bounded without a timer thread.
    """

    def __init__(self) -> None:
        self._windows: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self._sweep_at = 1024

    def hit(self, key: str, amount: int, seconds: int) -> float | None:
        """Count one attempt; ``None`` when it is within ``amount`` per window, else when the window ends."""
        now = time.time()
        with self._lock:
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                if len(self._windows) >= self._sweep_at:
                    self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
                    self._sweep_at = max(1024, 2 * len(self._windows))
                window = self._windows[key] = [now + seconds, 0]
            window[1] += 1
            return None if window[1] <= amount else float(window[0])

    def test(self, key: str, amount: int) -> float | None:
        """``None`` while another attempt fits in the window (nothing counted), else when the window ends."""
        window = self._windows.get(key)
        if window is None or window[0] <= time.time() or window[1] < amount:
            return None
        return float(window[0])


@functools.lru_cache(maxsize=16)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


class RateLimits:
    """Attempts per key and scope in fixed windows, in one storage, with an in-memory fallback.

    A shared storage (Redis) is used through ``limits``; when it fails, this
    process counts in memory and tries the storage again after 1, 2, 4 … up
    to 32 seconds (a storage that hangs costs one slow request per pause,
    not one per request).
    """

    MAX_PAUSE = 32.0

    def __init__(self, storage_uri: str, logger: Any) -> None:
        self._local = MemoryWindows()
        self._shared = (
            None if storage_uri.startswith("memory://") else FixedWindowRateLimiter(storage_from_string(storage_uri))
        )
        self._retry_at = 0.0
        self._pause = 1.0
        self._logger = logger

    def _shared_up(self) -> bool:
        return self._shared is not None and time.monotonic() >= self._retry_at

    def _shared_failed(self) -> None:
        self._logger.warning("Rate limit storage unreachable: counting in this process's memory")
        self._retry_at = time.monotonic() + self._pause
        self._pause = min(self._pause * 2, self.MAX_PAUSE)

    def hit(self, limit: str, key: str, scope: str) -> float | None:
        """Count one attempt under ``limit``; ``None`` when allowed, else when the window ends."""
        item = _parsed(limit)
        if self._shared_up():
            assert self._shared is not None
            try:
                if self._shared.hit(item, key, scope):
                    self._pause = 1.0
                    return None
                return float(self._shared.get_window_stats(item, key, scope).reset_time)
            except Exception:  # any storage failure: count locally rather than answer 500
                self._shared_failed()
        return self._local.hit(item.key_for(key, scope), item.amount, item.get_expiry())

    def test(self, limit: str, key: str, scope: str) -> float | None:
        """``None`` while another attempt is allowed (nothing counted), else when the window ends."""
        item = _parsed(limit)
        if self._shared_up():
            assert self._shared is not None
            try:
                if self._shared.test(item, key, scope):
                    self._pause = 1.0
                    return None
                return float(self._shared.get_window_stats(item, key, scope).reset_time)
            except Exception:  # as in hit
                self._shared_failed()
        return self._local.test(item.key_for(key, scope), item.amount)


def _rate_limits() -> RateLimits | None:
    """This app's counters, or ``None`` when rate limits are turned off."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


def login_limits(view: F) -> F:
    """Failed sign-ins per e-mail and per client address (``RATELIMIT_LOGIN``)."""

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        counters = _rate_limits()
        if counters is None:
            return view(*args, **kwargs)
        limit = _login_limit()
        keys = (_login_email_key(), _address_key())
        waits = [wait for wait in (counters.test(limit, key, "login") for key in keys) if wait is not None]
        if waits:
            return too_many(max(waits))

        @after_this_request
        def count_failure(response: Response) -> Response:
            # Only failed sign-ins count (the 401 may come from an error handler).
            if response.status_code == 401:
                for key in keys:
                    counters.hit(limit, key, "login")
            return response

        return view(*args, **kwargs)

    return limited  # type: ignore[return-value]


def partner_limit(setting: str, default: str, scope: str) -> Callable[[F], F]:
    """Every attempt counted per partner (per address before sign-in) under the config's ``setting``."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            counters = _rate_limits()
            if counters is not None:
                limit = str(current_app.config.get(setting) or default)
                wait = counters.hit(limit, _partner_key(), scope)
                if wait is not None:
                    return too_many(wait)
            return view(*args, **kwargs)

        return limited  # type: ignore[return-value]

    return decorate


#: Link creation per partner (``RATELIMIT_LINKS``).
link_creation_limit = partner_limit("RATELIMIT_LINKS", "120/minute", "links")
#: QR codes per partner (``RATELIMIT_QR``): drawing the largest costs about a quarter of a second.
qr_code_limit = partner_limit("RATELIMIT_QR", "60/minute", "qr")


def init_app(app: Flask) -> None:
    """Give the app its counters; their storage comes from ``RATELIMIT_STORAGE_URI``."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.extensions[EXTENSION_KEY] = RateLimits(app.config["RATELIMIT_STORAGE_URI"], app.logger)
