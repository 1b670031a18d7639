"""Pydantic models for retailer API bodies. Imported lazily: the webhook path never pays for pydantic."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from ..domain.phones import PhoneError, normalise_phone
from ..errors import ValidationError

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")

#: One line of text a retailer names a thing with (an order id): no control characters, which reach texts, CSV
#: cells and carriers' systems as they are ("A-1\x00" would).
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


def check_phone(value: str) -> str:
    compact = re.sub(r"[\s().-]", "", value)
    if not E164.match(compact):
        raise ValueError("phone must be in E.164 form, for example +14155550123")
    return compact


PHONE_CHARACTERS = re.compile(r"^\+?[0-9]{4,20}$")


def compact_phone(value: str) -> str:
    """A shopper's number as typed, without spaces, dots, dashes or brackets; checked per country by the request."""
    compact = re.sub(r"[\s().-]", "", value)
    if not PHONE_CHARACTERS.match(compact):
        raise ValueError("phone must be a phone number in +country format, for example +14155550123")
    return compact


def checked_customer_phone(customer: Any, destination: Any) -> None:
    """The customer's phone checked against its country's numbering plan and stored E.164; a 400 names
    `customer.phone` (raised as our error, so pydantic does not file it under the request as a whole)."""
    phone = getattr(customer, "phone", None)
    if not phone:
        return
    country = getattr(destination, "country", None) if destination is not None else None
    try:
        customer.phone = normalise_phone(phone, country)
    except PhoneError as exc:
        raise ValidationError(f"customer.phone: {exc}", field="customer.phone") from exc


def check_email(value: str | None) -> str | None:
    if value is not None and not EMAIL.match(value):
        raise ValueError("email must be an e-mail address")
    return value.lower() if value else None


def check_time_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("time_zone must be an IANA zone such as America/New_York") from exc
    return value


#: Promised dates a delivery can have: the extremes (9999-12-31) overflow the day after, or UTC (issue 15).
PROMISE_YEARS = (1990, 2199)
#: What the published schema says about them, so a generated "valid" date is one the server takes.
PROMISE_PATTERN = r"^(199[0-9]|2[01][0-9][0-9])-"


def one_date_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A date-or-datetime field fails with one message naming the field, not one per union member."""
    try:
        moment = handler(value)
    except PydanticValidationError as exc:
        raise ValueError("must be a date (2026-12-01) or a date and time (2026-12-01T17:00:00-05:00)") from exc
    if moment is not None and not PROMISE_YEARS[0] <= moment.year <= PROMISE_YEARS[1]:
        raise ValueError(f"must fall in the years {PROMISE_YEARS[0]} to {PROMISE_YEARS[1]}")
    return moment


PromisedDate = Annotated[
    date | datetime,
    WrapValidator(one_date_error),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date", "pattern": PROMISE_PATTERN},
                {"type": "string", "format": "date-time", "pattern": PROMISE_PATTERN},
            ],
            "description": f"a date, or a date and time with its offset, in the years {PROMISE_YEARS[0]}-"
            f"{PROMISE_YEARS[1]}",
        }
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Customer(Strict):
    name: Text
    phone: str | None = None
    email: str | None = Field(default=None, max_length=254)
    locale: str | None = None
    time_zone: str | None = None
    sms_consent: StrictBool = False

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return compact_phone(value) if value is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return check_email(value)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Shop systems send "FR", "de_DE" or "fr-fr": the same locales, written BCP 47 style here ("fr", "de-DE").
        language, _, region = value.strip().replace("_", "-").partition("-")
        normalised = language.lower() + (f"-{region.upper()}" if region else "")
        if not LOCALE.match(normalised):
            raise ValueError("locale must look like 'en' or 'es-MX'")
        return normalised

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        return check_time_zone(value)


class Destination(Strict):
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=120)
    region: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    #: Where the parcel goes, for the live map: shown to the shopper only as an area (rounded to 2 decimals).
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lng: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)


class Origin(Strict):
    """Where the parcel leaves from (a warehouse's region), for promise accuracy per lane (origin -> destination)."""

    region: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, min_length=2, max_length=2)


#: The retailer's service level ("ground", "express", "next_day"), as its checkout names it.
Service = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")]


class Item(Strict):
    name: Text
    quantity: StrictInt = Field(default=1, ge=1, le=10_000)
    sku: str | None = Field(default=None, max_length=100)
    image_url: str | None = Field(default=None, max_length=2000, pattern=r"^https://")


class ShipmentRequest(Strict):
    order_id: Text
    carrier: Annotated[str, Field(min_length=1, max_length=64, pattern=r"[A-Za-z0-9]")]
    tracking_number: Annotated[str, Field(min_length=1, max_length=64, pattern=r"[A-Za-z0-9]")]
    customer: Customer
    destination: Destination | None = None
    items: list[Item] | None = Field(default=None, max_length=200)
    promised_date: PromisedDate | None = None
    service: Service | None = None
    origin: Origin | None = None
    #: `return`: a parcel the shopper sends back (D48), optionally linked to the delivery it returns.
    direction: Literal["outbound", "return"] | None = None
    outbound_shipment_id: Annotated[str, Field(pattern=r"^shp_[0-9a-f]{24}$")] | None = None

    @model_validator(mode="after")
    def _phone_in_its_country(self) -> ShipmentRequest:
        checked_customer_phone(self.customer, self.destination)
        if self.outbound_shipment_id and self.direction != "return":
            raise ValidationError(
                'outbound_shipment_id is only for a return (direction: "return")', field="outbound_shipment_id"
            )
        return self


def partial_update_schema(schema: dict[str, Any]) -> None:
    """A PATCH body: at least one field, and no defaults (a field left out is unchanged, not reset)."""
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class CustomerChanges(Customer):
    """The customer fields a PATCH names; the rest stay as they are. `null` clears a field the shopper may lack."""

    model_config = ConfigDict(json_schema_extra=partial_update_schema)

    # Left out: unchanged. These two cannot be cleared, so null is not a valid value for them.
    name: Text = Field(default=None)  # type: ignore[assignment]
    sms_consent: StrictBool = Field(default=None)  # type: ignore[assignment]


class ShipmentChangeRequest(Strict):
    """`PATCH /v1/shipments/{id}`: corrections after registration. Carrier and tracking number are the identity."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=partial_update_schema)

    order_id: Text = Field(default=None)  # type: ignore[assignment]
    customer: CustomerChanges = Field(default=None)  # type: ignore[assignment]
    destination: Destination | None = None
    items: list[Item] | None = Field(default=None, max_length=200)
    promised_date: PromisedDate | None = None
    service: Service | None = None
    origin: Origin | None = None

    @model_validator(mode="after")
    def _phone_in_its_country(self) -> ShipmentChangeRequest:
        checked_customer_phone(self.customer, self.destination)
        return self


class CancelRequest(Strict):
    reason: str | None = Field(default=None, min_length=1, max_length=200)


class DeliveryChangeAnswerRequest(Strict):
    status: Literal["confirmed", "refused"]
    note: str | None = Field(default=None, min_length=1, max_length=500)


MAX_BATCH = 100


class ShipmentBatchRequest(Strict):
    """Up to 100 registrations at once; each is validated on its own, so one bad entry does not sink the rest."""

    shipments: Annotated[
        list[Any],
        Field(min_length=1, max_length=MAX_BATCH),
        WithJsonSchema(
            {
                "type": "array",
                # Not a $ref: an entry that is not a valid ShipmentRequest gets its own 400 in the results
                # instead of failing the batch, so the batch itself accepts any entry.
                "items": {"description": "a ShipmentRequest; each entry is validated on its own"},
                "minItems": 1,
                "maxItems": MAX_BATCH,
            }
        ),
    ]


def parse_batch_entry(entry: Any) -> dict[str, Any]:
    """One entry of a batch, validated as `POST /v1/shipments` validates its body."""
    if not isinstance(entry, dict):
        raise ValidationError("an entry must be a JSON object", field="body")
    return validate(ShipmentRequest, entry)


class RetailerRequest(Strict):
    name: Annotated[str, Field(min_length=1, max_length=120)]


class ApiKeyRequest(Strict):
    """Rotation: by default the key making the request keeps working for a day, so deployments can switch over."""

    retire_current_after_hours: StrictInt = Field(default=24, ge=0, le=720)
    keep_current: StrictBool = False


class SuppressionLiftRequest(Strict):
    """Why the suppression is lifted: kept in the audit trail with the API key that lifted it."""

    reason: str = Field(min_length=1, max_length=500)


class SecretRotationRequest(Strict):
    """The old outbound secret keeps signing (next to the new one) while the retailer's verifier is updated."""

    keep_previous_for_hours: StrictInt = Field(default=24, ge=0, le=168)


class IntegrationRequest(Strict):
    secret: str | None = Field(default=None, min_length=16, max_length=256)


def validate(model: type[Strict], data: dict[str, Any]) -> dict[str, Any]:
    """Validated, JSON-ready data, or our ValidationError naming the first offending field."""
    try:
        return model.model_validate(data).model_dump(mode="json", exclude_none=True)
    except PydanticValidationError as exc:
        raise first_error(exc) from exc


def first_error(exc: PydanticValidationError) -> ValidationError:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return ValidationError(f"{field}: {first['msg'].removeprefix('Value error, ')}", field=field)


def validate_changes(model: type[Strict], data: dict[str, Any]) -> dict[str, Any]:
    """Like `validate`, for partial updates: only the fields the client sent, with `null` kept (it clears)."""
    try:
        changes = model.model_validate(data).model_dump(mode="json", exclude_unset=True)
    except PydanticValidationError as exc:
        raise first_error(exc) from exc
    if not changes or changes.get("customer") == {}:
        raise ValidationError("nothing to change: name at least one field", field="body")
    return changes


KindName = Literal[
    "processed",
    "shipped",
    "out_for_delivery",
    "delivered",
    "delayed",
    "attempt_failed",
    "available_for_pickup",
    "returned",
    "exception",
]
ChannelName = Literal["sms", "email"]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class QuietHoursRequest(Strict):
    enabled: StrictBool = True
    start: HHMM = "21:00"
    end: HHMM = "08:00"


class SurveySettingsRequest(Strict):
    enabled: StrictBool | None = None
    delay_minutes: StrictInt | None = Field(default=None, ge=0, le=10080)
    low_score_threshold: StrictInt | None = Field(default=None, ge=1, le=4)
    webhook_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s\"'<>]+$")


StatusName = Literal[
    "processed",
    "shipped",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "attempt_failed",
    "exception",
    "returned",
    "cancelled",
]


#: What status webhooks can be asked for: status changes, and (opt-in) `delayed` for `shipment.delayed` events and
#: `stalled` for `shipment.stalled` (D45).
Subscribable = Literal[StatusName, "delayed", "stalled"]


class AlertsRequest(Strict):
    """Problems before the shopper calls (D45): days before a parcel counts as stalled; 0 switches a reason off."""

    no_first_scan_days: StrictInt | None = Field(default=None, ge=0, le=30)
    stuck_days: StrictInt | None = Field(default=None, ge=0, le=30)


class PickupReminderStep(Strict):
    """One reminder: hours after the parcel became available, or hours before the pickup deadline (one of them)."""

    after_hours: StrictInt | None = Field(default=None, ge=1, le=720)
    before_deadline_hours: StrictInt | None = Field(default=None, ge=1, le=720)

    @model_validator(mode="after")
    def _one(self) -> PickupReminderStep:
        if (self.after_hours is None) == (self.before_deadline_hours is None):
            raise ValueError("give exactly one of after_hours and before_deadline_hours")
        return self


class PickupSettingsRequest(Strict):
    """Parcels at a pickup point or locker (D48): how long a point holds one when the carrier names no deadline,
    and the reminders before the deadline (at most three, each sent once)."""

    hold_days: StrictInt | None = Field(default=None, ge=1, le=30)
    reminders: list[PickupReminderStep] | None = Field(default=None, max_length=3)


class ReturnsSettingsRequest(Strict):
    """Returns (D48): which return steps the shopper is told of: `processed` (return label created), `shipped`
    (dropped off), `delivered` (received by you). An empty list tells them nothing."""

    notify: list[Literal["processed", "shipped", "delivered"]] | None = Field(default=None, max_length=3)

    @field_validator("notify")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return sorted(set(value)) if value is not None else None


class WebhooksRequest(Strict):
    """Status webhooks to the retailer's systems; setting a URL turns them on unless `enabled` says otherwise."""

    enabled: StrictBool | None = None
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s\"'<>]+$")
    statuses: list[Subscribable] | None = Field(default=None, max_length=20)

    @field_validator("statuses")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return sorted(set(value)) if value is not None else None


class TrackingPageSettingsRequest(Strict):
    """The live last mile on the tracking page (DESIGN 3.8) and when the "driver is close" text goes out."""

    live_position: Literal["off", "area", "exact"] | None = None
    driver_close_stops: StrictInt | None = Field(default=None, ge=0, le=50)
    driver_close_minutes: StrictInt | None = Field(default=None, ge=0, le=120)


ChangeKind = Literal["reschedule", "safe_place", "neighbour", "pickup_point", "hold"]
Window = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")]


class ChangeCutoffRequest(Strict):
    """When shoppers may no longer ask: once the parcel is out for delivery, and after this local time on the
    delivery day (the shopper's zone)."""

    not_once_out: StrictBool = True
    local_time: HHMM | None = None


class PickupPointRequest(Strict):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    name: Text
    address: str | None = Field(default=None, max_length=300)


class CarrierChangesRequest(Strict):
    """What shoppers may ask for one carrier's parcels (DESIGN 3.9). Address-changing kinds (`neighbour`,
    `pickup_point`) always need the one-time code; `second_factor` adds others."""

    kinds: list[ChangeKind] = Field(default_factory=list, max_length=5)
    windows: list[Window] = Field(default_factory=list, max_length=8)
    days_ahead: StrictInt = Field(default=5, ge=1, le=14)
    safe_places: list[Literal["front_door", "back_door", "garage", "porch"]] | None = Field(default=None, max_length=4)
    pickup_points: list[PickupPointRequest] = Field(default_factory=list, max_length=20)
    cutoff: ChangeCutoffRequest = Field(default_factory=ChangeCutoffRequest)
    second_factor: list[ChangeKind] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _consistent(self) -> CarrierChangesRequest:
        if "reschedule" in self.kinds and not self.windows:
            raise ValueError("reschedule needs at least one window (HH:MM-HH:MM)")
        if "pickup_point" in self.kinds and not self.pickup_points:
            raise ValueError("pickup_point needs at least one pickup point")
        if len({point.id for point in self.pickup_points}) != len(self.pickup_points):
            raise ValueError("pickup point ids must be unique")
        return self


CarrierKey = Annotated[str, Field(pattern=r"^(\*|[a-z0-9_-]{1,40})$")]


class DeliveryChangesRequest(Strict):
    """Per carrier code (`*`: every other carrier); a carrier's entry replaces its previous one whole."""

    carriers: dict[CarrierKey, CarrierChangesRequest] = Field(default_factory=dict, max_length=50)


class SettingsRequest(Strict):
    survey: SurveySettingsRequest | None = None
    tracking_page: TrackingPageSettingsRequest | None = None
    webhooks: WebhooksRequest | None = None
    channels: dict[KindName, list[ChannelName]] | None = None
    quiet_hours: QuietHoursRequest | None = None
    time_zone: str | None = None
    email_fallback: StrictBool | None = None
    #: Days without a scan after which a parcel on its way counts as late; 0 switches the watch off.
    silent_after_days: StrictInt | None = Field(default=None, ge=0, le=30)
    alerts: AlertsRequest | None = None
    pickup: PickupSettingsRequest | None = None
    returns: ReturnsSettingsRequest | None = None
    delivery_changes: DeliveryChangesRequest | None = None

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        return check_time_zone(value)

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        return {k: sorted(set(v)) for k, v in value.items()} if value else value


HexColor = Annotated[str, Field(pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$")]


class BrandingRequest(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=80)
    logo_url: str | None = Field(default=None, max_length=2000, pattern=r"^https://[^\s\"'<>]+$")
    primary_color: HexColor | None = None
    accent_color: HexColor | None = None
    font_stack: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9 ,'\"-]+$")
    support_email: str | None = Field(default=None, max_length=254)
    support_phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ().-]{5,30}$")
    support_url: str | None = Field(default=None, max_length=2000, pattern=r"^https://[^\s\"'<>]+$")
    message: str | None = Field(default=None, max_length=500)
    default_locale: Literal["en", "es", "fr", "de"] | None = None

    @field_validator("support_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return check_email(value)


class TemplateRequest(Strict):
    body: Annotated[str, Field(min_length=1, max_length=5000)]
    subject: str | None = Field(default=None, max_length=300)


class DriverRequest(Strict):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    phone: str

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return check_phone(value)


class OrderLookupRequest(Strict):
    """A shopper's order lookup: the order number and the e-mail or phone number given when ordering."""

    order_id: Annotated[str, Field(min_length=1, max_length=200)]
    contact: Annotated[str, Field(min_length=3, max_length=254)]
    locale: Annotated[str, Field(pattern=LOCALE.pattern)] | None = None


class EtaWindow(Strict):
    start: datetime | None = None
    end: datetime | None = None


class NativePickup(Strict):
    """A native event's optional `pickup` (D48): where a parcel waits for collection. Read from the signed bytes by
    chalicelib.carriers.native (this model describes it). The shopper's page shows `name`, `area`, `opening_hours`
    and the deadline; `address` only with `address_public: true`; `code` only after a one-time code sent to the
    shopper's own phone or e-mail; never in the public JSON."""

    id: Annotated[str, Field(max_length=100)] | None = None
    name: Annotated[str, Field(max_length=200)] | None = None
    area: Annotated[str, Field(max_length=200, description="neighbourhood or town, not a street address")] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    address_public: StrictBool | None = Field(default=None, description="`address` is the point's own public one")
    opening_hours: Annotated[str, Field(max_length=300)] | None = None
    deadline: datetime | None = Field(default=None, description="collect by; else the retailer's `pickup.hold_days`")
    code: Annotated[str, Field(max_length=64, description="the pickup or locker code")] | None = None
    note: Annotated[str, Field(max_length=500)] | None = None


class DriverPosition(Strict):
    tracking_number: Annotated[str, Field(min_length=1, max_length=64)]
    carrier: Annotated[str, Field(min_length=1, max_length=64)]
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    recorded_at: Annotated[datetime, Field(description="ISO 8601 with offset; at most 60 s ahead of our clock")]
    stops_before: StrictInt | None = Field(default=None, ge=0, le=1000, description="stops before this parcel's")
    eta: EtaWindow | None = None


class PositionsBody(Strict):
    """Driver positions, signed like native scans (`X-Porchlight-Signature` over the raw body). The body is
    read as the signed bytes by chalicelib.carriers.native.parse_positions; this model describes it."""

    positions: list[DriverPosition] = Field(min_length=1, max_length=500)
