"""The JSON the API answers with and the events it posts to retailers, as typed dicts: the published document's
response schemas are generated from them (chalicelib.api.openapi), as its request schemas are from schemas.py.

Objects stay open (a new field is not a break) unless they say otherwise. A docstring here is the published
description of its schema, so only the shapes that have one carry one; the rest are explained by comments.
Imported only by the generator and tests: building a schema needs pydantic, which the webhook path never pays for.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, WithJsonSchema, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python 3.11

from ..carriers import SOURCES
from ..domain.engagement import CHANNELS as ENGAGEMENT_CHANNELS
from ..domain.engagement import KINDS as ENGAGEMENT_KINDS
from ..domain.hooks import SUBSCRIBABLE
from ..domain.milestones import MILESTONES, UNKNOWN
from ..domain.notifications import DELAY_REASONS
from ..domain.stalls import REASONS as STALL_REASONS
from ..services.notifications import CHANNELS as NOTIFICATION_CHANNELS
from ..web.templating import LOCALES


def _unlabelled(schema: dict[str, Any]) -> None:
    """Names in the document are the component names; pydantic's generated titles would only repeat them. A
    docstring's line breaks are only where its source wraps."""
    schema.pop("title", None)
    if "description" in schema:
        schema["description"] = " ".join(schema["description"].split())
    for field in schema.get("properties", {}).values():
        field.pop("title", None)


OPEN = ConfigDict(json_schema_extra=_unlabelled)
CLOSED = ConfigDict(extra="forbid", json_schema_extra=_unlabelled)


def described(text: str) -> Any:
    return Field(description=text)


def one_of(values: tuple[str, ...] | list[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


Object = Annotated[dict[str, Any], WithJsonSchema({"type": "object"})]
Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]
Status = Annotated[str, one_of(MILESTONES)]
Source = Annotated[str, one_of(SOURCES)]
Locale = Annotated[str, one_of(LOCALES)]
NotificationChannel = Annotated[str, one_of(NOTIFICATION_CHANNELS)]
DelayReason = Annotated[str, one_of(DELAY_REASONS)]
Score = Annotated[int, Field(ge=1, le=5)]
Count = Annotated[int, Field(ge=0)]
Cursor = Annotated[str | None, Field(description="more to list: pass it as `cursor`")]
SHOWN_ONCE = "shown once; only its hash is stored"


@with_config(CLOSED)
class ErrorDetail(TypedDict):
    code: Annotated[str, described("stable, machine-readable: invalid_request, ...")]
    message: Annotated[str, described("for people: what was wrong and how to fix it")]
    field: NotRequired[Annotated[str, described("the offending field, when there is one")]]


@with_config(CLOSED)
class Error(TypedDict):
    error: ErrorDetail


@with_config(OPEN)
class CreatedRetailer(TypedDict):
    id: str
    name: str
    api_key: Annotated[str, described(SHOWN_ONCE)]


@with_config(OPEN)
class ApiKey(TypedDict):
    id: Annotated[str, described("names the key in this API (part of its hash)")]
    prefix: Annotated[str, described("the key's first characters, to recognise it")]
    created_at: datetime
    expires_at: datetime | None
    current: Annotated[bool, described("the key that made this request")]


@with_config(OPEN)
class ApiKeyList(TypedDict):
    api_keys: list[ApiKey]


@with_config(OPEN)
class NewApiKey(ApiKey):
    api_key: Annotated[str, described(SHOWN_ONCE)]


@with_config(OPEN)
class Suppression(TypedDict):
    scope: Annotated[
        str,
        one_of(("retailer", "every_retailer", "driver_chat")),
        described("every_retailer: the provider said the address is invalid"),
    ]
    reason: str
    since: str
    source: NotRequired[str]
    liftable: Annotated[bool, described("false for a shopper's STOP")]


@with_config(OPEN)
class LiftedBy(TypedDict, total=False):
    api_key_id: str
    api_key_prefix: str


@with_config(OPEN)
class SuppressionAudit(TypedDict):
    at: str
    action: Annotated[str, one_of(("suppressed", "lifted"))]
    scope: str
    reason: str
    source: NotRequired[str]
    lifted_reason: NotRequired[str]
    by: NotRequired[LiftedBy]


@with_config(OPEN)
class SuppressionState(TypedDict):
    contact: str
    channel: Annotated[str, one_of(("email", "sms"))]
    suppressed: Annotated[bool, described("messages to this contact are held for your sends")]
    suppressions: list[Suppression]
    audit: Annotated[list[SuppressionAudit], described("oldest first: suppressions and lifts that concern your sends")]


@with_config(OPEN)
class ShipmentSummary(TypedDict):
    id: str
    order_id: str
    carrier: str
    tracking_number: str
    status: Status
    status_label: NotRequired[str]
    claimed: Annotated[bool, described("false while only carrier scans know the shipment")]
    tracking_token: str
    tracking_url: NotRequired[Url]
    eta: NotRequired[dict[str, str] | None]
    last_event_at: NotRequired[datetime | None]
    created_at: NotRequired[datetime]
    updated_at: NotRequired[datetime]
    status_changed_at: NotRequired[
        Annotated[datetime, described("in the changed_since feed: when we recorded the change")]
    ]
    warnings: NotRequired[
        Annotated[
            list[str],
            described("on registration: what was accepted but not honoured as asked (an unsupported locale)"),
        ]
    ]


@with_config(OPEN)
class Notification(TypedDict):
    kind: Annotated[
        str,
        described(
            "a milestone, `delayed`, `survey`, `driver_close` (the driver is close: D46), or a webhook to you "
            "(`status:<status>:<version>`, `escalation`, `survey_comment:<n>`)"
        ),
    ]
    channel: NotificationChannel
    status: Annotated[
        str,
        described(
            "pending, deferred (quiet hours), retry, sending, queued, sent, delivered, skipped "
            "(`reason` says why), failed or bounced"
        ),
    ]
    reason: NotRequired[str | None]
    fallback: NotRequired[Annotated[bool, described("an email standing in for a text that failed")]]
    attempts: Count
    manual_retries: Annotated[int, Field(ge=0, description="times you asked to send it again")]
    provider: NotRequired[str | None]
    provider_message_id: NotRequired[str | None]
    created_at: datetime
    sent_at: NotRequired[datetime | None]
    updated_at: datetime
    due_at: NotRequired[datetime | None]
    preview: NotRequired[Object | None]


@with_config(OPEN)
class ShipmentDetail(ShipmentSummary):
    customer: Object
    destination: NotRequired[Object | None]
    items: NotRequired[list[Object] | None]
    promised_date: NotRequired[str | None]
    service: NotRequired[Annotated[str | None, described("the service level given at registration")]]
    origin: NotRequired[Annotated[Object | None, described("where the parcel left from: region, country")]]
    driver: NotRequired[Object | None]
    proof_of_delivery: NotRequired[Object | None]
    pickup: NotRequired[
        Annotated[
            Object | None,
            described(
                "where the parcel waits for collection, as the carrier sent it (D48): `id`, `name`, `area`, "
                "`address`, `address_public`, `opening_hours`, `deadline`, `code`, `note`; the shopper's page shows "
                "the code only after a one-time code sent to the shopper's contact"
            ),
        ]
    ]
    shopper: NotRequired[Object]
    events: list[Object]
    notifications: list[Notification]
    chat_messages: NotRequired[Count]
    delivery_change: NotRequired[
        Annotated[
            DeliveryChange | None,
            described("the shopper's latest delivery-change request (open while `awaiting_code` or `pending`)"),
        ]
    ]


@with_config(OPEN)
class ShipmentList(TypedDict):
    shipments: list[ShipmentSummary]
    next_cursor: Cursor
    latest_change_at: NotRequired[
        Annotated[
            datetime | None,
            WithJsonSchema(
                {
                    "anyOf": [
                        {
                            "type": "string",
                            "format": "date-time",
                            "description": "with changed_since: the newest change on this page (where to resume)",
                        },
                        {"type": "null"},
                    ]
                }
            ),
        ]
    ]


@with_config(OPEN)
class BatchEntry(TypedDict):
    index: Count
    status: Annotated[int, described("201 created, 200 already there, or 4xx")]
    shipment: NotRequired[ShipmentSummary]
    warnings: NotRequired[list[str]]
    error: NotRequired[ErrorDetail]


@with_config(OPEN)
class ShipmentBatch(TypedDict):
    created: Count
    existing: Count
    failed: Count
    results: list[BatchEntry]


@with_config(OPEN)
class Erasure(TypedDict):
    deleted: dict[str, int]


@with_config(OPEN)
class FailedNotification(Notification):
    failed_at: datetime
    shipment: ShipmentSummary


@with_config(OPEN)
class FailedNotificationList(TypedDict):
    notifications: list[FailedNotification]
    next_cursor: Cursor


@with_config(OPEN)
class ChatTranscript(TypedDict):
    session: Object | None
    messages: list[Object]


@with_config(OPEN)
class Integration(TypedDict):
    source: Source
    webhook_url: Url
    secret: str


@with_config(OPEN)
class WebhookSettings(TypedDict, total=False):
    enabled: bool
    url: str | None
    statuses: Annotated[
        list[Annotated[str, one_of(SUBSCRIBABLE)]],
        described(
            "statuses whose changes are posted (default: all); add `delayed` to also get "
            "`shipment.delayed` when a parcel becomes late"
        ),
    ]
    secret_configured: bool
    secret: Annotated[str, described("returned once, when the first webhook URL is set")]
    previous_secret_valid_until: Annotated[
        datetime, described("during a rotation: calls carry a second v1 signature, made with the old secret")
    ]


@with_config(OPEN)
class Alerts(TypedDict):
    """Problems before the shopper calls (D45), listed under "Needs attention" and posted as `shipment.stalled`
    when `stalled` is in `webhooks.statuses`; 0 switches a reason off."""

    no_first_scan_days: Annotated[
        int, Field(ge=0, le=30, description="days after registration without a first carrier scan (default 2)")
    ]
    stuck_days: Annotated[int, Field(ge=0, le=30, description="days at the same scan (default 3)")]


@with_config(OPEN)
class Settings(TypedDict):
    channels: dict[str, list[str]]
    quiet_hours: Object
    warnings: NotRequired[
        Annotated[list[str], described("In a PUT answer: what was changed to keep quiet hours within the legal floor")]
    ]
    time_zone: str
    email_fallback: bool
    silent_after_days: Annotated[
        int,
        Field(
            ge=0,
            le=30,
            description="a parcel in transit or out for delivery with no carrier scan for this many days (and "
            "past the carrier's ETA, if any) counts as late: the shopper gets `delayed` and you get "
            "`shipment.delayed` with reason `no_news`; 0 switches this off (default 5)",
        ),
    ]
    survey: Object
    webhooks: NotRequired[WebhookSettings]
    tracking_page: NotRequired[
        Annotated[
            Object,
            described(
                "`live_position`: `off`, `area` (default: the driver rounded to about 1 km) or `exact`; "
                "`driver_close_stops` (default 2) and `driver_close_minutes` (default 10): the one "
                '"driver is close" text goes out when either is reached (0 switches that test off)'
            ),
        ]
    ]
    alerts: NotRequired[Alerts]
    pickup: NotRequired[
        Annotated[
            Object,
            described(
                "Parcels at a pickup point or locker (D48): `hold_days` (default 7) is the deadline when the carrier "
                'names none; `reminders` (default `[{"after_hours": 24}, {"before_deadline_hours": 24}]`, at '
                "most three) are texts/e-mails before the deadline, each sent once, on the `available_for_pickup` "
                "channels, under quiet hours and opt-outs, and never once the parcel is collected or returned"
            ),
        ]
    ]
    returns: NotRequired[
        Annotated[
            Object,
            described(
                "Returns (D48): `notify` lists the return steps the shopper is told of: `processed` (return label "
                "created), `shipped` (dropped off) and `delivered` (received by you); all three by default"
            ),
        ]
    ]
    delivery_changes: NotRequired[
        Annotated[
            Object,
            described(
                "What shoppers may ask on the tracking page, per carrier code (`*`: the others): `kinds` "
                "(reschedule, safe_place, neighbour, pickup_point, hold), `windows`, `days_ahead`, `safe_places`, "
                "`pickup_points`, `cutoff` (`not_once_out`, `local_time`) and `second_factor`; nothing is offered "
                "until set (DESIGN 3.9)"
            ),
        ]
    ]


# Events posted to the retailer: the shared envelope (id, type, created_at, retailer_id) around what happened in
# `data`, which starts with the shipment's identity (services.retailer_webhooks).
@with_config(OPEN)
class ShipmentIdentity(TypedDict):
    shipment_id: str
    order_id: NotRequired[str | None]
    carrier: NotRequired[str]
    tracking_number: NotRequired[str]
    version: int
    tracking_url: NotRequired[Url]


@with_config(OPEN)
class StatusChange(ShipmentIdentity):
    status: Status
    status_label: NotRequired[str]
    current: Annotated[Object, described("the shipment as it was when the call went out")]
    version: Annotated[int, described("the shipment's state version that reached it")]


@with_config(OPEN)
class Delay(ShipmentIdentity):
    reason: DelayReason
    promised_date: NotRequired[str | None]
    eta: NotRequired[Annotated[dict[str, Any] | None, WithJsonSchema({"type": ["object", "null"]})]]
    status: Status
    status_label: NotRequired[str]


StallReason = Annotated[str, one_of(STALL_REASONS)]


@with_config(OPEN)
class Stall(ShipmentIdentity):
    reason: Annotated[
        StallReason,
        described(
            "`no_first_scan`: registered (label created) and no carrier scan within `alerts.no_first_scan_days`; "
            "`stuck`: no new scan for `alerts.stuck_days`; `first_attempt_failed`: the carrier's first delivery "
            "attempt failed"
        ),
    ]
    status: Status
    status_label: NotRequired[str]
    last_event_at: NotRequired[datetime | None]
    registered_at: NotRequired[datetime]


@with_config(OPEN)
class StatusChangedEvent(TypedDict):
    """Posted to `webhooks.url` once per change of a registered shipment's status. Signed like the native carrier
    format (`X-Porchlight-Signature: t=..,v1=..` with the outbound secret); `id` (also in `X-Porchlight-Event-Id`)
    is the same on retries. Calls can arrive out of order: order them by `data.version`."""

    id: str
    type: Literal["shipment.status_changed"]
    created_at: datetime
    retailer_id: str
    data: StatusChange


@with_config(OPEN)
class DelayedEvent(TypedDict):
    """Posted to `webhooks.url` once per registered shipment when its parcel becomes late (opt-in: `delayed` in
    `webhooks.statuses`): the carrier reported a delay, its ETA moved past the promised date, or the promised date
    passed with the parcel still on its way. Signed and retried like the others."""

    id: str
    type: Literal["shipment.delayed"]
    created_at: datetime
    retailer_id: str
    data: Delay


@with_config(OPEN)
class StalledEvent(TypedDict):
    """Posted to `webhooks.url` once per registered shipment and reason when its parcel runs into trouble before the
    shopper calls (opt-in: `stalled` in `webhooks.statuses`; thresholds in `alerts`). `id` is
    `<shipment>:stalled:<reason>`. Signed and retried like the others."""

    id: str
    type: Literal["shipment.stalled"]
    created_at: datetime
    retailer_id: str
    data: Stall


@with_config(OPEN)
class TestEvent(TypedDict):
    """Posted to `webhooks.url` on request (`POST /v1/settings/webhooks/test`), signed like the others, to check an
    endpoint before relying on it."""

    id: str
    type: Literal["webhook.test"]
    created_at: datetime
    retailer_id: str
    data: Object


@with_config(OPEN)
class RotatedSecret(TypedDict):
    secret: Annotated[str, described("shown once")]
    previous_valid_until: datetime | None


@with_config(OPEN)
class WebhookTest(TypedDict):
    id: Annotated[str, described("the test event's id, as the endpoint received it")]
    url: str
    delivered: Annotated[bool, described("the endpoint answered 2xx")]
    status: NotRequired[Annotated[int, described("its HTTP status, when delivered")]]
    error: NotRequired[Annotated[str, described("what went wrong, when not")]]


# What both survey events to the retailer carry (services.surveys), flat as `survey.low_score` always was.
@with_config(OPEN)
class SurveyAnswer(TypedDict):
    retailer_id: str
    shipment_id: str
    order_id: NotRequired[str | None]
    tracking_number: NotRequired[str]
    carrier: NotRequired[str]
    driver: NotRequired[str | None]
    score: Score
    comment: NotRequired[str | None]
    comment_revision: NotRequired[Annotated[int, Field(ge=0, description="the comment's version (0: none yet)")]]
    answered_at: NotRequired[datetime]
    answered_via: NotRequired[str]


@with_config(OPEN)
class LowScoreEvent(SurveyAnswer):
    """Posted to `survey.webhook_url` when a survey answer is at or below the threshold; signed and retried like
    status webhooks. It carries the comment as it was when it went out (`comment_revision`); a later note follows as
    `survey.comment_added`."""

    type: Literal["survey.low_score"]


@with_config(OPEN)
class SurveyCommentEvent(SurveyAnswer):
    """Posted to `survey.webhook_url` when the shopper adds to a low score's comment after `survey.low_score` went
    out (a text within 24 hours of the score, or the page's follow-up form). Never before `survey.low_score`;
    `comment` is the whole comment so far, `comment_revision` its version (higher is newer). Signed and retried like
    the others; `X-Porchlight-Event-Id` is `<shipment_id>:survey:comment:<n>`."""

    type: Literal["survey.comment_added"]
    comment: str  # type: ignore[misc]
    comment_revision: Annotated[int, Field(ge=0, description="the comment's version (0: none yet)")]  # type: ignore[misc]
    commented_at: NotRequired[datetime]


@with_config(OPEN)
class ContrastWarning(TypedDict):
    field: Annotated[str, one_of(("primary_color", "accent_color"))]
    use: Annotated[
        str, described("link text, text on it (the text drawn on the colour), progress bar..., notice stripe")
    ]
    surfaces: Annotated[list[str], described("what the colour was checked against")]
    given: str
    used: str
    contrast_given: float
    contrast_used: float
    minimum: Annotated[float, described("4.5 for text, 3 for graphics")]
    message: NotRequired[str]


@with_config(OPEN)
class Branding(TypedDict):
    display_name: str
    primary_color: str
    accent_color: str
    text_on_primary: Annotated[str, described("text colour on primary_color, 4.5:1 or more")]
    text_on_accent: Annotated[str, described("text colour on accent_color, 4.5:1 or more")]
    link_color: NotRequired[
        Annotated[str, described("primary_color as link text: 4.5:1 on the page background, cards and chat bubbles")]
    ]
    graphic_color: NotRequired[
        Annotated[
            str,
            described(
                "primary_color as a graphic (progress bar, chart bars, button edges): 3:1 on cards "
                "and the progress bar's track"
            ),
        ]
    ]
    accent_graphic_color: NotRequired[
        Annotated[str, described("accent_color as the notice stripe: 3:1 on the page background and the notice")]
    ]
    warnings: Annotated[
        list[ContrastWarning],
        described(
            "Each place a brand colour fell short of WCAG 2.1 AA and what is used there instead "
            "(empty when every colour is used as given)"
        ),
    ]


@with_config(OPEN)
class Template(TypedDict):
    kind: str
    channel: str
    locale: str
    body: str
    subject: NotRequired[str | None]


@with_config(OPEN)
class WorstCase(TypedDict, total=False):
    """A custom text with the longest brand and order id: its length against one segment"""

    characters: int
    encoding: Annotated[str, one_of(("GSM-7", "UCS-2"))]
    segment_limit: int
    over_by: int


@with_config(OPEN)
class TemplatePreview(TypedDict):
    source: Annotated[str, one_of(("built-in", "custom", "draft"))]
    body: NotRequired[str]
    characters: NotRequired[int]
    encoding: NotRequired[str]
    fits_one_segment: NotRequired[bool]
    worst_case: NotRequired[WorstCase]
    subject: NotRequired[str]
    text: NotRequired[str]
    html: NotRequired[str]


@with_config(OPEN)
class AnsweredSurvey(TypedDict):
    score: Score


@with_config(OPEN)
class SurveyPage(TypedDict):
    surveys: list[AnsweredSurvey]
    next_cursor: str | None


@with_config(OPEN)
class Delays(TypedDict, total=False):
    """registered parcels found late in the period (each once), by what showed it first"""

    flagged: Count
    by_reason: Annotated[
        dict[str, int],
        WithJsonSchema(
            {"type": "object", "properties": {reason: {"type": "integer", "minimum": 0} for reason in DELAY_REASONS}}
        ),
    ]


@with_config(OPEN)
class LowScore(TypedDict):
    shipment_id: str
    order_id: NotRequired[str | None]
    carrier: NotRequired[str | None]
    driver: NotRequired[str | None]
    score: Score
    comment: NotRequired[str | None]
    answered_at: datetime
    answered_via: NotRequired[str | None]
    tracking_url: NotRequired[str | None]


@with_config(OPEN)
class StalledParcel(TypedDict):
    shipment_id: str
    order_id: NotRequired[str | None]
    carrier: str
    tracking_number: str
    status: Status
    reason: StallReason
    found_at: datetime
    last_event_at: NotRequired[datetime | None]
    tracking_url: NotRequired[str | None]


@with_config(OPEN)
class NeedsAttention(TypedDict):
    stalled: NotRequired[
        Annotated[
            list[StalledParcel],
            described(
                "the latest 10 parcels found stalled (no first carrier scan, or stuck at the same scan) that have "
                "not moved since, newest first (D45); failed attempts are listed by status"
            ),
        ]
    ]
    low_scores: Annotated[
        list[LowScore],
        described(
            "the latest 10 survey scores at or below the threshold answered in the period, newest first, with the "
            "shopper's comment (no contact details)"
        ),
    ]


Rate = Annotated[float | None, Field(ge=0, le=100, description="percent, one decimal; null when nothing counted")]


@with_config(OPEN)
class EngagementRow(TypedDict):
    """One notification kind on one channel in the period (D45), each figure counted once per message: `opened` is
    the e-mails opened at least once (Apple Mail Privacy Protection's automatic opens are `machine_opened`),
    `visited` the messages followed by a visit to the tracking page (an e-mail's link is marked with its kind; a
    visit without the mark goes to the last text the phone got about this parcel), `unsubscribed`/`spam_reported`
    per e-mail and `stopped` the texts answered with STOP. Rates are percentages: delivered, visited and opt-outs
    per message sent, opened and clicked per delivered e-mail (null for texts)."""

    kind: Annotated[str, one_of(ENGAGEMENT_KINDS)]
    channel: Annotated[str, one_of(ENGAGEMENT_CHANNELS)]
    sent: Count
    delivered: Count
    failed: Annotated[int, Field(ge=0, description="failed or bounced")]
    opened: Count
    machine_opened: Count
    clicked: Count
    visited: Count
    unsubscribed: Count
    spam_reported: Count
    stopped: Count
    delivery_rate: Rate
    open_rate: Rate
    click_rate: Rate
    visit_rate: Rate
    opt_out_rate: Rate


@with_config(OPEN)
class NotificationLogEntry(TypedDict):
    """One message: what the retailer already holds about it, the recipient masked"""

    created_at: Annotated[datetime, described("when it was planned (the range and the order are by this time)")]
    order_id: str | None
    shipment_id: str
    kind: str
    channel: str
    status: str
    sent_at: datetime | None
    updated_at: datetime
    reason: Annotated[str | None, described("why it was skipped, deferred or failed; numbers and addresses masked")]
    to: Annotated[str | None, described("the shipment's phone or e-mail for this channel, masked: *********23")]
    attempts: Count


@with_config(OPEN)
class NotificationLogPage(TypedDict):
    from_: Annotated[date, Field(alias="from")]
    to: date
    notifications: list[NotificationLogEntry]
    next_cursor: Annotated[str | None, described("more may follow (a filtered page can be short, even empty)")]


@with_config(OPEN)
class DaysLate(TypedDict):
    days: Annotated[int, described("days after the promised date (negative: early); -7 and 7 mean 7 or more")]
    count: Count


@with_config(OPEN)
class PromiseFigures(TypedDict):
    """How deliveries kept their promise, counted at each delivery: the promised date in the shopper's calendar, and
    the last ETA window the shopper was shown before it arrived"""

    delivered: Annotated[int, Field(ge=0, description="registered parcels delivered")]
    with_promise: Annotated[int, Field(ge=0, description="of those, with a promised date")]
    by_promised_date: Annotated[int, Field(ge=0, description="arrived on or before the promised date")]
    by_promised_date_rate: Rate
    early: Count
    on_the_day: Count
    late: Count
    median_days_late: Annotated[int | None, described("median days after the promised date")]
    days_late: Annotated[list[DaysLate], described("the spread: parcels per day early or late, ascending")]
    with_window: Annotated[int, Field(ge=0, description="delivered after an ETA window was shown")]
    inside_window: Annotated[int, Field(ge=0, description="of those, delivered inside that window")]
    inside_window_rate: Rate


@with_config(OPEN)
class CarrierServicePromise(PromiseFigures):
    carrier: str
    service: Annotated[str | None, described("the service level given at registration (null: none given)")]


@with_config(OPEN)
class LanePromise(PromiseFigures):
    origin: Annotated[str, described("country-region the parcel left from (`?` when not given at registration)")]
    destination: Annotated[str, described("country-region of the destination (`?` when not given)")]


@with_config(OPEN)
class WeekPromise(PromiseFigures):
    week: Annotated[date, described("the Monday of the ISO week (weeks at the ends may be partly outside the range)")]


@with_config(OPEN)
class PromiseAccuracy(TypedDict):
    overall: PromiseFigures
    by_carrier_service: list[CarrierServicePromise]
    by_lane: list[LanePromise]
    by_week: list[WeekPromise]


@with_config(OPEN)
class ComparedFigure(TypedDict):
    figure: Annotated[str, described("where the figure is in this answer, e.g. `quality.csat`")]
    label: str
    unit: Annotated[str, described("`%` for rates (then `change` is in percentage points), empty for counts")]
    current: float | None
    previous: float | None
    change: Annotated[float | None, described("current - previous; null when either is null")]


@with_config(OPEN)
class Comparison(TypedDict):
    """Each headline figure against the period of the same length just before `from`"""

    previous_from: date
    previous_to: date
    figures: list[ComparedFigure]


Analytics = TypedDict(  # `from` is a keyword: the functional form names it
    "Analytics",
    {
        "from": date,
        "to": date,
        "shipments": Object,
        "returns": NotRequired[
            Annotated[
                Object,
                described(
                    "counted apart from deliveries (D48): `returned_to_sender`, deliveries that went back to you; "
                    "and the shoppers' returns: `registered`, `dropped_off`, `received`"
                ),
            ]
        ],
        "on_time": Object,
        "driver_eta": NotRequired[
            Annotated[
                Object,
                described(
                    "parcels delivered straight from out for delivery, against the last arrival window the "
                    "shopper was shown (the driver's ETA, else the carrier's; the same rule as the promise's "
                    "inside-the-window figure): `kept` (inside), `early`, `late`, `missed` (early + late), "
                    "`rate` (% kept)"
                ),
            ]
        ],
        "quality": Object,
        "delays": NotRequired[Delays],
        "by_carrier": list[Object],
        "by_driver": list[Object],
        "time_in_milestone": NotRequired[Object],
        "notifications": NotRequired[Object],
        "page_views": NotRequired[Object],
        "days": list[Object],
        "promise": PromiseAccuracy,
        "comparison": Comparison,
        "needs_attention": NotRequired[NeedsAttention],
        "engagement": NotRequired[
            Annotated[list[EngagementRow], described("per notification kind and channel, kinds with activity only")]
        ],
    },
)
Analytics.__pydantic_config__ = OPEN  # type: ignore[attr-defined]


@with_config(OPEN)
class TrackingEvent(TypedDict, total=False):
    status: Annotated[str, WithJsonSchema({"enum": [*MILESTONES, UNKNOWN]})]


def _never_instructions(schema: dict[str, Any]) -> None:
    _unlabelled(schema)
    schema["not"] = {"required": ["instructions"]}


@with_config(ConfigDict(json_schema_extra=_never_instructions))
class ShopperChoices(TypedDict, total=False):
    """The shopper's choices; the instructions they typed are never in this JSON, only whether there are any (the
    page, where they edit them, shows them)."""

    first_name: str
    notify: Annotated[str, one_of(("sms", "email", "none"))] | None
    has_instructions: bool
    can_text: bool
    can_email: bool


@with_config(OPEN)
class LivePosition(TypedDict):
    lat: Annotated[float, described("rounded to 2 decimals (about 1 km) unless the retailer chose `exact`")]
    lng: float
    age_seconds: Annotated[int, Field(ge=0, le=300)]


@with_config(OPEN)
class LiveArea(TypedDict):
    lat: float
    lng: float


@with_config(OPEN)
class LiveEta(TypedDict):
    start: NotRequired[Annotated[str, described("ISO 8601; without an offset, the shopper's wall clock")]]
    end: NotRequired[str]
    clock: NotRequired[
        Annotated[
            str,
            described(
                "the arrival time in the shopper's zone and language ('2:20 PM', '14:20'); absent when the window "
                "names only a day"
            ),
        ]
    ]


@with_config(OPEN)
class Live(TypedDict):
    """The last mile while the parcel is out for delivery (DESIGN 3.8); absent or null otherwise."""

    position: Annotated[
        LivePosition | None,
        described(
            "the driver, only while out for delivery, at most 5 minutes old, and unless the retailer's "
            "`tracking_page.live_position` is `off`"
        ),
    ]
    position_outdated: Annotated[bool, described("a position exists but is older than 5 minutes (not shown)")]
    stops_before: Annotated[int | None, described("stops the driver makes before this one")]
    eta: Annotated[
        LiveEta | None, described("the driver's arrival window, else the carrier's; hidden with an outdated position")
    ]
    summary: Annotated[
        str, described('what the page says without JavaScript: "3 stops before yours, arriving about 2:20 PM"')
    ]
    destination_area: NotRequired[
        Annotated[LiveArea | None, described("where the parcel goes, rounded to 2 decimals: never the address")]
    ]


@with_config(OPEN)
class Tracking(TypedDict):
    """What the shopper's page shows; never a phone number, e-mail, street address or surname. Answers carry an
    `ETag`; `If-None-Match` with it gets 304 while nothing changed."""

    token: str
    locale: Locale
    status: Status
    status_label: str
    active: NotRequired[bool]
    steps: list[Object]
    banner: NotRequired[Object | None]
    events: list[TrackingEvent]
    retailer: Object
    shopper: NotRequired[ShopperChoices]
    live: NotRequired[Live | None]
    delivery_change: NotRequired[
        Annotated[
            Object | None,
            described(
                "what the shopper may ask now (`offered` kinds, `blocked` reason) and their latest request's `id`, "
                "`kind` and `status` (its details stay on the page)"
            ),
        ]
    ]


@with_config(OPEN)
class FoundParcel(TypedDict):
    tracking_token: str
    tracking_url: Url
    order_id: str
    status: Status
    status_label: str
    carrier: str
    carrier_name: NotRequired[str]
    tracking_number: NotRequired[str]
    last_event_at: NotRequired[
        Annotated[datetime | None, WithJsonSchema({"type": ["string", "null"], "format": "date-time"})]
    ]


@with_config(OPEN)
class OrderLookup(TypedDict):
    """The order's parcels, newest first, with their tracking links."""

    shipments: list[FoundParcel]


@with_config(OPEN)
class IgnoredReason(TypedDict):
    reason: Annotated[
        str,
        one_of(("not_a_tracking_event", "no_scans")),
        described(
            "not_a_tracking_event: the event type carries no tracking (batch.*, transaction_*, ...); no_scans: a "
            "tracking with no scans whose own status says nothing yet"
        ),
    ]
    detail: Annotated[str, described("the event type, or the tracking's status")]
    carrier: NotRequired[str]
    tracking_number: NotRequired[str]


@with_config(OPEN)
class WebhookResult(TypedDict):
    accepted: int
    duplicates: int
    ignored: NotRequired[
        Annotated[
            int,
            Field(
                ge=1,
                description="present only when the delivery held no scan (it is then listed at "
                "GET /v1/webhooks/ignored)",
            ),
        ]
    ]
    ignored_reasons: NotRequired[list[IgnoredReason]]


@with_config(OPEN)
class PositionsResult(TypedDict):
    accepted: Annotated[Count, described("positions newer than the one kept (stored, or within 30 s of it)")]
    stale: Annotated[Count, described("positions no newer than one already kept or sent in the same batch")]
    unmatched: Annotated[Count, described("positions naming a tracking number none of your shipments has")]


@with_config(OPEN)
class IgnoredWebhook(TypedDict):
    received_at: datetime
    source: Source
    reasons: list[IgnoredReason]
    body_sha256: Annotated[str, described("first 16 hex digits of the body's SHA-256, to match the sender's log")]


@with_config(OPEN)
class IgnoredWebhookList(TypedDict):
    ignored: list[IgnoredWebhook]
    next_cursor: Cursor


@with_config(OPEN)
class DeliveryChange(TypedDict):
    """A shopper's delivery-change request (DESIGN 3.9). `status`: `awaiting_code` (the shopper has yet to enter
    the one-time code sent to their phone or e-mail on file), `pending` (waiting for your or the carrier's answer),
    `confirmed`, `refused`, `locked` (five wrong codes) or `expired` (no code within 10 minutes)."""

    id: str
    kind: Literal["reschedule", "safe_place", "neighbour", "pickup_point", "hold"]
    details: Annotated[
        Object,
        described(
            "reschedule: `date`, `window`; safe_place: `place`; neighbour: `neighbour` (a name); pickup_point: "
            "`point`, `point_name`; hold: nothing"
        ),
    ]
    status: Literal["awaiting_code", "pending", "confirmed", "refused", "locked", "expired"]
    requested_at: datetime
    answered_at: NotRequired[datetime]
    answered_by: NotRequired[Literal["retailer", "carrier"]]
    note: NotRequired[str]


@with_config(OPEN)
class OpenDeliveryChange(TypedDict):
    shipment_id: str
    order_id: str | None
    carrier: str
    tracking_number: str
    change: DeliveryChange


@with_config(OPEN)
class DeliveryChangeList(TypedDict):
    delivery_changes: list[OpenDeliveryChange]
    next_cursor: Cursor


@with_config(OPEN)
class DeliveryChangeAnswer(TypedDict):
    shipment_id: str
    replayed: Annotated[bool, described("the same answer had already been given: nothing was done again")]
    change: DeliveryChange


@with_config(OPEN)
class DeliveryChangeRequested(TypedDict):
    shipment_id: str
    order_id: str | None
    carrier: str
    tracking_number: str
    status: Annotated[str, described("the shipment's status when the request was made")]
    change: DeliveryChange
    tracking_url: str


@with_config(OPEN)
class DeliveryChangeRequestedEvent(TypedDict):
    """Posted to `webhooks.url` when a shopper asks to change a delivery on the tracking page (after the one-time
    code, for kinds that need one). Answer with `POST /v1/shipments/{id}/delivery-changes/{change_id}`, or let the
    carrier answer with a native event's `delivery_change`. Signed and retried like the others; `id` is stable."""

    id: str
    type: Literal["shipment.delivery_change_requested"]
    created_at: datetime
    retailer_id: str
    data: DeliveryChangeRequested


#: The shapes named in the document's components (what operations and events refer to); any other shape above is
#: written out where it is used.
PUBLISHED: tuple[type, ...] = (
    Error,
    CreatedRetailer,
    ApiKey,
    ApiKeyList,
    NewApiKey,
    SuppressionState,
    ShipmentSummary,
    ShipmentDetail,
    ShipmentList,
    ShipmentBatch,
    Erasure,
    Notification,
    FailedNotificationList,
    ChatTranscript,
    Integration,
    Settings,
    StatusChangedEvent,
    DelayedEvent,
    StalledEvent,
    TestEvent,
    RotatedSecret,
    WebhookTest,
    LowScoreEvent,
    SurveyCommentEvent,
    Branding,
    ContrastWarning,
    Template,
    TemplatePreview,
    SurveyPage,
    Analytics,
    NotificationLogPage,
    Tracking,
    OrderLookup,
    WebhookResult,
    PositionsResult,
    IgnoredReason,
    IgnoredWebhookList,
    DeliveryChange,
    DeliveryChangeList,
    DeliveryChangeAnswer,
    DeliveryChangeRequestedEvent,
)

#: What Porchlight posts to the retailer's own endpoints (the document's OpenAPI 3.1 `webhooks`), by event type.
OUTBOUND: dict[str, type] = {
    "shipment.status_changed": StatusChangedEvent,
    "shipment.delayed": DelayedEvent,
    "shipment.stalled": StalledEvent,
    "survey.low_score": LowScoreEvent,
    "survey.comment_added": SurveyCommentEvent,
    "webhook.test": TestEvent,
    "shipment.delivery_change_requested": DeliveryChangeRequestedEvent,
}
