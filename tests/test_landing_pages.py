"""Landing pages, allowed domains and choosing a link's landing URL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from api import db
from api.errors import LandingPageNotAllowed, NotFound, RuleRefused, ValidationError
from api.schema import landing_pages as pages_table
from api.services import campaigns, landing_pages


def pages(engine, campaign_id):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return landing_pages.list_landing_pages(conn, campaign_id)


def test_first_page_becomes_default_and_default_moves(engine, make, world) -> None:
    bare = make.campaign(world.advertiser.id, world.program.id, pages=())
    with db.transaction(engine) as conn:
        first = landing_pages.add_landing_page(conn, world.advertiser.id, bare.id, "One", "https://brand.test/1")
        second = landing_pages.add_landing_page(conn, world.advertiser.id, bare.id, "Two", "https://brand.test/2")
    assert first.is_default and not second.is_default
    # The admin moves the default by saving its table with another row marked.
    rows = [{"id": p.id, "name": p.name, "url": p.url, "is_default": p.id == second.id} for p in (first, second)]
    with db.transaction(engine) as conn:
        landing_pages.replace_landing_pages(conn, world.advertiser.id, bare.id, rows)
    assert [(p.name, p.is_default) for p in pages(engine, bare.id)] == [("Two", True), ("One", False)]


def test_database_refuses_two_defaults(engine, world) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.transaction(engine) as conn:
        conn.execute(pages_table.update().where(pages_table.c.campaign_id == world.campaign.id).values(is_default=True))


def test_replace_table_adds_edits_removes_atomically(engine, world) -> None:
    current = pages(engine, world.campaign.id)
    rows = [
        {"id": current[1].id, "name": "Sale (renamed)", "url": "https://brand.test/sale2", "is_default": True},
        {"name": "New", "url": "https://a.brand.test/new", "is_default": False},
    ]
    with db.transaction(engine) as conn:
        saved = landing_pages.replace_landing_pages(conn, world.advertiser.id, world.campaign.id, rows)
    assert [(p.name, p.url, p.is_default) for p in saved] == [
        ("Sale (renamed)", "https://brand.test/sale2", True),
        ("New", "https://a.brand.test/new", False),
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [
            {"name": "A", "url": "https://brand.test/a", "is_default": True},
            {"name": "B", "url": "javascript:alert(1)", "is_default": False},
        ],
        [
            {"name": "A", "url": "https://brand.test/a", "is_default": True},
            {"name": "B", "url": "https://brand.test/b", "is_default": True},
        ],
        [
            {"name": "A", "url": "https://brand.test/a", "is_default": False},
            {"name": "B", "url": "https://brand.test/b", "is_default": False},
        ],
        [{"name": "", "url": "https://brand.test/a", "is_default": True}],
        [{"id": 999999, "name": "A", "url": "https://brand.test/a", "is_default": True}],
    ],
)
def test_bad_table_saves_nothing(engine, world, rows) -> None:
    before = pages(engine, world.campaign.id)
    with pytest.raises((ValidationError, NotFound)), db.transaction(engine) as conn:
        landing_pages.replace_landing_pages(conn, world.advertiser.id, world.campaign.id, rows)
    assert pages(engine, world.campaign.id) == before


def test_bad_domain_list_saves_nothing(engine, world) -> None:
    with pytest.raises(ValidationError), db.transaction(engine) as conn:
        landing_pages.set_allowed_domains(conn, world.advertiser.id, world.campaign.id, ["ok.test", "https://x.test"])
    with db.reading(engine) as conn:
        assert landing_pages.list_allowed_domains(conn, world.campaign.id) == ["*.brand.test", "brand.test"]


def test_removing_the_default_page_leaves_one_default(engine, world) -> None:
    default, other = pages(engine, world.campaign.id)
    kept = {"id": other.id, "name": other.name, "url": other.url, "is_default": False}
    new = {"name": "New", "url": "https://brand.test/new", "is_default": False}
    with pytest.raises(ValidationError) as refused, db.transaction(engine) as conn:
        landing_pages.replace_landing_pages(conn, world.advertiser.id, world.campaign.id, [kept, new])
    assert refused.value.code == "default_required"
    assert pages(engine, world.campaign.id) == [default, other]
    # The only page left is the default: it cannot be anything else.
    with db.transaction(engine) as conn:
        landing_pages.replace_landing_pages(conn, world.advertiser.id, world.campaign.id, [kept])
    assert [(p.id, p.is_default) for p in pages(engine, world.campaign.id)] == [(other.id, True)]


def test_other_advertiser_cannot_touch_pages(engine, world) -> None:
    with pytest.raises(NotFound), db.transaction(engine) as conn:
        landing_pages.add_landing_page(conn, world.other_advertiser.id, world.campaign.id, "X", "https://brand.test/x")
    with db.reading(engine) as conn:
        assert conn.execute(select(func.count()).select_from(pages_table)).scalar_one() == 2


def _choose(engine, campaign_id, task_page=None, **given):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign(conn, campaign_id)
        return landing_pages.choose_landing_url(conn, campaign, task_page, **given)


def test_manual_mode_takes_typed_url_on_allowed_domain_or_a_page(engine, world) -> None:
    default, sale = pages(engine, world.campaign.id)
    assert _choose(engine, world.campaign.id, landing_url="https://x.brand.test/deep?a=1") == (
        "https://x.brand.test/deep?a=1",
        None,
    )
    assert _choose(engine, world.campaign.id, landing_page_id=sale.id) == (sale.url, sale.id)
    assert _choose(engine, world.campaign.id) == (default.url, default.id)
    with pytest.raises(LandingPageNotAllowed):
        _choose(engine, world.campaign.id, landing_url="https://evil.test/")


def test_choose_mode_refuses_free_urls_and_foreign_pages(engine, make, world) -> None:
    campaign = make.campaign(world.advertiser.id, world.program.id, mode="choose")
    mine = pages(engine, campaign.id)
    foreign = pages(engine, world.campaign.id)[0]
    assert _choose(engine, campaign.id, landing_page_id=mine[1].id) == (mine[1].url, mine[1].id)
    with pytest.raises(LandingPageNotAllowed):
        _choose(engine, campaign.id, landing_url="https://brand.test/")
    with pytest.raises(LandingPageNotAllowed):
        _choose(engine, campaign.id, landing_page_id=foreign.id)


def test_default_mode_uses_task_page_then_campaign_default(engine, make, world) -> None:
    campaign = make.campaign(world.advertiser.id, world.program.id, mode="default")
    default, sale = pages(engine, campaign.id)
    assert _choose(engine, campaign.id) == (default.url, default.id)
    assert _choose(engine, campaign.id, task_page=sale.id) == (sale.url, sale.id)
    with pytest.raises(LandingPageNotAllowed):
        _choose(engine, campaign.id, landing_page_id=sale.id)
    with pytest.raises(LandingPageNotAllowed):
        _choose(engine, campaign.id, landing_url="https://brand.test/")


def test_landing_setup_saves_mode_pages_and_domains_together(engine, make, world) -> None:
    bare = make.campaign(world.advertiser.id, world.program.id, pages=(), domains=())
    rows = [{"name": "Home", "url": "https://brand.test/", "is_default": True}]
    with db.transaction(engine) as conn:
        mode, saved, domains = landing_pages.save_landing_setup(
            conn, world.advertiser.id, bare.id, mode="choose", pages=rows, domains=["brand.test", " "]
        )
    assert (mode, [p.name for p in saved], domains) == ("choose", ["Home"], ["brand.test"])
    # Leaving choose mode and removing the last page in one save is allowed.
    with db.transaction(engine) as conn:
        landing_pages.save_landing_setup(
            conn, world.advertiser.id, bare.id, mode="manual", pages=[], domains=["brand.test"]
        )
    assert pages(engine, bare.id) == []


@pytest.mark.parametrize(
    ("mode", "rows", "domains"),
    [
        ("choose", [], ["brand.test"]),
        ("manual", [{"name": "New", "url": "https://brand.test/new", "is_default": True}], ["https://brand.test"]),
        ("manual", [{"name": "New", "url": "ftp://brand.test/new", "is_default": True}], ["brand.test"]),
        ("sideways", [{"name": "New", "url": "https://brand.test/new", "is_default": True}], ["brand.test"]),
    ],
)
def test_landing_setup_refused_saves_nothing(engine, world, mode, rows, domains) -> None:
    before = pages(engine, world.campaign.id)
    with pytest.raises((ValidationError, RuleRefused)), db.transaction(engine) as conn:
        landing_pages.save_landing_setup(
            conn, world.advertiser.id, world.campaign.id, mode=mode, pages=rows, domains=domains
        )
    assert pages(engine, world.campaign.id) == before
    with db.reading(engine) as conn:
        assert landing_pages.list_allowed_domains(conn, world.campaign.id) == ["*.brand.test", "brand.test"]
        assert campaigns.get_campaign(conn, world.campaign.id).landing_mode == "manual"


# --- landing pages are on the allowed domains, in every mode ------------------------


def domains_of(engine, campaign_id):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return landing_pages.list_allowed_domains(conn, campaign_id)


@pytest.mark.parametrize("mode", ["manual", "choose", "default"])
@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example",
        "https://shop.example.evil.example/",
        "https://brand.test.evil.example/",
        "https://evilbrand.test/",
    ],
)
def test_a_page_off_the_allowed_domains_is_refused_naming_them(engine, make, world, mode, url) -> None:
    campaign = make.campaign(world.advertiser.id, world.program.id, domains=("brand.test", "*.shop.example"), mode=mode)
    before = pages(engine, campaign.id)
    with pytest.raises(LandingPageNotAllowed) as refused, db.transaction(engine) as conn:
        landing_pages.add_landing_page(conn, world.advertiser.id, campaign.id, "Elsewhere", url)
    assert "“Elsewhere” is not allowed" in refused.value.message
    assert "(*.shop.example, brand.test)" in refused.value.message
    rows = [{"id": p.id, "name": p.name, "url": p.url, "is_default": p.is_default} for p in before]
    with (
        pytest.raises(LandingPageNotAllowed, match=r"^Row 3: The landing page “Elsewhere” is not allowed"),
        db.transaction(engine) as conn,
    ):
        landing_pages.replace_landing_pages(
            conn, world.advertiser.id, campaign.id, [*rows, {"name": "Elsewhere", "url": url, "is_default": False}]
        )
    assert pages(engine, campaign.id) == before


def test_without_domains_a_page_is_refused_saying_to_add_its_domain_first(engine, make, world) -> None:
    bare = make.campaign(world.advertiser.id, world.program.id, pages=(), domains=())
    with pytest.raises(LandingPageNotAllowed) as refused, db.transaction(engine) as conn:
        landing_pages.add_landing_page(conn, world.advertiser.id, bare.id, "Home", "https://shop.example/")
    assert refused.value.message == (
        "The landing page “Home” is on shop.example, but the campaign has no allowed domains yet: "
        "add shop.example to the allowed domains first."
    )
    assert pages(engine, bare.id) == []


def test_a_domain_a_page_still_uses_cannot_be_removed(engine, world) -> None:
    with db.transaction(engine) as conn:
        landing_pages.add_landing_page(
            conn, world.advertiser.id, world.campaign.id, "Deals", "https://deals.brand.test/"
        )
    with pytest.raises(RuleRefused) as refused, db.transaction(engine) as conn:
        landing_pages.set_allowed_domains(conn, world.advertiser.id, world.campaign.id, ["brand.test"])
    assert refused.value.code == "domain_in_use"
    assert refused.value.message.startswith(
        "The landing page “Deals” (https://deals.brand.test/) is on deals.brand.test"
    )
    assert domains_of(engine, world.campaign.id) == ["*.brand.test", "brand.test"]
    # The whole landing section: keeping the page while dropping its domain is refused, nothing half-saved.
    rows = [
        {"id": p.id, "name": p.name, "url": p.url, "is_default": p.is_default} for p in pages(engine, world.campaign.id)
    ]
    with (
        pytest.raises(LandingPageNotAllowed, match=re.escape("“Deals” is not allowed: deals.brand.test is not one of")),
        db.transaction(engine) as conn,
    ):
        landing_pages.save_landing_setup(
            conn, world.advertiser.id, world.campaign.id, mode="choose", pages=rows, domains=["brand.test"]
        )
    assert domains_of(engine, world.campaign.id) == ["*.brand.test", "brand.test"]
    assert len(pages(engine, world.campaign.id)) == 3
    with db.reading(engine) as conn:
        assert campaigns.get_campaign(conn, world.campaign.id).landing_mode == "manual"
    # Dropping the page together with its domain is fine.
    kept = [row for row in rows if row["name"] != "Deals"]
    with db.transaction(engine) as conn:
        landing_pages.save_landing_setup(
            conn, world.advertiser.id, world.campaign.id, mode="manual", pages=kept, domains=["brand.test"]
        )
    assert domains_of(engine, world.campaign.id) == ["brand.test"]
    assert [p.name for p in pages(engine, world.campaign.id)] == ["Home", "Sale"]


def test_a_domain_and_a_page_on_it_are_added_in_one_save(engine, make, world) -> None:
    bare = make.campaign(world.advertiser.id, world.program.id, pages=(), domains=())
    rows = [{"name": "Launch", "url": "https://launch.example/new", "is_default": True}]
    with db.transaction(engine) as conn:
        mode, saved, domains = landing_pages.save_landing_setup(
            conn, world.advertiser.id, bare.id, mode="default", pages=rows, domains=["launch.example"]
        )
    assert (mode, [p.url for p in saved], domains) == ("default", ["https://launch.example/new"], ["launch.example"])


def test_a_single_page_becomes_the_default_by_itself(engine, make, world) -> None:
    bare = make.campaign(world.advertiser.id, world.program.id, pages=(), domains=())
    rows = [{"name": "Only", "url": "https://only.example/", "is_default": False}]
    with db.transaction(engine) as conn:
        _, saved, domains = landing_pages.save_landing_setup(
            conn, world.advertiser.id, bare.id, mode="manual", pages=rows, domains=["only.example"]
        )
    assert [(p.name, p.is_default) for p in saved] == [("Only", True)] and domains == ["only.example"]


def test_a_public_suffix_domain_saves_nothing(engine, world) -> None:
    with (
        pytest.raises(ValidationError, match=re.escape("github.io is a public suffix: anyone can publish under it")),
        db.transaction(engine) as conn,
    ):
        landing_pages.save_landing_setup(
            conn, world.advertiser.id, world.campaign.id, mode="manual", pages=[], domains=["brand.test", "*.github.io"]
        )
    assert domains_of(engine, world.campaign.id) == ["*.brand.test", "brand.test"]
    assert len(pages(engine, world.campaign.id)) == 2
