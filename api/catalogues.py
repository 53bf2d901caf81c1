"""Keeping the translation catalogues in step with the code (a developer's tool, not used while serving).

``flask --app api translations`` extracts every marked sentence and merges
it into each language's ``.po`` file: new sentences arrive untranslated,
changed ones are marked fuzzy (and so not shown until a translator checks
them), removed ones become obsolete. The tests call :func:`extract` and
:func:`problems` to fail on a sentence the catalogues lack.

What is marked, per domain:

* ``api``: ``Message("...")`` and ``N_("...")`` in ``api/`` (errors, visitor pages);
* ``admin``: ``_("...")`` and ``N_("...")`` in ``admin_app.py`` and ``admin/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages import pofile
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file

from api.i18n import LOCALES, TRANSLATIONS_DIR, Domain

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
# Tasklink: the {domain} sentences in {locale}.
# Written in the code in English; refreshed with `flask --app api translations`."""
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


@dataclass(frozen=True)
class Source:
    """Where a domain's sentences are written and how they are marked."""

    paths: tuple[str, ...]
    keywords: tuple[str, ...]


SOURCES: dict[Domain, Source] = {
    "api": Source(paths=("api",), keywords=("Message", "N_")),
    "admin": Source(paths=("admin_app.py", "admin"), keywords=("_", "N_")),
}


def _python_files(source: Source) -> list[Path]:
    files: list[Path] = []
    for name in source.paths:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(path.rglob("*.py")))
    return files


def extract(domain: Domain) -> Catalog:
    """Every sentence of ``domain`` marked in the code, with where it is (a template catalogue)."""
    source = SOURCES[domain]
    template = Catalog(domain=domain, project="Tasklink", charset="utf-8")
    keywords = dict.fromkeys(source.keywords)
    for path in _python_files(source):
        for lineno, message, comments, context in extract_from_file("python", path, keywords=keywords):
            if not isinstance(message, str) or not message:
                continue  # a call with a computed first argument is not a sentence to translate
            template.add(
                message, locations=[(str(path.relative_to(ROOT)), lineno)], auto_comments=comments, context=context
            )
    return template


def catalogue_path(locale: str, domain: Domain) -> Path:
    """The ``.po`` file of ``domain`` in ``locale``."""
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def read(locale: str, domain: Domain) -> Catalog:
    """The catalogue of ``domain`` in ``locale`` as it is on disk (empty when there is none yet)."""
    path = catalogue_path(locale, domain)
    if not path.exists():
        return Catalog(locale=locale, domain=domain, project="Tasklink", charset="utf-8")
    with path.open("rb") as handle:
        return pofile.read_po(handle, locale=locale, domain=domain)


def update(domain: Domain) -> dict[str, int]:
    """Merge the code's sentences into every non-English catalogue of ``domain``; how many are untranslated per locale."""
    template = extract(domain)
    untranslated: dict[str, int] = {}
    for locale in LOCALES:
        if locale == "en":
            continue  # English is the source: its catalogue would be the code itself
        catalog = read(locale, domain)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # the header: a fuzzy header is left out when compiling, and with it the charset
        catalog.header_comment = HEADER.format(domain=domain, locale=locale)
        catalog.msgid_bugs_address = ""
        catalog.copyright_holder = ""
        path = catalogue_path(locale, domain)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            pofile.write_po(handle, catalog, width=100, include_lineno=False)
        untranslated[locale] = sum(1 for message in catalog if message.id and not message.string)
    return untranslated


def problems(locale: str, domain: Domain) -> list[str]:
    """What keeps ``domain`` from being complete in ``locale``: missing, untranslated, fuzzy, stale or mismatched entries."""
    found: list[str] = []
    template = extract(domain)
    catalog = read(locale, domain)
    wanted = {message.id for message in template if message.id}
    have = {message.id for message in catalog if message.id}
    found += [f"missing: {text!r}" for text in sorted(wanted - have)]
    found += [f"no longer in the code: {text!r}" for text in sorted(have - wanted)]
    for message in catalog:
        if not message.id or message.id not in wanted:
            continue
        if not message.string:
            found.append(f"untranslated: {message.id!r}")
        elif message.fuzzy:
            found.append(f"fuzzy (check and clear the flag): {message.id!r}")
        elif sorted(_PLACEHOLDER.findall(str(message.id))) != sorted(_PLACEHOLDER.findall(str(message.string))):
            found.append(f"placeholders differ: {message.id!r} -> {message.string!r}")
    return found
