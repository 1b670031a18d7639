"""EasyPost tracker webhooks (`tracker.created` / `tracker.updated` Event objects with a full Tracker).

Signature: `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(NFKD(secret), raw body)>`, as EasyPost's client
libraries compute it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from ..domain import milestones as ms
from ..domain.events import Location, TrackingEvent, fingerprint
from ..errors import InvalidSignature
from .base import (
    NO_SCANS,
    NOT_TRACKING,
    AdapterValidationError,
    Ignored,
    Parsed,
    array,
    attach_tracker_facts,
    carrier_code,
    header,
    hmac_sha256,
    load_json_object,
    obj,
    optional_moment,
    optional_text,
    optional_timestamp_text,
    require_equal,
    timestamp,
    tracking_code,
    tracking_status_event,
)

SOURCE = "easypost"
SIGNATURE_HEADER = "X-Hmac-Signature"
PREFIX = "hmac-sha256-hex="

STATUS_MAP: dict[str, str] = {
    "unknown": ms.UNKNOWN,
    "pre_transit": ms.PROCESSED,
    "in_transit": ms.SHIPPED,
    "out_for_delivery": ms.OUT_FOR_DELIVERY,
    "delivered": ms.DELIVERED,
    "available_for_pickup": ms.AVAILABLE_FOR_PICKUP,
    "return_to_sender": ms.RETURNED,
    "failure": ms.EXCEPTION,
    "cancelled": ms.CANCELLED,
    "error": ms.EXCEPTION,
}
#: status_detail values that say more than the status does.
DETAIL_MAP: dict[str, str] = {
    "arrived_at_pickup_location": ms.AVAILABLE_FOR_PICKUP,
    "attempted_delivery": ms.ATTEMPT_FAILED,
    "delivery_attempt": ms.ATTEMPT_FAILED,
    "failed_delivery_attempt": ms.ATTEMPT_FAILED,
    "return": ms.RETURNED,
    "returned": ms.RETURNED,
    "cancelled": ms.CANCELLED,
}
DELAY_DETAILS = frozenset({"delayed", "delivery_rescheduled", "weather_delay", "delivery_delayed"})


def sign(secret: str, raw_body: bytes) -> str:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return PREFIX + hmac_sha256(key, raw_body).hex()


def verify(raw_body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str, now: float) -> None:
    given = header(headers, SIGNATURE_HEADER)
    if not given:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
    require_equal(sign(secret, raw_body), given.strip(), "signature does not match")


def map_status(status: str, detail: str) -> str:
    if detail in DETAIL_MAP:
        return DETAIL_MAP[detail]
    return STATUS_MAP.get(status, ms.UNKNOWN)


def parse(raw_body: bytes) -> list[TrackingEvent]:
    return parse_webhook(raw_body).events


def parse_webhook(raw_body: bytes) -> Parsed:
    body = load_json_object(raw_body)
    description = body.get("description")
    if not isinstance(description, str):
        raise AdapterValidationError("description must name the event type", field="description")
    if not description.startswith("tracker."):
        # batch.*, refund.*, ... carry no scans; answered 200 with nothing accepted and the reason
        return Parsed([], [Ignored(NOT_TRACKING, description[:60])])
    tracker = obj(body, "result", "result")
    carrier = carrier_code(tracker.get("carrier"), "result.carrier")
    tracking_number = tracking_code(tracker.get("tracking_code"), "result.tracking_code")
    details = array(tracker, "tracking_details", "result.tracking_details", required=False)
    eta_text = optional_timestamp_text(tracker.get("est_delivery_date"), "result.est_delivery_date")
    signed_by = optional_text(tracker, "signed_by", "result.signed_by", 200)

    events: list[TrackingEvent] = []
    for index, detail in enumerate(details):
        path = f"result.tracking_details[{index}]"
        if not isinstance(detail, dict):
            raise AdapterValidationError(f"{path} must be an object", field=path)
        raw_time = detail.get("datetime")
        occurred_at, tz_unknown = timestamp(raw_time, f"{path}.datetime")
        status = optional_text(detail, "status", f"{path}.status", 60) or "unknown"
        status_detail = optional_text(detail, "status_detail", f"{path}.status_detail", 60) or ""
        message = optional_text(detail, "message", f"{path}.message", 1000) or ""
        location_data = obj(detail, "tracking_location", f"{path}.tracking_location", required=False)
        location = Location(
            city=optional_text(location_data, "city", f"{path}.tracking_location.city", 120),
            region=optional_text(location_data, "state", f"{path}.tracking_location.state", 120),
            postal_code=optional_text(location_data, "zip", f"{path}.tracking_location.zip", 20),
            country=optional_text(location_data, "country", f"{path}.tracking_location.country", 60),
        )
        events.append(
            TrackingEvent(
                source=SOURCE,
                carrier=carrier,
                tracking_number=tracking_number,
                status=map_status(status, status_detail),
                occurred_at=occurred_at,
                fingerprint=fingerprint(
                    SOURCE, carrier, tracking_number, raw_time, status, status_detail, message, location.city
                ),
                carrier_status=f"{status}/{status_detail}" if status_detail else status,
                description=message,
                location=location,
                delayed=status_detail in DELAY_DETAILS,
                time_zone_unknown=tz_unknown,
            )
        )
    status = optional_text(tracker, "status", "result.status", 60) or "unknown"
    status_detail = optional_text(tracker, "status_detail", "result.status_detail", 60) or ""
    updated_at, tz_unknown = optional_moment(tracker.get("updated_at"), "result.updated_at")
    summary = tracking_status_event(
        events,
        source=SOURCE,
        carrier=carrier,
        tracking_number=tracking_number,
        status=map_status(status, status_detail),
        delayed=status_detail in DELAY_DETAILS,
        carrier_status=f"{status}/{status_detail}" if status_detail else status,
        updated_at=updated_at,
        time_zone_unknown=tz_unknown,
    )
    if summary is not None:
        events.append(summary)
    if not events:
        return Parsed([], [Ignored(NO_SCANS, f"status {status}", carrier, tracking_number)])
    return Parsed(attach_tracker_facts(events, {"end": eta_text} if eta_text else None, signed_by))
