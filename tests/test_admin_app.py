"""The advertiser admin (admin_app.py) driven through Streamlit's AppTest, on the test database.

The admin builds its app from the TASKLINK_* variables, so each test points
them at the test database; Streamlit's caches are process-wide, so they are
cleared before and after every test (the cached app's engine is disposed).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import streamlit as st
import zxingcpp
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from api import catalogues, db, i18n
from api.services import advertisers, campaigns, conversions, landing_pages, links, memberships, qr, tasks
from conftest import PASSWORD, SECRET_KEYS

ADMIN = str(Path(__file__).resolve().parents[1] / "admin_app.py")
TIMEOUT = 60
DONE, TO_DO = ":material/check_box:", ":material/check_box_outline_blank:"  # the checklist's marks


def clear_streamlit_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def admin_env(engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """TASKLINK_* pointing at the test database, and Streamlit caches that start and end empty."""
    for name in ("TASKLINK_DEMO", "TASKLINK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TASKLINK_DATABASE_URL", database_url)
    monkeypatch.setenv("TASKLINK_SECRET_KEYS", ",".join(SECRET_KEYS))
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


def open_admin(advertiser_id: int | None = None) -> AppTest:
    """The admin after its first run; signed in as ``advertiser_id`` when given."""
    at = AppTest.from_file(ADMIN, default_timeout=TIMEOUT)
    if advertiser_id is not None:
        at.session_state["advertiser_id"] = advertiser_id
    return at.run()


def no_exceptions(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [element.value for element in elements]


def test_sign_in_refused_then_accepted(admin_env, world) -> None:
    at = no_exceptions(open_admin())
    assert [h.value for h in at.header] == []  # nothing but the sign-in form
    at.text_input(key="sign_in_email").input(world.advertiser.email)
    at.text_input(key="sign_in_password").input("wrong password")
    at.button(key="sign_in_submit").click().run()
    assert texts(at.error) == ["Wrong e-mail or password."]
    assert at.session_state["advertiser_id"] is None
    assert not at.toggle

    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button(key="sign_in_submit").click().run()
    no_exceptions(at)
    assert at.session_state["advertiser_id"] == world.advertiser.id
    assert "1. Tracking" in [h.value for h in at.header]
    assert at.selectbox(key=f"campaign_id_{world.program.id}").value == world.campaign.id

    at.button(key="sign_out").click().run()
    assert at.session_state["advertiser_id"] is None
    assert not at.toggle


def test_repeated_failed_sign_ins_are_limited(admin_env, world, monkeypatch) -> None:
    monkeypatch.setenv("TASKLINK_RATELIMIT_LOGIN", "3/minute")
    at = open_admin()
    at.text_input(key="sign_in_email").input(world.advertiser.email)
    for _ in range(3):
        at.text_input(key="sign_in_password").input("wrong password")
        at.button(key="sign_in_submit").click().run()
        assert texts(at.error) == ["Wrong e-mail or password."]
    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button(key="sign_in_submit").click().run()
    assert "Too many failed sign-ins" in at.error[0].value
    assert at.session_state["advertiser_id"] is None


def test_without_signing_keys_outside_demo_mode_it_says_so(admin_env, monkeypatch) -> None:
    monkeypatch.delenv("TASKLINK_SECRET_KEYS")
    at = no_exceptions(open_admin())
    assert "TASKLINK_SECRET_KEYS is not set" in at.error[0].value
    assert not at.text_input


def readiness_warnings(at: AppTest) -> list[str]:
    """The tracking section's warning that partners cannot make links yet (with its checklist)."""
    return [text for text in texts(at.warning) if text.startswith("Partners cannot create links")]


def partner_availability(engine, world) -> campaigns.Availability:  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign(conn, world.campaign.id)
        return campaigns.link_availability(conn, campaign, world.partner.id, world.task.partner_id)


def partner_api_campaign(client, auth, world) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/campaigns", headers=auth(world.partner))
    assert response.status_code == 200
    return next(c for c in response.json["campaigns"] if c["id"] == world.campaign.id)


def test_pay_for_performance_off_stops_links_with_that_reason_and_on_restores(
    admin_env, engine, world, client, auth
) -> None:
    cid = world.campaign.id
    at = no_exceptions(open_admin(world.advertiser.id))
    assert at.toggle(key=f"pay_for_performance_{cid}").value is True
    assert "Partners can create links now" in texts(at.success)[0]

    at.toggle(key=f"pay_for_performance_{cid}").set_value(False)
    at.button(key=f"save_tracking_{cid}").click().run()
    no_exceptions(at)
    assert "Tracking settings saved." in texts(at.success)
    off = partner_availability(engine, world)
    assert (off.available, off.code) == (False, "pay_for_performance_off")
    (warning,) = readiness_warnings(at)
    assert off.reason in warning  # the admin shows the partner's sentence
    assert f"{TO_DO} Pay for performance on" in warning and f"{DONE} Click tracking on" in warning
    seen = partner_api_campaign(client, auth, world)
    assert (seen["link_available"], seen["reason"]) == (False, off.reason)

    at.toggle(key=f"pay_for_performance_{cid}").set_value(True)
    at.button(key=f"save_tracking_{cid}").click().run()
    assert partner_availability(engine, world).available
    assert not readiness_warnings(at)
    seen = partner_api_campaign(client, auth, world)
    assert (seen["link_available"], seen["reason"]) == (True, None)


def test_bad_tracking_input_is_refused_with_the_services_sentence(admin_env, engine, world) -> None:
    cid = world.campaign.id
    at = open_admin(world.advertiser.id)
    at.toggle(key=f"click_tracking_{cid}").set_value(False)
    at.text_input(key=f"payout_amount_{cid}").input("-3")
    at.button(key=f"save_tracking_{cid}").click().run()
    no_exceptions(at)
    assert len(at.error) == 1 and "payout amount" in at.error[0].value
    with db.reading(engine) as conn:
        assert campaigns.get_campaign(conn, cid) == world.campaign  # nothing half-saved


def edit_pages(at: AppTest, campaign_id: int, **edits: Any) -> None:
    """Edit the landing pages table as the browser would (the key changes after each save)."""
    key = f"landing_pages_{campaign_id}_{at.session_state['landing_saves']}"
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits}


def pages_of(engine, campaign_id):  # type: ignore[no-untyped-def]
    with db.reading(engine) as conn:
        return [(p.name, p.url, p.is_default) for p in landing_pages.list_landing_pages(conn, campaign_id)]


def test_landing_page_added_made_default_and_removed(admin_env, engine, world) -> None:
    cid = world.campaign.id
    at = open_admin(world.advertiser.id)
    # Shown default first: 0 = Home (default), 1 = Sale.
    edit_pages(
        at,
        cid,
        edited_rows={0: {"is_default": False}},
        added_rows=[{"name": "Winter", "url": "https://shop.brand.test/winter", "is_default": True}],
    )
    at.button(key=f"save_landing_{cid}").click().run()
    no_exceptions(at)
    assert any(m.startswith("Landing pages saved: 3 page(s), default “Winter”") for m in texts(at.success))
    assert pages_of(engine, cid) == [
        ("Winter", "https://shop.brand.test/winter", True),
        ("Home", "https://brand.test/", False),
        ("Sale", "https://brand.test/sale", False),
    ]
    # The table shows the saved pages again, and a row can be removed.
    assert list(at.dataframe[0].value["name"]) == ["Winter", "Home", "Sale"]
    edit_pages(at, cid, deleted_rows=[2])
    at.button(key=f"save_landing_{cid}").click().run()
    no_exceptions(at)
    assert [name for name, *_ in pages_of(engine, cid)] == ["Winter", "Home"]


@pytest.mark.parametrize(
    ("edit", "domains", "message"),
    [
        ({"added_rows": [{"name": "Evil", "url": "javascript:alert(1)", "is_default": False}]}, None, "Row 3"),
        ({"edited_rows": {1: {"url": "https://"}}}, None, "Row 2"),
        ({"edited_rows": {1: {"is_default": True}}}, None, "exactly one"),
        ({}, "brand.test\nhttps://evil.test/path", "domain"),
    ],
)
def test_invalid_url_or_domain_is_refused_and_nothing_saved(admin_env, engine, world, edit, domains, message) -> None:
    cid = world.campaign.id
    before_pages = pages_of(engine, cid)
    at = open_admin(world.advertiser.id)
    edit_pages(at, cid, **edit)
    if domains is not None:
        at.text_area(key=f"domains_{cid}").input(domains)
    at.radio(key=f"landing_mode_{cid}").set_value("choose")
    at.button(key=f"save_landing_{cid}").click().run()
    no_exceptions(at)
    assert len(at.error) == 1 and message in at.error[0].value, texts(at.error)
    assert pages_of(engine, cid) == before_pages
    with db.reading(engine) as conn:
        assert landing_pages.list_allowed_domains(conn, cid) == ["*.brand.test", "brand.test"]
        assert campaigns.get_campaign(conn, cid).landing_mode == "manual"


def test_a_page_off_the_allowed_domains_shows_the_refusal_and_saves_nothing(admin_env, engine, world) -> None:
    cid = world.campaign.id
    before_pages = pages_of(engine, cid)
    at = open_admin(world.advertiser.id)
    edit_pages(
        at, cid, added_rows=[{"name": "Elsewhere", "url": "https://shop.example.evil.example/", "is_default": False}]
    )
    at.radio(key=f"landing_mode_{cid}").set_value("choose")
    at.button(key=f"save_landing_{cid}").click().run()
    no_exceptions(at)
    assert texts(at.error) == [
        "Row 3: The landing page “Elsewhere” is not allowed: shop.example.evil.example is not one of the "
        "campaign's allowed domains (*.brand.test, brand.test). Landing pages must be on the allowed domains; "
        "add its domain first if it is yours."
    ]
    assert pages_of(engine, cid) == before_pages
    with db.reading(engine) as conn:
        assert campaigns.get_campaign(conn, cid).landing_mode == "manual"

    # Removing a domain a kept page needs: refused, naming the page.
    at = open_admin(world.advertiser.id)
    at.text_area(key=f"domains_{cid}").input("shop.brand.test")
    at.button(key=f"save_landing_{cid}").click().run()
    no_exceptions(at)
    assert len(at.error) == 1 and at.error[0].value.startswith("Row 1: The landing page “Home” is not allowed"), texts(
        at.error
    )
    with db.reading(engine) as conn:
        assert landing_pages.list_allowed_domains(conn, cid) == ["*.brand.test", "brand.test"]

    # A new domain and a page on it in one save.
    at = open_admin(world.advertiser.id)
    edit_pages(at, cid, added_rows=[{"name": "Outlet", "url": "https://outlet.example/", "is_default": False}])
    at.text_area(key=f"domains_{cid}").input("brand.test\n*.brand.test\noutlet.example")
    at.button(key=f"save_landing_{cid}").click().run()
    no_exceptions(at)
    assert not at.error
    assert ("Outlet", "https://outlet.example/", False) in pages_of(engine, cid)


def test_task_created_assigned_and_edited(admin_env, engine, world) -> None:
    cid = world.campaign.id
    at = open_admin(world.advertiser.id)
    form = f"new_task_{cid}"
    at.text_input(key=f"{form}_title").input("Reel for the winter sale")
    at.selectbox(key=f"{form}_partner").set_value(world.partner.id)
    at.button(key=f"{form}_submit").click().run()
    no_exceptions(at)
    assert f"Task “Reel for the winter sale” created; open to {world.partner.name}." in texts(at.success)
    with db.reading(engine) as conn:
        made = [t for t in tasks.list_tasks(conn, world.advertiser.id, cid) if t.title == "Reel for the winter sale"]
    assert [(t.partner_id, t.landing_page_id) for t in made] == [(world.partner.id, None)]

    # Edit: open it to everyone again.
    at.selectbox(key=f"edit_task_{cid}").set_value(made[0].id).run()
    at.selectbox(key=f"task_{made[0].id}_partner").set_value(0)
    at.button(key=f"task_{made[0].id}_submit").click().run()
    no_exceptions(at)
    with db.reading(engine) as conn:
        assert tasks.get_task(conn, made[0].id).partner_id is None


def test_membership_approved_and_partner_added(admin_env, engine, make, world) -> None:
    cid = world.campaign.id
    applicant = make.membership(world.other_partner.id, cid, "pending")
    newcomer = make.partner()
    at = open_admin(world.advertiser.id)
    at.button(key=f"member_{applicant.id}_active").click().run()
    no_exceptions(at)
    assert f"{world.other_partner.name} is now active." in texts(at.success)
    with db.reading(engine) as conn:
        assert memberships.membership_status(conn, world.other_partner.id, cid) == "active"

    # An invitation answers the same whether or not the e-mail has an account, and both wait the same way.
    answers = []
    for email in ("nobody@test.example", newcomer.email):
        at.text_input(key=f"add_partner_email_{cid}").input(email)
        at.button(key=f"add_partner_submit_{cid}").click().run()
        no_exceptions(at)
        assert not at.error
        answers.append([text.replace(email, "EMAIL") for text in texts(at.success)])
    assert answers[0] == answers[1]
    assert any(text.startswith("Invitation recorded for EMAIL.") for text in answers[0])
    shown = " ".join(m.value for m in at.markdown)
    assert "Invitations awaiting an answer (2)" in shown and "nobody@test.example" in shown and newcomer.email in shown
    assert newcomer.name not in shown  # the account's name would tell the e-mail has one
    with db.reading(engine) as conn:
        assert memberships.membership_status(conn, newcomer.id, cid) == "invited"
    at.button(key=f"withdraw_{cid}_nobody@test.example").click().run()
    no_exceptions(at)
    assert "Invitation to nobody@test.example withdrawn." in texts(at.success)
    with db.transaction(engine) as conn:
        assert memberships.list_invitations(conn, world.advertiser.id, cid)[0].email == newcomer.email
        # Declined by the partner: the advertiser has no move that would overturn it.
        declined = memberships.answer_invitation(conn, newcomer.id, cid, accept=False)
    st.cache_data.clear()  # written behind the admin's back: reads are cached for a minute
    at.run()
    assert "Declined your invitation" in " ".join(m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == f"member_{declined.id}_active"]


def test_rotating_the_key_shows_the_new_one_once_and_kills_the_old(admin_env, engine, world) -> None:
    at = open_admin(world.advertiser.id)
    assert f"`{world.advertiser.api_key_hint}`" in " ".join(m.value for m in at.markdown)
    at.checkbox(key="rotate_confirm").check().run()
    at.button(key="rotate_key").click().run()
    no_exceptions(at)
    shown = [c.value for c in at.code if c.value.startswith("tlk_")]
    assert len(shown) == 1
    with db.reading(engine) as conn:
        assert advertisers.by_api_key(conn, shown[0]).id == world.advertiser.id
        with pytest.raises(Exception, match="valid advertiser API key"):
            advertisers.by_api_key(conn, world.api_key)
    assert not at.checkbox  # no second rotation while the new key is on screen
    at.run()
    assert not [c for c in at.code if c.value.startswith("tlk_")]  # shown once
    assert at.checkbox(key="rotate_confirm").value is False


def test_newcomer_goes_from_nothing_to_a_working_campaign(admin_env, engine, make) -> None:
    advertiser, _ = make.advertiser()
    partner = make.partner()
    at = open_admin(advertiser.id)
    assert "no programs yet" in at.info[0].value
    at.text_input(key="new_program_name").input("First program")
    at.button(key="create_program").click().run()
    no_exceptions(at)
    program_id = at.session_state["program_id"]
    at.text_input(key=f"new_campaign_name_{program_id}").input("First campaign")
    at.text_input(key=f"new_campaign_amount_{program_id}").input("2.50")
    at.button(key=f"create_campaign_{program_id}").click().run()
    no_exceptions(at)
    cid = at.session_state[f"campaign_id_{program_id}"]
    (checklist,) = readiness_warnings(at)
    for missing in ("Click tracking on", "A landing page", "An allowed domain", "A task", "An active partner"):
        assert f"{TO_DO} {missing}" in checklist
    assert f"{DONE} Campaign active" in checklist
    for switch in ("click_tracking", "conversion_tracking", "pay_for_performance"):
        at.toggle(key=f"{switch}_{cid}").set_value(True)
    at.button(key=f"save_tracking_{cid}").click().run()
    # One page, not ticked Default: it becomes the default, and the domain typed with it is saved too.
    edit_pages(at, cid, added_rows=[{"name": "Home", "url": "https://first.test/"}])
    at.text_area(key=f"domains_{cid}").input("first.test")
    at.button(key=f"save_landing_{cid}").click().run()
    assert not at.error
    assert pages_of(engine, cid) == [("Home", "https://first.test/", True)]
    at.text_input(key=f"add_partner_email_{cid}").input(partner.email)
    at.button(key=f"add_partner_submit_{cid}").click().run()
    assert any(f"{TO_DO} An active partner" in text for text in readiness_warnings(at))  # invited, not active yet
    with db.transaction(engine) as conn:
        memberships.answer_invitation(conn, partner.id, cid, accept=True)
    st.cache_data.clear()
    at.text_input(key=f"new_task_{cid}_title").input("First task")
    at.button(key=f"new_task_{cid}_submit").click().run()
    no_exceptions(at)
    assert not at.error and not readiness_warnings(at)
    assert any(text.startswith("Partners can create links now") for text in texts(at.success))
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign_for_advertiser(conn, advertiser.id, cid)
        task = tasks.list_tasks(conn, advertiser.id, cid)[0]
        assert campaigns.link_availability(conn, campaign, partner.id, task.partner_id).available
        assert landing_pages.choose_landing_url(conn, campaign, None, landing_url="https://first.test/p") == (
            "https://first.test/p",
            None,
        )


def test_an_advertiser_sees_only_their_own_campaigns(admin_env, make, world) -> None:
    at = open_admin(world.other_advertiser.id)
    no_exceptions(at)
    assert "no programs yet" in at.info[0].value
    assert not at.toggle
    # A campaign id of someone else's in session state is never shown.
    program = make.program(world.other_advertiser.id)
    make.campaign(world.other_advertiser.id, program.id)
    st.cache_data.clear()  # written behind the admin's back: reads are cached for a minute
    at = AppTest.from_file(ADMIN, default_timeout=TIMEOUT)
    at.session_state["advertiser_id"] = world.other_advertiser.id
    at.session_state[f"campaign_id_{program.id}"] = world.campaign.id
    at.run()
    no_exceptions(at)
    assert at.selectbox(key=f"campaign_id_{program.id}").value != world.campaign.id
    assert world.campaign.name not in at.selectbox(key=f"campaign_id_{program.id}").options


def click(client, code: str, visitor: str, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0") -> str:  # type: ignore[no-untyped-def]
    """Follow a short link as a visitor; return the click id handed to the landing page."""
    response = client.get(f"/s/{code}", headers={"User-Agent": user_agent}, environ_base={"REMOTE_ADDR": visitor})
    assert response.status_code == 302
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query)).get("clickid", "")


def convert(client, api_key: str, click_id: str, order_id: str, amount: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/conversions",
        json={"click_id": click_id, "order_id": order_id, "amount": amount, "currency": "USD"},
        headers={"Authorization": f"Bearer {api_key}"},
    )


@pytest.fixture
def traffic(engine, world, client):  # type: ignore[no-untyped-def]
    """Four clicks (two by one visitor, one by another, one by a bot) and one conversion of 40.00."""
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id, reporting={"sharedid": "spring"})
    first = click(client, link.code, "198.51.100.1")
    click(client, link.code, "198.51.100.1")
    click(client, link.code, "198.51.100.2")
    click(client, link.code, "198.51.100.3", user_agent="Googlebot/2.1 (+http://www.google.com/bot.html)")
    assert convert(client, world.api_key, first, "A-1001", "40.00").status_code == 201
    return link


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_performance_shows_the_clicks_and_conversions_made(admin_env, world, traffic) -> None:
    at = no_exceptions(open_admin(world.advertiser.id))
    assert metrics(at) == {
        "Clicks": "4",
        "Billable clicks": "2",
        "Conversions": "1",
        "Conversion rate": "50.0%",
        "Revenue (USD)": "40.00",
        "Payout (USD)": "5.00",
    }
    tables = {frame.value.columns[0]: frame.value for frame in at.dataframe}
    by_partner = tables["Partner"].set_index("Partner")
    assert by_partner.loc[
        world.partner.name, ["Clicks", "Billable clicks", "Bot clicks", "Invalid clicks", "Conversions"]
    ].tolist() == [4, 2, 1, 2, 1]
    assert by_partner.loc[world.partner.name, "Why invalid"] == "1 bot or link preview, 1 repeat click (24 h)"
    assert tables["Task"]["Task"].tolist() == [world.task.title]
    assert tables["Shared ID"]["Shared ID"].tolist() == ["spring"]
    assert "subId1" not in " ".join(tables)  # Sub IDs are the partner's own
    assert at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")
    assert len(at.get("download_button")) == 4


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The files the admin's download buttons offer, by URL.

    AppTest keeps them in a MemoryMediaFileStorage of its own for the run;
    this one remembers every file added, so a test can read what an
    advertiser's browser would download.
    """
    files: dict[str, bytes] = {}

    class Remembering(MemoryMediaFileStorage):
        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
            file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
            files[self.get_url(file_id)] = self.get_file(file_id).content
            return file_id

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Remembering)
    return files


def test_performance_csv_download_neutralises_formulas(admin_env, engine, world, client, downloads) -> None:
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
    hostile = '=HYPERLINK("http://x","prize")'
    response = client.get(
        f"/s/{link.code}?{urlencode({'sharedid': hostile})}",
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"},
    )
    assert response.status_code == 302
    at = no_exceptions(open_admin(world.advertiser.id))
    tables = {frame.value.columns[0]: frame.value for frame in at.dataframe}
    assert tables["Shared ID"]["Shared ID"].tolist() == [hostile]  # shown as it is on screen

    (button,) = [b for b in at.get("download_button") if b.proto.id.endswith(f"csv_sharedid_{world.campaign.id}")]
    header, row = csv.reader(io.StringIO(downloads[button.proto.url].decode("utf-8"), newline=""))
    cells = dict(zip(header, row, strict=True))
    assert cells["Shared ID"] == "'" + hostile  # text to a spreadsheet, never a formula
    assert (cells["Clicks"], cells["Bot clicks"], cells["Revenue"], cells["Payout"]) == ("1", "0", "0.00", "0.00")


def test_performance_csv_leaves_the_rate_empty_without_billable_clicks(
    admin_env, engine, world, client, downloads
) -> None:
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
    assert client.get(f"/s/{link.code}", headers={"User-Agent": "curl/8.5.0"}).status_code == 302  # a bot
    at = no_exceptions(open_admin(world.advertiser.id))
    assert metrics(at)["Conversion rate"] == "–"
    (button,) = [b for b in at.get("download_button") if b.proto.id.endswith(f"csv_day_{world.campaign.id}")]
    header, row = csv.reader(io.StringIO(downloads[button.proto.url].decode("utf-8"), newline=""))
    cells = dict(zip(header, row, strict=True))
    assert (cells["Clicks"], cells["Billable clicks"], cells["Conversion rate (%)"]) == ("1", "0", "")


def test_performance_empty_state(admin_env, world) -> None:
    at = no_exceptions(open_admin(world.advertiser.id))
    assert metrics(at)["Clicks"] == "0"
    assert any("No clicks or conversions in this period yet" in i.value for i in at.info)


def test_conversion_approved_then_reversed_leaves_the_report(admin_env, engine, world, traffic) -> None:
    cid = world.campaign.id
    at = open_admin(world.advertiser.id)
    (pending,) = at.selectbox(key=f"conversion_{cid}").options
    assert "A-1001" in pending and "pending" in pending
    at.button(key=f"conversion_approved_{cid}").click().run()
    no_exceptions(at)
    assert "Order A-1001 is now approved." in texts(at.success)
    at.button(key=f"conversion_reversed_{cid}").click().run()
    assert "Order A-1001 is now reversed." in texts(at.success)
    with db.reading(engine) as conn:
        assert [c.status for c in conversions.list_conversions(conn, world.advertiser.id, cid)] == ["reversed"]
    assert (metrics(at)["Conversions"], metrics(at)["Revenue (USD)"]) == ("0", "0.00")


def test_postback_is_explained_with_a_curl_request(admin_env, world) -> None:
    at = open_admin(world.advertiser.id)
    (curl,) = [c.value for c in at.code if "curl" in c.value]
    assert "POST" in curl and "/api/v1/conversions" in curl
    assert "Authorization: Bearer" in curl and '"currency": "USD"' in curl


def test_the_landing_tag_and_a_python_postback_are_shown_next_to_curl(admin_env, world) -> None:
    at = no_exceptions(open_admin(world.advertiser.id))
    (tag,) = [c.value for c in at.code if "/tag.js" in c.value]
    assert tag == (
        '<script src="https://YOUR-TASKLINK-ADDRESS/tag.js"\n'
        '        data-param="clickid" data-days="30" async></script>'
    )
    (python,) = [c.value for c in at.code if "urllib.request" in c.value]
    assert "https://YOUR-TASKLINK-ADDRESS/api/v1/conversions" in python and '"currency": "USD"' in python
    assert 'os.environ["TASKLINK_API_KEY"]' in python and 'request.cookies.get("tasklink_click")' in python


def test_rotated_key_fails_on_the_conversion_endpoint(admin_env, world, traffic, client) -> None:
    at = open_admin(world.advertiser.id)
    at.checkbox(key="rotate_confirm").check().run()
    at.button(key="rotate_key").click().run()
    (new_key,) = [c.value for c in at.code if c.value.startswith("tlk_")]
    fresh = click(client, traffic.code, "203.0.113.9")
    assert convert(client, world.api_key, fresh, "A-2002", "10.00").status_code == 401
    assert convert(client, new_key, fresh, "A-2002", "10.00").status_code == 201


def test_postbacks_that_came_before_their_click_show_how_they_ended(admin_env, engine, world) -> None:
    """A 202 whose click never arrives (or breaks a rule) is not a conversion; the advertiser sees why."""
    import datetime as dt

    from api.rawsql import Raw
    from api.services import clicks as click_service
    from test_conversions import CLICK_IDS

    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
    waiting_id, lost_id = (click_service.new_click_id(CLICK_IDS, link.id) for _ in range(2))
    for click_id, order in ((waiting_id, "W-1"), (lost_id, "L-1")):
        with db.transaction(engine) as conn:
            report = conversions.parse_report(click_id, order, "9.50", "USD")
            assert isinstance(
                conversions.report_conversion(conn, world.advertiser.id, report, CLICK_IDS), conversions.Waiting
            )
    with db.transaction(engine) as conn:  # the lost one's click never comes: failed after the expiry
        raw = Raw.of(conn)
        later = dt.datetime.now(dt.UTC) + conversions.WAITING_EXPIRY + dt.timedelta(minutes=1)
        conversions.record_waiting(
            raw, [w for w in conversions.waiting_now(raw, later) if w.click_id == lost_id], later
        )
    at = no_exceptions(open_admin(world.advertiser.id))
    [table] = [frame.value for frame in at.dataframe if "Why not recorded" in frame.value.columns]
    rows = table.set_index("Order")
    assert rows.loc["W-1", "State"] == "Waiting for its click" and rows.loc["W-1", "Why not recorded"] == ""
    assert rows.loc["L-1", "State"] == "Not recorded"
    assert rows.loc["L-1", "Why not recorded"] == "its click never arrived"
    assert any("202" in caption for caption in texts(at.caption))


# --- the rough edges -------------------------------------------------------------


def path_of_tabs(at: AppTest, label: str) -> tuple[int, ...]:
    """Where the tabs with a tab called ``label`` sit in the page (the delta path the browser keys them by)."""

    def walk(node, path):  # type: ignore[no-untyped-def]
        children = getattr(node, "children", {})
        if any(
            getattr(child, "type", None) == "tab" and getattr(child, "label", None) == label
            for child in children.values()
        ):
            return path
        for index, child in children.items():
            found = walk(child, (*path, index))
            if found is not None:
                return found
        return None

    found = walk(at._tree[0], ())
    assert found is not None, f"no tabs with {label!r}"
    return found


def test_task_tabs_keep_their_place_after_a_save_and_the_form_clears(admin_env, engine, world) -> None:
    cid = world.campaign.id
    at = no_exceptions(open_admin(world.advertiser.id))
    before = path_of_tabs(at, "Edit a task")
    at.text_input(key=f"new_task_{cid}_title").input("Unboxing video")
    at.button(key=f"new_task_{cid}_submit").click().run()
    no_exceptions(at)
    assert "Task “Unboxing video” created; open to all partners." in texts(at.success)
    assert path_of_tabs(at, "Edit a task") == before  # the success message did not move the tabs
    assert at.text_input(key=f"new_task_{cid}_title").value == ""  # cleared: one more click is no duplicate
    at.button(key=f"new_task_{cid}_submit").click().run()
    assert texts(at.error) and path_of_tabs(at, "Edit a task") == before
    with db.reading(engine) as conn:
        assert [t.title for t in tasks.list_tasks(conn, world.advertiser.id, cid)].count("Unboxing video") == 1
    # Picking a task to edit and saving it keeps the tabs where they are too.
    with db.reading(engine) as conn:
        made = next(t for t in tasks.list_tasks(conn, world.advertiser.id, cid) if t.title == "Unboxing video")
    at.selectbox(key=f"edit_task_{cid}").set_value(made.id).run()
    assert path_of_tabs(at, "Edit a task") == before
    at.text_input(key=f"task_{made.id}_title").input("Unboxing video, take 2")
    at.button(key=f"task_{made.id}_submit").click().run()
    no_exceptions(at)
    assert path_of_tabs(at, "Edit a task") == before
    assert at.selectbox(key=f"edit_task_{cid}").value == made.id


def test_a_task_is_archived_after_confirmation_and_restored(admin_env, engine, world, client, auth) -> None:
    cid, task_id = world.campaign.id, world.task.id
    at = no_exceptions(open_admin(world.advertiser.id))
    at.selectbox(key=f"edit_task_{cid}").set_value(task_id).run()
    at.button(key=f"task_{task_id}_archive").click().run()
    (question,) = [w for w in texts(at.warning) if w.startswith("Archive")]
    assert "links made before keep redirecting" in question
    with db.reading(engine) as conn:
        assert not tasks.get_task(conn, task_id).archived  # nothing happens before the answer
    at.button(key=f"task_{task_id}_archive_yes").click().run()
    no_exceptions(at)
    assert f"Task “{world.task.title}” archived." in texts(at.success)
    with db.reading(engine) as conn:
        assert tasks.get_task(conn, task_id).archived
    table = next(f.value for f in at.dataframe if "State" in f.value.columns and "Task" in f.value.columns)
    assert table.set_index("Task").loc[world.task.title, "State"].startswith("Archived")
    (checklist,) = readiness_warnings(at)  # its only task is archived: nothing to make links for
    assert f"{TO_DO} A task" in checklist
    response = client.post("/api/v1/links", headers=auth(world.partner), json={"task_id": task_id})
    assert (response.status_code, response.json["error"]["code"]) == (422, "task_archived")
    at.button(key=f"task_{task_id}_restore").click().run()
    assert f"Task “{world.task.title}” restored." in texts(at.success)
    assert not readiness_warnings(at)


def test_decline_end_and_disabling_links_ask_first_and_cancel_does_nothing(admin_env, engine, make, world) -> None:
    cid = world.campaign.id
    applicant = make.membership(world.other_partner.id, cid, "pending")
    with db.transaction(engine) as conn:
        links.create_link(conn, world.partner.id, world.task.id)
    with db.reading(engine) as conn:
        (member,) = [
            m for m in memberships.list_memberships(conn, world.advertiser.id, cid) if m.partner_id == world.partner.id
        ]
    at = no_exceptions(open_admin(world.advertiser.id))
    at.button(key=f"member_{applicant.id}_declined").click().run()
    assert any(w.startswith(f"Decline {world.other_partner.name}?") for w in texts(at.warning))
    at.button(key=f"member_{applicant.id}_declined_cancel").click().run()
    assert not any(w.startswith("Decline") for w in texts(at.warning))
    with db.reading(engine) as conn:
        assert memberships.membership_status(conn, world.other_partner.id, cid) == "pending"
    at.button(key=f"member_{applicant.id}_declined").click().run()
    at.button(key=f"member_{applicant.id}_declined_yes").click().run()
    no_exceptions(at)
    assert f"{world.other_partner.name} is now declined." in texts(at.success)
    # A declined member is offered only what the service allows: approve again.
    assert at.button(key=f"member_{applicant.id}_active")
    assert not [b for b in at.button if b.key == f"member_{applicant.id}_ended"]

    at.button(key=f"member_{member.id}_ended").click().run()
    assert any("End" in w and world.partner.name in w for w in texts(at.warning))
    with db.reading(engine) as conn:
        assert memberships.membership_status(conn, world.partner.id, cid) == "active"
    at.button(key=f"member_{member.id}_disable_links").click().run()  # another question replaces the first
    assert any(w.startswith(f"Disable {world.partner.name}'s 1 link") for w in texts(at.warning))
    at.button(key=f"member_{member.id}_disable_links_yes").click().run()
    assert f"1 link of {world.partner.name} disabled." in texts(at.success)
    with db.reading(engine) as conn:
        assert all(link.disabled for link in links.list_campaign_links(conn, world.advertiser.id, cid))


def test_a_refused_landing_save_can_be_discarded(admin_env, engine, world) -> None:
    cid = world.campaign.id
    at = open_admin(world.advertiser.id)
    edit_pages(at, cid, added_rows=[{"name": "Evil", "url": "javascript:alert(1)", "is_default": False}])
    at.text_area(key=f"domains_{cid}").input("brand.test\nnot a domain")
    at.button(key=f"save_landing_{cid}").click().run()
    assert len(at.error) == 1
    at.button(key=f"discard_landing_{cid}").click().run()
    no_exceptions(at)
    assert list(at.dataframe[0].value["name"]) == ["Home", "Sale"]
    assert at.text_area(key=f"domains_{cid}").value == "*.brand.test\nbrand.test"
    assert not [b for b in at.button if b.key == f"discard_landing_{cid}"]


def test_figures_say_when_they_were_read_and_refresh_reads_them_again(admin_env, engine, world, client) -> None:
    cid = world.campaign.id
    at = no_exceptions(open_admin(world.advertiser.id))
    (as_of,) = [c for c in texts(at.caption) if c.startswith("Figures as of ")]
    assert as_of.split()[4] == "UTC" and len(as_of.split()[3]) == 8  # HH:MM:SS
    assert metrics(at)["Clicks"] == "0"
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id)
    click(client, link.code, "203.0.113.7")
    at.run()
    assert metrics(at)["Clicks"] == "0"  # still the cached figures
    at.button(key=f"refresh_{cid}").click().run()
    no_exceptions(at)
    assert metrics(at)["Clicks"] == "1"


def test_the_chart_has_a_date_axis_and_money_is_right_aligned(admin_env, world, traffic) -> None:
    import json

    at = no_exceptions(open_admin(world.advertiser.id))
    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["x"]["axis"]["labelAngle"] == 0 and spec["encoding"]["x"]["axis"]["tickCount"] <= 10
    assert spec["encoding"]["y"]["axis"]["tickMinStep"] == 1
    tables = [frame for frame in at.dataframe if "Payout" in frame.value.columns and "Clicks" in frame.value.columns]
    config = json.loads(tables[0].proto.columns)
    assert config["Revenue"]["type_config"]["type"] == "number" and config["Revenue"]["type_config"]["format"] == "%.2f"
    assert config["Revenue"]["label"] == "Revenue (USD)"
    assert config["Conversion rate (%)"]["type_config"]["format"] == "%.1f"
    import pyarrow as pa

    arrow = chart.proto.datasets[0].data if chart.proto.datasets else chart.proto.data
    counts = pa.ipc.open_stream(arrow.data).read_all().to_pandas()
    assert counts.groupby("Figure")["Count"].sum().to_dict() == {"Clicks": 4, "Billable clicks": 2, "Conversions": 1}


def test_postback_example_uses_the_public_address_or_says_it_is_missing(admin_env, world, monkeypatch) -> None:
    at = no_exceptions(open_admin(world.advertiser.id))
    (curl,) = [c.value for c in at.code if "curl" in c.value]
    assert "127.0.0.1" not in curl and "https://YOUR-TASKLINK-ADDRESS/api/v1/conversions" in curl
    assert any("TASKLINK_BASE_URL" in w for w in texts(at.warning))
    monkeypatch.setenv("TASKLINK_BASE_URL", "https://track.brand.test")
    at = no_exceptions(open_admin(world.advertiser.id))
    (curl,) = [c.value for c in at.code if "curl" in c.value]
    assert "curl -X POST https://track.brand.test/api/v1/conversions" in curl
    assert not any("TASKLINK_BASE_URL" in w for w in texts(at.warning))


def test_a_made_up_currency_is_refused(admin_env, engine, world) -> None:
    program_id = world.program.id
    at = open_admin(world.advertiser.id)
    at.text_input(key=f"new_campaign_name_{program_id}").input("Made up")
    at.text_input(key=f"new_campaign_currency_{program_id}").input("ABC")
    at.button(key=f"create_campaign_{program_id}").click().run()
    no_exceptions(at)
    assert texts(at.error) == ["ABC is not an ISO 4217 currency code (such as USD, EUR or JPY)."]
    with db.reading(engine) as conn:
        assert [c.name for c in campaigns.list_campaigns(conn, world.advertiser.id, program_id)] == [
            world.campaign.name
        ]


def test_the_toolbar_is_for_viewers() -> None:
    import tomllib

    config = tomllib.loads((Path(ADMIN).parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "viewer"


def test_a_links_qr_code_is_shown_and_offered_for_download(admin_env, engine, world, downloads, monkeypatch) -> None:
    with db.transaction(engine) as conn:
        link = links.create_link(conn, world.partner.id, world.task.id, reporting={"subId1": "story", "sharedid": "s1"})
    cid = world.campaign.id
    # Without the public address the admin cannot know what a code must carry: it says so.
    at = no_exceptions(open_admin(world.advertiser.id))
    at.button(key=f"link_qr_{cid}").click().run()
    assert any("TASKLINK_BASE_URL" in w for w in texts(at.warning))

    monkeypatch.setenv("TASKLINK_BASE_URL", "https://go.brand.example")
    clear_streamlit_caches()
    at = no_exceptions(open_admin(world.advertiser.id))
    at.button(key=f"link_qr_{cid}").click().run()
    no_exceptions(at)
    full, bare = links.link_urls(link, "https://go.brand.example", SECRET_KEYS)
    assert full == f"https://go.brand.example/s/{link.code}?subId1=story&sharedid=s1"
    assert shown_links(at) == [full]
    png = qr.link_qr(link, "https://go.brand.example", SECRET_KEYS, "png")
    offered = list(downloads.values())
    assert png.content in offered  # the same bytes the partner API serves for this link
    # The picture on screen and the PNG download both read as the full link.
    decoded = {
        zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))[0].text for data in offered if data.startswith(b"\x89PNG")
    }
    assert decoded == {full}
    assert any(data.startswith(b"<svg") for data in offered)

    at.radio(key=f"qr_encode_{cid}").set_value("display_url").run()
    assert shown_links(at) == [bare]
    at.button(key=f"link_qr_{cid}").click().run()  # pressed again: hidden
    assert shown_links(at) == []


def shown_links(at: AppTest) -> list[str]:
    """The link texts shown beside a QR code (other code blocks, such as the postback example, left out)."""
    return [block.value for block in at.code if block.value.startswith("https://go.brand.example/s/")]


# --- languages: English and Simplified Chinese --------------------------------------


def open_admin_in(language: str | None = None, advertiser_id: int | None = None, **context: Any) -> AppTest:
    """The admin after its first run, with ``language`` already chosen (or the browser's ``context``)."""
    at = AppTest.from_file(ADMIN, default_timeout=TIMEOUT)
    at.context = context
    if language is not None:
        at.session_state["language"] = language
    if advertiser_id is not None:
        at.session_state["advertiser_id"] = advertiser_id
    return no_exceptions(at.run())


def english_msgids() -> set[str]:
    """The admin's sentences as written in the code (the msgids of admin.po), placeholders left as they are."""
    return {str(message.id) for message in catalogues.read("zh_CN", "admin") if message.id}


TEXT_ELEMENTS = {"title", "header", "subheader", "markdown", "caption", "text", "success", "info", "warning", "error"}


def visible_texts(at: AppTest) -> list[str]:
    """Every text a person sees on the page: elements, labels, help, placeholders, options, tabs, table headers.

    Code blocks (the tag, curl, Python) are code and left out; so are the language box's own label and names.
    """
    found: list[str] = []

    def walk(node: Any) -> None:
        kind = getattr(node, "type", None)
        if kind != "code":
            # A widget's value is what was typed or chosen (a code), not a text of the page.
            for name in (
                ("value", "label", "help", "placeholder") if kind in TEXT_ELEMENTS else ("label", "help", "placeholder")
            ):
                try:
                    value = getattr(node, name)
                except Exception:  # a widget without that attribute, or one AppTest cannot read here
                    continue
                if isinstance(value, str) and value:
                    found.append(value)
            try:
                options = getattr(node, "options", None)
            except Exception:
                options = None
            if isinstance(options, list) and getattr(node, "label", None) != "Language / 语言":
                found.extend(option for option in options if isinstance(option, str))
        proto = getattr(node, "proto", None)
        if kind == "arrow_data_frame" and proto is not None and proto.columns:
            found.extend(column["label"] for column in json.loads(proto.columns).values() if column.get("label"))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for frame in at.dataframe:
        for column in frame.value.columns:
            found += [cell for cell in frame.value[column].tolist() if isinstance(cell, str) and cell]
    return [text for text in found if text != "Language / 语言"]


def test_the_sign_in_screen_follows_the_language_chosen_in_the_sidebar(admin_env, world) -> None:
    at = open_admin_in()
    language = at.selectbox(key="language")
    assert (language.label, language.value, language.options) == ("Language / 语言", "en", ["English", "中文（简体）"])
    assert [t.value for t in at.title] == ["Tasklink admin"]

    language.set_value("zh_CN").run()
    no_exceptions(at)
    assert [t.value for t in at.title] == ["Tasklink 管理后台"]
    assert [t.label for t in at.text_input] == ["邮箱", "密码"]
    assert at.button(key="sign_in_submit").label == "登录"
    assert texts(at.caption) == ["用你的广告主邮箱和密码登录，管理你的活动。"]

    # Signed in, the sections speak Chinese; signed out again, the language stays.
    at.text_input(key="sign_in_email").input(world.advertiser.email)
    at.text_input(key="sign_in_password").input(PASSWORD)
    at.button(key="sign_in_submit").click().run()
    no_exceptions(at)
    assert [h.value for h in at.header][:3] == ["计划和活动", "1. 跟踪", "2. 落地页"]
    assert at.button(key="sign_out").label == "退出登录"
    at.button(key="sign_out").click().run()
    assert at.session_state["advertiser_id"] is None
    assert [t.value for t in at.title] == ["Tasklink 管理后台"]

    at.selectbox(key="language").set_value("en").run()
    assert [t.value for t in at.title] == ["Tasklink admin"]
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]


@pytest.mark.parametrize(
    ("context", "language"),
    [({}, "en"), ({"locale": "zh-CN"}, "zh_CN"), ({"locale": "zh-TW"}, "en"), ({"locale": "en-GB"}, "en")],
)
def test_the_first_language_is_the_browsers(admin_env, context: dict[str, str], language: str) -> None:
    at = open_admin_in(**context)
    assert at.selectbox(key="language").value == language
    assert at.session_state["language"] == language


@pytest.mark.parametrize(
    ("header", "language"), [("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("en-US,en;q=0.9", "en"), ("fr-FR", "en")]
)
def test_the_accept_language_header_comes_before_navigator_language(
    admin_env, monkeypatch, header: str, language: str
) -> None:
    # AppTest cannot send headers (its context seeds only what the browser sends with a rerun), so
    # st.context.headers is replaced for the run: the admin reads Accept-Language before the locale.
    from streamlit.runtime.context import ContextProxy

    monkeypatch.setattr(ContextProxy, "headers", property(lambda self: {"Accept-Language": header}))
    at = open_admin_in(locale="zh-CN" if language == "en" else "en-US")
    assert at.selectbox(key="language").value == language


def test_a_campaign_in_chinese_and_back_in_english(admin_env, world, traffic) -> None:
    cid = world.campaign.id
    at = open_admin_in("zh_CN", world.advertiser.id)
    assert [h.value for h in at.header] == [
        "计划和活动",
        "1. 跟踪",
        "2. 落地页",
        "3. 任务",
        "4. 合作伙伴",
        "5. 效果",
        "6. 转化",
        "7. 密钥",
    ]
    assert at.toggle(key=f"click_tracking_{cid}").label == "点击跟踪"
    assert at.selectbox(key=f"payout_model_{cid}").options == [
        "CPC：按计费点击付费",
        "CPA：按转化付费",
        "销售分成：按销售额的百分比",
    ]
    assert set(metrics(at)) == {"点击", "计费点击", "转化", "转化率", "销售额（USD）", "佣金（USD）"}
    assert [tab.label for tab in at.tabs][:2] == ["新建任务", "编辑任务"]
    # Tables: the headers on screen in Chinese, the columns (and so the CSV files) as they are.
    tables = {frame.value.columns[0]: frame for frame in at.dataframe}
    shown = json.loads(tables["Partner"].proto.columns)
    assert (shown["Partner"]["label"], shown["Clicks"]["label"], shown["Revenue"]["label"]) == (
        "合作伙伴",
        "点击",
        "销售额 (USD)",
    )
    assert tables["Partner"].value.set_index("Partner").loc[world.partner.name, "Why invalid"] == (
        "机器人/链接预览 1 次，24 小时内重复点击 1 次"
    )
    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["encoding"]["color"]["sort"] == ["点击", "计费点击", "转化"]
    assert spec["encoding"]["x"]["axis"]["format"] == "%-m月%-d日"
    # A question and its answer in Chinese.
    at.button(key=f"task_{world.task.id}_archive").click().run()
    (question,) = [w for w in texts(at.warning) if w.startswith("归档")]
    assert question.startswith(f"归档“{world.task.title}”？")
    assert at.button(key=f"task_{world.task.id}_archive_yes").label == "确定归档任务"
    at.button(key=f"task_{world.task.id}_archive_yes").click().run()
    no_exceptions(at)
    assert f"任务“{world.task.title}”已归档。" in texts(at.success)
    (checklist,) = [w for w in texts(at.warning) if w.startswith("合作伙伴还不能创建链接。")]
    assert f"{TO_DO} 一个任务 — 在第 3 部分创建（已归档的不算）" in checklist

    at.selectbox(key="language").set_value("en").run()
    no_exceptions(at)
    assert "1. Tracking" in [h.value for h in at.header]
    assert set(metrics(at)) == {
        "Clicks",
        "Billable clicks",
        "Conversions",
        "Conversion rate",
        "Revenue (USD)",
        "Payout (USD)",
    }


def test_numbers_money_and_dates_in_chinese_are_babels(admin_env, engine, world, traffic) -> None:
    cid = world.campaign.id
    at = open_admin_in("zh_CN", world.advertiser.id)
    shown = metrics(at)
    assert shown["销售额（USD）"] == i18n.format_number(Decimal("40.00"), "zh_CN", digits=2) == "40.00"
    assert shown["转化率"] == i18n.format_percent(0.5, "zh_CN") == "50.0%"
    (option,) = at.selectbox(key=f"conversion_{cid}").options
    assert option == f"订单 A-1001 · {i18n.format_number(Decimal('40.00'), 'zh_CN', digits=2)} USD · 待审核"
    with db.reading(engine) as conn:
        (member,) = memberships.list_memberships(conn, world.advertiser.id, cid)
    since = f"自 {i18n.format_date(member.updated_at.date(), 'zh_CN')} 起"
    assert re.fullmatch(r"自 \d{4}年\d{1,2}月\d{1,2}日 起", since)
    assert any(since in m.value for m in at.markdown)
    at.selectbox(key="language").set_value("en").run()
    (option,) = at.selectbox(key=f"conversion_{cid}").options
    assert option == "Order A-1001 · 40.00 USD · pending"  # as before the languages (the e2e checkout test reads it)
    assert any(f"since {i18n.format_date(member.updated_at.date(), 'en')}" in m.value for m in at.markdown)


def test_no_english_sentence_of_the_admin_is_left_on_a_chinese_screen(admin_env, engine, make, world, traffic) -> None:
    """Rendered in Chinese, signed in, a campaign with data, questions open: no text is one of the English msgids."""
    cid = world.campaign.id
    applicant = make.membership(world.other_partner.id, cid, "pending")
    with db.transaction(engine) as conn:
        memberships.invite_by_email(conn, world.advertiser.id, cid, "invited@test.example")
    at = open_admin_in("zh_CN", world.advertiser.id)
    at.button(key=f"member_{applicant.id}_declined").click().run()  # a question
    at.button(key=f"link_qr_{cid}").click().run()  # the QR panel (its warning: no public address)
    at.button(key=f"task_{world.task.id}_archive").click().run()
    at.button(key=f"task_{world.task.id}_archive_yes").click().run()  # a flash, the checklist, an archived task
    no_exceptions(at)
    seen = visible_texts(at)
    assert len(seen) > 150
    english = english_msgids()
    assert sorted(text for text in seen if text in english) == []
    sentences = [msgid for msgid in english if "{" not in msgid and len(msgid.split()) >= 3]
    assert sorted({msgid for msgid in sentences for text in seen if msgid in text}) == []
    # The same screen in English shows those sentences (the check can fail).
    at.selectbox(key="language").set_value("en").run()
    assert any(text in english for text in visible_texts(at))


# The calls that draw text, the keywords that carry it, and helpers whose arguments are shown.
TEXT_KEYWORDS = {"label", "help", "placeholder", "caption", "body", "page_title", "title", "text", "question"}
NOT_TEXT_FIRST_ARGUMENT = {"form", "code", "image", "columns", "container", "dataframe", "data_editor", "altair_chart"}
HELPERS_TEXT_ARGUMENTS = {"saved": (1,), "confirmed": (1, 2)}


def _streamlit_names() -> set[str]:
    from streamlit.delta_generator import DeltaGenerator

    names = {name for name in dir(DeltaGenerator) if not name.startswith("_")}
    names |= {name for name in dir(st) if not name.startswith("_") and callable(getattr(st, name))}
    names |= {name for name in dir(st.column_config) if not name.startswith("_")}
    return names


def literal_texts(node: ast.AST) -> list[ast.AST]:
    """The literal English in an argument: strings and f-strings with letters, also inside +, if-else, lists.

    A call (``_("...")``, ``N_(...)``, a helper) is not looked into: what it returns is not a literal.
    """
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) and re.search("[A-Za-z]", node.value) else []
    if isinstance(node, ast.JoinedStr):
        parts = [part for part in node.values if isinstance(part, ast.Constant)]
        return [node] if any(re.search("[A-Za-z]", str(part.value)) for part in parts) else []
    if isinstance(node, ast.BinOp):
        return literal_texts(node.left) + literal_texts(node.right)
    if isinstance(node, ast.IfExp):
        return literal_texts(node.body) + literal_texts(node.orelse)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [found for element in node.elts for found in literal_texts(element)]
    return []


def untranslated_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every literal string with letters a Streamlit call or a flash/question helper shows."""
    streamlit = _streamlit_names()
    found: list[tuple[int, str]] = []
    for call in ast.walk(ast.parse(source)):
        if not isinstance(call, ast.Call):
            continue
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        arguments: list[ast.AST] = []
        if name in HELPERS_TEXT_ARGUMENTS and isinstance(call.func, ast.Name):
            arguments = [call.args[i] for i in HELPERS_TEXT_ARGUMENTS[name] if i < len(call.args)]
        elif isinstance(call.func, ast.Attribute) and name in streamlit:
            arguments = list(call.args[1:] if name in NOT_TEXT_FIRST_ARGUMENT else call.args)
        else:
            continue
        arguments += [keyword.value for keyword in call.keywords if keyword.arg in TEXT_KEYWORDS]
        for argument in arguments:
            found += [(literal.lineno, ast.unparse(literal)) for literal in literal_texts(argument)]
    return sorted(set(found))


def test_the_admin_draws_no_literal_text_outside_translation_calls() -> None:
    assert untranslated_literals(Path(ADMIN).read_text(encoding="utf-8")) == []


def test_the_literal_text_check_finds_english_written_straight_into_a_call() -> None:
    sample = """
st.button("Save")
left.metric(f"Revenue ({currency})", value)
st.markdown("**" + "Hello there" + "**")
st.text_input(_("E-mail"), help="Your e-mail address")
saved("tasks", f"Task {title} created.")
st.tabs([_("New task"), "Edit a task"])
st.warning(_("Sure?") if asking else "Done")
st.button(_("Save"), key="save_button")
st.form("sign_in")
st.columns([2, 1])
st.markdown("**" + _("Sections") + "**  \\n")
st.selectbox(LANGUAGE_LABEL, LOCALES, format_func=NAMES.get, key="language")
st.code(guide.request, language="bash")
"""
    assert [line for line, _text in untranslated_literals(sample)] == [2, 3, 4, 5, 6, 7, 8]


def test_the_service_words_the_admin_shows_are_translated(engine, world) -> None:
    """Labels and sentences the services write and the admin shows are in a catalogue (admin.po or api.po)."""
    from api.services import earnings

    words = set(earnings.REASON_LABELS.values()) | {memberships.INVITED_MESSAGE}
    words |= {label for moves in memberships.ACTIONS.values() for label, _status in moves}
    with db.reading(engine) as conn:
        readiness = campaigns.readiness(conn, campaigns.get_campaign(conn, world.campaign.id))
    words |= {check.label for check in readiness.checks} | {check.hint for check in readiness.checks}
    for status, switches in (("paused", (1, 1, 1)), ("ended", (1, 1, 1)), ("active", (0, 1, 1))):
        words.add(str(campaigns.availability(status, *map(bool, switches), 0, None, "active", False).reason))
    words.add(str(campaigns.availability("active", True, False, True, 0, None, "active", False).reason))
    words.add(str(campaigns.availability("active", True, True, False, 0, None, "active", False).reason))
    translated = {
        str(message.id)
        for domain in ("admin", "api")
        for message in catalogues.read("zh_CN", domain)
        if message.id and message.string
    }
    assert sorted(words - translated) == []


def test_the_postback_words_are_the_guides_in_english(admin_env, world) -> None:
    """The admin writes the guide's sentences again to translate them: in English they are the guide's."""
    from api.postback_guide import postback_guide

    guide = postback_guide(None, "clickid", "USD", 30)
    at = open_admin_in("en", world.advertiser.id)
    markdown = " ".join(m.value for m in at.markdown)
    assert guide.intro in markdown and guide.tag_intro in markdown
    assert guide.answers in texts(at.caption)
    assert guide.missing_base_url in texts(at.warning)
