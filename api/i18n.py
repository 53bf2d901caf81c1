"""Languages: English, the language the code is written in, and Simplified Chinese.

Text for people is written in English where it arises and translated where it
is shown, because the place that raises an error does not know who will read
it:

* services raise errors whose sentence is a :class:`Message`, a ``str`` that
  reads as English (logs, tests and every existing caller keep working) and
  remembers its template and values;
* the API translates ``message`` by the request's ``Accept-Language``
  (:func:`negotiate`), the admin by the language chosen in its sidebar, both
  with :func:`localize`; codes never change.

Catalogues are gettext ``.po`` files under ``api/translations/<locale>/LC_MESSAGES``:
``api.po`` for what the API and the services say, ``admin.po`` for the admin's
screens. They are compiled in memory the first time a language is used, so
there is no build step and no compiled file to go stale. ``flask --app api translations``
extracts new strings (Babel's ``pybabel``) and merges them into the catalogues.

Numbers, money and dates are formatted for the language with Babel's CLDR data
(:func:`format_number`, :func:`format_money`, :func:`format_date`, ...).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages import mofile, pofile
from babel.support import Translations

#: The languages Tasklink speaks, as gettext / Babel locale names. English is the source.
Locale = Literal["en", "zh_CN"]
LOCALES: Final[tuple[Locale, ...]] = ("en", "zh_CN")
DEFAULT_LOCALE: Final[Locale] = "en"
#: The BCP 47 tag of each locale, for ``Content-Language`` and ``<html lang>``.
LANGUAGE_TAGS: Final[dict[Locale, str]] = {"en": "en", "zh_CN": "zh-CN"}
#: The name of each language in itself, for a language picker.
LANGUAGE_NAMES: Final[dict[Locale, str]] = {"en": "English", "zh_CN": "中文（简体）"}

Domain = Literal["api", "admin"]
TRANSLATIONS_DIR: Final = Path(__file__).with_name("translations")

# Traditional-script tags: Simplified is a poor guess for them, English the honest one.
_TRADITIONAL: Final = re.compile(r"^zh-(tw|hk|mo|hant)\b")
_TAG: Final = re.compile(r"^[a-z]{1,8}(-[a-z0-9]{1,8})*$|^\*$")


class Message(str):
    """A sentence for people: reads as English, and can be shown in another language.

    ``Message("{field} is required.", field="order_id")`` equals
    ``"order_id is required."``; :func:`localize` looks ``template`` up in the
    catalogue and fills in the same values (values that are themselves
    messages are translated too). Mark every sentence a person may read with
    it: ``flask --app api translations`` extracts the templates from these calls.
    """

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, /, **params: object) -> Message:
        text = template.format(**params) if params else template
        self = super().__new__(cls, text)
        self.template = template
        self.params = params
        return self

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries in tests and in the click log's worker; keep the template.
        return (_rebuild, (self.template, self.params))


def N_(text: str) -> str:  # gettext's own name for it, which the extractor knows
    """Mark ``text`` for the catalogue where it is written, to be translated where it is shown."""
    return text


def _rebuild(template: str, params: dict[str, object]) -> Message:
    return Message(template, **params)


def localize(text: object, locale: str, domain: Domain = "api") -> str:
    """``text`` in ``locale``: a :class:`Message` is translated; any other text is returned as it is."""
    if not isinstance(text, Message):
        return str(text)
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return str(text)
    template = translations(locale, domain).gettext(text.template)
    if not text.params:
        return template
    values = {
        name: localize(value, locale, domain) if isinstance(value, Message) else value
        for name, value in text.params.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        # A translation that names a value the template does not have must not cost the reader the sentence.
        return str(text)


def gettext(locale: str, text: str, domain: Domain = "admin", **params: object) -> str:
    """``text`` translated into ``locale`` now, then filled with ``params`` (for screens, not for errors)."""
    translated = (
        text if locale == DEFAULT_LOCALE or locale not in LOCALES else translations(locale, domain).gettext(text)
    )
    return translated.format(**params) if params else translated


@functools.cache
def translations(locale: str, domain: Domain) -> Translations:
    """The compiled catalogue of ``domain`` in ``locale`` (compiled from its ``.po`` once per process)."""
    path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as handle:
        catalog = pofile.read_po(handle, locale=locale, domain=domain)
    compiled = io.BytesIO()
    # Fuzzy entries are guesses from a merge: never shown (gettext's own rule).
    mofile.write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=domain)


def negotiate(accept_language: str | None) -> Locale:
    """The locale to answer in for an ``Accept-Language`` header (English when nothing matches).

    Tags are taken in the client's order of preference (``q``); any Chinese
    tag but a Traditional one (``zh-TW``, ``zh-HK``, ``zh-MO``, ``zh-Hant``)
    means Simplified Chinese. A malformed header counts as absent.
    """
    if not accept_language or len(accept_language) > 500:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not _TAG.match(tag):
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if quality <= 0:
            continue
        ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        if tag == "zh" or (tag.startswith("zh-") and not _TRADITIONAL.match(tag)):
            return "zh_CN"
        if tag == "en" or tag.startswith("en-") or tag == "*":
            return "en"
    return DEFAULT_LOCALE


def babel_locale(locale: str) -> str:
    """The CLDR locale Babel formats with (``en`` is formatted as ``en_US``)."""
    return "en_US" if locale == "en" else locale if locale in LOCALES else "en_US"


def format_number(value: int | float | Decimal, locale: str, *, digits: int | None = None) -> str:
    """``value`` with the language's grouping and decimal sign (``digits`` fixes the decimals)."""
    if digits is None:
        return babel_numbers.format_decimal(value, locale=babel_locale(locale))
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=babel_locale(locale))


def format_percent(value: float, locale: str, *, digits: int = 1) -> str:
    """A rate (0.125) as a percentage for the language ("12.5%")."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return babel_numbers.format_percent(value, format=pattern, locale=babel_locale(locale))


def format_money(amount: Decimal | int | float, currency: str, locale: str) -> str:
    """``amount`` of ``currency`` written as the language writes money ("$1,234.50", "US$1,234.50")."""
    return babel_numbers.format_currency(amount, currency, locale=babel_locale(locale))


def format_date(value: dt.date, locale: str) -> str:
    """A calendar date in the language's medium form ("Dec 1, 2026", "2026年12月1日")."""
    return babel_dates.format_date(value, format="medium", locale=babel_locale(locale))


def format_datetime(value: dt.datetime, locale: str) -> str:
    """A moment in the language's medium form, in the time zone it carries (UTC for Tasklink's)."""
    return babel_dates.format_datetime(
        value, format="medium", tzinfo=value.tzinfo or dt.UTC, locale=babel_locale(locale)
    )
