"""Tasklink advertiser admin: one notebook-style Streamlit page, in English or Simplified Chinese.

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

Languages: the sidebar's "Language / 语言" box (its default is what the
browser asks for) picks the language of the page. Every sentence is written
here in English inside ``_("...")`` (or ``N_("...")`` in a constant, translated
where it is shown) and looked up in ``api/translations/<locale>/LC_MESSAGES/admin.po``;
a service's error is shown with :func:`api.i18n.localize`; numbers, money and
dates are formatted for the language with Babel (:mod:`api.i18n`). Machine
values (CSV columns, keys, codes, URLs) stay as they are.
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

from api import core, db, exports, i18n, money
from api.errors import ConfigurationError, NotFound, TasklinkError
from api.i18n import N_
from api.postback_guide import postback_guide
from api.services import (
    accounts,
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

#: Machine values shown as they are in every language: an example e-mail, the names of the postback's tools.
EXAMPLE_EMAIL = "partner@example.com"
CODE_TABS = ("curl", "Python")
#: The language box's label, the same in every language: whoever cannot read the page's finds it.
LANGUAGE_LABEL = "Language / 语言"
PAYOUT_LABELS = {
    "cpc": N_("CPC: per billable click"),
    "cpa": N_("CPA: per conversion"),
    "revshare": N_("Revenue share: % of the sale"),
}
MODE_LABELS = {
    "manual": N_("Manual: partners type any URL on the allowed domains"),
    "choose": N_("Choose: partners pick one of your landing pages"),
    "default": N_("Default: your default page, the link is made at once"),
}
STATUS_LABELS = {"active": N_("Active"), "paused": N_("Paused"), "ended": N_("Ended")}
MEMBER_STATUS_LABELS = {  # "Active member": a campaign's "Active" is another word in Chinese
    "pending": N_("Pending"),
    "active": N_("Active member"),
    "declined": N_("Declined"),
    "ended": N_("Ended"),
    "invited": N_("Invited"),
}
CONVERSION_STATUS_LABELS = {"pending": N_("Pending"), "approved": N_("Approved"), "reversed": N_("Reversed")}
RECENT_CONVERSIONS = 50
WAITING_LABELS = {"waiting": N_("Waiting for its click"), "failed": N_("Not recorded"), "recorded": N_("Recorded")}
FAILURE_LABELS = {  # the codes a postback would have been refused with
    "click_not_found": N_("its click never arrived"),
    "conversion_tracking_off": N_("conversion tracking was off"),
    "currency_mismatch": N_("not the campaign's currency"),
    "outside_attribution_window": N_("outside the attribution window"),
}
READ_TTL = 60  # seconds; every write and the refresh button clear the cache
OPEN_TO_ALL = 0  # "Assign to" value for no partner
NO_PAGE = 0  # "Landing page" value for the campaign's default
SECTIONS = (
    (N_("Program and campaign"), "program-and-campaign"),
    (N_("1. Tracking"), "tracking"),
    (N_("2. Landing pages"), "landing-pages"),
    (N_("3. Tasks"), "tasks"),
    (N_("4. Partners"), "partners"),
    (N_("5. Performance"), "performance"),
    (N_("6. Conversions"), "conversions"),
    (N_("7. Keys"), "keys"),
)


# ---------------------------------------------------------------------------
# Languages: the one chosen in the sidebar, sentences in it, numbers and dates for it
# ---------------------------------------------------------------------------


def browser_locale() -> i18n.Locale:
    """The language the browser asks for: its ``Accept-Language``, else ``navigator.language``; else English."""
    header = st.context.headers.get("Accept-Language")
    if header:
        return i18n.negotiate(header)
    return i18n.negotiate(st.context.locale)


def locale() -> str:
    """The language chosen in the sidebar (``en`` or ``zh_CN``)."""
    chosen = st.session_state.get("language")
    return chosen if chosen in i18n.LOCALES else i18n.DEFAULT_LOCALE


def _(text: str, **params: object) -> str:
    """``text`` in the chosen language, filled with ``params`` (``{name}`` placeholders, never concatenation)."""
    return i18n.gettext(locale(), text, "admin", **params)


def said(text: object) -> str:
    """Words a service wrote (a label, a hint, a sentence), in the chosen language.

    Services write them as :class:`api.i18n.Message`, translated with their values
    by the API's catalogue; anything else is shown as the service wrote it.
    """
    return i18n.localize(text, locale())


def translated(labels: dict[str, str]) -> dict[str, str]:
    """A constant's labels in the chosen language, for a widget's ``format_func`` (a plain look-up, no session read)."""
    return {code: _(label) for code, label in labels.items()}


def refusal(exc: TasklinkError) -> str:
    """A service's refusal in the chosen language."""
    return said(exc.message)


def number(value: int | float | Decimal, digits: int | None = None) -> str:
    """A count or amount with the language's grouping and decimal sign."""
    return i18n.format_number(value, locale(), digits=digits)


def amount(value: Decimal | str, currency: str) -> str:
    """A money figure without its currency (the label names it), with the currency's decimals."""
    return number(Decimal(value), money.exponent(currency))


def day(value: dt.date | dt.datetime) -> str:
    """A calendar day in the language's medium form."""
    return i18n.format_date(value.date() if isinstance(value, dt.datetime) else value, locale())


def language_choice() -> None:
    """The language box at the top of the sidebar, on every screen; its first value is the browser's."""
    with st.sidebar:
        st.selectbox(LANGUAGE_LABEL, i18n.LOCALES, format_func=i18n.LANGUAGE_NAMES.get, key="language")


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
    """One unit of work; a refusal shows the service's sentence (in the chosen language) and saves nothing."""
    try:
        with db.transaction(engine) as conn:
            return True, action(conn)
    except TasklinkError as exc:
        st.error(refusal(exc))
        return False, None


def saved(section: str, message: str, clear: tuple[str, ...] = ()) -> None:
    """After a write: forget cached reads, keep the success message for the next run, and rerun.

    ``clear`` names the widgets to empty (a creation form's inputs, so one more click makes no duplicate);
    after a refusal they keep what was typed.
    """
    st.cache_data.clear()
    st.session_state.clear_next_run = clear
    st.session_state.flash = {section: message}
    st.session_state.confirming = None
    st.rerun()


def empty_cleared_inputs() -> None:
    """Empty the inputs the last save named (see :func:`saved`), before they are drawn again.

    A text input is set to "" rather than forgotten: only a value set through the
    session reaches the browser, which otherwise keeps showing what was typed.
    Other widgets are forgotten and start from their defaults.
    """
    for key in st.session_state.pop("clear_next_run", ()):
        if isinstance(st.session_state.get(key), str):
            st.session_state[key] = ""
        else:
            st.session_state.pop(key, None)


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
        yes, cancel, _rest = st.columns([2, 1, 4])
        action = f"{label[0].lower()}{label[1:]}"
        if yes.button(_("Yes, {action}", action=action), key=f"{key}_yes", type="primary", width="stretch"):
            return True
        if cancel.button(_("Cancel"), key=f"{key}_cancel", width="stretch"):
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
    return _(", ").join(
        _("{count} {reason}", count=number(count), reason=said(earnings.REASON_LABELS.get(reason, reason)))
        for reason, count in ordered
    )


def percent(rate: float | None) -> str:
    """A rate from the reports service as a percent; a dash when there is none."""
    return "–" if rate is None else i18n.format_percent(rate, locale())


def money_column(label: str, currency: str) -> Any:
    """A right-aligned money column with the currency's decimals (``label`` already in the chosen language)."""
    return st.column_config.NumberColumn(f"{label} ({currency})", format=f"%.{money.exponent(currency)}f")


#: The report table's columns: the CSV's header as it is (machine names), the screen's labels translated.
REPORT_COLUMNS = {
    "Clicks": N_("Clicks"),
    "Billable clicks": N_("Billable clicks"),
    "Bot clicks": N_("Bot clicks"),
    "Invalid clicks": N_("Invalid clicks"),
    "Conversions": N_("Conversions"),
    "Conversion rate (%)": N_("Conversion rate (%)"),
    "Revenue": N_("Revenue"),
    "Payout": N_("Payout"),
    "Why invalid": N_("Why invalid"),
}
#: The groups of the performance tables: the service's group_by, the first column's name (the CSV's), the tab,
#: the column's label on screen and the download button.
REPORT_GROUPS = (
    ("day", "Day", N_("By day"), N_("Day"), N_("Download CSV (day)")),
    ("partner", "Partner", N_("By partner"), N_("Partner"), N_("Download CSV (partner)")),
    ("task", "Task", N_("By task"), N_("Task"), N_("Download CSV (task)")),
    ("sharedid", "Shared ID", N_("By Shared ID"), N_("Shared ID"), N_("Download CSV (shared id)")),
)


def report_frame(rows: list[dict[str, Any]], label: str, names: dict[Any, str] | None = None) -> pd.DataFrame:
    """Report rows as a table: the group (by name when known), the counters, the rate and the money (Decimal)."""
    return pd.DataFrame(
        [
            {
                label: (names or {}).get(row["key"], row["key"]) if row["key"] is not None else _("(none)"),
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


def report_column_config(currency: str, label: str, title: str) -> dict[str, Any]:
    """Numbers right-aligned and numeric (they sort): counts with separators, the rate, money with its decimals.

    ``label`` is the first column's name, ``title`` what the screen calls it.
    """
    counts = {
        name: st.column_config.NumberColumn(_(REPORT_COLUMNS[name]), format="localized")
        for name in ("Clicks", "Billable clicks", "Bot clicks", "Invalid clicks", "Conversions")
    }
    return {
        label: st.column_config.Column(title),
        **counts,
        "Conversion rate (%)": st.column_config.NumberColumn(_("Conversion rate (%)"), format="%.1f"),
        "Revenue": money_column(_("Revenue"), currency),
        "Payout": money_column(_("Payout"), currency),
        "Why invalid": st.column_config.TextColumn(_("Why invalid"), width="large"),
    }


def report_csv(frame: pd.DataFrame) -> bytes:
    """A report table as its CSV download, written by :func:`api.exports.csv_bytes` (text cells made safe).

    Revenue and payout are exact decimals, numbers in the file too (a minus sign stays a sign).
    """
    cells = frame.astype(object).where(frame.notna(), None)  # no rate (no billable clicks): an empty cell, not "nan"
    return exports.csv_bytes(list(frame.columns), cells.itertuples(index=False, name=None))


#: The chart's lines: the report's field and the legend's words.
CHART_FIGURES = (
    ("clicks", N_("Clicks")),
    ("unique_clicks", N_("Billable clicks")),
    ("conversions", N_("Conversions")),
)
#: The date axis's labels (d3 time formats): "Dec 01" in English, "12月1日" in Chinese.
AXIS_DATES = {"en": "%b %d", "zh_CN": "%-m月%-d日"}


def daily_chart(rows: list[dict[str, Any]], date_from: dt.date, date_to: dt.date) -> alt.Chart:
    """Clicks, billable clicks and conversions per day, every day of the period, with a readable date axis."""
    by_day = {row["key"]: row for row in rows}
    figures = [(field, _(label)) for field, label in CHART_FIGURES]
    data = pd.DataFrame(
        [
            {"Day": day_, "Figure": figure, "Count": by_day.get(day_.date().isoformat(), {}).get(field, 0)}
            for day_ in pd.date_range(date_from, date_to, freq="D")
            for field, figure in figures
        ]
    )
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "Day:T",
                title=None,
                axis=alt.Axis(format=AXIS_DATES.get(locale(), "%b %d"), labelAngle=0, tickCount=8),
            ),
            y=alt.Y("Count:Q", title=None, axis=alt.Axis(tickMinStep=1, format="~s")),
            color=alt.Color(
                "Figure:N",
                title=None,
                sort=[figure for _field, figure in figures],
                scale=alt.Scale(range=["#9ecae1", "#3182bd", "#e6550d"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("Day:T", format="%Y-%m-%d", title=_("Day")),
                alt.Tooltip("Figure:N", title=_("Figure")),
                alt.Tooltip("Count:Q", title=_("Count")),
            ],
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
    st.title(_("Tasklink admin"))
    st.caption(_("Sign in with your advertiser e-mail and password to manage your campaigns."))
    with st.form("sign_in"):
        email = st.text_input(_("E-mail"), key="sign_in_email")
        password = st.text_input(_("Password"), type="password", key="sign_in_password")
        signing_in = st.form_submit_button(_("Sign in"), key="sign_in_submit", type="primary")
    if signing_in:
        try:
            with db.reading(engine) as conn:
                signed_in = advertisers.sign_in(conn, limiter, email, password)
        except TasklinkError as exc:
            st.error(refusal(exc))
        else:
            st.session_state.advertiser_id = signed_in.id
            st.rerun()


def sign_out() -> None:
    """Forget the session (but not its language) and every cached read."""
    language = st.session_state.get("language")
    st.session_state.clear()
    st.session_state.language = language
    st.cache_data.clear()


def sidebar(advertiser: advertisers.Advertiser) -> Any:
    """Who is signed in and sign out; returns a place for the section links (drawn once there is a campaign)."""
    with st.sidebar:
        st.markdown(_("Signed in as **{name}**", name=advertiser.name) + f"  \n{advertiser.email}")
        if st.button(_("Sign out"), key="sign_out"):
            sign_out()
            st.rerun()
        return st.container()


def section_links() -> None:
    """Links to the sections of the page."""
    st.markdown("**" + _("Sections") + "**  \n" + "  \n".join(f"[{_(title)}](#{anchor})" for title, anchor in SECTIONS))


# ---------------------------------------------------------------------------
# Program and campaign: what every section below is about
# ---------------------------------------------------------------------------


def new_program_form(engine: Engine, advertiser_id: int, form_key: str) -> None:
    """Create a program (a newcomer's first step)."""
    with st.form(form_key):
        name = st.text_input(_("Program name"), key="new_program_name", placeholder=_("e.g. Summer 2027"))
        creating = st.form_submit_button(_("Create program"), key="create_program")
    if creating:
        ok, program = write(engine, lambda conn: programs.create_program(conn, advertiser_id, name))
        if ok and program is not None:
            st.session_state.next_program_id = program.id  # the picker is already drawn; it takes this next run
            saved(
                "campaign",
                _("Program “{name}” created. Now create its first campaign.", name=program.name),
                clear=("new_program_name",),
            )


def new_campaign_form(engine: Engine, advertiser_id: int, program_id: int) -> None:
    """Create a campaign in the program; it starts with tracking off and manual landing pages."""
    with st.form(f"new_campaign_{program_id}"):
        name = st.text_input(
            _("Campaign name"), key=f"new_campaign_name_{program_id}", placeholder=_("e.g. Summer sale")
        )
        left, middle, right = st.columns(3)
        model = left.selectbox(
            _("Payout model"),
            campaigns.PAYOUT_MODELS,
            format_func=translated(PAYOUT_LABELS).get,
            key=f"new_campaign_model_{program_id}",
        )
        payout = middle.text_input(
            _("Payout amount"),
            value="0.00",
            key=f"new_campaign_amount_{program_id}",
            help=_("Money per click or conversion, or the percent of the sale for a revenue share."),
        )
        currency = right.text_input(
            _("Currency"),
            value="USD",
            max_chars=3,
            key=f"new_campaign_currency_{program_id}",
            help=_("An ISO 4217 code such as USD, EUR or JPY."),
        )
        creating = st.form_submit_button(_("Create campaign"), key=f"create_campaign_{program_id}")
    if creating:
        ok, campaign = write(
            engine,
            lambda conn: campaigns.create_campaign(
                conn,
                advertiser_id,
                program_id,
                name,
                payout_model=model,
                payout_amount=payout,
                currency=currency.strip().upper(),
            ),
        )
        if ok and campaign is not None:
            st.session_state.next_campaign_id = campaign.id
            saved(
                "campaign",
                _(
                    "Campaign “{name}” created. Next: turn tracking on (1), add landing pages or allowed "
                    "domains (2), a task (3) and partners (4).",
                    name=campaign.name,
                ),
                clear=tuple(f"new_campaign_{field}_{program_id}" for field in ("name", "model", "amount", "currency")),
            )


def campaign_section(engine: Engine, advertiser_id: int) -> int | None:
    """Pick (or create) the program and campaign; the campaign's id, or None while there is none."""
    st.title(_("Tasklink admin"))
    st.header(_("Program and campaign"), anchor="program-and-campaign")
    st.caption(_("A program groups your campaigns. Pick the campaign to work on: every section below is about it."))
    show_flash("campaign")
    program_list = load_programs(engine, advertiser_id)
    program_names = {p.id: p.name for p in program_list}
    if not program_list:
        st.info(_("You have no programs yet. Create one to start; your first campaign comes next."))
        new_program_form(engine, advertiser_id, "new_program")
        return None

    if "next_program_id" in st.session_state:
        st.session_state.program_id = st.session_state.pop("next_program_id")
    if st.session_state.get("program_id") not in program_names:
        st.session_state.program_id = program_list[0].id
    program_id = st.selectbox(_("Program"), list(program_names), format_func=program_names.get, key="program_id")
    campaign_list = load_campaigns(engine, advertiser_id, program_id)
    campaign_names = {c.id: c.name for c in campaign_list}
    if not campaign_list:
        st.info(_("“{program}” has no campaigns yet. Create the first one.", program=program_names[program_id]))
        new_campaign_form(engine, advertiser_id, program_id)
        with st.expander(_("New program")):
            new_program_form(engine, advertiser_id, "new_program")
        return None

    campaign_key = f"campaign_id_{program_id}"
    if "next_campaign_id" in st.session_state:
        st.session_state[campaign_key] = st.session_state.pop("next_campaign_id")
    if st.session_state.get(campaign_key) not in campaign_names:
        st.session_state[campaign_key] = campaign_list[0].id
    campaign_id = st.selectbox(_("Campaign"), list(campaign_names), format_func=campaign_names.get, key=campaign_key)
    with st.expander(_("New campaign or program")):
        st.markdown("**" + _("New campaign in this program") + "**")
        new_campaign_form(engine, advertiser_id, program_id)
        st.markdown("**" + _("New program") + "**")
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
            _(
                "Partners can create links now: the campaign is active and tracked, pays for performance, "
                "and has a landing page, an allowed domain, a task and an active partner."
            )
        )
        return
    lines = "\n".join(
        f"- {DONE if check.ok else TO_DO} {said(check.label)}" + ("" if check.ok else f" — {said(check.hint)}")
        for check in readiness.checks
    )
    told = readiness.availability.reason
    st.warning(
        (
            _("Partners cannot create links yet. They are told: “{reason}”", reason=said(told))
            if told
            else _("Partners cannot create links yet.")
        )
        + "\n\n"
        + _("Checklist:")
        + f"\n\n{lines}"
    )


def tracking_section(
    engine: Engine, advertiser_id: int, campaign: campaigns.Campaign, readiness: campaigns.Readiness
) -> None:
    """The three switches, the payout and the campaign's other settings, saved together."""
    cid = campaign.id
    st.header(_("1. Tracking"), anchor="tracking")
    st.caption(
        _(
            "What Tasklink records and pays for in this campaign. Partners can create links only while the "
            "campaign is active and all three switches are on."
        )
    )
    show_flash("tracking")
    readiness_box(readiness)
    with st.form(f"tracking_{cid}"):
        left, middle, right = st.columns(3)
        click_tracking = left.toggle(
            _("Click tracking"),
            value=campaign.click_tracking,
            key=f"click_tracking_{cid}",
            help=_("Record every click on a partner's link before redirecting."),
        )
        conversion_tracking = middle.toggle(
            _("Conversion tracking"),
            value=campaign.conversion_tracking,
            key=f"conversion_tracking_{cid}",
            help=_("Accept your conversion postbacks and attribute them to clicks."),
        )
        pay_for_performance = right.toggle(
            _("Pay for performance"),
            value=campaign.pay_for_performance,
            key=f"pay_for_performance_{cid}",
            help=_("Pay partners for clicks, conversions or a share of the sale."),
        )
        left, middle, right = st.columns(3)
        payout_model = left.selectbox(
            _("Payout model"),
            campaigns.PAYOUT_MODELS,
            format_func=translated(PAYOUT_LABELS).get,
            index=campaigns.PAYOUT_MODELS.index(campaign.payout_model),
            key=f"payout_model_{cid}",
        )
        payout_amount = middle.text_input(
            _("Payout amount ({currency})", currency=campaign.currency),
            value=str(campaign.payout_amount),
            key=f"payout_amount_{cid}",
            help=_(
                "Money per click or conversion in {currency}, or the percent of the sale for a revenue share.",
                currency=campaign.currency,
            ),
        )
        status = right.selectbox(
            _("Status"),
            campaigns.STATUSES,
            format_func=translated(STATUS_LABELS).get,
            index=campaigns.STATUSES.index(campaign.status),
            key=f"status_{cid}",
            help=_("Paused or ended: no new links; existing links still redirect."),
        )
        left, middle, right = st.columns(3)
        attribution_window = left.number_input(
            _("Attribution window (days)"),
            min_value=1,
            max_value=3650,
            step=1,
            value=campaign.attribution_window_days,
            key=f"attribution_window_{cid}",
            help=_("A conversion counts when it comes at most this many days after the click."),
        )
        click_id_param = middle.text_input(
            _("Click-id parameter"),
            value=campaign.click_id_param,
            key=f"click_id_param_{cid}",
            help=_("The query parameter that carries the click id to your landing page, e.g. ?clickid=…"),
        )
        daily_click_cap = right.number_input(
            _("Daily click cap per visitor"),
            min_value=1,
            max_value=earnings.MAX_DAILY_CLICK_CAP,
            step=1,
            value=campaign.daily_click_cap,
            key=f"daily_click_cap_{cid}",
            help=_(
                "Billable clicks one visitor address may make in this campaign per day (UTC). Clicks past it are "
                "recorded as “over the daily cap” and earn no cpc; their sales still count."
            ),
        )
        paused_pays = st.toggle(
            _("A paused campaign still pays"),
            value=campaign.paused_pays,
            key=f"paused_pays_{cid}",
            help=_(
                "While the campaign is paused its links keep redirecting. On: their clicks and sales earn as "
                "usual. Off: they are recorded as “campaign paused” and earn nothing."
            ),
        )
        saving = st.form_submit_button(_("Save tracking settings"), key=f"save_tracking_{cid}", type="primary")
    if saving:
        ok = write(
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
        )[0]
        if ok:
            saved("tracking", _("Tracking settings saved."))


# ---------------------------------------------------------------------------
# 2. Landing pages
# ---------------------------------------------------------------------------

#: A landing mode's name inside a sentence ("…; manual mode.").
MODE_NAMES = {"manual": N_("manual"), "choose": N_("choose"), "default": N_("default")}


def landing_section(
    engine: Engine, advertiser_id: int, campaign: campaigns.Campaign
) -> list[landing_pages.LandingPage]:
    """Mode, pages and allowed domains, saved together or not at all; returns the saved pages."""
    cid = campaign.id
    st.header(_("2. Landing pages"), anchor="landing-pages")
    st.caption(
        _(
            "Where partners may send traffic. Edit the table (add rows at the bottom, tick one default — a single "
            "page is the default by itself — select rows to delete them); mode, pages and domains are saved "
            "together or not at all."
        )
    )
    show_flash("landing")
    page_list, domain_list = load_landing(engine, advertiser_id, cid)
    # A new key after each save (or discard) gives the browser a fresh table.
    version = st.session_state.setdefault("landing_saves", 0)
    pages_key = f"landing_pages_{cid}_{version}"
    with st.form(f"landing_{cid}"):
        landing_mode = st.radio(
            _("Landing page mode"),
            campaigns.LANDING_MODES,
            format_func=translated(MODE_LABELS).get,
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
                "name": st.column_config.TextColumn(_("Name"), required=True, max_chars=200),
                "url": st.column_config.TextColumn(_("URL"), required=True, width="large", help=_("http or https")),
                "is_default": st.column_config.CheckboxColumn(_("Default"), default=False),
            },
        )
        domains_text = st.text_area(
            _("Allowed domains, one per line"),
            value="\n".join(domain_list),
            key=f"domains_{cid}",
            help=_(
                "Landing pages, and the URLs partners type in manual mode, must be on these. brand.com allows "
                "brand.com only; write *.brand.com to allow its subdomains. Public suffixes (co.uk, github.io) are "
                "refused."
            ),
        )
        saving = st.form_submit_button(_("Save landing pages"), key=f"save_landing_{cid}", type="primary")
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
            saved_pages, saved_domains = result[1], result[2]
            default_page = next((p.name for p in saved_pages if p.is_default), None)
            st.session_state.landing_saves += 1
            values = {
                "pages": number(len(saved_pages)),
                "domains": number(len(saved_domains)),
                "mode": _(MODE_NAMES.get(landing_mode, landing_mode)),
            }
            saved(
                "landing",
                _(
                    "Landing pages saved: {pages} page(s), default “{default}”; {domains} allowed domain(s); "
                    "{mode} mode.",
                    default=default_page,
                    **values,
                )
                if default_page
                else _("Landing pages saved: {pages} page(s); {domains} allowed domain(s); {mode} mode.", **values),
            )
        else:
            st.session_state.landing_unsaved = cid
    if st.session_state.get("landing_unsaved") == cid:
        st.caption(_("The table and domains above still hold your unsaved edits. Fix them and save again, or:"))
        if st.button(_("Discard unsaved edits"), key=f"discard_landing_{cid}"):
            st.session_state.landing_saves += 1
            st.session_state.landing_unsaved = None
            st.session_state.pop(f"domains_{cid}", None)
            st.rerun()
    with st.container():
        if not domain_list:
            st.info(
                _("No allowed domains yet: add your site's domain before your landing pages (both can go in one save).")
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
        choices[current_partner] = _("{name} (no longer a member)", name=task.partner_name)
    current_page = task.landing_page_id if task and task.landing_page_id in page_choices else NO_PAGE
    with st.form(form_key):
        title = st.text_input(
            _("Title"),
            value=task.title if task else "",
            key=f"{form_key}_title",
            placeholder=_("e.g. Reel for the summer launch"),
        )
        description = st.text_area(
            _("Description"), value=task.description if task else "", key=f"{form_key}_description"
        )
        left, right = st.columns(2)
        assignee = left.selectbox(
            _("Assign to"),
            list(choices),
            format_func=choices.get,
            index=list(choices).index(current_partner),
            key=f"{form_key}_partner",
        )
        page = right.selectbox(
            _("Landing page"),
            list(page_choices),
            format_func=page_choices.get,
            index=list(page_choices).index(current_page),
            key=f"{form_key}_page",
        )
        submitted = st.form_submit_button(_("Save task") if task else _("Create task"), key=f"{form_key}_submit")
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
            who = made.partner_name or _("all partners")
            saved(
                "tasks",
                _("Task “{title}” saved; open to {who}.", title=made.title, who=who)
                if task
                else _("Task “{title}” created; open to {who}.", title=made.title, who=who),
                clear=()
                if task
                else tuple(f"{form_key}_{field}" for field in ("title", "description", "partner", "page")),
            )


def archive_controls(engine: Engine, advertiser_id: int, task: tasks.Task) -> None:
    """Archive a task (after a question) or restore an archived one."""
    if task.archived:
        st.caption(
            _(
                "Archived on {date}: partners cannot make new links for it; the links made before keep working.",
                date=day(task.archived_at),
            )
        )
        go = st.button(
            _("Restore task"), key=f"task_{task.id}_restore", help=_("Partners can make links for it again.")
        )
    else:
        go = confirmed(
            f"task_{task.id}_archive",
            _("Archive task"),
            _(
                "Archive “{title}”? Partners can no longer make new links for it; the links made before keep "
                "redirecting and earning. You can restore it later.",
                title=task.title,
            ),
        )
    if go:
        ok, changed = write(engine, lambda conn: tasks.set_archived(conn, advertiser_id, task.id, not task.archived))
        if ok and changed is not None:
            saved(
                "tasks",
                _("Task “{title}” archived.", title=changed.title)
                if changed.archived
                else _("Task “{title}” restored.", title=changed.title),
            )


def tasks_section(
    engine: Engine, advertiser_id: int, campaign_id: int, page_list: list[landing_pages.LandingPage]
) -> list[tasks.Task]:
    """The tasks table, and tabs to create one or edit one; returns the tasks."""
    cid = campaign_id
    st.header(_("3. Tasks"), anchor="tasks")
    st.caption(
        _("The work partners make links for. A task is open to every partner of the campaign or assigned to one.")
    )
    show_flash("tasks")
    task_list, assignable = load_tasks(engine, advertiser_id, cid)
    page_names = {p.id: p.name for p in page_list}
    partner_choices = {
        OPEN_TO_ALL: _("Open to all partners"),
        **{
            m.partner_id: _(
                "{name} ({status})", name=m.partner_name, status=_(MEMBER_STATUS_LABELS.get(m.status, m.status))
            )
            for m in assignable
        },
    }
    page_choices = {NO_PAGE: _("Campaign default / partner's choice"), **page_names}
    with st.container():
        if task_list:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Task": t.title,
                            "State": _("Archived") if t.archived else _("Open"),
                            "Assigned to": t.partner_name or _("Open to all"),
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
                    "Task": st.column_config.TextColumn(_("Task"), width="large"),
                    "State": st.column_config.TextColumn(_("State"), width="small"),
                    "Assigned to": st.column_config.TextColumn(_("Assigned to")),
                    "Landing page": st.column_config.TextColumn(_("Landing page")),
                    "Description": st.column_config.TextColumn(_("Description")),
                    "Created": st.column_config.TextColumn(_("Created"), width="small"),
                },
            )
        else:
            st.info(_("No tasks yet: create one so partners have something to make links for."))

    new_tab, edit_tab = st.tabs([_("New task"), _("Edit a task")])
    with new_tab:
        task_form(engine, advertiser_id, cid, f"new_task_{cid}", None, partner_choices, page_choices)
    with edit_tab:
        if task_list:
            task_titles = {t.id: _("{title} (archived)", title=t.title) if t.archived else t.title for t in task_list}
            chosen = st.selectbox(_("Task"), list(task_titles), format_func=task_titles.get, key=f"edit_task_{cid}")
            task = next(t for t in task_list if t.id == chosen)
            task_form(engine, advertiser_id, cid, f"task_{chosen}", task, partner_choices, page_choices)
            archive_controls(engine, advertiser_id, task)
        else:
            st.caption(_("Nothing to edit yet."))
    return task_list


# ---------------------------------------------------------------------------
# 4. Partners
# ---------------------------------------------------------------------------

DESTRUCTIVE = {  # membership moves that ask first, and what they ask
    "declined": N_("Decline {name}? They cannot make links in this campaign (you can approve them later)."),
    "ended": N_(
        "End {name}'s membership? Their links then send visitors to your default page and earn nothing from "
        "the next click on; what they earned before stays."
    ),
}
#: What the flash says after a membership move, by the new status.
MOVED = {
    "active": N_("{name} is now active."),
    "declined": N_("{name} is now declined."),
    "ended": N_("{name} is now ended."),
    "pending": N_("{name} is now pending."),
    "invited": N_("{name} is now invited."),
}


def member_row(
    engine: Engine, advertiser_id: int, campaign_id: int, member: memberships.Membership, live_links: int
) -> None:
    """One partner: name, status, the moves the service allows, and disabling their links."""
    name_col, status_col, *action_cols, links_col = st.columns([4, 2, 1.3, 1.3, 1.8], vertical_alignment="center")
    name_col.markdown(f"**{member.partner_name}**  \n{member.partner_email}")
    declined_invitation = member.status == "declined" and member.invited_at is not None
    status = (
        _("Declined your invitation")
        if declined_invitation
        else _(MEMBER_STATUS_LABELS.get(member.status, member.status))
    )
    status_col.markdown(f"{status}  \n" + _("since {date}", date=day(member.updated_at)))
    # Two action columns; a status may offer fewer moves, leaving a column empty.
    for column, (label, new_status) in zip(action_cols, member.actions, strict=False):
        key = f"member_{member.id}_{new_status}"
        if new_status in DESTRUCTIVE:
            go = confirmed(
                key,
                said(label),
                _(DESTRUCTIVE[new_status], name=member.partner_name),
                at=column,
                width="stretch",
            )
        else:
            go = column.button(said(label), key=key, width="stretch")
        if go:
            ok, changed = write(
                engine,
                lambda conn, new_status=new_status: memberships.set_membership_status(
                    conn, advertiser_id, member.id, new_status
                ),
            )
            if ok and changed is not None:
                saved("partners", _(MOVED.get(changed.status, "{name}"), name=changed.partner_name))
    if live_links:
        count = number(live_links)
        label = _("Disable 1 link") if live_links == 1 else _("Disable {count} links", count=count)
        question = (
            _(
                "Disable {name}'s 1 link in this campaign? Visitors then go to your default page and nobody earns "
                "from it.",
                name=member.partner_name,
            )
            if live_links == 1
            else _(
                "Disable {name}'s {count} links in this campaign? Visitors then go to your default page and nobody "
                "earns from them.",
                name=member.partner_name,
                count=count,
            )
        )
        if confirmed(
            f"member_{member.id}_disable_links",
            label,
            question,
            at=links_col,
            width="stretch",
            help=_("Stop this partner's links in this campaign."),
        ):
            ok, disabled = write(
                engine,
                lambda conn: links.advertiser_disable_partner_links(
                    conn, advertiser_id, campaign_id, member.partner_id
                ),
            )
            if ok:
                saved(
                    "partners",
                    _("1 link of {name} disabled.", name=member.partner_name)
                    if disabled == 1
                    else _("{count} links of {name} disabled.", count=number(disabled or 0), name=member.partner_name),
                )


@dataclass(frozen=True)
class LinkAddress:
    """What a link's public URLs are made of: the deployment's public base (None: not configured) and the keys."""

    base_url: str | None
    keys: tuple[str, ...]


QR_ENCODE_LABELS: dict[qr.Encoded, str] = {
    "url": N_("The full link, with the partner's reporting info (what the partner copies)"),
    "display_url": N_("The link without reporting info"),
}


def link_qr_panel(link: links.Link, address: LinkAddress, campaign_id: int) -> None:
    """A link's QR code, drawn by the same service function as the partner API's, with both downloads."""
    if not address.base_url:
        st.warning(
            _(
                "Set TASKLINK_BASE_URL to the public address of your links to show their QR codes: a code must "
                "carry the address visitors reach, which the admin cannot guess."
            )
        )
        return
    encode = st.radio(
        _("The code opens"),
        list(QR_ENCODE_LABELS),
        format_func=translated(QR_ENCODE_LABELS).get,
        key=f"qr_encode_{campaign_id}",
        horizontal=True,
    )
    try:
        png = qr.link_qr(link, address.base_url, address.keys, "png", encode=encode)
        svg = qr.link_qr(link, address.base_url, address.keys, "svg", encode=encode)
    except TasklinkError as exc:  # too long for a QR code: the service's sentence
        st.error(refusal(exc))
        return
    picture, side = st.columns([1, 3])
    picture.image(png.content, width=200, caption=_("Link {id}", id=link.id))
    side.code(png.text, language=None, wrap_lines=True)
    first, second = side.columns(2)
    first.download_button(
        _("Download PNG"),
        png.content,
        file_name=f"tasklink-link-{link.id}.png",
        mime=png.media_type,
        key=f"qr_png_{campaign_id}",
        width="stretch",
    )
    second.download_button(
        _("Download SVG"),
        svg.content,
        file_name=f"tasklink-link-{link.id}.svg",
        mime=svg.media_type,
        key=f"qr_svg_{campaign_id}",
        width="stretch",
    )


def link_state(link: links.Link) -> str:
    """Whether a link redirects, and if not who stopped it."""
    if not link.disabled:
        return _("Live")
    return _("Disabled by you") if link.disabled_by == "advertiser" else _("Disabled by the partner")


def partner_links(
    engine: Engine,
    advertiser_id: int,
    campaign_id: int,
    link_list: list[links.Link],
    partner_names: dict[int, str],
    address: LinkAddress,
) -> None:
    """The partners' links with their counts; disable or enable one, or show its QR code."""
    with st.expander(_("Partners' links ({count})", count=number(len(link_list)))):
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
                        "State": link_state(link),
                    }
                    for link in link_list
                ]
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "Link": st.column_config.NumberColumn(_("Link"), format="%d"),
                "Partner": st.column_config.TextColumn(_("Partner")),
                "Landing URL": st.column_config.TextColumn(_("Landing URL")),
                "Clicks": st.column_config.NumberColumn(_("Clicks"), format="localized"),
                "Billable clicks": st.column_config.NumberColumn(_("Billable clicks"), format="localized"),
                "Conversions": st.column_config.NumberColumn(_("Conversions"), format="localized"),
                "State": st.column_config.TextColumn(_("State")),
            },
        )
        labels = {
            link.id: _(
                "Link {id} · {partner} · {url}",
                id=link.id,
                partner=partner_names.get(link.partner_id, link.partner_id),
                url=link.landing_url,
            )
            for link in link_list
        }
        left, middle, right, last = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
        chosen = left.selectbox(_("Link"), list(labels), format_func=labels.get, key=f"link_{campaign_id}")
        disabling = confirmed(
            f"link_disable_{campaign_id}",
            _("Disable"),
            _(
                "Disable link {id}? Its visitors then go to your default page and nobody earns from it.",
                id=chosen,
            ),
            at=middle,
            width="stretch",
        )
        enabling = right.button(_("Enable"), key=f"link_enable_{campaign_id}", width="stretch")
        showing = f"qr_link_{campaign_id}"
        if last.button(_("QR code"), key=f"link_qr_{campaign_id}", width="stretch"):
            # Pressed again for the link shown: hide it.
            st.session_state[showing] = None if st.session_state.get(showing) == chosen else chosen
        if st.session_state.get(showing) == chosen:
            link_qr_panel(next(link for link in link_list if link.id == chosen), address, campaign_id)
        if disabling or enabling:
            ok, changed = write(
                engine, lambda conn: links.advertiser_set_disabled(conn, advertiser_id, chosen, disabling)
            )
            if ok and changed is not None:
                saved(
                    "partners",
                    _("Link {id} is now disabled.", id=changed.id)
                    if disabling
                    else _("Link {id} is now live.", id=changed.id),
                )


def invited_message(message: object, email: str) -> str:
    """The service's answer to an invitation, in the chosen language (a plain ``str`` from it is its template filled)."""
    if not isinstance(message, i18n.Message):
        message = i18n.Message(memberships.INVITED_MESSAGE, email=accounts.normalize_email(email))
    return said(message)


def partners_section(engine: Engine, advertiser_id: int, campaign_id: int, address: LinkAddress) -> dict[int, str]:
    """Memberships and their moves, the partners' links, adding a partner; returns the partners' names."""
    cid = campaign_id
    st.header(_("4. Partners"), anchor="partners")
    st.caption(
        _(
            "Who takes part in this campaign. Only active members can make links and earn; approve or decline "
            "applications, end a membership (their links then send visitors to your default page and earn nothing "
            "from the next click on, while what they earned before stays), disable a partner's links, or invite a "
            "partner by e-mail: they join when they accept in the Tasklink extension (an e-mail without an account "
            "gets the invitation when its account is created)."
        )
    )
    show_flash("partners")
    member_list = load_memberships(engine, advertiser_id, cid)
    partner_names = {m.partner_id: m.partner_name for m in member_list}
    link_list = load_campaign_links(engine, advertiser_id, cid)
    with st.container():
        if not member_list:
            st.info(_("No partners in this campaign yet. Add one below by e-mail."))
        for member in member_list:
            live = sum(1 for link in link_list if link.partner_id == member.partner_id and not link.disabled)
            member_row(engine, advertiser_id, cid, member, live)
    with st.container():
        if link_list:
            partner_links(engine, advertiser_id, cid, link_list, partner_names, address)

    invitation_list = load_invitations(engine, advertiser_id, cid)
    if invitation_list:
        st.markdown("**" + _("Invitations awaiting an answer ({count})", count=number(len(invitation_list))) + "**")
    for invitation in invitation_list:
        email_col, date_col, action_col = st.columns([4, 2, 2.6], vertical_alignment="center")
        email_col.markdown(invitation.email)
        date_col.markdown(_("Invited") + f"  \n{day(invitation.invited_at)}")
        if action_col.button(_("Withdraw"), key=f"withdraw_{cid}_{invitation.email}", width="stretch"):
            ok = write(
                engine,
                lambda conn, email=invitation.email: memberships.withdraw_invitation(conn, advertiser_id, cid, email),
            )[0]
            if ok:
                saved("partners", _("Invitation to {email} withdrawn.", email=invitation.email))

    with st.form(f"add_partner_{cid}"):
        email = st.text_input(
            _("Invite a partner by e-mail"), key=f"add_partner_email_{cid}", placeholder=EXAMPLE_EMAIL
        )
        adding = st.form_submit_button(_("Invite partner"), key=f"add_partner_submit_{cid}")
    if adding:
        ok, message = write(engine, lambda conn: memberships.invite_by_email(conn, advertiser_id, cid, email))
        if ok and message is not None:
            saved("partners", invited_message(message, email), clear=(f"add_partner_email_{cid}",))
    return partner_names


# ---------------------------------------------------------------------------
# 5. Performance
# ---------------------------------------------------------------------------


def performance_section(
    engine: Engine, tasklink: core.Core, advertiser_id: int, campaign: campaigns.Campaign, names: Names
) -> None:
    """Totals, a chart by day, tables by day, partner, task and Shared ID, and their CSV files."""
    cid = campaign.id
    st.header(_("5. Performance"), anchor="performance")
    st.caption(
        _(
            "Clicks, conversions and money in this campaign over the chosen days (UTC, both included). Billable "
            "clicks are the ones you pay for; the others are recorded as invalid with their reason (bots, "
            "prefetches, repeat clicks within 24 hours, clicks past the daily cap, or made where nobody may earn). "
            "The conversion rate is conversions per billable click. Sub IDs are the partners' own reporting info, "
            "so you see their Shared ID instead."
        )
    )
    today = dt.datetime.now(dt.UTC).date()
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    period = left.date_input(
        _("Period"),
        value=(today - dt.timedelta(days=29), today),
        max_value=today,
        key=f"period_{cid}",
    )
    if right.button(_("Refresh figures"), key=f"refresh_{cid}", icon=":material/refresh:", width="stretch"):
        st.cache_data.clear()
    if not isinstance(period, (tuple, list)) or len(period) != 2:
        st.info(_("Pick the last day of the period too."))
        return
    date_from, date_to = period
    by_day, as_of = load_report(engine, tasklink, advertiser_id, cid, date_from, date_to, "day")
    st.caption(
        _(
            "Figures as of {time} UTC (they are kept for a minute; Refresh reads them again).",
            time=as_of.strftime("%H:%M:%S"),
        )
    )
    totals = by_day["totals"]
    currency = campaign.currency
    columns = [*st.columns(4), *st.columns(4)[:2]]  # counts, then money: wide enough for 1,234,567.89
    columns[0].metric(
        _("Clicks"),
        number(totals["clicks"]),
        help=_("Every recorded click, {bots} of them bots.", bots=number(totals["bot_clicks"])),
    )
    invalid_total = sum(totals["invalid_clicks"].values())
    columns[1].metric(
        _("Billable clicks"),
        number(totals["unique_clicks"]),
        help=_(
            "{count} invalid: {reasons}",
            count=number(invalid_total),
            reasons=invalid_summary(totals["invalid_clicks"]),
        )
        if invalid_total
        else _("Every click in this period is billable."),
    )
    columns[2].metric(_("Conversions"), number(totals["conversions"]))
    columns[3].metric(_("Conversion rate"), percent(totals["conversion_rate"]))
    columns[4].metric(_("Revenue ({currency})", currency=currency), amount(totals["revenue"], currency))
    columns[5].metric(_("Payout ({currency})", currency=currency), amount(totals["payout"], currency))
    if not totals["clicks"] and not totals["conversions"]:
        st.info(_("No clicks or conversions in this period yet. They appear here as partners' links are used."))
        return
    st.altair_chart(daily_chart(by_day["rows"], date_from, date_to), width="stretch")
    tabs = st.tabs([_(group[2]) for group in REPORT_GROUPS])
    for tab, (group_by, label, _tab, title, download), group_names in zip(
        tabs, REPORT_GROUPS, (None, names.partners, names.tasks, None), strict=True
    ):
        with tab:
            rows = (
                by_day["rows"]
                if group_by == "day"
                else load_report(engine, tasklink, advertiser_id, cid, date_from, date_to, group_by)[0]["rows"]
            )
            frame = report_frame(rows, label, group_names)
            st.dataframe(
                frame,
                hide_index=True,
                width="stretch",
                column_config=report_column_config(currency, label, _(title)),
            )
            st.download_button(
                _(download),
                report_csv(frame),
                file_name=f"tasklink-campaign-{cid}-{group_by}-{date_from}-{date_to}.csv",
                mime="text/csv",
                key=f"csv_{group_by}_{cid}",
            )


# ---------------------------------------------------------------------------
# 6. Conversions
# ---------------------------------------------------------------------------


def postback_words(base_url: str | None, click_id_param: str, currency: str, attribution_days: int) -> None:
    """How to send a conversion, in the chosen language: :func:`api.postback_guide.postback_guide`'s words and code."""
    guide = postback_guide(base_url, click_id_param, currency, attribution_days)
    st.markdown(
        _(
            "**Sending a conversion (postback).** {intro} Your API key is in section 7.",
            intro=said(guide.intro),
        )
    )
    if guide.missing_base_url:
        st.warning(said(guide.missing_base_url))
    st.markdown(_("**Landing tag.** {intro}", intro=said(guide.tag_intro)))
    st.code(guide.tag, language="html")
    curl, python = st.tabs(list(CODE_TABS))
    curl.code(guide.request, language="bash")
    python.code(guide.python, language="python")
    st.caption(said(guide.answers))


def conversions_section(
    engine: Engine,
    advertiser_id: int,
    campaign: campaigns.Campaign,
    partner_names: dict[int, str],
    base_url: str | None,
) -> None:
    """Recent conversions (approve or reverse), postbacks still waiting, and how to send one."""
    cid = campaign.id
    currency = campaign.currency
    st.header(_("6. Conversions"), anchor="conversions")
    st.caption(
        _(
            "The orders your site reported for this campaign's clicks. New ones are pending: approve them to pay the "
            "partner, or reverse them (a cancelled or returned order)."
        )
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
                            "No payout because": said(earnings.REASON_LABELS.get(c.payout_reason, c.payout_reason))
                            if c.payout_reason
                            else "",
                            "Partner": partner_names.get(c.partner_id, c.partner_id),
                            "Status": _(CONVERSION_STATUS_LABELS.get(c.status, c.status)),
                            "Click id": c.click_id,
                        }
                        for c in conversion_list
                    ]
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "Time (UTC)": st.column_config.TextColumn(_("Time (UTC)")),
                    "Order": st.column_config.TextColumn(_("Order")),
                    "Amount": money_column(_("Amount"), currency),
                    "Payout": money_column(_("Payout"), currency),
                    "No payout because": st.column_config.TextColumn(_("No payout because")),
                    "Partner": st.column_config.TextColumn(_("Partner")),
                    "Status": st.column_config.TextColumn(_("Status")),
                    "Click id": st.column_config.TextColumn(_("Click id")),
                },
            )
            labels = {
                c.id: _(
                    "Order {order} · {amount} {currency} · {status}",
                    order=c.order_id,
                    amount=amount(c.amount, c.currency),
                    currency=c.currency,
                    status=_(CONVERSION_STATUS_LABELS.get(c.status, c.status)).lower(),
                )
                for c in conversion_list
            }
            left, middle, right = st.columns([4, 1, 1], vertical_alignment="bottom")
            chosen = left.selectbox(_("Conversion"), list(labels), format_func=labels.get, key=f"conversion_{cid}")
            for column, (label, new_status) in (
                (middle, (_("Approve"), "approved")),
                (right, (_("Reverse"), "reversed")),
            ):
                if column.button(label, key=f"conversion_{new_status}_{cid}", width="stretch"):
                    ok, changed = write(
                        engine,
                        lambda conn, new_status=new_status: conversions.set_conversion_status(
                            conn, advertiser_id, chosen, new_status
                        ),
                    )
                    if ok and changed is not None:
                        saved(
                            "conversions",
                            _("Order {order} is now approved.", order=changed.order_id)
                            if changed.status == "approved"
                            else _("Order {order} is now reversed.", order=changed.order_id)
                            if changed.status == "reversed"
                            else _("Order {order} is now pending.", order=changed.order_id),
                        )
        else:
            st.info(_("No conversions yet. Send them from your site as shown below."))

    waiting_list = load_waiting(engine, advertiser_id, cid)
    with st.container():
        if waiting_list:
            st.markdown(
                _(
                    "**Postbacks that came before their click was stored** (answered 202). They are recorded as conversions as soon as their click is, normally within a "
                    "second; one whose click breaks a rule by then is not, and shows why here."
                )
            )
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "Received (UTC)": w.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                            "Order": w.order_id,
                            "Amount": Decimal(w.amount),
                            "State": _(WAITING_LABELS.get(w.status, w.status)),
                            "Why not recorded": _(FAILURE_LABELS.get(w.error, w.error)) if w.error else "",
                            "Click id": w.click_id,
                        }
                        for w in waiting_list
                    ]
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "Received (UTC)": st.column_config.TextColumn(_("Received (UTC)")),
                    "Order": st.column_config.TextColumn(_("Order")),
                    "Amount": money_column(_("Amount"), currency),
                    "State": st.column_config.TextColumn(_("State")),
                    "Why not recorded": st.column_config.TextColumn(_("Why not recorded")),
                    "Click id": st.column_config.TextColumn(_("Click id")),
                },
            )

    postback_words(base_url, campaign.click_id_param, currency, campaign.attribution_window_days)


# ---------------------------------------------------------------------------
# 7. Keys
# ---------------------------------------------------------------------------


def keys_section(engine: Engine, advertiser: advertisers.Advertiser) -> None:
    """The API key's hint; rotate it (after a tick), and the new key shown once."""
    st.header(_("7. Keys"), anchor="keys")
    st.caption(
        _(
            "Your API key authenticates your conversion postbacks (Authorization: Bearer KEY). Tasklink keeps only "
            "a hash of it and the hint below, so a new key is shown once; rotating stops the old key at once. "
            "Use it on your server only, never in a page: section 6 shows the landing tag and the postback in curl "
            "and Python."
        )
    )
    show_flash("keys")
    new_key = st.session_state.pop("new_api_key", None)
    if new_key:
        st.warning(_("Copy the new key now: it is shown only this once."))
        st.code(new_key, language=None)
    st.markdown(_("Current key: {hint}", hint="`" + advertiser.api_key_hint + "`"))
    if new_key:  # while the new key is shown, no rotate controls (they come back unticked)
        return
    confirm = st.checkbox(_("I understand that the current key stops working at once."), key="rotate_confirm")
    if st.button(_("Rotate API key"), key="rotate_key", disabled=not confirm):
        ok, rotated = write(engine, lambda conn: advertisers.rotate_api_key(conn, advertiser.id))
        if ok and rotated:
            st.session_state.new_api_key = rotated
            saved(
                "keys",
                _("API key rotated: the old key no longer works. Update your postback with the new one."),
            )


# ---------------------------------------------------------------------------
# The page, top to bottom
# ---------------------------------------------------------------------------


def main() -> None:
    """Language, sign in, then the campaign and its seven sections, each in its own container so none moves another."""
    if st.session_state.get("language") not in i18n.LOCALES:
        st.session_state.language = browser_locale()
    st.set_page_config(page_title=_("Tasklink admin"), page_icon="🔗", layout="wide")
    language_choice()
    fingerprint = settings_fingerprint()
    try:
        tasklink = tasklink_core(fingerprint)
    except ConfigurationError as exc:
        st.error(refusal(exc))  # same rule as the API: no signing keys outside demo mode means no start
        return
    engine, config = tasklink.engine, tasklink.config
    empty_cleared_inputs()
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
        sign_out()
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
