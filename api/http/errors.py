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

from .. import outages
from ..errors import TasklinkError


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
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""


def wants_json() -> bool:
    """API paths answer JSON; redirects and pages answer HTML."""
    return request.path.startswith("/api/")


def error_page(status: int, message: str) -> Response:
    """The small HTML page a visitor sees (redirects and pages outside the API); needs no request."""
    title = {404: "Link not found", 503: "Please try again in a moment"}.get(status, "Something went wrong")
    response = Response(
        NOT_FOUND_PAGE.format(title=html.escape(title), message=html.escape(message)),
        status=status,
        mimetype="text/html",
    )
    if status == 503:
        response.headers["Retry-After"] = RETRY_AFTER
    return response


def error_response(status: int, code: str, message: str) -> Response:
    """The API's error shape, or an HTML page outside the API."""
    if not wants_json():
        return error_page(status, message)
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
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
    message = exc.description or exc.name
    if status == 404 and not wants_json():
        message = "This link does not exist or is no longer valid."
    elif status == 400 and "JSON" in (message or ""):
        message = "The request body must be valid JSON."
    response = error_response(status, code, message)
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    for header, value in exc.get_headers() if status == 429 else []:
        if header.lower() == "retry-after":
            response.headers[header] = value
    return response


#: What a client is told while the database is unavailable.
DATABASE_UNAVAILABLE_MESSAGE = "Tasklink's database is unavailable right now; please try again in a moment."


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
    return error_response(500, "internal_error", "Something went wrong on our side. Please try again.")


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
