"""Turns every error into the API's error shape (JSON under /api, a small HTML page elsewhere).

This is the one place where a :class:`~api.errors.TasklinkError` becomes an
HTTP answer; a database that is unreachable or locked becomes a 503 with
``Retry-After``; unexpected exceptions are logged and answered with a 500
that reveals nothing.
"""

from __future__ import annotations

import html
import sqlite3

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy import exc as sql_errors
from werkzeug.exceptions import HTTPException

from .. import i18n, outages
from ..errors import TasklinkError
from ..i18n import Message
from .language import language_headers as _language_headers


def _driver_errors() -> tuple[type[Exception], ...]:
    errors: list[type[Exception]] = [sqlite3.OperationalError]
    try:
        import psycopg

        errors.append(psycopg.OperationalError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(errors)


DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sql_errors.OperationalError,
    sql_errors.InterfaceError,
    sql_errors.TimeoutError,
    *_driver_errors(),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "rule_refused",
    429: "rate_limited",
}

NOT_FOUND_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""


def wants_json() -> bool:
    """API paths answer JSON; redirects and pages answer HTML."""
    return request.path.startswith("/api/")


#: The title of a visitor's error page, per status.
PAGE_TITLES = {
    404: Message("Link not found"),
    503: Message("Please try again in a moment"),
}
PAGE_TITLE_OTHER = Message("Something went wrong")


def error_page(status: int, message: str, accept_language: str | None = None) -> Response:
    """The small HTML page a visitor sees (redirects and pages outside the API), in the visitor's language.

    Needs no request context: the redirect app passes its ``Accept-Language`` header itself.
    """
    locale = i18n.negotiate(accept_language)
    title = i18n.localize(PAGE_TITLES.get(status, PAGE_TITLE_OTHER), locale)
    page = NOT_FOUND_PAGE.format(
        lang=i18n.LANGUAGE_TAGS[locale], title=html.escape(title), message=html.escape(i18n.localize(message, locale))
    )
    response = Response(page, status=status, mimetype="text/html")
    _language_headers(response, locale)
    if status == 503:
        response.headers["Retry-After"] = RETRY_AFTER
    return response


def error_response(status: int, code: str, message: str) -> Response:
    """The API's error shape, or an HTML page outside the API; ``message`` in the caller's language, ``code`` never."""
    accept_language = request.headers.get("Accept-Language")
    if not wants_json():
        return error_page(status, message, accept_language)
    locale = i18n.negotiate(accept_language)
    response = jsonify({"error": {"code": code, "message": i18n.localize(message, locale)}})
    response.status_code = status
    _language_headers(response, locale)
    if status == 503:
        response.headers["Retry-After"] = RETRY_AFTER
    return response


#: Seconds a client is asked to wait after a 503 (a database or disk that failed usually
#: comes back within seconds; the redirect serves known links from memory meanwhile).
RETRY_AFTER = "5"


def _tasklink_error(exc: TasklinkError) -> Response:
    return error_response(exc.status, exc.code, exc.message)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "error")
    message: str = HTTP_MESSAGES.get(status) or exc.description or exc.name
    if status == 404 and not wants_json():
        message = LINK_NOT_FOUND_MESSAGE
    elif status == 400 and "JSON" in (exc.description or ""):
        message = INVALID_JSON_MESSAGE
    response = error_response(status, code, message)
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    for header, value in exc.get_headers() if status == 429 else []:
        if header.lower() == "retry-after":
            response.headers[header] = value
    return response


#: What a client is told while the database is unavailable.
DATABASE_UNAVAILABLE_MESSAGE = Message("Tasklink's database is unavailable right now; please try again in a moment.")
#: What a client is told when something unexpected failed (the details are in the log, never in the answer).
INTERNAL_ERROR_MESSAGE = Message("Something went wrong on our side. Please try again.")
METHOD_NOT_ALLOWED_MESSAGE = Message("The method is not allowed for the requested URL.")
INVALID_JSON_MESSAGE = Message("The request body must be valid JSON.")
LINK_NOT_FOUND_MESSAGE = Message("This link does not exist or is no longer valid.")
#: Our own sentence for the HTTP errors Flask and werkzeug raise (theirs are English only).
HTTP_MESSAGES = {
    400: Message("The request could not be understood."),
    404: Message("There is nothing at this address."),
    405: METHOD_NOT_ALLOWED_MESSAGE,
    413: Message("The request body is too large."),
    415: Message("The request body must be JSON (Content-Type: application/json)."),
    429: Message("Too many requests; please wait a moment and try again."),
}


def report_database_unavailable(exc: Exception) -> None:
    """Log that the database is unreachable or locked: one line a minute per kind and worker."""
    text = str(exc).lower()
    kind = "locked" if "locked" in text or "lock timeout" in text else "unreachable"
    outages.report(f"api-database-{kind}", f"API: the database is {kind}; answering 503", exc)


def _database_unavailable(exc: Exception) -> Response:
    """The database is unreachable, locked or timed out: 503 with Retry-After, one log line a minute per kind."""
    report_database_unavailable(exc)
    return error_response(503, "service_unavailable", DATABASE_UNAVAILABLE_MESSAGE)


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", INTERNAL_ERROR_MESSAGE)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(TasklinkError, _tasklink_error)
    # A database that cannot be reached or is locked is the database's state, not a bug:
    # SQLAlchemy's errors for it, a pool that has no connection to give, and the drivers'
    # own (the redirect's and the click log's raw connections).
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, _database_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
