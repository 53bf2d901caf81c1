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
