"""The language of the request being answered: the API's sentences in it, and the headers that say so.

Errors are translated where they become an answer (:mod:`.errors`); the few
sentences in a success body (why links cannot be made, a postback's last
error, the macros' descriptions, a waiting conversion's note) are
:class:`~api.i18n.Message` values turned into the caller's language when the
response model is built, with the :data:`Sentence` field type.
"""

from __future__ import annotations

from typing import Annotated

from flask import Response, has_request_context, request
from pydantic import BeforeValidator

from .. import i18n


def request_locale() -> i18n.Locale:
    """The language to answer the current request in (English outside a request)."""
    if not has_request_context():
        return i18n.DEFAULT_LOCALE
    return i18n.negotiate(request.headers.get("Accept-Language"))


def say(text: object) -> object:
    """A :class:`~api.i18n.Message` in the request's language; any other value as it is."""
    if isinstance(text, i18n.Message):
        return i18n.localize(text, request_locale())
    return text


def language_headers(response: Response, locale: i18n.Locale) -> None:
    """``Content-Language`` of the answer, and ``Vary: Accept-Language`` (a shared cache must not mix languages)."""
    headers = response.headers
    headers["Content-Language"] = i18n.LANGUAGE_TAGS[locale]
    if "Vary" in headers:
        response.vary.add("Accept-Language")
    else:  # the usual case, without parsing a header set (a third of the cost of the two headers)
        headers["Vary"] = "Accept-Language"


#: A sentence for people in a response model: given as a Message, answered in the caller's language.
Sentence = Annotated[str, BeforeValidator(say)]
