"""Every request and response of the JSON API, declared once as pydantic models.

From these come the request validation (:mod:`.validation`), the answers'
JSON (:func:`.apidoc.respond`) and the OpenAPI document (:mod:`.apidoc`):
a field's type, bounds and description are written here and nowhere else.
Enumerations (reason codes, statuses, modes) are the ``Literal`` types the
services declare and their rules use.

Request models refuse unknown fields and take JSON types as they are (no
``"1"`` for 1, no ``true`` for 1). Query models receive text and convert
it in their fields' own validators, which word the 400's message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from .. import money, postback_sender
from ..errors import ValidationError
from ..i18n import Message
from ..schema import POSTBACK_URL_MAX, SUB_ID_MAX
from ..services import campaigns, conversions, earnings, links, memberships, postbacks, qr, reports, tasks
from ..services.campaigns import AvailabilityCode, LandingMode
from ..services.links import DisabledBy, LinkKind
from .ids import MAX_ID, id_from_digits, id_in_range
from .language import Sentence, say
from .validation import PROBLEMS

MAX_LANDING_URL = 2048
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class RequestModel(BaseModel):
    """A JSON request body: unknown fields refused, JSON types taken strictly."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class QueryModel(BaseModel):
    """Query parameters: text converted by each field's validator; parameters not declared are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class ResponseModel(BaseModel):
    """A JSON answer: built from the services' dataclasses (attributes) or dictionaries, exactly these fields."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


# --- shared field types ---------------------------------------------------------------


def iso_utc(moment: dt.datetime) -> str:
    """ISO 8601 with ``Z`` for UTC (a naive time from SQLite is written as it is)."""
    return moment.isoformat().replace("+00:00", "Z")


def integral_number(value: Any) -> Any:
    """A JSON number with a zero fraction (``7.0``) is the integer it equals, as JSON Schema counts it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An id the API answers with.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: An id a client sends in a body: any positive whole number; beyond the database's range it matches no row.
IdInput = Annotated[
    int,
    Field(ge=1, description=f"Any positive whole number; one no row has (including any above {MAX_ID}) is not found"),
    BeforeValidator(integral_number),
    AfterValidator(id_in_range),
]
Count = Annotated[int, Field(ge=0)]
#: An amount of money, exact, answered as a decimal string.
Money = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["12.50"]}, mode="serialization"),
]
#: A percent, exact, answered as a decimal string.
Percent = Annotated[
    Decimal,
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$", "examples": ["10.00"]}, mode="serialization"),
]
#: A moment, answered in ISO 8601 (``Z`` for UTC).
Timestamp = Annotated[
    dt.datetime,
    PlainSerializer(iso_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
ReportingText = Annotated[str, Field(max_length=SUB_ID_MAX, description="Reporting info")]


def query_problem(problem: str, **context: object) -> PydanticCustomError:
    """A query parameter refused: ``problem`` is the error type, whose sentence is in :data:`.validation.PROBLEMS`.

    pydantic formats the English itself; the API words (and translates) the
    400 from the type and ``context``, so the template is kept, not only its result.
    """
    return PydanticCustomError(problem, PROBLEMS[problem], context)


def _query_id(raw: object) -> object:
    # isascii: str.isdigit() also accepts "²" and other digits int() refuses.
    if isinstance(raw, str):
        if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
            raise query_problem("positive_id")
        return id_from_digits(raw)
    return raw


#: An id filter in the query string: positive digits; beyond the database's range, one no row has.
QueryId = Annotated[
    int,
    BeforeValidator(_query_id),
    WithJsonSchema(
        {
            "type": "integer",
            "minimum": 1,
            "description": f"Any positive whole number; one no row has (including any above {MAX_ID}) matches nothing",
        }
    ),
]


def query_int(minimum: int, maximum: int) -> Any:
    """A whole-number query parameter from ``minimum`` to ``maximum`` (the type, for a field)."""

    def check(raw: object) -> object:
        if isinstance(raw, str):
            # Length first: int() refuses strings of more than 4300 digits.
            if raw.isascii() and raw.isdigit() and len(raw) <= 12 and minimum <= int(raw) <= maximum:
                return int(raw)
            raise query_problem("whole_number_range", minimum=minimum, maximum=maximum)
        return raw

    # The bounds first, so they are the integer's own (minimum and maximum in the JSON Schema); the check wraps them.
    return Annotated[int, Field(ge=minimum, le=maximum), BeforeValidator(check)]


def _query_day(raw: object) -> object:
    if isinstance(raw, str):
        try:
            if len(raw) != 10:
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise query_problem("day") from None
    return raw


QueryDay = Annotated[dt.date, BeforeValidator(_query_day)]


def query_choice(options: Sequence[str]) -> Callable[[object], object]:
    """A validator refusing text that is not one of ``options``, naming them."""

    def check(raw: object) -> object:
        if isinstance(raw, str) and raw not in options:
            raise query_problem("choice", options=", ".join(options))
        return raw

    return check


# --- errors -----------------------------------------------------------------------------


class ErrorDetail(ResponseModel):
    code: str = Field(description="For programs: what went wrong, such as invalid_field or link_too_long")
    message: str = Field(description="For people: a sentence naming the field or the rule")


class Error(ResponseModel):
    """Every error answer: 4xx and 5xx alike."""

    error: ErrorDetail


# --- sessions -----------------------------------------------------------------------------


class LoginRequest(RequestModel):
    email: Annotated[str, Field(max_length=254, examples=["partner@demo.test"])]
    password: Annotated[str, Field(max_length=256, examples=["demo-partner"])]


class Session(ResponseModel):
    token: str = Field(description="Send as Authorization: Bearer TOKEN")
    expires_at: Timestamp
    token_type: Literal["Bearer"]


# --- what a partner sees ----------------------------------------------------------------------


class Partner(ResponseModel):
    id: Id
    name: str
    email: str


class Program(ResponseModel):
    id: Id
    name: str


class ProgramList(ResponseModel):
    programs: list[Program]


class Availability(ResponseModel):
    """Whether links can be made, and when not, why (a sentence and its code)."""

    link_available: bool
    reason: Sentence | None = Field(
        description="Why links cannot be made (null when they can), in the language of Accept-Language"
    )
    reason_code: AvailabilityCode | None

    @staticmethod
    def fields_of(availability: campaigns.Availability) -> dict[str, Any]:
        """The availability fields of a campaign or a task's link options."""
        return {
            "link_available": availability.available,
            "reason": availability.reason,
            "reason_code": availability.code,
        }


class Terms(ResponseModel):
    """What the campaign pays a partner, as the advertiser set it."""

    payout_model: campaigns.PayoutModel = Field(
        description="cpc: per billable click; cpa: per conversion; revshare: a percent of each sale's amount"
    )
    amount: Money | None = Field(description="Paid per billable click (cpc) or per conversion (cpa); null for revshare")
    percent: Percent | None = Field(description="The percent of the sale's amount paid (revshare); null otherwise")
    currency: str = Field(description="ISO 4217; every amount of the campaign is in it", examples=["EUR"])
    attribution_window_days: Annotated[int, Field(ge=1)] = Field(
        description="A conversion counts for the click when it comes within this many days of it"
    )
    pays: bool = Field(description="Pay for performance is on (when off, nothing is paid whatever the terms)")

    @classmethod
    def of(cls, campaign: campaigns.Campaign) -> Terms:
        """The campaign's terms."""
        revshare = campaign.payout_model == "revshare"
        return cls(
            payout_model=campaign.payout_model,  # type: ignore[arg-type]
            amount=None if revshare else campaign.payout_amount,
            percent=campaign.payout_amount if revshare else None,
            currency=campaign.currency,
            attribution_window_days=campaign.attribution_window_days,
            pays=campaign.pay_for_performance,
        )


class Campaign(Availability):
    id: Id
    name: str
    program_id: Id
    program_name: str
    membership: memberships.MembershipStatus
    landing_mode: LandingMode
    terms: Terms

    @classmethod
    def of(cls, entry: campaigns.PartnerCampaign) -> Campaign:
        """A campaign as the partner sees it."""
        found = entry.campaign
        return cls(
            id=found.id,
            name=found.name,
            program_id=found.program_id,
            program_name=entry.program_name,
            membership=entry.membership,
            landing_mode=found.landing_mode,
            terms=Terms.of(found),
            **cls.fields_of(entry.availability),
        )


class CampaignList(ResponseModel):
    campaigns: list[Campaign]


# --- invitations --------------------------------------------------------------------------------


class Invitation(ResponseModel):
    """An advertiser's invitation to a campaign, waiting for the partner's answer."""

    campaign_id: Id
    campaign_name: str
    program_id: Id
    program_name: str
    terms: Terms

    @classmethod
    def of(cls, entry: campaigns.PartnerCampaign) -> Invitation:
        """The invitation to the campaign of ``entry`` (an ``invited`` membership)."""
        found = entry.campaign
        return cls(
            campaign_id=found.id,
            campaign_name=found.name,
            program_id=found.program_id,
            program_name=entry.program_name,
            terms=Terms.of(found),
        )


class InvitationList(ResponseModel):
    invitations: list[Invitation]


class InvitationAnswer(ResponseModel):
    """The membership after the partner's answer."""

    campaign_id: Id
    membership: Literal["active", "declined"]


class CampaignQuery(QueryModel):
    program_id: QueryId | None = None


class LandingPage(ResponseModel):
    id: Id
    name: str
    url: str
    is_default: bool


class LinkOptions(Availability):
    """What the link form needs for one task."""

    mode: LandingMode
    landing_pages: list[LandingPage]
    default_landing_page_id: Id | None
    allowed_domains: list[str]

    @classmethod
    def of(cls, options: links.LinkOptions) -> LinkOptions:
        """The options of a task, availability included."""
        return cls(
            mode=options.mode,
            landing_pages=options.landing_pages,  # type: ignore[arg-type]
            default_landing_page_id=options.default_landing_page_id,
            allowed_domains=options.allowed_domains,
            **cls.fields_of(options.availability),
        )


class Task(ResponseModel):
    id: Id
    title: str
    description: str
    campaign_id: Id
    assigned_to_me: bool
    link_options: LinkOptions

    @classmethod
    def of(cls, task: tasks.Task, options: links.LinkOptions, partner_id: int) -> Task:
        """A task with its link options, as the partner ``partner_id`` sees it."""
        return cls(
            id=task.id,
            title=task.title,
            description=task.description,
            campaign_id=task.campaign_id,
            assigned_to_me=task.partner_id == partner_id,
            link_options=LinkOptions.of(options),
        )


class TaskList(ResponseModel):
    tasks: list[Task]


class MatchRule(ResponseModel):
    campaign_id: Id
    campaign_name: str
    program_id: Id
    mode: LandingMode
    domains: list[str] = Field(
        description="Host patterns to match pages: 'brand.com' is that host only, '*.brand.com' its subdomains; "
        "includes the landing pages' hosts"
    )
    allowed_domains: list[str] = Field(description="Where the current page may be the landing URL (manual mode)")
    click_id_param: str = Field(
        description="The campaign's click-id parameter (default 'clickid'): the redirect adds it to the landing "
        "URL, so the extension leaves it out, in any spelling, when the current page becomes one"
    )


class MatchRuleList(ResponseModel):
    rules: list[MatchRule]


# --- links --------------------------------------------------------------------------------------


def _kind(value: object) -> object:
    # The service's own code for a kind that is text but not one of the kinds.
    if isinstance(value, str) and value not in links.KINDS:
        raise ValidationError(Message("kind must be short or regular."), "invalid_kind")
    return value


class LinkRequest(RequestModel):
    """Give landing_url or landing_page_id (not both), or neither for the task's page or the campaign's default."""

    task_id: IdInput
    landing_url: Annotated[str, Field(max_length=MAX_LANDING_URL)] | None = Field(
        default=None,
        description="Manual mode: any http(s) URL on the campaign's allowed domains, without the campaign's "
        "click-id parameter in any spelling (empty: none given)",
    )
    landing_page_id: IdInput | None = Field(
        default=None, description="Manual or choose mode: one of the campaign's landing pages"
    )
    kind: Annotated[LinkKind | None, BeforeValidator(_kind)] = Field(
        default=None, description="short (the default) or regular"
    )
    subId1: ReportingText | None = None
    subId2: ReportingText | None = None
    subId3: ReportingText | None = None
    sharedid: ReportingText | None = None

    def reporting(self) -> dict[str, str | None]:
        """The reporting info by its API names (``subId1``…, ``sharedid``)."""
        return {name: getattr(self, name) for name in links.REPORTING_FIELDS}


class LinkUpdate(RequestModel):
    disabled: bool


class Link(ResponseModel):
    id: Id
    task_id: Id
    campaign_id: Id
    kind: LinkKind
    url: str = Field(description="The full link, with reporting info: what Copy copies")
    display_url: str = Field(description="The shareable link without reporting info")
    landing_url: str
    subId1: str | None
    subId2: str | None
    subId3: str | None
    sharedid: str | None
    disabled: bool
    disabled_by: DisabledBy | None = Field(
        description="Who disabled the link (null while enabled); a link the advertiser disabled cannot be enabled "
        "by the partner, and earns nothing"
    )
    created_at: Timestamp
    clicks: Count = Field(description="Every recorded click")
    billable_clicks: Count = Field(description="Clicks the advertiser pays for (see the report's invalid_clicks)")
    conversions: Count

    @classmethod
    def of(cls, link: links.Link, base_url: str, keys: Sequence[str]) -> Link:
        """The link with its URLs on ``base_url``."""
        url, display_url = links.link_urls(link, base_url, keys)
        return cls(
            id=link.id,
            task_id=link.task_id,
            campaign_id=link.campaign_id,
            kind=link.kind,  # type: ignore[arg-type]
            url=url,
            display_url=display_url,
            landing_url=link.landing_url,
            subId1=link.sub_id1,
            subId2=link.sub_id2,
            subId3=link.sub_id3,
            sharedid=link.shared_id,
            disabled=link.disabled,
            disabled_by=link.disabled_by if link.disabled else None,  # type: ignore[arg-type]
            created_at=link.created_at,
            clicks=link.clicks,
            billable_clicks=link.billable_clicks,
            conversions=link.conversions,
        )


class LinkPage(ResponseModel):
    links: list[Link]
    total: Count
    limit: int
    offset: int


class LinkListQuery(QueryModel):
    task_id: QueryId | None = None
    limit: query_int(1, MAX_PAGE_SIZE) = DEFAULT_PAGE_SIZE  # type: ignore[valid-type]
    offset: query_int(0, MAX_ID) = 0  # type: ignore[valid-type]


# --- partner postbacks -------------------------------------------------------------------------

_TEMPLATE_DESCRIPTION = (
    "An http(s) URL with macros in its path and query, each replaced by its URL-encoded value: "
    + ", ".join(f"{{{name}}} ({text})" for name, text in postbacks.MACROS.items())
    + ". An unknown macro is refused (422). null removes the template."
)


class PostbackTemplateUpdate(RequestModel):
    url_template: str | None = Field(max_length=POSTBACK_URL_MAX, description=_TEMPLATE_DESCRIPTION)


class CampaignPostbackTemplate(ResponseModel):
    campaign_id: Id
    url_template: str


class Macro(ResponseModel):
    name: str
    description: Sentence


class PostbackSettings(ResponseModel):
    secret: str = Field(
        description="Signs every postback: X-Tasklink-Signature is sha256= and the hex HMAC-SHA256, keyed by this "
        "secret, of X-Tasklink-Timestamp, a dot and the full URL requested (a GET with no body)"
    )
    url_template: str | None = Field(description="Used for every campaign without a template of its own")
    campaigns: list[CampaignPostbackTemplate]
    macros: list[Macro]

    @classmethod
    def of(cls, settings: postbacks.Settings) -> PostbackSettings:
        """The partner's setup with the macros they may use."""
        return cls(
            secret=settings.secret,
            url_template=settings.url_template,
            campaigns=[CampaignPostbackTemplate.model_validate(entry) for entry in settings.campaigns],
            macros=[Macro(name=name, description=text) for name, text in postbacks.MACROS.items()],
        )


class PostbackDelivery(ResponseModel):
    id: Id
    conversion_id: Id
    campaign_id: Id
    event: postbacks.PostbackEvent
    url: str = Field(description="The URL requested, macros filled in when the event happened")
    status: postbacks.DeliveryStatus = Field(
        description="pending (being sent or waiting for its next attempt), delivered (a 2xx answer) or failed "
        "(every attempt used)"
    )
    attempts: Count
    last_error: Annotated[str | None, BeforeValidator(lambda text: say(postback_sender.explain(text)))] = Field(
        description="What went wrong with the last attempt (null: nothing), in the language of Accept-Language "
        "where Tasklink worded it"
    )
    last_status_code: int | None = Field(description="HTTP status of the last answer (null: none came)")
    next_attempt_at: Timestamp | None = Field(description="When it is tried next (null once delivered or failed)")
    created_at: Timestamp
    delivered_at: Timestamp | None


class PostbackDeliveryList(ResponseModel):
    deliveries: list[PostbackDelivery]


class PostbackDeliveryQuery(QueryModel):
    status: Annotated[
        postbacks.DeliveryStatus | None, BeforeValidator(query_choice(("pending", "delivered", "failed")))
    ] = None
    limit: query_int(1, MAX_PAGE_SIZE) = DEFAULT_PAGE_SIZE  # type: ignore[valid-type]


class QrQuery(QueryModel):
    scale: query_int(qr.MIN_SCALE, qr.MAX_SCALE) = Field(  # type: ignore[valid-type]
        default=qr.DEFAULT_SCALE,
        description=f"Pixels per module, {qr.MIN_SCALE} to {qr.MAX_SCALE} (SVG: its width and height in pixels)",
    )
    margin: query_int(qr.MIN_MARGIN, qr.MAX_MARGIN) = Field(  # type: ignore[valid-type]
        default=qr.DEFAULT_MARGIN,
        description=f"The quiet zone around the code, in modules, {qr.MIN_MARGIN} to {qr.MAX_MARGIN} "
        f"(the QR standard asks for {qr.DEFAULT_MARGIN})",
    )
    encode: Annotated[qr.Encoded, BeforeValidator(query_choice(qr.ENCODED))] = Field(
        default="url",
        description="url (the default): the full link with its reporting info (Sub IDs, Shared ID), as Copy "
        "copies it, so scans are reported like clicks on the copied link; display_url: the link without them",
    )


# --- conversions -------------------------------------------------------------------------------


def _amount(value: object) -> Decimal:
    return money.parse_amount(value, "amount")


class ConversionRequest(RequestModel):
    """A postback. Each field is checked by the conversion rules, which answer their own codes
    (invalid_click_id, invalid_order_id, invalid_amount, invalid_currency)."""

    click_id: Annotated[str, BeforeValidator(conversions.check_click_id)] = Field(
        min_length=1, max_length=conversions.MAX_CLICK_ID, description="The click id your landing page received"
    )
    order_id: Annotated[str, BeforeValidator(conversions.clean_order_id)] = Field(
        min_length=1, max_length=conversions.MAX_ORDER_ID, description="Your order id; counted once per campaign"
    )
    amount: Annotated[
        Decimal,
        BeforeValidator(_amount),
        WithJsonSchema(
            {"anyOf": [{"type": "string", "pattern": r"^\d{1,12}(\.\d{1,4})?$"}, {"type": "number", "minimum": 0}]}
        ),
    ] = Field(
        description='The sale amount, a non-negative decimal (a string such as "12.50" is best) with at most the '
        f"currency's decimals, up to {money.MAX_MINOR:,} minor units: "
        f"{money.format_minor(money.MAX_MINOR, 'USD')} in a two-decimal currency such as USD, "
        f"{money.format_minor(money.MAX_MINOR, 'KWD')} KWD, {money.format_minor(money.MAX_MINOR, 'JPY')} JPY "
        "(400 invalid_amount above; reports add amounts up as 64-bit integers, and this keeps even a billion of "
        "them in range)"
    )
    currency: Annotated[str, BeforeValidator(money.currency_code)] = Field(
        pattern="^[A-Z]{3}$", description="ISO 4217; the campaign's currency"
    )

    def report(self) -> conversions.Report:
        """The postback as the conversion rules take it (400 when the amount does not fit the currency)."""
        return conversions.make_report(self.click_id, self.order_id, self.amount, self.currency)


class Conversion(ResponseModel):
    id: Id
    click_id: str
    order_id: str
    amount: Money
    currency: str
    payout: Money
    payout_reason: earnings.NoEarningsReason | None = Field(
        description="Why the payout is 0.00 although the campaign pays per conversion: the click was made where "
        "nobody may earn (its reason), or the campaign no longer pays for performance; null when it pays"
    )
    status: conversions.ConversionStatus
    created_at: Timestamp
    campaign_id: Id
    link_id: Id


#: A waiting conversion's note to the advertiser (translated when the answer is built).
WAITING_MESSAGE = Message(
    "Accepted. The click was made moments ago and is not stored yet; the conversion is recorded as soon as it is, "
    "normally within a second. Send the same postback again to get it."
)


class WaitingConversion(ResponseModel):
    """A postback accepted before its click was stored: the conversion is recorded, by the same rules, as soon
    as the click is (normally within a second). Send the same postback again to learn the outcome: 200 with the
    conversion once recorded, 202 again while it waits, 404 or 422 with the reason if it was refused."""

    click_id: str
    order_id: str
    amount: Money
    currency: str
    status: Literal["waiting"]
    received_at: Timestamp = Field(description="When the first of these postbacks came: the conversion's time")
    message: Sentence = Field(default_factory=lambda: WAITING_MESSAGE, validate_default=True)


# --- reports ------------------------------------------------------------------------------------


class Figures(ResponseModel):
    clicks: Count = Field(description="Every recorded click, bots included")
    unique_clicks: Count = Field(
        description="Billable clicks: not a bot, prefetch, duplicate or over the daily cap, made while the "
        "campaign paid, the membership was active and the link enabled"
    )
    bot_clicks: Count = Field(description="Clicks of crawlers, unfurlers and HTTP tools")
    invalid_clicks: dict[earnings.Reason, Annotated[int, Field(ge=1)]] = Field(
        description="Clicks that are not billable, counted by reason (only reasons that occurred); "
        "clicks = unique_clicks + the sum of these",
        examples=[{"duplicate": 19, "prefetch": 3}],
    )
    conversions: Count = Field(description="Not reversed")
    conversion_rate: Annotated[float, Field(ge=0)] | None = Field(
        examples=[0.0525],
        description="Conversions per billable click, 4 decimals (0.0525 = 5.25 %); null when there were no "
        "billable clicks. It can exceed 1 for a day or group whose conversions came from clicks counted elsewhere",
    )
    revenue: Money
    payout: Money = Field(description="Conversion payouts plus cpc earnings of billable clicks")


class ReportRow(Figures):
    key: str | int | None = Field(description="The day (YYYY-MM-DD), an id, or the Sub ID / Shared ID (null: none)")
    currency: str


class Totals(Figures):
    revenue: Money | None  # type: ignore[assignment]
    payout: Money | None = Field(  # type: ignore[assignment]
        description="Conversion payouts plus cpc earnings of billable clicks; null when the rows are in more than "
        "one currency (see totals_by_currency)"
    )
    currency: str | None


class Report(ResponseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: dt.date = Field(alias="from")
    to: dt.date
    group_by: reports.GroupBy
    currency: str | None = Field(description="The currency of every row, or null when they are in more than one")
    rows: list[ReportRow]
    totals: Totals
    totals_by_currency: dict[str, Figures] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Present only when the rows are in more than one currency",
    )


class ReportQuery(QueryModel):
    from_: QueryDay | None = Field(
        default=None,
        alias="from",
        description=f"First day (default: 29 days before to, not before {reports.FIRST_DAY.isoformat()})",
    )
    to: QueryDay | None = Field(
        default=None, description=f"Last day (default: today, UTC; at most {reports.LAST_DAY.isoformat()})"
    )
    group_by: Annotated[reports.GroupBy, BeforeValidator(query_choice(reports.GROUPS))] = "day"
    campaign_id: QueryId | None = None


# --- earnings -------------------------------------------------------------------------------------


class EarningsFigures(ResponseModel):
    """A partner's figures in one currency (a campaign's, or one total per currency)."""

    currency: str
    clicks: Count = Field(description="Every recorded click, bots included")
    billable_clicks: Count = Field(description="Clicks that count for pay (see the summary report's unique_clicks)")
    conversions: Count = Field(description="Conversions not reversed")
    reversed_conversions: Count
    click_payout: Money = Field(description="What billable clicks earned (cpc), earned when the click was made")
    pending: Money = Field(description="Payouts of conversions the advertiser has not approved yet")
    approved: Money = Field(description="Payouts of approved conversions")
    reversed: Money = Field(description="Payouts of reversed conversions: not earned")
    earned: Money = Field(description="click_payout + pending + approved")

    @classmethod
    def of(cls, figures: reports.Earnings) -> EarningsFigures:
        """The figures of the service, the total earned included."""
        return cls(
            currency=figures.currency,
            clicks=figures.clicks,
            billable_clicks=figures.billable_clicks,
            conversions=figures.conversions,
            reversed_conversions=figures.reversed_conversions,
            click_payout=figures.click_payout,
            pending=figures.pending,
            approved=figures.approved,
            reversed=figures.reversed,
            earned=figures.earned,
        )


class LinkEarnings(EarningsFigures):
    link_id: Id
    task_title: str
    landing_url: str


class CampaignEarnings(EarningsFigures):
    campaign_id: Id
    campaign_name: str
    program_name: str
    links: list[LinkEarnings]


class EarningsReport(ResponseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: dt.date = Field(alias="from")
    to: dt.date
    campaigns: list[CampaignEarnings] = Field(description="Campaigns with a click or a conversion in the period")
    totals: list[EarningsFigures] = Field(description="One per currency: amounts are never added across currencies")

    @classmethod
    def of(cls, found: reports.PartnerEarnings) -> EarningsReport:
        """The service's earnings as the API answers them."""

        def fields(figures: reports.Earnings) -> dict[str, Any]:
            return EarningsFigures.of(figures).model_dump()

        return cls(
            **{"from": found.date_from},  # the field's API name: "from" is a Python keyword
            to=found.date_to,
            campaigns=[
                CampaignEarnings(
                    campaign_id=entry.campaign_id,
                    campaign_name=entry.campaign_name,
                    program_name=entry.program_name,
                    **fields(entry.figures),
                    links=[
                        LinkEarnings(
                            link_id=link.link_id,
                            task_title=link.task_title,
                            landing_url=link.landing_url,
                            **fields(link.figures),
                        )
                        for link in entry.links
                    ],
                )
                for entry in found.campaigns
            ],
            totals=[EarningsFigures.of(total) for total in found.totals],
        )


class EarningsQuery(QueryModel):
    from_: QueryDay | None = Field(
        default=None,
        alias="from",
        description=f"First day, UTC (default: 29 days before to, not before {reports.FIRST_DAY.isoformat()})",
    )
    to: QueryDay | None = Field(
        default=None, description=f"Last day, UTC (default: today; at most {reports.LAST_DAY.isoformat()})"
    )


# --- operations -------------------------------------------------------------------------------------


class ClickLogState(ResponseModel):
    writable: bool = Field(description="Clicks can be appended to this node's log")
    pending_bytes: Count | None = Field(description="Bytes of this host's click log not stored yet (null: unknown)")
    quarantined_lines: Count = Field(
        description="Unreadable click log lines set aside in the log folder's quarantine.jsonl (any makes the node "
        "unhealthy until an operator has looked)"
    )
    free_bytes: Count | None = Field(
        description="Free space on the log's disk; below TASKLINK_CLICK_LOG_MIN_FREE_BYTES the node is unhealthy"
    )


class Health(ResponseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    click_log: ClickLogState
    problems: list[str] = Field(description="What makes the node unhealthy, in words (empty when healthy)")


class OpenApiDocument(RootModel[dict[str, Any]]):
    """The OpenAPI 3.1 document of this API."""
