"""The OpenAPI 3.1 document of the whole API, served at ``GET /api/v1/openapi.json``.

It is built from the declarations at the views (:func:`.apidoc.operation`)
and their models (:mod:`.models`), once per app. ``tests/test_openapi.py``
checks that every route Flask serves under ``/api/v1`` is described and that
responses validate.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from .apidoc import Answer, build_document, operation, respond
from .models import OpenApiDocument

bp = Blueprint("openapi", __name__)


@bp.get("/api/v1/openapi.json")
@operation(
    "getOpenApi",
    "This document",
    caller=None,
    tag="operations",
    responses={200: Answer("The OpenAPI 3.1 document", OpenApiDocument)},
)
def openapi_document() -> Response:
    """Serve the document (built once per app)."""
    document = current_app.extensions.get("tasklink.openapi")
    if document is None:
        document = current_app.extensions["tasklink.openapi"] = OpenApiDocument(build_document(current_app))
    return respond(document)
