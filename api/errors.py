"""One error hierarchy for every rule Tasklink enforces.

Services raise these with a machine ``code`` and a sentence fit for a user;
the HTTP layer maps them to ``{"error": {"code", "message"}}`` with
``status`` in one place (:mod:`api.http.errors`), the admin shows ``message``.
"""

from __future__ import annotations


class TasklinkError(Exception):
    """Base of every domain error: ``code`` for programs, ``message`` for people."""

    status: int = 400
    default_code: str = "error"

    def __init__(self, message: str, code: str | None = None, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.context = context

    def __str__(self) -> str:
        return self.message


class ConfigurationError(TasklinkError):
    """The app cannot start as configured."""

    status = 500
    default_code = "configuration"


class ValidationError(TasklinkError):
    """Malformed or out-of-range input (HTTP 400)."""

    status = 400
    default_code = "invalid_input"


class AuthenticationError(TasklinkError):
    """Missing, wrong, expired or revoked credentials (HTTP 401)."""

    status = 401
    default_code = "unauthorized"


class PermissionDenied(TasklinkError):
    """Known caller, action not allowed (HTTP 403)."""

    status = 403
    default_code = "forbidden"


class NotFound(TasklinkError):
    """Does not exist, or is not the caller's: the two are never told apart (HTTP 404)."""

    status = 404
    default_code = "not_found"


class Conflict(TasklinkError):
    """Clashes with existing data (HTTP 409)."""

    status = 409
    default_code = "conflict"


class ServiceUnavailable(TasklinkError):
    """Tasklink cannot do this right now (storage full or unreachable); the client may retry (HTTP 503)."""

    status = 503
    default_code = "unavailable"


class RuleRefused(TasklinkError):
    """Well-formed, but a business rule says no (HTTP 422)."""

    status = 422
    default_code = "rule_refused"


class LinkUnavailable(RuleRefused):
    """A link cannot be made for this task; ``code`` names which condition is missing."""

    default_code = "link_unavailable"


class LandingPageNotAllowed(RuleRefused):
    """The landing URL or page is not one this campaign allows."""

    default_code = "landing_page_not_allowed"
