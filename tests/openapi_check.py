"""Checking real answers against the OpenAPI document, for every test file.

``conftest.app`` makes :class:`ValidatingClient` the app's test client, so
every ``/api/v1`` response any test produces must be documented: its path and
method, its status code, and (for JSON) its body against the response schema.
A test that exercises an undocumented answer fails where it happens.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30Validator, OAS31Validator, oas30_format_checker, oas31_format_checker
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.test import TestResponse

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
#: Answers Flask gives before any view runs; documented once, not per operation.
GENERIC_STATUSES = {"404", "405"}


class UndocumentedResponse(AssertionError):
    """An /api/v1 answer the OpenAPI document does not describe."""


def openapi_path(rule: str) -> str:
    """``/api/v1/tasks/<id:task_id>`` → ``/api/v1/tasks/{task_id}``."""
    return _CONVERTER.sub(r"{\1}", rule)


def document_of(app: Flask) -> dict[str, Any]:
    """The app's OpenAPI document, as served."""
    with app.test_request_context():
        response = app.view_functions["openapi.openapi_document"]()
    return response.get_json()  # type: ignore[no-any-return]


def check_response(app: Flask, document: dict[str, Any], method: str, path: str, response: TestResponse) -> None:
    """Raise :class:`UndocumentedResponse` when ``response`` does not match the document."""
    if not path.startswith("/api/v1/") or method in ("OPTIONS", "HEAD"):
        return
    try:
        rule, _args = app.url_map.bind("localhost").match(path, method, return_rule=True)
    except (NotFound, MethodNotAllowed):
        # No such route: Flask's own 404/405, in the shared error shape.
        _check_error_shape(method, path, response)
        return
    template = openapi_path(rule.rule)
    operation = document["paths"].get(template, {}).get(method.lower())
    if operation is None:
        raise UndocumentedResponse(f"{method} {template} is served but not in the OpenAPI document")
    status = str(response.status_code)
    described = operation["responses"].get(status)
    if described is None:
        if status in GENERIC_STATUSES:
            _check_error_shape(method, path, response)
            return
        raise UndocumentedResponse(
            f"{method} {template} answered {status}, which the document does not list "
            f"({', '.join(operation['responses'])}); body: {response.get_data(as_text=True)[:300]}"
        )
    content = described.get("content")
    if not content:
        if response.get_data():
            raise UndocumentedResponse(f"{method} {template} {status} has a body but the document describes none")
        return
    if response.mimetype not in content:
        raise UndocumentedResponse(f"{method} {template} {status} answered {response.mimetype}, not {list(content)}")
    schema = content[response.mimetype].get("schema")
    if schema is not None and response.is_json:
        validate(document, schema, response.get_json(), f"{method} {template} {status}")


def _check_error_shape(method: str, path: str, response: TestResponse) -> None:
    if response.status_code >= 400 and response.is_json:
        body = response.get_json()
        if not (isinstance(body, dict) and set(body) == {"error"} and {"code", "message"} <= set(body["error"])):
            raise UndocumentedResponse(f"{method} {path} {response.status_code} is not in the error shape: {body}")


def validate(document: dict[str, Any], schema: dict[str, Any], instance: Any, where: str = "") -> None:
    """Validate ``instance`` against a ``schema`` of ``document`` (refs resolved in it), by the document's version."""
    root = {**schema, "components": document.get("components", {})}
    if str(document.get("openapi", "")).startswith("3.0"):
        validator = OAS30Validator(root, format_checker=oas30_format_checker)
    else:
        validator = OAS31Validator(root, format_checker=oas31_format_checker)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        raise UndocumentedResponse(
            f"{where}: response does not match the document at {list(first.path)}: {first.message}"
        )


class ValidatingClient(FlaskClient):
    """A test client that checks every /api/v1 answer against the app's OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # type: ignore[override]
        response = super().open(*args, **kwargs)
        request = response.request
        app: Flask = self.application
        document = app.extensions.get("tasklink.test-openapi")
        if document is None:
            document = app.extensions["tasklink.test-openapi"] = document_of(app)
        check_response(app, document, request.method, request.path, response)
        return response
