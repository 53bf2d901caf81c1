"""No planted click ids: every variant of tests/data/planted-click-ids.txt through creation and the redirect.

A landing URL carrying the campaign's click-id parameter in any spelling a
server could read is refused when a partner makes a link and when the
advertiser adds a landing page; whatever reaches the redirect anyway (rows
from before the rule) leaves with exactly one click id, the fresh one.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import pytest

from api import db, urls
from api.errors import LandingPageNotAllowed, RuleRefused
from api.services import campaigns, clicks, landing_pages, links

CORPUS = Path(__file__).parent / "data" / "planted-click-ids.txt"
PLANTED = "PLANTED-by-partner"


def load_corpus() -> list[tuple[str, str]]:
    """``(verdict, url)`` of every variant, ``{planted}`` filled in."""
    variants = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        verdict, template = line.split(maxsplit=1)
        assert verdict in ("refuse", "allow"), line
        variants.append((verdict, template.strip().replace("{planted}", PLANTED)))
    return variants


VARIANTS = load_corpus()


def test_the_corpus_is_large_and_labelled_both_ways() -> None:
    refused = [url for verdict, url in VARIANTS if verdict == "refuse"]
    assert len(VARIANTS) >= 30 and len(refused) >= 30
    assert len(VARIANTS) - len(refused) >= 10
    assert len(set(url for _, url in VARIANTS)) == len(VARIANTS), "a variant is listed twice"


def read_key(name: str) -> str:
    """How the most lenient landing page reads a parameter name (written apart from api.urls on purpose)."""
    while unquote_plus(name) != name:
        name = unquote_plus(name)
    return name.split("\x00", 1)[0].split("[", 1)[0].strip().casefold()


def pairs_of(url: str) -> list[tuple[str, str]]:
    """Every parameter of the query and of the fragment (a hash router's too), split on & and ;."""
    parts = urlsplit(url)
    fragment = parts.fragment.partition("?")[2] if "?" in parts.fragment else parts.fragment
    found = parse_qsl(parts.query.replace(";", "&"), keep_blank_values=True)
    if "=" in fragment:
        found += parse_qsl(fragment.replace(";", "&"), keep_blank_values=True)
    return found


def values_read_as(url: str, param: str) -> list[str]:
    return [value for name, value in pairs_of(url) if read_key(name) == param]


@pytest.mark.parametrize(("verdict", "url"), VARIANTS, ids=[f"{v}:{u[19:]}" for v, u in VARIANTS])
def test_variant_through_add_click_id(verdict: str, url: str) -> None:
    stored = urls.normalize_url(url)  # what would be stored, had it got in
    fresh = clicks.new_click_id(clicks.ClickIds([b"k" * 32]), 1)
    landed = clicks.add_click_id(stored, "clickid", fresh)
    assert values_read_as(landed, "clickid") == [fresh]
    others = [pair for pair in pairs_of(stored) if read_key(pair[0]) != "clickid"]
    assert [pair for pair in pairs_of(landed) if read_key(pair[0]) != "clickid"] == others
    assert (urls.find_param(stored, "clickid") is not None) is (verdict == "refuse")
    if verdict == "allow":
        # Nothing removed: the URL byte for byte, the click id added to its query.
        base, hash_mark, fragment = stored.partition("#")
        joiner = "&" if "?" in base else "?"
        assert landed == f"{base}{joiner}clickid={fresh}{hash_mark}{fragment}"
        assert urls.without_param(stored, "clickid") == stored


@pytest.mark.parametrize(("verdict", "url"), VARIANTS, ids=[f"{v}:{u[19:]}" for v, u in VARIANTS])
def test_variant_through_creation(engine, world, verdict: str, url: str) -> None:
    """A partner's deep link and an advertiser's landing page: refused with the parameter named, or accepted."""

    def make_link() -> links.Link:
        with db.transaction(engine) as conn:
            return links.create_link(conn, world.partner.id, world.task.id, landing_url=url)

    def add_page() -> landing_pages.LandingPage:
        with db.transaction(engine) as conn:
            return landing_pages.add_landing_page(conn, world.advertiser.id, world.campaign.id, "Planted?", url)

    if verdict == "refuse":
        for create in (make_link, add_page):
            with pytest.raises(LandingPageNotAllowed) as refused:
                create()
            assert refused.value.code == "click_id_param_in_url" and refused.value.status == 422
            assert "click-id parameter “clickid”" in refused.value.message
    else:
        assert make_link().landing_url == urls.normalize_url(url)
        assert add_page().url == urls.normalize_url(url)


def test_refused_variants_are_counted() -> None:
    """The figure the corpus stands for (kept in sync with the file by the tests above)."""
    refused = sum(1 for verdict, _ in VARIANTS if verdict == "refuse")
    print(f"planted click-id variants refused: {refused} of {len(VARIANTS)}")
    assert refused == sum(1 for _, url in VARIANTS if urls.find_param(urls.normalize_url(url), "clickid") is not None)


def test_the_api_answers_422_naming_the_parameter(client, auth, world) -> None:
    response = client.post(
        "/api/v1/links",
        json={"task_id": world.task.id, "landing_url": "https://brand.test/sale?click%69d=mine"},
        headers=auth(world.partner),
    )
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "click_id_param_in_url"
    assert "“clickid” (written “click%69d”)" in error["message"]


def test_the_campaigns_own_parameter_name_is_the_one_refused(engine, world) -> None:
    with db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_id_param="tl_click")
    with db.transaction(engine) as conn:  # clickid is just another parameter now
        links.create_link(conn, world.partner.id, world.task.id, landing_url="https://brand.test/?clickid=1")
    with (
        pytest.raises(LandingPageNotAllowed, match="“tl_click” \\(written “TL%5Fclick\\[\\]”\\)"),
        db.transaction(engine) as conn,
    ):
        links.create_link(conn, world.partner.id, world.task.id, landing_url="https://brand.test/?TL%5Fclick[]=1")


def test_replacing_the_pages_table_names_the_row(engine, world) -> None:
    rows = [
        {"name": "Home", "url": "https://brand.test/", "is_default": True},
        {"name": "Planted", "url": "https://brand.test/?a=1#ClickId=x", "is_default": False},
    ]
    with (
        pytest.raises(LandingPageNotAllowed, match=r"^Row 2: The landing page “Planted” carries") as refused,
        db.transaction(engine) as conn,
    ):
        landing_pages.replace_landing_pages(conn, world.advertiser.id, world.campaign.id, rows)
    assert refused.value.code == "click_id_param_in_url"
    with pytest.raises(LandingPageNotAllowed, match="“Planted” carries"), db.transaction(engine) as conn:
        landing_pages.save_landing_setup(
            conn, world.advertiser.id, world.campaign.id, mode="choose", pages=rows, domains=["brand.test"]
        )


def test_a_parameter_name_the_pages_carry_is_refused(engine, world) -> None:
    with db.transaction(engine) as conn:
        landing_pages.add_landing_page(
            conn, world.advertiser.id, world.campaign.id, "Tracked", "https://brand.test/?Ref=ad"
        )
    with pytest.raises(RuleRefused) as refused, db.transaction(engine) as conn:
        campaigns.update_settings(conn, world.advertiser.id, world.campaign.id, click_id_param="ref")
    assert refused.value.code == "click_id_param_in_url" and refused.value.status == 422
    assert refused.value.message.startswith(
        "The landing page “Tracked” already carries a parameter “ref” (written “Ref”)"
    )
    with db.reading(engine) as conn:
        assert campaigns.get_campaign(conn, world.campaign.id).click_id_param == "clickid"
    with db.transaction(engine) as conn:  # a name no page carries is fine
        assert (
            campaigns.update_settings(
                conn, world.advertiser.id, world.campaign.id, click_id_param="ref2"
            ).click_id_param
            == "ref2"
        )
