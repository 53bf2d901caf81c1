"""Tasklink advertiser admin: one notebook-style Streamlit page.

Run it next to the API, on the same database and with the same settings
(the ``TASKLINK_*`` variables, read through :mod:`api.core`)::

    streamlit run admin_app.py

It reads top to bottom: sign in, pick a program and a campaign, then
1 Tracking, 2 Landing pages, 3 Tasks, 4 Partners, 5 Performance,
6 Conversions, 7 Keys. :func:`main` renders them in that order; each section
is a function that takes what it needs and returns what later ones use.

This file is layout only: every read and every write goes through
``api.services`` inside ``api.db.reading`` / ``api.db.transaction``, so the
admin obeys exactly the rules the API does (which membership moves exist,
the conversion rate, the sign-in limit, what a campaign still lacks), and a
refused save shows the service's own sentence and leaves nothing half-saved.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st
from sqlalchemy import Connection, Engine

from api import core, db, exports, money
from api.errors import ConfigurationError, NotFound, TasklinkError
from api.postback_guide import postback_guide
from api.services import (
    advertisers,
    campaigns,
    conversions,
    earnings,
    landing_pages,
    links,
    memberships,
    programs,
    qr,
    reports,
    tasks,
)
from api.services.sign_in_limits import SignInLimiter

T = TypeVar("T")

PAYOUT_LABELS = {
    "cpc": "CPC: per billable click",
    "cpa": "CPA: per conversion",
    "revshare": "Revenue share: % of the sale",
}
MODE_LABELS = {
    "manual": "Manual: partners type any URL on the allowed domains",
    "choose": "Choose: partners pick one of your landing pages",
    "default": "Default: your default page, the link is made at once",
}
STATUS_LABELS = {"active": "Active", "paused": "Paused", "ended": "Ended"}
RECENT_CONVERSIONS = 50
WAITING_LABELS = {"waiting": "Waiting for its click", "failed": "Not recorded", "recorded": "Recorded"}
FAILURE_LABELS = {  # the codes a postback would have been refused with
    "click_not_found": "its click never arrived",
    "conversion_tracking_off": "conversion tracking was off",
    "currency_mismatch": "not the campaign's currency",
    "outside_attribution_window": "outside the attribution window",
}
READ_TTL = 60  # seconds; every write and the refresh button clear the cache
OPEN_TO_ALL = 0  # "Assign to" value for no partner
NO_PAGE = 0  # "Landing page" value for the campaign's default
SECTIONS = (
    ("Program and campaign", "program-and-campaign"),
    ("1. Tracking", "tracking"),
    ("2. Landing pages", "landing-pages"),
    ("3. Tasks", "tasks"),
    ("4. Partners", "partners"),
    ("5. Performance", "performance"),
    ("6. Conversions", "conversions"),
    ("7. Keys", "keys"),
)


# ---------------------------------------------------------------------------
# Cached helpers: the core once per process, reads for a minute
# ---------------------------------------------------------------------------


def settings_fingerprint() -> tuple[tuple[str, str], ...]:
    """The TASKLINK_* variables: when they change (another database in tests), a new core is built."""
    return tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("TASKLINK_")))


@st.cache_resource(show_spinner=False, on_release=lambda tasklink: tasklink.close())
def tasklink_core(fingerprint: tuple[tuple[str, str], ...]) -> core.Core:
    """Settings, engine and click pipeline from the TASKLINK_* variables, as the API has them (no HTTP app).

    ``fingerprint`` is only the cache key: the core reads the same variables itself.
    """
    return core.from_environment()


@st.cache_resource(show_spinner=False)
def sign_in_limiter(fingerprint: tuple[tuple[str, str], ...], storage_uri: str, limit: str) -> SignInLimiter:
    """Failed sign-ins per e-mail, with the API's login limit and storage."""
    return SignInLimiter(storage_uri, limit)


# Cached reads take the engine; it is identified by its URL (password hidden) in the cache key.
ENGINE_HASH = {Engine: lambda engine: repr(engine.url)}


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_advertiser(engine: Engine, advertiser_id: int) -> advertisers.Advertiser:
    """The signed-in advertiser (name, e-mail, API key hint)."""
    with db.reading(engine) as conn:
        return advertisers.get_advertiser(conn, advertiser_id)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_programs(engine: Engine, advertiser_id: int) -> list[programs.Program]:
    """The advertiser's programs."""
    with db.reading(engine) as conn:
        return programs.list_programs(conn, advertiser_id)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_campaigns(engine: Engine, advertiser_id: int, program_id: int) -> list[campaigns.Campaign]:
    """The campaigns of one of the advertiser's programs."""
    with db.reading(engine) as conn:
        return campaigns.list_campaigns(conn, advertiser_id, program_id)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_campaign(
    engine: Engine, advertiser_id: int, campaign_id: int
) -> tuple[campaigns.Campaign, campaigns.Readiness]:
    """One campaign and what it still lacks before its partners can make links."""
    with db.reading(engine) as conn:
        campaign = campaigns.get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
        return campaign, campaigns.readiness(conn, campaign)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_landing(
    engine: Engine, advertiser_id: int, campaign_id: int
) -> tuple[list[landing_pages.LandingPage], list[str]]:
    """The campaign's landing pages and allowed domains."""
    with db.reading(engine) as conn:
        campaigns.get_campaign_for_advertiser(conn, advertiser_id, campaign_id)
        return landing_pages.list_landing_pages(conn, campaign_id), landing_pages.list_allowed_domains(
            conn, campaign_id
        )


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_tasks(
    engine: Engine, advertiser_id: int, campaign_id: int
) -> tuple[list[tasks.Task], list[memberships.Membership]]:
    """The campaign's tasks, and the members a task can be assigned to."""
    with db.reading(engine) as conn:
        return (
            tasks.list_tasks(conn, advertiser_id, campaign_id),
            memberships.list_assignable(conn, advertiser_id, campaign_id),
        )


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_memberships(engine: Engine, advertiser_id: int, campaign_id: int) -> list[memberships.Membership]:
    """Every membership in the campaign, pending first."""
    with db.reading(engine) as conn:
        return memberships.list_memberships(conn, advertiser_id, campaign_id)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_invitations(engine: Engine, advertiser_id: int, campaign_id: int) -> list[memberships.Invitation]:
    """The campaign's unanswered invitations, by e-mail only (whether the e-mail has an account is not shown)."""
    with db.reading(engine) as conn:
        return memberships.list_invitations(conn, advertiser_id, campaign_id)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_report(
    engine: Engine,
    _tasklink: core.Core,
    advertiser_id: int,
    campaign_id: int,
    date_from: dt.date,
    date_to: dt.date,
    group_by: str,
) -> tuple[dict[str, Any], dt.datetime]:
    """The campaign's summary report (rows and totals) for the days, grouped one way, and when it was read."""
    _tasklink.click_log.flush()  # clicks still waiting in this host's click log count too
    with db.reading(engine) as conn:
        report = reports.summary(
            conn,
            date_from=date_from,
            date_to=date_to,
            group_by=group_by,
            advertiser_id=advertiser_id,
            campaign_id=campaign_id,
        )
    return report, dt.datetime.now(dt.UTC)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_conversions(engine: Engine, advertiser_id: int, campaign_id: int) -> list[Any]:
    """The campaign's most recent conversions, newest first."""
    with db.reading(engine) as conn:
        return conversions.list_conversions(conn, advertiser_id, campaign_id, limit=RECENT_CONVERSIONS)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_waiting(engine: Engine, advertiser_id: int, campaign_id: int) -> list[conversions.Waiting]:
    """The campaign's postbacks that came before their click and are still waiting for it, or failed."""
    with db.reading(engine) as conn:
        return conversions.list_waiting(conn, advertiser_id, campaign_id, limit=RECENT_CONVERSIONS)


@st.cache_data(ttl=READ_TTL, show_spinner=False, hash_funcs=ENGINE_HASH)
def load_campaign_links(engine: Engine, advertiser_id: int, campaign_id: int) -> list[links.Link]:
    """The links partners made in the campaign, newest first, with their counts."""
    with db.reading(engine) as conn:
        return links.list_campaign_links(conn, advertiser_id, campaign_id)


# ---------------------------------------------------------------------------
# Small layout helpers: writes, messages, confirmations, tables
# ---------------------------------------------------------------------------


def write(engine: Engine, action: Callable[[Connection], T]) -> tuple[bool, T | None]:
    """One unit of work; a refusal shows the service's sentence and saves nothing."""
    try:
        with db.transaction(engine) as conn:
            return True, action(conn)
    except TasklinkError as exc:
        st.error(exc.message)
        return False, None


def saved(section: str, message: str, clear: tuple[str, ...] = ()) -> None:
    """After a write: forget cached reads, keep the success message for the next run, and rerun.

    ``clear`` names the widgets to empty (a creation form's inputs, so one more click makes no duplicate);
    after a refusal they keep what was typed.
    """
    st.cache_data.clear()
    for key in clear:
        st.session_state.pop(key, None)
    st.session_state.flash = {section: message}
    st.session_state.confirming = None
    st.rerun()


def show_flash(section: str) -> None:
    """The success message a save in this section left, in a container that is always there.

    The container keeps the place of everything after it (the tasks' tabs
    among them) whether or not there is a message, so nothing is redrawn.
    """
    message = st.session_state.flash.pop(section, None)
    with st.container():
        if message:
            st.success(message)


def confirmed(key: str, label: str, question: str, *, at: Any = None, **button: Any) -> bool:
    """A destructive button: the first click asks ``question``; True once the advertiser says yes.

    The button is drawn in ``at`` (a column, say); the question below, full width.
    """
    if st.session_state.confirming != key:
        if (at or st).button(label, key=key, **button):
            st.session_state.confirming = key
            st.rerun()
        return False
    with st.container(border=True):
        st.warning(question)
        yes, cancel, _ = st.columns([2, 1, 4])
        if yes.button(f"Yes, {label[0].lower()}{label[1:]}", key=f"{key}_yes", type="primary", width="stretch"):
            return True
        if cancel.button("Cancel", key=f"{key}_cancel", width="stretch"):
            st.session_state.confirming = None
            st.rerun()
    return False


def clean_cell(value: Any) -> Any:
    """A data-editor cell as plain Python: empty cells (NaN, NaT, None) become None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def invalid_summary(invalid: dict[str, int]) -> str:
    """Invalid clicks by reason in words, largest first: “12 repeat click (24 h), 3 bot or link preview”."""
    order: dict[str, int] = {reason: index for index, reason in enumerate(earnings.REASONS)}
    ordered = sorted(invalid.items(), key=lambda item: (-item[1], order.get(item[0], len(order))))
    return ", ".join(f"{count:,} {earnings.REASON_LABELS.get(reason, reason)}" for reason, count in ordered)


def percent(rate: float | None) -> str:
    """A rate from the reports service as a percent; a dash when there is none."""
    return "–" if rate is None else f"{rate:.1%}"


def money_column(label: str, currency: str) -> Any:
    """A right-aligned money column with the currency's decimals."""
    return st.column_config.NumberColumn(f"{label} ({currency})", format=f"%.{money.exponent(currency)}f")


REPORT_COLUMNS = [
    "Clicks",
    "Billable clicks",
    "Bot clicks",
    "Invalid clicks",
    "Conversions",
    "Conversion rate (%)",
    "Revenue",
    "Payout",
    "Why invalid",
]


def report_frame(rows: list[dict[str, Any]], label: str, names: dict[Any, str] | None = None) -> pd.DataFrame:
    """Report rows as a table: the group (by name when known), the counters, the rate and the money (Decimal)."""
    return pd.DataFrame(
        [
            {
                label: (names or {}).get(row["key"], row["key"]) if row["key"] is not None else "(none)",
                "Clicks": row["clicks"],
                "Billable clicks": row["unique_clicks"],
                "Bot clicks": row["bot_clicks"],
                "Invalid clicks": sum(row["invalid_clicks"].values()),
                "Why invalid": invalid_summary(row["invalid_clicks"]),
                "Conversions": row["conversions"],
                "Conversion rate (%)": None
                if row["conversion_rate"] is None
                else round(row["conversion_rate"] * 100, 2),
                "Revenue": Decimal(row["revenue"]),
                "Payout": Decimal(row["payout"]),
            }
            for row in rows
        ],
        columns=[label, *REPORT_COLUMNS],
    )


def report_column_config(currency: str) -> dict[str, Any]:
    """Numbers right-aligned: counts with thousands separators, the rate as a percent, money with its decimals."""
    counts = {
        name: st.column_config.NumberColumn(name, format="localized")
        for name in ("Clicks", "Billable clicks", "Bot clicks", "Invalid clicks", "Conversions")
    }
    return {
        **counts,
        "Conversion rate (%)": st.column_config.NumberColumn("Conversion rate (%)", format="%.1f"),
        "Revenue": money_column("Revenue", currency),
        "Payout": money_column("Payout", currency),
        "Why invalid": st.column_config.TextColumn("Why invalid", width="large"),
    }


def report_csv(frame: pd.DataFrame) -> bytes:
    """A report table as its CSV download, written by :func:`api.exports.csv_bytes` (text cells made safe).

    Revenue and payout are exact decimals, numbers in the file too (a minus sign stays a sign).
    """
    cells = frame.astype(object).where(frame.notna(), None)  # no rate (no billable clicks): an empty cell, not "nan"
    return exports.csv_bytes(list(frame.columns), cells.itertuples(index=False, name=None))


def daily_chart(rows: list[dict[str, Any]], date_from: dt.date, date_to: dt.date) -> alt.Chart:
    """Clicks, billable clicks and conversions per day, every day of the period, with a readable date axis."""
    by_day = {row["key"]: row for row in rows}
    data = pd.DataFrame(
        [
            {"Day": day, "Figure": figure, "Count": by_day.get(day.date().isoformat(), {}).get(field, 0)}
            for day in pd.date_range(date_from, date_to, freq="D")
            for figure, field in (
                ("Clicks", "clicks"),
                ("Billable clicks", "unique_clicks"),
                ("Conversions", "conversions"),
            )
        ]
    )
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("Day:T", title=None, axis=alt.Axis(format="%b %d", labelAngle=0, tickCount=8)),
            y=alt.Y("Count:Q", title=None, axis=alt.Axis(tickMinStep=1, format="~s")),
            color=alt.Color(
                "Figure:N",
                title=None,
                sort=["Clicks", "Billable clicks", "Conversions"],
                scale=alt.Scale(range=["#9ecae1", "#3182bd", "#e6550d"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[alt.Tooltip("Day:T", format="%Y-%m-%d"), "Figure:N", "Count:Q"],
        )
        .properties(height=260)
    )


@dataclass(frozen=True)
class Names:
    """Names later sections show instead of ids."""

    partners: dict[int, str]
    tasks: dict[int, str]


# ---------------------------------------------------------------------------
# Sign in: nothing else is shown until the advertiser has signed in
# ---------------------------------------------------------------------------


def sign_in_section(engine: Engine, limiter: SignInLimiter) -> None:
    """The sign-in form; on success the advertiser's id goes into the session."""
    st.title("Tasklink admin")
    st.caption("Sign in with your advertiser e-mail and password to manage your campaigns.")
    with st.form("sign_in"):
        email = st.text_input("E-mail", key="sign_in_email")
        password = st.text_input("Password", type="password", key="sign_in_password")
        signing_in = st.form_submit_button("Sign in", key="sign_in_submit", type="primary")
    if signing_in:
        try:
            with db.reading(engine) as conn:
                signed_in = advertisers.sign_in(conn, limiter, email, password)
        except TasklinkError as exc:
            st.error(exc.message)
        else:
            st.session_state.advertiser_id = signed_in.id
            st.rerun()


def sidebar(advertiser: advertisers.Advertiser) -> Any:
    """Who is signed in and sign out; returns a place for the section links (drawn once there is a campaign)."""
    with st.sidebar:
        st.markdown(f"Signed in as **{advertiser.name}**  \n{advertiser.email}")
        if st.button("Sign out", key="sign_out"):
            st.session_state.clear()
            st.cache_data.clear()
            st.rerun()
        return st.container()


def section_links() -> None:
    """Links to the sections of the page."""
    st.markdown("**Sections**  \n" + "  \n".join(f"[{title}](#{anchor})" for title, anchor in SECTIONS))


# ---------------------------------------------------------------------------
# Program and campaign: what every section below is about
# ---------------------------------------------------------------------------


def new_program_form(engine: Engine, advertiser_id: int, form_key: str) -> None:
    """Create a program (a newcomer's first step)."""
    with st.form(form_key):
        name = st.text_input("Program name", key="new_program_name", placeholder="e.g. Summer 2027")
        creating = st.form_submit_button("Create program", key="create_program")
    if creating:
        ok, program = write(engine, lambda conn: programs.create_program(conn, advertiser_id, name))
        if ok and program is not None:
            st.session_state.next_program_id = program.id  # the picker is already drawn; it takes this next run
            saved(
                "campaign",
                f"Program “{program.name}” created. Now create its first campaign.",
                clear=("new_program_name",),
            )


def new_campaign_form(engine: Engine, advertiser_id: int, program_id: int) -> None:
    """Create a campaign in the program; it starts with tracking off and manual landing pages."""
    with st.form(f"new_campaign_{program_id}"):
        name = st.text_input("Campaign name", key=f"new_campaign_name_{program_id}", placeholder="e.g. Summer sale")
        left, middle, right = st.columns(3)
        model = left.selectbox(
            "Payout model",
            campaigns.PAYOUT_MODELS,
            format_func=PAYOUT_LABELS.get,
            key=f"new_campaign_model_{program_id}",
        )
        amount = middle.text_input(
            "Payout amount",
            value="0.00",
            key=f"new_campaign_amount_{program_id}",
            help="Money per click or conversion, or the percent of the sale for a revenue share.",
        )
        currency = right.text_input(
            "Currency",
            value="USD",
            max_chars=3,
            key=f"new_campaign_currency_{program_id}",
            help="An ISO 4217 code such as USD, EUR or JPY.",
        )
        creating = st.form_submit_button("Create campaign", key=f"create_campaign_{program_id}")
    if creating:
        ok, campaign = write(
            engine,
            lambda conn: campaigns.create_campaign(
                conn,
                advertiser_id,
                program_id,
                name,
                payout_model=model,
                payout_amount=amount,
                currency=currency.strip().upper(),
            ),
        )
        if ok and campaign is not None:
            st.session_state.next_campaign_id = campaign.id
            saved(
                "campaign",
                f"Campaign “{campaign.name}” created. Next: turn tracking on (1), add landing pages or allowed "
                "domains (2), a task (3) and partners (4).",
                clear=tuple(f"new_campaign_{field}_{program_id}" for field in ("name", "model", "amount", "currency")),
            )


def campaign_section(engine: Engine, advertiser_id: int) -> int | None:
    """Pick (or create) the program and campaign; the campaign's id, or None while there is none."""
    st.title("Tasklink admin")
    st.header("Program and campaign", anchor="program-and-campaign")
    st.caption("A program groups your campaigns. Pick the campaign to work on: every section below is about it.")
    show_flash("campaign")
    program_list = load_programs(engine, advertiser_id)
    program_names = {p.id: p.name for p in program_list}
    if not program_list:
        st.info("You have no programs yet. Create one to start; your first campaign comes next.")
        new_program_form(engine, advertiser_id, "new_program")
        return None

    if "next_program_id" in st.session_state:
        st.session_state.program_id = st.session_state.pop("next_program_id")
    if st.session_state.get("program_id") not in program_names:
        st.session_state.program_id = program_list[0].id
    program_id = st.selectbox("Program", list(program_names), format_func=program_names.get, key="program_id")
    campaign_list = load_campaigns(engine, advertiser_id, program_id)
    campaign_names = {c.id: c.name for c in campaign_list}
    if not campaign_list:
        st.info(f"“{program_names[program_id]}” has no campaigns yet. Create the first one.")
        new_campaign_form(engine, advertiser_id, program_id)
        with st.expander("New program"):
            new_program_form(engine, advertiser_id, "new_program")
        return None

    campaign_key = f"campaign_id_{program_id}"
    if "next_campaign_id" in st.session_state:
        st.session_state[campaign_key] = st.session_state.pop("next_campaign_id")
    if st.session_state.get(campaign_key) not in campaign_names:
        st.session_state[campaign_key] = campaign_list[0].id
    campaign_id = st.selectbox("Campaign", list(campaign_names), format_func=campaign_names.get, key=campaign_key)
    with st.expander("New campaign or program"):
        st.markdown("**New campaign in this program**")
        new_campaign_form(engine, advertiser_id, program_id)
        st.markdown("**New program**")
        new_program_form(engine, advertiser_id, "new_program")
    return int(campaign_id)


# ---------------------------------------------------------------------------
# 1. Tracking
# ---------------------------------------------------------------------------


DONE, TO_DO = ":material/check_box:", ":material/check_box_outline_blank:"  # Streamlit's own icon font


def readiness_box(readiness: campaigns.Readiness) -> None:
    """Whether partners can make links now; if not, the checklist of what is missing."""
    if readiness.ready:
        st.success(
            "Partners can create links now: the campaign is active and tracked, pays for performance, "
            "and has a landing page, an allowed domain, a task and an active partner."
        )
        return
    lines = "\n".join(
        f"- {DONE if check.ok else TO_DO} {check.label}" + ("" if check.ok else f" — {check.hint}")
        for check in readiness.checks
    )
    told = readiness.availability.reason
    st.warning(
        "Partners cannot create links yet."
        + (f" They are told: “{told}”" if told else "")
        + f"\n\nChecklist:\n\n{lines}"
    )


def tracking_section(
    engine: Engine, advertiser_id: int, campaign: campaigns.Campaign, readiness: campaigns.Readiness
) -> None:
    """The three switches, the payout and the campaign's other settings, saved together."""
    cid = campaign.id
    st.header("1. Tracking", anchor="tracking")
    st.caption(
        "What Tasklink records and pays for in this campaign. Partners can create links only while the "
        "campaign is active and all three switches are on."
    )
    show_flash("tracking")
    readiness_box(readiness)
    with st.form(f"tracking_{cid}"):
        left, middle, right = st.columns(3)
        click_tracking = left.toggle(
            "Click tracking",
            value=campaign.click_tracking,
            key=f"click_tracking_{cid}",
            help="Record every click on a partner's link before redirecting.",
        )
        conversion_tracking = middle.toggle(
            "Conversion tracking",
            value=campaign.conversion_tracking,
            key=f"conversion_tracking_{cid}",
            help="Accept your conversion postbacks and attribute them to clicks.",
        )
        pay_for_performance = right.toggle(
            "Pay for performance",
            value=campaign.pay_for_performance,
            key=f"pay_for_performance_{cid}",
            help="Pay partners for clicks, conversions or a share of the sale.",
        )
        left, middle, right = st.columns(3)
        payout_model = left.selectbox(
            "Payout model",
            campaigns.PAYOUT_MODELS,
            format_func=PAYOUT_LABELS.get,
            index=campaigns.PAYOUT_MODELS.index(campaign.payout_model),
            key=f"payout_model_{cid}",
        )
        payout_amount = middle.text_input(
            f"Payout amount ({campaign.currency}, or % for a revenue share)",
            value=str(campaign.payout_amount),
            key=f"payout_amount_{cid}",
        )
        status = right.selectbox(
            "Status",
            campaigns.STATUSES,
            format_func=STATUS_LABELS.get,
            index=campaigns.STATUSES.index(campaign.status),
            key=f"status_{cid}",
            help="Paused or ended: no new links; existing links still redirect.",
        )
        left, middle, right = st.columns(3)
        attribution_window = left.number_input(
            "Attribution window (days)",
            min_value=1,
            max_value=3650,
            step=1,
            value=campaign.attribution_window_days,
            key=f"attribution_window_{cid}",
            help="A conversion counts when it comes at most this many days after the click.",
        )
        click_id_param = middle.text_input(
            "Click-id parameter",
            value=campaign.click_id_param,
            key=f"click_id_param_{cid}",
            help="The query parameter that carries the click id to your landing page, e.g. ?clickid=…",
        )
        daily_click_cap = right.number_input(
            "Daily click cap per visitor",
            min_value=1,
            max_value=earnings.MAX_DAILY_CLICK_CAP,
            step=1,
            value=campaign.daily_click_cap,
            key=f"daily_click_cap_{cid}",
            help="Billable clicks one visitor address may make in this campaign per day (UTC). Clicks past it are "
            "recorded as “over the daily cap” and earn no cpc; their sales still count.",
        )
        paused_pays = st.toggle(
            "A paused campaign still pays",
            value=campaign.paused_pays,
            key=f"paused_pays_{cid}",
            help="While the campaign is paused its links keep redirecting. On: their clicks and sales earn as "
            "usual. Off: they are recorded as “campaign paused” and earn nothing.",
        )
        saving = st.form_submit_button("Save tracking settings", key=f"save_tracking_{cid}", type="primary")
    if saving:
        ok, _ = write(
            engine,
            lambda conn: campaigns.update_settings(
                conn,
                advertiser_id,
                cid,
                click_tracking=click_tracking,
                conversion_tracking=conversion_tracking,
                pay_for_performance=pay_for_performance,
                payout_model=payout_model,
                payout_amount=payout_amount,
                status=status,
                attribution_window_days=int(attribution_window),
                click_id_param=click_id_param.strip(),
                daily_click_cap=int(daily_click_cap),
                paused_pays=paused_pays,
            ),
        )
        if ok:
            saved("tracking", "Tracking settings saved.")


# ---------------------------------------------------------------------------
# 2. Landing pages
# ---------------------------------------------------------------------------


def landing_section(
    engine: Engine, advertiser_id: int, campaign: campaigns.Campaign
) -> list[landing_pages.LandingPage]:
    """Mode, pages and allowed domains, saved together or not at all; returns the saved pages."""
    cid = campaign.id
    st.header("2. Landing pages", anchor="landing-pages")
    st.caption(
        "Where partners may send traffic. Edit the table (add rows at the bottom, tick one default — a single "
        "page is the default by itself — select rows to delete them); mode, pages and domains are saved "
        "together or not at all."
    )
    show_flash("landing")
    page_list, domain_list = load_landing(engine, advertiser_id, cid)
    # A new key after each save (or discard) gives the browser a fresh table.
    version = st.session_state.setdefault("landing_saves", 0)
    pages_key = f"landing_pages_{cid}_{version}"
    with st.form(f"landing_{cid}"):
        landing_mode = st.radio(
            "Landing page mode",
            campaigns.LANDING_MODES,
            format_func=MODE_LABELS.get,
            index=campaigns.LANDING_MODES.index(campaign.landing_mode),
            key=f"landing_mode_{cid}",
        )
        pages_table = pd.DataFrame(
            [{"id": p.id, "name": p.name, "url": p.url, "is_default": p.is_default} for p in page_list],
            columns=["id", "name", "url", "is_default"],
        ).astype({"id": "Int64", "name": "string", "url": "string", "is_default": "boolean"})
        edited_pages = st.data_editor(
            pages_table,
            key=pages_key,
            num_rows="dynamic",
            hide_index=True,
            width="stretch",
            column_order=["name", "url", "is_default"],
            column_config={
                "name": st.column_config.TextColumn("Name", required=True, max_chars=200),
                "url": st.column_config.TextColumn("URL", required=True, width="large", help="http or https"),
                "is_default": st.column_config.CheckboxColumn("Default", default=False),
            },
        )
        domains_text = st.text_area(
            "Allowed domains, one per line",
            value="\n".join(domain_list),
            key=f"domains_{cid}",
            help="Landing pages, and the URLs partners type in manual mode, must be on these. brand.com allows "
            "brand.com only; write *.brand.com to allow its subdomains. Public suffixes (co.uk, github.io) are "
            "refused.",
        )
        saving = st.form_submit_button("Save landing pages", key=f"save_landing_{cid}", type="primary")
    if saving:
        rows = [
            {
                "id": clean_cell(row["id"]),
                "name": clean_cell(row["name"]) or "",
                "url": clean_cell(row["url"]) or "",
                "is_default": bool(clean_cell(row["is_default"])),
            }
            for row in edited_pages.to_dict("records")
        ]
        ok, result = write(
            engine,
            lambda conn: landing_pages.save_landing_setup(
                conn, advertiser_id, cid, mode=landing_mode, pages=rows, domains=domains_text.splitlines()
            ),
        )
        if ok and result is not None:
            _, saved_pages, saved_domains = result
            default_page = next((p.name for p in saved_pages if p.is_default), None)
            st.session_state.landing_saves += 1
            saved(
                "landing",
                f"Landing pages saved: {len(saved_pages)} page(s)"
                + (f", default “{default_page}”" if default_page else "")
                + f"; {len(saved_domains)} allowed domain(s); {landing_mode} mode.",
            )
        else:
            st.session_state.landing_unsaved = cid
    if st.session_state.get("landing_unsaved") == cid:
        st.caption("The table and domains above still hold your unsaved edits. Fix them and save again, or:")
        if st.button("Discard unsaved edits", key=f"discard_landing_{cid}"):
            st.session_state.landing_saves += 1
            st.session_state.landing_unsaved = None
            st.session_state.pop(f"domains_{cid}", None)
            st.rerun()
    with st.container():
        if not domain_list:
            st.info(
                "No allowed domains yet: add your site's domain before your landing pages (both can go in one save)."
            )
    return page_list


# ---------------------------------------------------------------------------
# 3. Tasks
# ---------------------------------------------------------------------------


def task_form(
    engine: Engine,
    advertiser_id: int,
    campaign_id: int,
    form_key: str,
    task: tasks.Task | None,
    partner_choices: dict[int, str],
    page_choices: dict[int, str],
) -> None:
    """Create a task (``task`` is None) or edit one; the assignee may be any active or pending member."""
    current_partner = task.partner_id if task and task.partner_id else OPEN_TO_ALL
    choices = dict(partner_choices)
    if current_partner not in choices and task is not None:
        choices[current_partner] = f"{task.partner_name} (no longer a member)"
    current_page = task.landing_page_id if task and task.landing_page_id in page_choices else NO_PAGE
    with st.form(form_key):
        title = st.text_input(
            "Title",
            value=task.title if task else "",
            key=f"{form_key}_title",
            placeholder="e.g. Reel for the summer launch",
        )
        description = st.text_area("Description", value=task.description if task else "", key=f"{form_key}_description")
        left, right = st.columns(2)
        assignee = left.selectbox(
            "Assign to",
            list(choices),
            format_func=choices.get,
            index=list(choices).index(current_partner),
            key=f"{form_key}_partner",
        )
        page = right.selectbox(
            "Landing page",
            list(page_choices),
            format_func=page_choices.get,
            index=list(page_choices).index(current_page),
            key=f"{form_key}_page",
        )
        submitted = st.form_submit_button("Save task" if task else "Create task", key=f"{form_key}_submit")
    if submitted:
        partner_id = None if assignee == OPEN_TO_ALL else assignee
        landing_page_id = None if page == NO_PAGE else page
        if task is None:
            ok, made = write(
                engine,
                lambda conn: tasks.create_task(
                    conn,
                    advertiser_id,
                    campaign_id,
                    title,
                    description,
                    partner_id=partner_id,
                    landing_page_id=landing_page_id,
                ),
            )
        else:
            ok, made = write(
                engine,
                lambda conn: tasks.update_task(
                    conn,
                    advertiser_id,
                    task.id,
                    title=title,
                    description=description,
                    partner_id=partner_id,
                    landing_page_id=landing_page_id,
                ),
            )
        if ok and made is not None:
            who = made.partner_name or "all partners"
            saved(
                "tasks",
                f"Task “{made.title}” {'saved' if task else 'created'}; open to {who}.",
                clear=()
                if task
                else tuple(f"{form_key}_{field}" for field in ("title", "description", "partner", "page")),
            )


def archive_controls(engine: Engine, advertiser_id: int, task: tasks.Task) -> None:
    """Archive a task (after a question) or restore an archived one."""
    if task.archived:
        st.caption(
            f"Archived on {task.archived_at:%Y-%m-%d}: partners cannot make new links for it; the links "
            "made before keep working."
        )
        go = st.button("Restore task", key=f"task_{task.id}_restore", help="Partners can make links for it again.")
    else:
        go = confirmed(
            f"task_{task.id}_archive",
            "Archive task",
            f"Archive “{task.title}”? Partners can no longer make new links for it; the links made "
            "before keep redirecting and earning. You can restore it later.",
        )
    if go:
        ok, changed = write(engine, lambda conn: tasks.set_archived(conn, advertiser_id, task.id, not task.archived))
        if ok and changed is not None:
            saved("tasks", f"Task “{changed.title}” {'archived' if changed.archived else 'restored'}.")


def tasks_section(
    engine: Engine, advertiser_id: int, campaign_id: int, page_list: list[landing_pages.LandingPage]
) -> list[tasks.Task]:
    """The tasks table, and tabs to create one or edit one; returns the tasks."""
    cid = campaign_id
    st.header("3. Tasks", anchor="tasks")
    st.caption("The work partners make links for. A task is open to every partner of the campaign or assigned to one.")
    show_flash("tasks")
    task_list, assignable = load_tasks(engine, advertiser_id, cid)
    page_names = {p.id: p.name for p in page_list}
    partner_choices = {
        OPEN_TO_ALL: "Open to all partners",
        **{m.partner_id: f"{m.partner_name} ({m.status})" for m in assignable},
    }
    page_choices = {NO_PAGE: "Campaign default / partner's choice", **page_names}
    with st.container():
        if task_list:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Task": t.title,
                            "State": "Archived" if t.archived else "Open",
                            "Assigned to": t.partner_name or "Open to all",
                            "Landing page": page_names.get(t.landing_page_id, "—") if t.landing_page_id else "—",
                            "Description": t.description,
                            "Created": t.created_at.strftime("%Y-%m-%d"),
                        }
                        for t in task_list
                    ]
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "Task": st.column_config.TextColumn("Task", width="large"),
                    "State": st.column_config.TextColumn("State", width="small"),
                    "Created": st.column_config.TextColumn("Created", width="small"),
                },
            )
        else:
            st.info("No tasks yet: create one so partners have something to make links for.")

    new_tab, edit_tab = st.tabs(["New task", "Edit a task"])
    with new_tab:
        task_form(engine, advertiser_id, cid, f"new_task_{cid}", None, partner_choices, page_choices)
    with edit_tab:
        if task_list:
            task_titles = {t.id: t.title + (" (archived)" if t.archived else "") for t in task_list}
            chosen = st.selectbox("Task", list(task_titles), format_func=task_titles.get, key=f"edit_task_{cid}")
            task = next(t for t in task_list if t.id == chosen)
            task_form(engine, advertiser_id, cid, f"task_{chosen}", task, partner_choices, page_choices)
            archive_controls(engine, advertiser_id, task)
        else:
            st.caption("Nothing to edit yet.")
    return task_list


# ---------------------------------------------------------------------------
# 4. Partners
# ---------------------------------------------------------------------------

DESTRUCTIVE = {  # membership moves that ask first, and what they ask
    "declined": "Decline {name}? They cannot make links in this campaign (you can approve them later).",
    "ended": "End {name}'s membership? Their links then send visitors to your default page and earn nothing from "
    "the next click on; what they earned before stays.",
}


def member_row(
    engine: Engine, advertiser_id: int, campaign_id: int, member: memberships.Membership, live_links: int
) -> None:
    """One partner: name, status, the moves the service allows, and disabling their links."""
    name_col, status_col, *action_cols, links_col = st.columns([4, 2, 1.3, 1.3, 1.8], vertical_alignment="center")
    name_col.markdown(f"**{member.partner_name}**  \n{member.partner_email}")
    declined_invitation = member.status == "declined" and member.invited_at is not None
    status = "Declined your invitation" if declined_invitation else member.status.capitalize()
    status_col.markdown(f"{status}  \nsince {member.updated_at:%Y-%m-%d}")
    # Two action columns; a status may offer fewer moves, leaving a column empty.
    for column, (label, new_status) in zip(action_cols, member.actions, strict=False):
        key = f"member_{member.id}_{new_status}"
        if new_status in DESTRUCTIVE:
            go = confirmed(
                key, label, DESTRUCTIVE[new_status].format(name=member.partner_name), at=column, width="stretch"
            )
        else:
            go = column.button(label, key=key, width="stretch")
        if go:
            ok, changed = write(
                engine,
                lambda conn, new_status=new_status: memberships.set_membership_status(
                    conn, advertiser_id, member.id, new_status
                ),
            )
            if ok and changed is not None:
                saved("partners", f"{changed.partner_name} is now {changed.status}.")
    if live_links:
        label = f"Disable {live_links} link{'s' * (live_links != 1)}"
        question = (
            f"Disable {member.partner_name}'s {live_links} link{'s' * (live_links != 1)} in this campaign? "
            "Visitors then go to your default page and nobody earns from them."
        )
        if confirmed(
            f"member_{member.id}_disable_links",
            label,
            question,
            at=links_col,
            width="stretch",
            help="Stop this partner's links in this campaign.",
        ):
            ok, count = write(
                engine,
                lambda conn: links.advertiser_disable_partner_links(
                    conn, advertiser_id, campaign_id, member.partner_id
                ),
            )
            if ok:
                saved("partners", f"{count} link{'s' * (count != 1)} of {member.partner_name} disabled.")


@dataclass(frozen=True)
class LinkAddress:
    """What a link's public URLs are made of: the deployment's public base (None: not configured) and the keys."""

    base_url: str | None
    keys: tuple[str, ...]


QR_ENCODE_LABELS: dict[qr.Encoded, str] = {
    "url": "The full link, with the partner's reporting info (what the partner copies)",
    "display_url": "The link without reporting info",
}


def link_qr_panel(link: links.Link, address: LinkAddress, campaign_id: int) -> None:
    """A link's QR code, drawn by the same service function as the partner API's, with both downloads."""
    if not address.base_url:
        st.warning(
            "Set TASKLINK_BASE_URL to the public address of your links to show their QR codes: a code must "
            "carry the address visitors reach, which the admin cannot guess."
        )
        return
    encode = st.radio(
        "The code opens",
        list(QR_ENCODE_LABELS),
        format_func=QR_ENCODE_LABELS.get,
        key=f"qr_encode_{campaign_id}",
        horizontal=True,
    )
    try:
        png = qr.link_qr(link, address.base_url, address.keys, "png", encode=encode)
        svg = qr.link_qr(link, address.base_url, address.keys, "svg", encode=encode)
    except TasklinkError as exc:  # too long for a QR code: the service's sentence
        st.error(exc.message)
        return
    picture, side = st.columns([1, 3])
    picture.image(png.content, width=200, caption=f"Link {link.id}")
    side.code(png.text, language=None, wrap_lines=True)
    first, second = side.columns(2)
    first.download_button(
        "Download PNG",
        png.content,
        file_name=f"tasklink-link-{link.id}.png",
        mime=png.media_type,
        key=f"qr_png_{campaign_id}",
        width="stretch",
    )
    second.download_button(
        "Download SVG",
        svg.content,
        file_name=f"tasklink-link-{link.id}.svg",
        mime=svg.media_type,
        key=f"qr_svg_{campaign_id}",
        width="stretch",
    )


def partner_links(
    engine: Engine,
    advertiser_id: int,
    campaign_id: int,
    link_list: list[links.Link],
    partner_names: dict[int, str],
    address: LinkAddress,
) -> None:
    """The partners' links with their counts; disable or enable one, or show its QR code."""
    with st.expander(f"Partners' links ({len(link_list)})"):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Link": link.id,
                        "Partner": partner_names.get(link.partner_id, link.partner_id),
                        "Landing URL": link.landing_url,
                        "Clicks": link.clicks,
                        "Billable clicks": link.billable_clicks,
                        "Conversions": link.conversions,
                        "State": ("Disabled by you" if link.disabled_by == "advertiser" else "Disabled by the partner")
                        if link.disabled
                        else "Live",
                    }
                    for link in link_list
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        labels = {
            link.id: f"Link {link.id} · {partner_names.get(link.partner_id, link.partner_id)} · {link.landing_url}"
            for link in link_list
        }
        left, middle, right, last = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
        chosen = left.selectbox("Link", list(labels), format_func=labels.get, key=f"link_{campaign_id}")
        disabling = confirmed(
            f"link_disable_{campaign_id}",
            "Disable",
            f"Disable link {chosen}? Its visitors then go to your default page and nobody earns from it.",
            at=middle,
            width="stretch",
        )
        enabling = right.button("Enable", key=f"link_enable_{campaign_id}", width="stretch")
        showing = f"qr_link_{campaign_id}"
        if last.button("QR code", key=f"link_qr_{campaign_id}", width="stretch"):
            # Pressed again for the link shown: hide it.
            st.session_state[showing] = None if st.session_state.get(showing) == chosen else chosen
        if st.session_state.get(showing) == chosen:
            link_qr_panel(next(link for link in link_list if link.id == chosen), address, campaign_id)
        if disabling or enabling:
            ok, changed = write(
                engine, lambda conn: links.advertiser_set_disabled(conn, advertiser_id, chosen, disabling)
            )
            if ok and changed is not None:
                saved("partners", f"Link {changed.id} is now {'disabled' if disabling else 'live'}.")


def partners_section(engine: Engine, advertiser_id: int, campaign_id: int, address: LinkAddress) -> dict[int, str]:
    """Memberships and their moves, the partners' links, adding a partner; returns the partners' names."""
    cid = campaign_id
    st.header("4. Partners", anchor="partners")
    st.caption(
        "Who takes part in this campaign. Only active members can make links and earn; approve or decline "
        "applications, end a membership (their links then send visitors to your default page and earn nothing "
        "from the next click on, while what they earned before stays), disable a partner's links, or invite a "
        "partner by e-mail: they join when they accept in the Tasklink extension (an e-mail without an account "
        "gets the invitation when its account is created)."
    )
    show_flash("partners")
    member_list = load_memberships(engine, advertiser_id, cid)
    partner_names = {m.partner_id: m.partner_name for m in member_list}
    link_list = load_campaign_links(engine, advertiser_id, cid)
    with st.container():
        if not member_list:
            st.info("No partners in this campaign yet. Add one below by e-mail.")
        for member in member_list:
            live = sum(1 for link in link_list if link.partner_id == member.partner_id and not link.disabled)
            member_row(engine, advertiser_id, cid, member, live)
    with st.container():
        if link_list:
            partner_links(engine, advertiser_id, cid, link_list, partner_names, address)

    invitation_list = load_invitations(engine, advertiser_id, cid)
    if invitation_list:
        st.markdown(f"**Invitations awaiting an answer ({len(invitation_list)})**")
    for invitation in invitation_list:
        email_col, date_col, action_col = st.columns([4, 2, 2.6], vertical_alignment="center")
        email_col.markdown(invitation.email)
        date_col.markdown(f"Invited  \n{invitation.invited_at:%Y-%m-%d}")
        if action_col.button("Withdraw", key=f"withdraw_{cid}_{invitation.email}", width="stretch"):
            ok, _ = write(
                engine,
                lambda conn, email=invitation.email: memberships.withdraw_invitation(conn, advertiser_id, cid, email),
            )
            if ok:
                saved("partners", f"Invitation to {invitation.email} withdrawn.")

    with st.form(f"add_partner_{cid}"):
        email = st.text_input(
            "Invite a partner by e-mail", key=f"add_partner_email_{cid}", placeholder="partner@example.com"
        )
        adding = st.form_submit_button("Invite partner", key=f"add_partner_submit_{cid}")
    if adding:
        ok, message = write(engine, lambda conn: memberships.invite_by_email(conn, advertiser_id, cid, email))
        if ok and message is not None:
            saved("partners", message, clear=(f"add_partner_email_{cid}",))
    return partner_names


# ---------------------------------------------------------------------------
# 5. Performance
# ---------------------------------------------------------------------------


def performance_section(
    engine: Engine, tasklink: core.Core, advertiser_id: int, campaign: campaigns.Campaign, names: Names
) -> None:
    """Totals, a chart by day, tables by day, partner, task and Shared ID, and their CSV files."""
    cid = campaign.id
    st.header("5. Performance", anchor="performance")
    st.caption(
        "Clicks, conversions and money in this campaign over the chosen days (UTC, both included). Billable clicks "
        "are the ones you pay for; the others are recorded as invalid with their reason (bots, prefetches, repeat "
        "clicks within 24 hours, clicks past the daily cap, or made where nobody may earn). The conversion rate is "
        "conversions per billable click. Sub IDs are the partners' own reporting info, so you see their Shared ID "
        "instead."
    )
    today = dt.datetime.now(dt.UTC).date()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    period = left.date_input(
        "Period", value=(today - dt.timedelta(days=29), today), max_value=today, key=f"period_{cid}"
    )
    if right.button("Refresh figures", key=f"refresh_{cid}", icon=":material/refresh:", width="stretch"):
        st.cache_data.clear()
    if not isinstance(period, (tuple, list)) or len(period) != 2:
        st.info("Pick the last day of the period too.")
        return
    date_from, date_to = period
    by_day, as_of = load_report(engine, tasklink, advertiser_id, cid, date_from, date_to, "day")
    st.caption(f"Figures as of {as_of:%H:%M:%S} UTC (they are kept for a minute; Refresh reads them again).")
    totals = by_day["totals"]
    columns = [*st.columns(4), *st.columns(4)[:2]]  # counts, then money: wide enough for 1,234,567.89
    columns[0].metric(
        "Clicks", f"{totals['clicks']:,}", help=f"Every recorded click, {totals['bot_clicks']:,} of them bots."
    )
    invalid_total = sum(totals["invalid_clicks"].values())
    columns[1].metric(
        "Billable clicks",
        f"{totals['unique_clicks']:,}",
        help=f"{invalid_total:,} invalid: {invalid_summary(totals['invalid_clicks'])}"
        if invalid_total
        else "Every click in this period is billable.",
    )
    columns[2].metric("Conversions", f"{totals['conversions']:,}")
    columns[3].metric("Conversion rate", percent(totals["conversion_rate"]))
    columns[4].metric(f"Revenue ({campaign.currency})", f"{Decimal(totals['revenue']):,}")
    columns[5].metric(f"Payout ({campaign.currency})", f"{Decimal(totals['payout']):,}")
    if not totals["clicks"] and not totals["conversions"]:
        st.info("No clicks or conversions in this period yet. They appear here as partners' links are used.")
        return
    st.altair_chart(daily_chart(by_day["rows"], date_from, date_to), width="stretch")
    config = report_column_config(campaign.currency)
    tabs = st.tabs(["By day", "By partner", "By task", "By Shared ID"])
    for tab, group_by, label, group_names in zip(
        tabs,
        ("day", "partner", "task", "sharedid"),
        ("Day", "Partner", "Task", "Shared ID"),
        (None, names.partners, names.tasks, None),
        strict=True,
    ):
        with tab:
            rows = (
                by_day["rows"]
                if group_by == "day"
                else load_report(engine, tasklink, advertiser_id, cid, date_from, date_to, group_by)[0]["rows"]
            )
            frame = report_frame(rows, label, group_names)
            st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
            st.download_button(
                f"Download CSV ({label.lower()})",
                report_csv(frame),
                file_name=f"tasklink-campaign-{cid}-{group_by}-{date_from}-{date_to}.csv",
                mime="text/csv",
                key=f"csv_{group_by}_{cid}",
            )


# ---------------------------------------------------------------------------
# 6. Conversions
# ---------------------------------------------------------------------------


def conversions_section(
    engine: Engine,
    advertiser_id: int,
    campaign: campaigns.Campaign,
    partner_names: dict[int, str],
    base_url: str | None,
) -> None:
    """Recent conversions (approve or reverse), postbacks still waiting, and how to send one."""
    cid = campaign.id
    st.header("6. Conversions", anchor="conversions")
    st.caption(
        "The orders your site reported for this campaign's clicks. New ones are pending: approve them to pay the "
        "partner, or reverse them (a cancelled or returned order)."
    )
    show_flash("conversions")
    conversion_list = load_conversions(engine, advertiser_id, cid)
    with st.container():
        if conversion_list:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Time (UTC)": c.created_at.strftime("%Y-%m-%d %H:%M"),
                            "Order": c.order_id,
                            "Amount": Decimal(c.amount),
                            "Payout": Decimal(c.payout),
                            "No payout because": earnings.REASON_LABELS.get(c.payout_reason, c.payout_reason)
                            if c.payout_reason
                            else "",
                            "Partner": partner_names.get(c.partner_id, c.partner_id),
                            "Status": c.status.capitalize(),
                            "Click id": c.click_id,
                        }
                        for c in conversion_list
                    ]
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "Amount": money_column("Amount", campaign.currency),
                    "Payout": money_column("Payout", campaign.currency),
                },
            )
            labels = {c.id: f"Order {c.order_id} · {c.amount} {c.currency} · {c.status}" for c in conversion_list}
            left, middle, right = st.columns([4, 1, 1], vertical_alignment="bottom")
            chosen = left.selectbox("Conversion", list(labels), format_func=labels.get, key=f"conversion_{cid}")
            for column, (label, new_status) in ((middle, ("Approve", "approved")), (right, ("Reverse", "reversed"))):
                if column.button(label, key=f"conversion_{new_status}_{cid}", width="stretch"):
                    ok, changed = write(
                        engine,
                        lambda conn, new_status=new_status: conversions.set_conversion_status(
                            conn, advertiser_id, chosen, new_status
                        ),
                    )
                    if ok and changed is not None:
                        saved("conversions", f"Order {changed.order_id} is now {changed.status}.")
        else:
            st.info("No conversions yet. Send them from your site as shown below.")

    waiting_list = load_waiting(engine, advertiser_id, cid)
    with st.container():
        if waiting_list:
            st.markdown(
                "**Postbacks that came before their click was stored** (answered 202). They are recorded as "
                "conversions as soon as their click is, normally within a second; one whose click breaks a rule by "
                "then is not, and shows why here."
            )
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Received (UTC)": w.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                            "Order": w.order_id,
                            "Amount": Decimal(w.amount),
                            "State": WAITING_LABELS.get(w.status, w.status),
                            "Why not recorded": FAILURE_LABELS.get(w.error, w.error) if w.error else "",
                            "Click id": w.click_id,
                        }
                        for w in waiting_list
                    ]
                ),
                hide_index=True,
                width="stretch",
                column_config={"Amount": money_column("Amount", campaign.currency)},
            )

    guide = postback_guide(base_url, campaign.click_id_param, campaign.currency, campaign.attribution_window_days)
    st.markdown(f"**Sending a conversion (postback).** {guide.intro} Your API key is in section 7.")
    if guide.missing_base_url:
        st.warning(guide.missing_base_url)
    st.markdown(f"**Landing tag.** {guide.tag_intro}")
    st.code(guide.tag, language="html")
    curl, python = st.tabs(["curl", "Python"])
    curl.code(guide.request, language="bash")
    python.code(guide.python, language="python")
    st.caption(guide.answers)


# ---------------------------------------------------------------------------
# 7. Keys
# ---------------------------------------------------------------------------


def keys_section(engine: Engine, advertiser: advertisers.Advertiser) -> None:
    """The API key's hint; rotate it (after a tick), and the new key shown once."""
    st.header("7. Keys", anchor="keys")
    st.caption(
        "Your API key authenticates your conversion postbacks (Authorization: Bearer KEY). Tasklink keeps only "
        "a hash of it and the hint below, so a new key is shown once; rotating stops the old key at once. "
        "Use it on your server only, never in a page: section 6 shows the landing tag and the postback in curl "
        "and Python."
    )
    show_flash("keys")
    new_key = st.session_state.pop("new_api_key", None)
    if new_key:
        st.warning("Copy the new key now: it is shown only this once.")
        st.code(new_key, language=None)
    st.markdown(f"Current key: `{advertiser.api_key_hint}`")
    if new_key:  # while the new key is shown, no rotate controls (they come back unticked)
        return
    confirm = st.checkbox("I understand that the current key stops working at once.", key="rotate_confirm")
    if st.button("Rotate API key", key="rotate_key", disabled=not confirm):
        ok, rotated = write(engine, lambda conn: advertisers.rotate_api_key(conn, advertiser.id))
        if ok and rotated:
            st.session_state.new_api_key = rotated
            saved("keys", "API key rotated: the old key no longer works. Update your postback with the new one.")


# ---------------------------------------------------------------------------
# The page, top to bottom
# ---------------------------------------------------------------------------


def main() -> None:
    """Sign in, then the campaign and its seven sections, each in its own container so none moves another."""
    st.set_page_config(page_title="Tasklink admin", page_icon="🔗", layout="wide")
    fingerprint = settings_fingerprint()
    try:
        tasklink = tasklink_core(fingerprint)
    except ConfigurationError as exc:
        st.error(exc.message)  # same rule as the API: no signing keys outside demo mode means no start
        return
    engine, config = tasklink.engine, tasklink.config
    for name, initial in (("advertiser_id", None), ("flash", {}), ("confirming", None)):
        if name not in st.session_state:
            st.session_state[name] = initial

    if st.session_state.advertiser_id is None:
        limiter = sign_in_limiter(fingerprint, config["RATELIMIT_STORAGE_URI"], config["RATELIMIT_LOGIN"])
        sign_in_section(engine, limiter)
        return
    try:
        advertiser = load_advertiser(engine, st.session_state.advertiser_id)
    except NotFound:  # the account is gone (or the database changed under a running session)
        st.session_state.clear()
        st.rerun()
    links_place = sidebar(advertiser)

    with st.container():
        campaign_id = campaign_section(engine, advertiser.id)
    if campaign_id is None:
        return
    with links_place:
        section_links()
    campaign, readiness = load_campaign(engine, advertiser.id, campaign_id)
    with st.container():
        tracking_section(engine, advertiser.id, campaign, readiness)
    with st.container():
        page_list = landing_section(engine, advertiser.id, campaign)
    with st.container():
        task_list = tasks_section(engine, advertiser.id, campaign.id, page_list)
    with st.container():
        address = LinkAddress(config.get("BASE_URL"), tuple(config["SECRET_KEYS"]))
        partner_names = partners_section(engine, advertiser.id, campaign.id, address)
    names = Names(partners=partner_names, tasks={t.id: t.title for t in task_list})
    with st.container():
        performance_section(engine, tasklink, advertiser.id, campaign, names)
    with st.container():
        conversions_section(engine, advertiser.id, campaign, partner_names, config.get("BASE_URL"))
    with st.container():
        keys_section(engine, advertiser)


main()
