"""The OpenAPI 3 document of the whole API, served at ``GET /api/v1/openapi.json``.

Each blueprint module keeps the description of its own paths next to its
routes, in ``OPENAPI_PATHS`` (and shared shapes in ``OPENAPI_SCHEMAS``); this
module merges them. ``tests/test_openapi.py`` checks that every route Flask
serves under ``/api/v1`` is described and that responses validate.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

from flask import Blueprint, current_app, jsonify

bp = Blueprint("openapi", __name__)

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def error_response(description: str) -> dict[str, Any]:
    """A response object with the shared error shape."""
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


#: Ids are 32-bit database integers: every id the API answers with is at most this.
MAX_ID = 2**31 - 1
ID_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
#: An id a client sends (path, query or body): any positive whole number. One
#: beyond MAX_ID is valid input that matches no row, answered like any unknown id.
ID_INPUT_SCHEMA: dict[str, Any] = {
    "type": "integer",
    "minimum": 1,
    "description": f"Any positive whole number; one no row has (including any above {MAX_ID}) is not found",
}

_STATUS_TEXT = {
    400: "Malformed input: bad JSON, a wrong type, an unknown field or a value too long",
    401: "No credentials, or wrong, expired or revoked ones",
    403: "Not allowed",
    404: "Not found, or not the caller's",
    409: "Conflict with existing data",
    422: "Well-formed, but a rule refuses it (the message says which)",
    429: "Rate limited; Retry-After says when to try again",
    503: "The database (or this node's click log) is unavailable right now; Retry-After says when to try again. "
         "Answered at once, never after waiting on the failing part",
}


def json_response(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A response object with a JSON body of ``schema``."""
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def ref(name: str) -> dict[str, str]:
    """A reference to a shared schema in ``components``."""
    return {"$ref": f"#/components/schemas/{name}"}


def errors(*statuses: int) -> dict[str, Any]:
    """Response objects for the given error statuses, all in the shared error shape.

    Every operation may also answer 503 (its database unavailable), so that is always included.
    """
    responses: dict[str, Any] = {}
    for status in (*statuses, *(() if 503 in statuses else (503,))):
        response = error_response(_STATUS_TEXT[status])
        if status in (429, 503):
            response["headers"] = {
                "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
            }
        responses[str(status)] = response
    return responses


def json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    """A request body object with a JSON ``schema``."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {
        "get": {
            "summary": "This document",
            "operationId": "getOpenApi",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }
    }
}


def build_document(modules: list[ModuleType]) -> dict[str, Any]:
    """Merge the paths and schemas of the given blueprint modules into one document."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for module in modules:
        for path, operations in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Tasklink API",
            "version": "1.0.0",
            "description": "Signed tracking links, redirects, conversions and reports. Errors share one shape: "
            '{"error": {"code", "message"}}.',
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "partnerToken": {"type": "http", "scheme": "bearer", "description": "Token from POST /api/v1/auth/login"},
                "advertiserKey": {"type": "http", "scheme": "bearer", "description": "The advertiser's API key"},
            },
        },
    }


@bp.get("/api/v1/openapi.json")
def openapi_document():  # type: ignore[no-untyped-def]
    """Serve the merged document (built once per app)."""
    document = current_app.extensions.get("tasklink.openapi")
    if document is None:
        from . import MODULES

        document = current_app.extensions["tasklink.openapi"] = build_document(MODULES)
    return jsonify(document)
