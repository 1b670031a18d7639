"""Shippo `track_updated` webhooks. Shippo signs nothing by default: the URL carries `?token=<secret>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain import milestones as ms
from ..domain.events import Location, TrackingEvent, fingerprint
from ..errors import InvalidSignature
from .base import (
    NO_SCANS,
    NOT_TRACKING,
    AdapterValidationError,
    Ignored,
    Parsed,
    adds_news,
    array,
    attach_tracker_facts,
    carrier_code,
    load_json_object,
    obj,
    optional_text,
    optional_timestamp_text,
    require_equal,
    timestamp,
    tracking_code,
)

SOURCE = "shippo"
TRACKING_EVENTS = frozenset({"track_updated"})

STATUS_MAP: dict[str, str] = {
    "PRE_TRANSIT": ms.PROCESSED,
    "TRANSIT": ms.SHIPPED,
    "DELIVERED": ms.DELIVERED,
    "RETURNED": ms.RETURNED,
    "FAILURE": ms.EXCEPTION,
    "UNKNOWN": ms.UNKNOWN,
}
SUBSTATUS_MAP: dict[str, str] = {
    "out_for_delivery": ms.OUT_FOR_DELIVERY,
    "pickup_available": ms.AVAILABLE_FOR_PICKUP,
    "delivery_attempted": ms.ATTEMPT_FAILED,
    "notice_left": ms.ATTEMPT_FAILED,
    "location_inaccessible": ms.ATTEMPT_FAILED,
    "address_issue": ms.EXCEPTION,
    "contact_carrier": ms.EXCEPTION,
    "package_damaged": ms.EXCEPTION,
    "package_lost": ms.EXCEPTION,
    "package_held": ms.EXCEPTION,
    "package_undeliverable": ms.EXCEPTION,
    "package_unclaimed": ms.EXCEPTION,
    "package_disposed": ms.EXCEPTION,
    "return_to_sender": ms.EXCEPTION,  # on its way back; RETURNED says it arrived
}
DELAY_SUBSTATUSES = frozenset({"delayed", "delivery_rescheduled", "reschedule_delivery"})


def verify(raw_body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str, now: float) -> None:
    token = query.get("token")
    if not token:
        raise InvalidSignature("missing token query parameter")
    require_equal(secret, token, "token does not match")


def map_status(status: str, substatus: str) -> tuple[str, bool]:
    if substatus in DELAY_SUBSTATUSES:
        return (
            ms.UNKNOWN,
            True,
        )  # a delay does not move the parcel: it flags the shipment, keeps the milestone
    base = STATUS_MAP.get(status, ms.UNKNOWN)
    if base in (ms.SHIPPED, ms.EXCEPTION) and substatus in SUBSTATUS_MAP:
        return SUBSTATUS_MAP[substatus], False
    return base, False


def _event(entry: Any, path: str, carrier: str, tracking_number: str) -> TrackingEvent:
    if not isinstance(entry, dict):
        raise AdapterValidationError(f"{path} must be an object", field=path)
    raw_time = entry.get("status_date")
    occurred_at, tz_unknown = timestamp(raw_time, f"{path}.status_date")
    status = optional_text(entry, "status", f"{path}.status", 40) or "UNKNOWN"
    substatus_obj = obj(entry, "substatus", f"{path}.substatus", required=False)
    substatus = optional_text(substatus_obj, "code", f"{path}.substatus.code", 60) or ""
    details = optional_text(entry, "status_details", f"{path}.status_details", 1000) or ""
    location_data = obj(entry, "location", f"{path}.location", required=False)
    location = Location(
        city=optional_text(location_data, "city", f"{path}.location.city", 120),
        region=optional_text(location_data, "state", f"{path}.location.state", 120),
        postal_code=optional_text(location_data, "zip", f"{path}.location.zip", 20),
        country=optional_text(location_data, "country", f"{path}.location.country", 60),
    )
    object_id = optional_text(entry, "object_id", f"{path}.object_id", 100)
    mapped, delayed = map_status(status, substatus)
    return TrackingEvent(
        source=SOURCE,
        carrier=carrier,
        tracking_number=tracking_number,
        status=mapped,
        occurred_at=occurred_at,
        fingerprint=fingerprint(SOURCE, object_id)
        if object_id
        else fingerprint(SOURCE, carrier, tracking_number, raw_time, status, substatus, details, location.city),
        carrier_status=f"{status}/{substatus}" if substatus else status,
        description=details,
        location=location,
        delayed=delayed,
        time_zone_unknown=tz_unknown,
    )


def parse(raw_body: bytes) -> list[TrackingEvent]:
    return parse_webhook(raw_body).events


def parse_webhook(raw_body: bytes) -> Parsed:
    body = load_json_object(raw_body)
    event_type = body.get("event")
    if not isinstance(event_type, str):
        raise AdapterValidationError("event must name the webhook type", field="event")
    if event_type not in TRACKING_EVENTS:
        return Parsed([], [Ignored(NOT_TRACKING, event_type[:60])])
    data = obj(body, "data", "data")
    # Shippo's dashboard test webhook leaves data.carrier null and names the carrier at the top level.
    named = data.get("carrier") if data.get("carrier") is not None else body.get("carrier")
    carrier = carrier_code(named, "data.carrier")
    tracking_number = tracking_code(data.get("tracking_number"), "data.tracking_number")
    entries = [
        _event(entry, f"data.tracking_history[{index}]", carrier, tracking_number)
        for index, entry in enumerate(array(data, "tracking_history", "data.tracking_history", required=False))
    ]
    if data.get("tracking_status") is not None:
        # The tracking's own status is a scan at its status_date (DESIGN 3.1). It usually repeats the newest history
        # entry: with the same object_id it is that scan (a duplicate); a copy with its own id adds nothing and is
        # left out, so the timeline does not show the delivery twice.
        current = _event(data["tracking_status"], "data.tracking_status", carrier, tracking_number)
        same_scan = any(entry.fingerprint == current.fingerprint for entry in entries)
        if same_scan or adds_news(entries, current.status, current.delayed):
            entries.append(current)
    if not entries:
        return Parsed([], [Ignored(NO_SCANS, "no tracking_status", carrier, tracking_number)])
    eta = optional_timestamp_text(data.get("eta"), "data.eta")
    return Parsed(attach_tracker_facts(entries, {"end": eta} if eta else None, None))
