"""Failed sign-in attempts counted outside an HTTP request (the Streamlit admin).

The API's login is limited in :mod:`api.http.limits`; the
admin signs advertisers in without a Flask request, so it counts failures
here with the same ``limits`` library, limit (``RATELIMIT_LOGIN``) and storage
(``RATELIMIT_STORAGE_URI``). As in the API, only failures count, and once the
limit is reached every attempt for that e-mail is refused until the window passes.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..errors import AuthenticationError
from ..i18n import Message

NAMESPACE = "admin-sign-in"


class SignInLimiter:
    """Counts failed sign-ins per e-mail; :meth:`check` refuses once the limit is reached."""

    def __init__(self, storage_uri: str = "memory://", limit: str = "10/minute") -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._item: RateLimitItem = parse(limit)

    @staticmethod
    def _key(email: object) -> str:
        return email.strip().lower()[:254] if isinstance(email, str) and email.strip() else "-"

    def check(self, email: object) -> None:
        """Raise :class:`AuthenticationError` while this e-mail has too many recent failures."""
        key = self._key(email)
        if not self._limiter.test(self._item, NAMESPACE, key):
            reset_at, _remaining = self._limiter.get_window_stats(self._item, NAMESPACE, key)
            wait = max(1, int(reset_at - time.time()))
            raise AuthenticationError(
                Message("Too many failed sign-ins for this e-mail; try again in 1 second.")
                if wait == 1
                else Message("Too many failed sign-ins for this e-mail; try again in {seconds} seconds.", seconds=wait),
                "rate_limited",
            )

    def failed(self, email: object) -> None:
        """Count one failed sign-in for this e-mail."""
        self._limiter.hit(self._item, NAMESPACE, self._key(email))
