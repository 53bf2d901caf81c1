"""Request input at the edge: a JSON body or the query string, checked by its model, or a clear 400.

Every request model (:mod:`.models`) is validated here and nowhere else, so
services see values of the right type and size. Pydantic's errors become the
API's own: ``{"error": {"code", "message"}}`` naming the field, with the
codes clients already know:

- ``body_too_large`` / ``invalid_json``: the body is over 64 KiB, or not a JSON object;
- ``unknown_field``: a body field the model does not declare;
- ``missing_field``: a required body field absent or null;
- ``invalid_field``: a body field of the wrong type, too long or out of range;
- ``invalid_query``: a query parameter that is not what its model says.

A domain rule checked by a model's validator (a conversion's amount, a
link's kind) raises its own :class:`~api.errors.ValidationError`, which
pydantic lets through unchanged, so such fields keep their specific codes.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import pydantic
from flask import request
from pydantic_core import ErrorDetails

from ..errors import ValidationError
from ..i18n import N_, Message

MAX_BODY_BYTES = 64 * 1024

Model = TypeVar("Model", bound=pydantic.BaseModel)

#: What a refused field's message says after its name, by pydantic's error type: pydantic's own
#: types, then the query models' checks (``models.query_problem``), whose error type is the key.
PROBLEMS = {
    "string_type": N_("must be a string"),
    "string_unicode": N_("must be valid Unicode text"),
    "string_too_long": N_("must be at most {max_length} characters"),
    "string_too_short": N_("must not be empty"),
    "string_pattern_mismatch": N_("must match {pattern}"),
    "int_type": N_("must be a positive whole number"),
    "greater_than_equal": N_("must be a positive whole number"),
    "bool_type": N_("must be true or false"),
    "literal_error": N_("must be one of {expected}"),
    "positive_id": N_("must be a positive whole number"),
    "whole_number_range": N_("must be a whole number from {minimum} to {maximum}"),
    "day": N_("must be a date such as 2026-01-31"),
    "choice": N_("must be one of {options}"),
}


def request_json() -> Any:
    """The request body parsed as JSON, or ``None`` when it is not JSON (or too large to read).

    Whatever the body, this never raises: nesting deep enough to exhaust the
    parser's recursion is treated as "not JSON" too, not as a server error.
    """
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    try:
        return request.get_json(silent=True, force=True)
    except RecursionError:
        return None


def is_text(value: str) -> bool:
    """True when ``value`` can be stored: encodable as UTF-8 (JSON can smuggle in lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_body(model: type[Model]) -> Model:
    """The request's JSON object as ``model``, or :class:`ValidationError` (400) saying what is wrong."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ValidationError(Message("The request body is too large."), "body_too_large")
    body = request_json()
    if not isinstance(body, dict):
        raise ValidationError(Message("The request body must be a JSON object."), "invalid_json")
    try:
        return model.model_validate(body)
    except pydantic.ValidationError as exc:
        raise body_error(model, exc.errors(include_url=False)) from None


def read_query(model: type[Model]) -> Model:
    """The query parameters ``model`` declares (an empty value counts as absent; others are ignored)."""
    names = _query_names(model)
    given = {name: value for name, value in request.args.items() if name in names and value != ""}
    try:
        return model.model_validate(given)
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ValidationError(_refusal(first), "invalid_query") from None


@functools.cache
def _query_names(model: type[pydantic.BaseModel]) -> frozenset[str]:
    """The parameter names of a query model (a field's alias when it has one, such as ``from``)."""
    return frozenset(field.alias or name for name, field in model.model_fields.items())


def body_error(model: type[pydantic.BaseModel], errors: list[ErrorDetails]) -> ValidationError:
    """The one 400 for a body ``model`` refused: unknown fields first, then the first field in declared order."""
    unknown = sorted(_name(error) for error in errors if error["type"] == "extra_forbidden")
    if unknown:
        return ValidationError(Message("Unknown field(s): {fields}.", fields=", ".join(unknown)), "unknown_field")
    first = errors[0]
    name = _name(first)
    field = model.model_fields.get(name)
    if first["type"] == "missing" or (first["input"] is None and field is not None and field.is_required()):
        return ValidationError(Message("{field} is required.", field=name), "missing_field")
    return ValidationError(_refusal(first), "invalid_field")


def _name(error: ErrorDetails) -> str:
    return str(error["loc"][0]) if error["loc"] else "body"


def _refusal(error: ErrorDetails) -> Message:
    """The sentence naming the field and what is wrong with it, translatable as a whole and in its parts."""
    return Message("{field} {problem}.", field=_name(error), problem=_problem(error))


def _problem(error: ErrorDetails) -> str:
    template = PROBLEMS.get(error["type"])
    if template is None:  # pragma: no cover - every error type the models can raise is in PROBLEMS
        return error["msg"]
    context = dict(error.get("ctx", {}))
    expected = context.get("expected")
    if error["type"] == "literal_error" and isinstance(expected, str) and " or " in expected:
        # pydantic writes "'a', 'b' or 'c'": the "or" is a word to translate.
        first, last = expected.rsplit(" or ", 1)
        context["expected"] = Message("{first} or {last}", first=first, last=last)
    return Message(template, **context)
