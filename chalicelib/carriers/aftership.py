"""AfterShip tracking webhooks (`tracking_update`, the tracking object under `msg` with its checkpoints).

Signature: `aftership-hmac-sha256: <base64 HMAC-SHA256(secret, raw body)>`. Checkpoint times come in the
checkpoint's own zone and sometimes without an offset.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from msgspec.structs import replace

from ..domain import milestones as ms
from ..domain.events import Location, TrackingEvent, fingerprint
from ..errors import InvalidSignature
from .base import (
    MAX_YEAR,
    MIN_YEAR,
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

SOURCE = "aftership"
SIGNATURE_HEADER = "aftership-hmac-sha256"
TRACKING_EVENTS = frozenset({"tracking_update"})

TAG_MAP: dict[str, str] = {
    "Pending": ms.UNKNOWN,
    "InfoReceived": ms.PROCESSED,
    "InTransit": ms.SHIPPED,
    "OutForDelivery": ms.OUT_FOR_DELIVERY,
    "AttemptFail": ms.ATTEMPT_FAILED,
    "Delivered": ms.DELIVERED,
    "AvailableForPickup": ms.AVAILABLE_FOR_PICKUP,
    "Exception": ms.EXCEPTION,
    "Expired": ms.UNKNOWN,
}
SUBTAG_MAP: dict[str, str] = {
    "OutForDelivery_003": ms.AVAILABLE_FOR_PICKUP,  # customer to collect from carrier
    "Exception_011": ms.RETURNED,  # the return has reached the sender
}
#: Delay subtags: the parcel is still where it was, only later; they set the delayed flag, not the status.
DELAY_SUBTAGS = frozenset({"Exception_004", "Exception_005", "Exception_016", "Exception_017", "InTransit_009"})


def sign(secret: str, raw_body: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret.encode("utf-8"), raw_body)).decode("ascii")


def verify(raw_body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str, now: float) -> None:
    given = header(headers, SIGNATURE_HEADER)
    if not given:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
    require_equal(sign(secret, raw_body), given.strip(), "signature does not match")


def map_tag(tag: str, subtag: str, return_to_sender: bool) -> tuple[str, bool]:
    """Milestone and delayed flag for one checkpoint."""
    if subtag in DELAY_SUBTAGS:
        return ms.UNKNOWN, True
    if subtag in SUBTAG_MAP:
        return SUBTAG_MAP[subtag], False
    status = TAG_MAP.get(tag, ms.UNKNOWN)
    if return_to_sender and status == ms.DELIVERED:
        return ms.RETURNED, False  # "delivered" on a return-to-sender tracking is the sender receiving it
    return status, False


def _eta(tracking: dict[str, Any]) -> dict[str, str] | None:
    for key in (
        "courier_estimated_delivery_date",
        "aftership_estimated_delivery_date",
        "custom_estimated_delivery_date",
    ):
        value = tracking.get(key)
        if isinstance(value, dict):
            start = optional_timestamp_text(
                value.get("estimated_delivery_date_min") or value.get("estimated_delivery_date"), f"msg.{key}"
            )
            end = optional_timestamp_text(
                value.get("estimated_delivery_date_max") or value.get("estimated_delivery_date"), f"msg.{key}"
            )
            if start or end:
                return {k: v for k, v in (("start", start), ("end", end)) if v}
    expected = optional_timestamp_text(tracking.get("expected_delivery"), "msg.expected_delivery")
    return {"end": expected} if expected else None


def parse(raw_body: bytes) -> list[TrackingEvent]:
    return parse_webhook(raw_body).events


def parse_webhook(raw_body: bytes) -> Parsed:
    body = load_json_object(raw_body)
    event_type = body.get("event")
    if not isinstance(event_type, str):
        raise AdapterValidationError("event must name the webhook type", field="event")
    if event_type not in TRACKING_EVENTS:
        return Parsed([], [Ignored(NOT_TRACKING, event_type[:60])])
    tracking = obj(body, "msg", "msg")
    carrier = carrier_code(tracking.get("slug"), "msg.slug")
    tracking_number = tracking_code(tracking.get("tracking_number"), "msg.tracking_number")
    return_to_sender = tracking.get("return_to_sender") is True
    checkpoints = array(tracking, "checkpoints", "msg.checkpoints", required=False)

    events: list[TrackingEvent] = []
    for index, checkpoint in enumerate(checkpoints):
        path = f"msg.checkpoints[{index}]"
        if not isinstance(checkpoint, dict):
            raise AdapterValidationError(f"{path} must be an object", field=path)
        raw_time = checkpoint.get("checkpoint_time")
        occurred_at, tz_unknown = timestamp(raw_time, f"{path}.checkpoint_time")
        tag = optional_text(checkpoint, "tag", f"{path}.tag", 40) or "Pending"
        subtag = optional_text(checkpoint, "subtag", f"{path}.subtag", 40) or ""
        message = optional_text(checkpoint, "message", f"{path}.message", 1000) or ""
        status, delayed = map_tag(tag, subtag, return_to_sender)
        location = Location(
            city=optional_text(checkpoint, "city", f"{path}.city", 120),
            region=optional_text(checkpoint, "state", f"{path}.state", 120),
            postal_code=optional_text(checkpoint, "zip", f"{path}.zip", 20),
            country=optional_text(checkpoint, "country_iso3", f"{path}.country_iso3", 3)
            or optional_text(checkpoint, "country_region", f"{path}.country_region", 3),
        )
        events.append(
            TrackingEvent(
                source=SOURCE,
                carrier=carrier,
                tracking_number=tracking_number,
                status=status,
                occurred_at=occurred_at,
                fingerprint=fingerprint(
                    SOURCE, carrier, tracking_number, raw_time, tag, subtag, message, location.city
                ),
                carrier_status=subtag or tag,
                description=message,
                location=location,
                delayed=delayed,
                time_zone_unknown=tz_unknown,
            )
        )
    summary = _tracking_status(body, tracking, events, carrier, tracking_number, return_to_sender)
    if summary is not None:
        events.append(summary)
    if not events:
        tag = optional_text(tracking, "tag", "msg.tag", 40) or "none"
        return Parsed([], [Ignored(NO_SCANS, f"tag {tag}", carrier, tracking_number)])
    signed_by = optional_text(tracking, "signed_by", "msg.signed_by", 200)
    return Parsed(_with_pickup(attach_tracker_facts(events, _eta(tracking), signed_by), tracking))


def _with_pickup(events: list[TrackingEvent], tracking: dict[str, Any]) -> list[TrackingEvent]:
    """AfterShip's tracking names where a pickup-at-store parcel waits (`pickup_location`, `pickup_note`; D48):
    carried on the newest scan, like the ETA. AfterShip sends no deadline, code or opening hours there."""
    name = optional_text(tracking, "pickup_location", "msg.pickup_location", 200)
    if not name or not events:
        return events
    note = optional_text(tracking, "pickup_note", "msg.pickup_note", 500)
    facts = {"name": name, **({"note": note} if note else {})}
    newest = max(range(len(events)), key=lambda i: events[i].sort_key())
    return [replace(event, pickup=facts) if i == newest else event for i, event in enumerate(events)]


def _tracking_status(
    body: dict[str, Any],
    tracking: dict[str, Any],
    events: list[TrackingEvent],
    carrier: str,
    tracking_number: str,
    return_to_sender: bool,
) -> TrackingEvent | None:
    """The tracking's own `tag`/`subtag` as a scan at its `updated_at` (else the delivery's `ts`)."""
    tag = optional_text(tracking, "tag", "msg.tag", 40) or "Pending"
    subtag = optional_text(tracking, "subtag", "msg.subtag", 40) or ""
    status, delayed = map_tag(tag, subtag, return_to_sender)
    updated_at, tz_unknown = optional_moment(tracking.get("updated_at"), "msg.updated_at")
    if updated_at is None and isinstance(body.get("ts"), int) and not isinstance(body.get("ts"), bool):
        updated_at = _from_epoch(body["ts"])
    return tracking_status_event(
        events,
        source=SOURCE,
        carrier=carrier,
        tracking_number=tracking_number,
        status=status,
        delayed=delayed,
        carrier_status=subtag or tag,
        updated_at=updated_at,
        description=optional_text(tracking, "subtag_message", "msg.subtag_message", 200) or "",
        time_zone_unknown=tz_unknown,
    )


def _from_epoch(seconds: int) -> datetime | None:
    """AfterShip's `ts` (UTC unix seconds); out of range is no time at all."""
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment if MIN_YEAR <= moment.year <= MAX_YEAR else None
