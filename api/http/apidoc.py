"""Each JSON operation declared once, at its view: who may call it, its body, query and answers.

:func:`operation` wraps a view: it authenticates the caller, validates the
body and query with their models (:mod:`.validation`) and hands the view
``caller``, ``body`` and ``query``. :func:`respond` turns a response model
into the answer. :func:`build_document` reads the same declarations off the
app's URL map and writes the OpenAPI 3.1 document, whose schemas are
pydantic's own JSON Schema of the models (OpenAPI 3.1 *is* JSON Schema
2020-12, so they go in unchanged).

Nothing is built per request: the wrapper only calls what was chosen when the
module was imported, and the document is built once per app.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Flask, Response
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import CoreSchema

from . import auth
from .ids import MAX_ID
from .language import language_headers, request_locale
from .models import Error, QueryModel, RequestModel
from .validation import read_body, read_query

#: Who may call an operation. ``partner_claim``: a partner whose token's signature and expiry are
#: checked before the body is read, and whose account the view checks inside its own transaction
#: (link creation: one unit of work per link).
Caller = Literal["partner", "partner_claim", "advertiser", "partner_or_advertiser"]

_AUTHENTICATE: dict[str, Callable[[], object]] = {
    "partner": auth.current_partner,
    "partner_claim": auth.partner_claim,
    "advertiser": auth.current_advertiser,
    "partner_or_advertiser": auth.current_identity,
}
_SECURITY: dict[str | None, list[dict[str, list[str]]]] = {
    None: [],
    "partner": [{"partnerToken": []}],
    "partner_claim": [{"partnerToken": []}],
    "advertiser": [{"advertiserKey": []}],
    "partner_or_advertiser": [{"partnerToken": []}, {"advertiserKey": []}],
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
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}
#: A path parameter of the ``id`` converter: any positive whole number (see :class:`api.http.IdConverter`).
_PATH_ID = {
    "type": "integer",
    "minimum": 1,
    "description": f"Any positive whole number; one no row has (including any above {MAX_ID}) is not found",
}
_CONVERTER = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")
#: Every operation's sentences follow Accept-Language: declared once, referred to by each operation and answer.
_LANGUAGE_PARAMETER = {"$ref": "#/components/parameters/AcceptLanguage"}
_LANGUAGE_HEADER = {"Content-Language": {"$ref": "#/components/headers/ContentLanguage"}}
_LANGUAGE_COMPONENTS = {
    "parameters": {
        "AcceptLanguage": {
            "name": "Accept-Language",
            "in": "header",
            "required": False,
            "description": "The language of the answer's sentences (an error's message, a reason): Simplified "
            "Chinese for any zh tag but a Traditional one (zh-TW, zh-HK, zh-MO, zh-Hant), otherwise English. "
            "Codes never change with it",
            "schema": {"type": "string", "examples": ["zh-CN,zh;q=0.9,en;q=0.8"]},
        }
    },
    "headers": {
        "ContentLanguage": {
            "description": "The language of the answer's sentences: en or zh-CN (with Vary: Accept-Language)",
            "schema": {"type": "string", "enum": ["en", "zh-CN"]},
        }
    },
}


@dataclass(frozen=True)
class Answer:
    """One documented success answer: its meaning, its body's model (``None``: no body) and its headers."""

    description: str
    model: type[BaseModel] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # name → what it says (a string)
    #: A body that is not JSON (an image): its media types, each answered as the view chooses; ``model`` is then None.
    media_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """What :func:`operation` declared for a view."""

    operation_id: str
    summary: str
    responses: Mapping[int, Answer]
    errors: tuple[int, ...]
    caller: Caller | None
    tag: str
    description: str | None
    body: type[RequestModel] | None
    query: type[QueryModel] | None

    def statuses(self) -> list[int]:
        """Every error status the operation may answer: those given, plus what its declaration implies."""
        implied = set(self.errors)
        if self.body is not None or self.query is not None:
            implied.add(400)
        if self.caller is not None:
            implied.add(401)
        implied.add(503)  # every operation may find its database unavailable
        return sorted(implied - set(self.responses))


def operation(
    operation_id: str,
    summary: str,
    *,
    responses: Mapping[int, Answer],
    errors: tuple[int, ...] = (),
    caller: Caller | None = "partner",
    tag: str = "partner",
    description: str | None = None,
    body: type[RequestModel] | None = None,
    query: type[QueryModel] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a JSON operation; the view then receives ``caller``, ``body`` and ``query`` as declared.

    The caller is authenticated before the body is read, so a request without
    credentials is a 401 whatever it sends.
    """
    spec = Operation(operation_id, summary, responses, errors, caller, tag, description, body, query)
    authenticate = _AUTHENTICATE[caller] if caller is not None else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def handle(**kwargs: Any) -> Any:
            if authenticate is not None:
                kwargs["caller"] = authenticate()
            if body is not None:
                kwargs["body"] = read_body(body)
            if query is not None:
                kwargs["query"] = read_query(query)
            return view(**kwargs)

        handle.operation = spec  # type: ignore[attr-defined]
        return handle

    return decorate


def respond(model: BaseModel, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """The JSON answer of ``model``, by its fields' API names, in the caller's language (``Content-Language``)."""
    response = Response(model.model_dump_json(by_alias=True), status, headers, mimetype="application/json")
    language_headers(response, request_locale())
    return response


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declaration of a view, through any decorators wrapped around it."""
    current: Any = view
    while current is not None:
        spec = getattr(current, "operation", None)
        if isinstance(spec, Operation):
            return spec
        current = getattr(current, "__wrapped__", None)
    return None


# --- the document -------------------------------------------------------------------------


class _Schema(GenerateJsonSchema):
    """Pydantic's JSON Schema without a generated title on every field (names say it already)."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``/api/v1`` route of ``app``, from the declarations at the views."""
    operations: list[tuple[str, str, Operation, dict[str, str]]] = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        spec = operation_of(app.view_functions[rule.endpoint])
        if spec is None:
            raise LookupError(f"{rule.rule} is served but its view is not declared with @operation")
        path = _CONVERTER.sub(r"{\2}", rule.rule)
        converters = {name: converter or "default" for converter, name in _CONVERTER.findall(rule.rule)}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((path, method.lower(), spec, converters))

    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Error, "serialization"): None}
    for _path, _method, spec, _converters in operations:
        if spec.body is not None:
            models[(spec.body, "validation")] = None
        for answer in spec.responses.values():
            if answer.model is not None:
                models[(answer.model, "serialization")] = None
    refs, definitions = models_json_schema(
        list(models), ref_template="#/components/schemas/{model}", schema_generator=_Schema
    )

    paths: dict[str, dict[str, Any]] = {}
    for path, method, spec, converters in operations:
        paths.setdefault(path, {})[method] = _operation_object(spec, converters, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tasklink API",
            "version": "1.0.0",
            "description": "Signed tracking links, redirects, conversions and reports. Errors share one shape: "
            '{"error": {"code", "message"}}.',
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(definitions.get("$defs", {}).items())),
            "securitySchemes": {
                "partnerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Token from POST /api/v1/auth/login",
                },
                "advertiserKey": {"type": "http", "scheme": "bearer", "description": "The advertiser's API key"},
            },
            **_LANGUAGE_COMPONENTS,
        },
    }


def _operation_object(
    spec: Operation, converters: dict[str, str], refs: Mapping[tuple[Any, JsonSchemaMode], Any]
) -> dict[str, Any]:
    document: dict[str, Any] = {"summary": spec.summary, "operationId": spec.operation_id, "tags": [spec.tag]}
    if spec.description:
        document["description"] = spec.description
    document["security"] = _SECURITY[spec.caller]
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(_PATH_ID) if converter == "id" else {"type": "string"},
        }
        for name, converter in converters.items()
    ]
    if spec.query is not None:
        parameters += _query_parameters(spec.query)
    document["parameters"] = [*parameters, _LANGUAGE_PARAMETER]
    if spec.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    responses: dict[str, Any] = {}
    for status, answer in sorted(spec.responses.items()):
        response: dict[str, Any] = {"description": answer.description}
        if answer.model is not None:
            response["content"] = {"application/json": {"schema": refs[(answer.model, "serialization")]}}
            response["headers"] = dict(_LANGUAGE_HEADER)
        elif answer.media_types:
            # OpenAPI 3.1: a binary body is a string of that media type, its bytes as they are.
            response["content"] = {
                media_type: {"schema": {"type": "string", "contentMediaType": media_type}}
                for media_type in answer.media_types
            }
        if answer.headers:
            response["headers"] = {
                **response.get("headers", {}),
                **{name: {"description": text, "schema": {"type": "string"}} for name, text in answer.headers.items()},
            }
        responses[str(status)] = response
    for status in spec.statuses():
        response = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            "headers": dict(_LANGUAGE_HEADER),
        }
        if status in (429, 503):
            response["headers"] = {**_RETRY_AFTER, **_LANGUAGE_HEADER}
        responses[str(status)] = response
    document["responses"] = responses
    return document


def _query_parameters(model: type[QueryModel]) -> list[dict[str, Any]]:
    """Query parameters from the model's JSON Schema: each optional, ``null`` (absent) left out."""
    schema = model.model_json_schema(schema_generator=_Schema)
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        variants = [variant for variant in prop.pop("anyOf", []) if variant.get("type") != "null"]
        if variants:
            prop.update(variants[0])
        if prop.get("default", 0) is None:
            del prop["default"]
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False}
        if "description" in prop:
            parameter["description"] = prop.pop("description")
        parameter["schema"] = prop
        parameters.append(parameter)
    return parameters
