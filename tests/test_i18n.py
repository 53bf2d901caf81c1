"""Languages: choosing one from Accept-Language, translating sentences, complete catalogues, formatting."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pytest

from api import catalogues, i18n
from api.errors import ValidationError
from api.i18n import Message


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh-SG", "zh_CN"),
        ("en-US,en;q=0.9", "en"),
        ("en;q=0.5, zh-CN;q=0.8", "zh_CN"),  # the client's preference, not the header's order
        ("zh-TW,zh-HK;q=0.9", "en"),  # Traditional readers get English rather than a guess
        ("zh-TW, zh-CN;q=0.5", "zh_CN"),
        ("fr-FR,de;q=0.8", "en"),
        ("fr, *;q=0.1", "en"),
        ("zh-CN;q=0", "en"),
        ("zh-CN;q=abc, en", "en"),
        ("<script>,zh-CN", "zh_CN"),
        ("zh-CN" + ",x" * 400, "en"),  # absurdly long: ignored, not parsed
    ],
)
def test_negotiate_picks_the_clients_most_wanted_language_we_speak(header: str | None, locale: str) -> None:
    assert i18n.negotiate(header) == locale


def test_a_message_reads_as_english_and_translates_with_its_values() -> None:
    message = Message("The request body is too large.")
    assert message == "The request body is too large." and isinstance(message, str)
    assert i18n.localize(message, "zh_CN") == "请求正文过大。"
    assert i18n.localize(message, "en") == message
    # Unknown locales and plain strings come back unchanged.
    assert i18n.localize(message, "fr") == message
    assert i18n.localize("already a plain string", "zh_CN") == "already a plain string"


def test_a_sentence_missing_from_the_catalogue_falls_back_to_english_with_its_values() -> None:
    message = Message("Not in any catalogue: {count} items.", count=3)
    assert message == "Not in any catalogue: 3 items."
    assert i18n.localize(message, "zh_CN") == "Not in any catalogue: 3 items."


def test_an_error_keeps_its_translatable_sentence_across_pickling() -> None:
    message = Message("The request body is too large.")
    copied = pickle.loads(pickle.dumps(ValidationError(message, "body_too_large")))
    assert copied.code == "body_too_large"
    assert i18n.localize(copied.message, "zh_CN") == "请求正文过大。"


@pytest.mark.parametrize("domain", sorted(catalogues.SOURCES))
def test_every_sentence_in_the_code_is_translated_into_chinese(domain: i18n.Domain) -> None:
    """Fails on a new sentence nobody translated: run `flask --app api translations`, then translate it."""
    assert catalogues.problems("zh_CN", domain) == []


def test_the_catalogue_check_finds_an_untranslated_sentence(tmp_path, monkeypatch) -> None:
    source = tmp_path / "api"
    source.mkdir()
    (source / "sample.py").write_text('from api.i18n import Message\nMessage("A sentence nobody translated.")\n')
    monkeypatch.setattr(catalogues, "ROOT", tmp_path)
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path / "translations")
    monkeypatch.setattr(catalogues, "TRANSLATIONS_DIR", tmp_path / "translations")
    assert catalogues.problems("zh_CN", "api") == ["missing: 'A sentence nobody translated.'"]
    assert catalogues.update("api") == {"zh_CN": 1}
    assert catalogues.problems("zh_CN", "api") == ["untranslated: 'A sentence nobody translated.'"]


def test_api_errors_arrive_in_the_callers_language_with_the_same_code(client) -> None:
    english = client.get("/api/v1/no-such-thing")
    chinese = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert english.status_code == chinese.status_code
    assert english.json["error"]["code"] == chinese.json["error"]["code"]
    assert english.headers["Content-Language"] == "en"
    assert chinese.headers["Content-Language"] == "zh-CN"
    assert "Accept-Language" in chinese.headers["Vary"]
    assert chinese.json["error"]["message"] != english.json["error"]["message"]
    assert any("\u4e00" <= char <= "\u9fff" for char in chinese.json["error"]["message"])


def test_a_visitors_error_page_is_in_the_visitors_language(client) -> None:
    page = client.get("/s/doesnotexist", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 404
    assert page.headers["Content-Language"] == "zh-CN"
    body = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in body and "此链接不存在或已失效。" in body and "链接不存在" in body
    english = client.get("/s/doesnotexist").get_data(as_text=True)
    assert '<html lang="en">' in english and "This link does not exist or is no longer valid." in english


def test_numbers_money_and_dates_are_written_as_each_language_writes_them() -> None:
    assert i18n.format_number(1234567, "en") == "1,234,567"
    assert i18n.format_number(Decimal("1234.5"), "zh_CN", digits=2) == "1,234.50"
    assert i18n.format_percent(0.125, "en") == "12.5%"
    assert i18n.format_money(Decimal("1234.5"), "USD", "en") == "$1,234.50"
    assert i18n.format_money(Decimal("1234.5"), "USD", "zh_CN") == "US$1,234.50"
    assert i18n.format_money(Decimal("1234.5"), "CNY", "zh_CN") == "¥1,234.50"
    assert i18n.format_date(dt.date(2026, 12, 1), "en") == "Dec 1, 2026"
    assert i18n.format_date(dt.date(2026, 12, 1), "zh_CN") == "2026年12月1日"
    moment = dt.datetime(2026, 12, 1, 15, 4, 5, tzinfo=dt.UTC)
    assert "2026年12月1日" in i18n.format_datetime(moment, "zh_CN")
    assert i18n.format_datetime(moment, "en").startswith("Dec 1, 2026")
