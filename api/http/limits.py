"""Rate limits (Flask-Limiter), all in one place: login attempts and link creation.

Limits are read from the config at request time (``RATELIMIT_LOGIN``,
``RATELIMIT_LINKS``) and counted in ``RATELIMIT_STORAGE_URI`` — ``memory://``
for one process, ``redis://…`` so several app nodes share one count.

- Login: failed attempts (answers 401) are counted per e-mail *and* per client
  address; once either count reaches the limit, every attempt (right password
  or not) is answered 429 until the window passes. Successful sign-ins cost
  nothing, so a person who types the password right is never locked out by
  their own earlier use.
- Link creation: every attempt is counted per partner (per address before
  sign-in), which lets a busy person through and stops a script.

A breach answers the API's error shape with ``Retry-After``. When the
shared storage is unreachable, each node counts in its own memory until it
answers again.
"""
from __future__ import annotations

import time
from typing import Callable, TypeVar

from flask import Flask, Response, current_app
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

from ..errors import TasklinkError
from .errors import error_response
from .parsing import is_text, request_json

F = TypeVar("F", bound=Callable[..., object])


def _address_key() -> str:
    return "addr:" + (get_remote_address() or "unknown")


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


def _links_limit() -> str:
    return str(current_app.config.get("RATELIMIT_LINKS") or "120/minute")


def _failed_sign_in(response: Response) -> bool:
    return response.status_code == 401


def _breach(limit: RequestLimit) -> Response:
    retry_after = max(1, int(limit.reset_at - time.time()))
    response = error_response(
        429, "rate_limited", f"Too many attempts; try again in {retry_after} second{'s' if retry_after != 1 else ''}."
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


limiter = Limiter(_address_key, on_breach=_breach)


def login_limits(view: F) -> F:
    """Failed sign-ins per e-mail and per client address (``RATELIMIT_LOGIN``)."""
    view = limiter.limit(
        _login_limit, key_func=_login_email_key, deduct_when=_failed_sign_in, methods=["POST"], scope="login"
    )(view)
    return limiter.limit(  # type: ignore[no-any-return]
        _login_limit, key_func=_address_key, deduct_when=_failed_sign_in, methods=["POST"], scope="login"
    )(view)


def link_creation_limit(view: F) -> F:
    """Link creation per partner (``RATELIMIT_LINKS``)."""
    return limiter.limit(_links_limit, key_func=_partner_key, methods=["POST"], scope="links")(view)  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    """Attach the limiter; its storage comes from ``RATELIMIT_STORAGE_URI``."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    # Redis down: count in this process's memory until it is back, rather than
    # answering 500 to every sign-in and link creation (the limits still hold per node).
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
