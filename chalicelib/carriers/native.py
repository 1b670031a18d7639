"""Porchlight's own signed webhook format (DESIGN 3.2)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from msgspec.structs import replace

from ..domain import milestones as ms
from ..domain import pickup as pickup_rules
from ..domain.events import Location, TrackingEvent, fingerprint
from ..domain.live import FUTURE_SKEW, MAX_STOPS, Position, valid_coordinates
from ..errors import InvalidSignature
from .base import (
    AdapterValidationError,
    Parsed,
    array,
    carrier_code,
    header,
    hmac_sha256,
    load_json_object,
    obj,
    optional_text,
    optional_timestamp_text,
    text,
    timestamp,
    tracking_code,
)

SOURCE = "native"
SIGNATURE_HEADER = "X-Porchlight-Signature"
TOLERANCE_SECONDS = 300
MAX_EVENTS = 500
#: At most this many positions in one `POST /v1/webhooks/native/{retailer_id}/positions` (DESIGN 3.8).
MAX_POSITIONS = 500


def sign(secret: str, raw_body: bytes, timestamp_s: int) -> str:
    """The header value a sender puts on a request (used by the simulator and by tests)."""
    return sign_all([secret], raw_body, timestamp_s)


def sign_all(secrets: list[str], raw_body: bytes, timestamp_s: int) -> str:
    """One timestamp, one `v1` per secret: what we send while a retailer rotates the secret it verifies with."""
    digests = [hmac_sha256(secret.encode("utf-8"), f"{timestamp_s}.".encode() + raw_body).hex() for secret in secrets]
    return ",".join([f"t={timestamp_s}", *(f"v1={digest}" for digest in digests)])


def verify(raw_body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str, now: float) -> None:
    value = header(headers, SIGNATURE_HEADER)
    if not value:
        raise InvalidSignature(f"missing {SIGNATURE_HEADER} header")
    stamp: str | None = None
    candidates: list[str] = []
    for part in value.split(","):
        name, _, item = part.strip().partition("=")
        if name == "t":
            stamp = item
        elif name == "v1":
            candidates.append(item)
    # ASCII digits only (isdigit() admits '²', which int() refuses) and at most 12 of them (a float overflows).
    if stamp is None or not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not candidates:
        raise InvalidSignature(f"{SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<hex>")
    if abs(now - int(stamp)) > TOLERANCE_SECONDS:
        raise InvalidSignature("signature timestamp is outside the 300 second tolerance")
    expected = hmac_sha256(secret.encode("utf-8"), stamp.encode() + b"." + raw_body).hex()
    # Every candidate is compared so timing does not reveal which one matched (key rotation sends two).
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected.encode(), candidate.strip().lower().encode())
    if not matched:
        raise InvalidSignature("signature does not match")


def _small_object(data: dict[str, Any], key: str, path: str, fields: tuple[str, ...]) -> dict[str, str] | None:
    if data.get(key) is None:
        return None
    value = obj(data, key, path)
    out = {name: optional_text(value, name, f"{path}.{name}", 500) for name in fields}
    cleaned = {name: item for name, item in out.items() if item}
    return cleaned or None


def _eta(item: dict[str, Any], path: str) -> dict[str, str] | None:
    if item.get("eta") is None:
        return None
    eta_obj = obj(item, "eta", f"{path}.eta")
    start = optional_timestamp_text(eta_obj.get("start"), f"{path}.eta.start")
    end = optional_timestamp_text(eta_obj.get("end"), f"{path}.eta.end")
    if start and end and datetime.fromisoformat(end) < datetime.fromisoformat(start):
        raise AdapterValidationError(f"{path}.eta.end is before {path}.eta.start", field=f"{path}.eta.end")
    return {k: v for k, v in (("start", start), ("end", end)) if v} or None


def _pickup(item: dict[str, Any], path: str) -> dict[str, Any] | None:
    """A native event's optional `pickup` (D48): short texts, a `deadline` with its offset, `address_public` a bool.
    The code is at most 64 characters; nothing here is shown as it is (domain.pickup.public_facts)."""
    if item.get("pickup") is None:
        return None
    where = obj(item, "pickup", f"{path}.pickup")
    lengths = {"code": 64, "id": 100, "name": 200, "area": 200, "address": 300, "opening_hours": 300, "note": 500}
    out: dict[str, Any] = {}
    for name, limit in lengths.items():
        value = optional_text(where, name, f"{path}.pickup.{name}", limit)
        if value:
            out[name] = value
    until = optional_timestamp_text(where.get("deadline"), f"{path}.pickup.deadline")
    if until:
        out["deadline"] = until
    public = where.get(pickup_rules.ADDRESS_PUBLIC, False)
    if not isinstance(public, bool):
        raise AdapterValidationError(
            f"{path}.pickup.address_public must be true or false", field=f"{path}.pickup.address_public"
        )
    if public and out.get("address"):
        out[pickup_rules.ADDRESS_PUBLIC] = True
    return out or None


def _stops(item: dict[str, Any], path: str) -> int | None:
    value = item.get("stops_before")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STOPS:
        raise AdapterValidationError(
            f"{path}.stops_before must be a whole number from 0 to {MAX_STOPS}", field=f"{path}.stops_before"
        )
    return value


def _position(
    item: dict[str, Any], path: str, now: datetime, carrier: str, tracking_number: str, stops: int | None, eta: Any
) -> Position:
    """`lat`, `lng` and `recorded_at` (with offset, at most FUTURE_SKEW ahead of our clock), validated."""
    for name in ("lat", "lng", "recorded_at"):
        if item.get(name) is None:
            raise AdapterValidationError(f"{path}.{name} is required", field=f"{path}.{name}")
    if not valid_coordinates(item["lat"], item["lng"]):
        raise AdapterValidationError(
            f"{path}: lat must be a number from -90 to 90 and lng from -180 to 180", field=f"{path}.lat"
        )
    recorded_at, _ = timestamp(item["recorded_at"], f"{path}.recorded_at", require_offset=True)
    if recorded_at - now > FUTURE_SKEW:
        raise AdapterValidationError(
            f"{path}.recorded_at is more than {int(FUTURE_SKEW.total_seconds())} s ahead of our clock",
            field=f"{path}.recorded_at",
        )
    return Position(
        carrier=carrier,
        tracking_number=tracking_number,
        lat=float(item["lat"]),
        lng=float(item["lng"]),
        recorded_at=recorded_at,
        stops_before=stops,
        eta=eta,
    )


def _batch(raw_body: bytes, name: str, singular: str, maximum: int) -> list[tuple[str, dict[str, Any]]]:
    """The objects of a batch body's `name` array with their paths, refused whole when it is empty, too long or holds
    anything but objects (the same answers for scans and positions)."""
    items = array(load_json_object(raw_body), name, name)
    if not items:
        raise AdapterValidationError(f"{name} must hold at least one {singular}", field=name)
    if len(items) > maximum:
        raise AdapterValidationError(f"{name} holds more than {maximum} {name}", field=name)
    batch = []
    for index, item in enumerate(items):
        path = f"{name}[{index}]"
        if not isinstance(item, dict):
            raise AdapterValidationError(f"{path} must be an object", field=path)
        batch.append((path, item))
    return batch


def parse_positions(raw_body: bytes, now: datetime) -> list[Position]:
    """A positions batch (DESIGN 3.8): every item is checked before any is used, so a bad one stores nothing."""
    positions = []
    for path, item in _batch(raw_body, "positions", "position", MAX_POSITIONS):
        carrier = carrier_code(item.get("carrier"), f"{path}.carrier")
        tracking_number = tracking_code(item.get("tracking_number"), f"{path}.tracking_number")
        positions.append(_position(item, path, now, carrier, tracking_number, _stops(item, path), _eta(item, path)))
    return positions


def _event_position(item: dict[str, Any], path: str, event: TrackingEvent, now: datetime) -> Position | None:
    """A native event's optional `position` (and `stops_before`): the driver's place when the scan was made."""
    if item.get("position") is None:
        if item.get("stops_before") is not None:
            raise AdapterValidationError(f"{path}.stops_before needs a position", field=f"{path}.position")
        return None
    where = obj(item, "position", f"{path}.position")
    stops = _stops(item, path)
    return _position(where, f"{path}.position", now, event.carrier, event.tracking_number, stops, event.eta)


def _delivery_change(item: dict[str, Any], path: str) -> dict[str, str] | None:
    """A carrier's answer to a shopper's delivery-change request (DESIGN 3.9): `{"id", "status": "confirmed" |
    "refused", "note"?}`, applied with the scan it rides on."""
    if item.get("delivery_change") is None:
        return None
    answer = obj(item, "delivery_change", f"{path}.delivery_change")
    change_id = text(answer, "id", f"{path}.delivery_change.id", max_len=64)
    status = text(answer, "status", f"{path}.delivery_change.status", max_len=20)
    if status not in ("confirmed", "refused"):
        raise AdapterValidationError(
            f"{path}.delivery_change.status must be confirmed or refused", field=f"{path}.delivery_change.status"
        )
    note = optional_text(answer, "note", f"{path}.delivery_change.note", 500)
    return {"id": change_id, "status": status, **({"note": note} if note else {})}


WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
POINT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _delivery_options(item: dict[str, Any], path: str) -> dict[str, Any] | None:
    """What the carrier offers the shopper for this parcel (D47): later `windows` ("08:00-12:00", at most 8) and
    `pickup_points` ([{"id", "name", "address"?}], at most 20); the retailer's settings decide which kinds are asked."""
    if item.get("delivery_options") is None:
        return None
    where = f"{path}.delivery_options"
    options = obj(item, "delivery_options", where)
    windows = array(options, "windows", f"{where}.windows") if options.get("windows") is not None else []
    if len(windows) > 8 or not all(isinstance(w, str) and WINDOW.match(w) for w in windows):
        raise AdapterValidationError(
            f"{where}.windows: at most 8 windows such as 08:00-12:00", field=f"{where}.windows"
        )
    raw_points = array(options, "pickup_points", f"{where}.pickup_points") if options.get("pickup_points") else []
    if len(raw_points) > 20:
        raise AdapterValidationError(f"{where}.pickup_points: at most 20", field=f"{where}.pickup_points")
    points = []
    for index, point in enumerate(raw_points):
        at = f"{where}.pickup_points[{index}]"
        if not isinstance(point, dict):
            raise AdapterValidationError(f"{at} must be an object", field=at)
        point_id = text(point, "id", f"{at}.id", max_len=64)
        if not POINT_ID.match(point_id):
            raise AdapterValidationError(f"{at}.id: letters, digits and _.:- only", field=f"{at}.id")
        name = text(point, "name", f"{at}.name", max_len=200)
        address = optional_text(point, "address", f"{at}.address", 300)
        points.append({"id": point_id, "name": name, **({"address": address} if address else {})})
    chosen = {"windows": list(windows), "pickup_points": points}
    return {key: value for key, value in chosen.items() if value} or None


def parse(raw_body: bytes) -> list[TrackingEvent]:
    return parse_with_positions(raw_body, None)[0]


def parse_with_positions(raw_body: bytes, now: datetime | None) -> tuple[list[TrackingEvent], list[Position]]:
    """The scans, and (when `now` is given) the driver positions some of them carry."""
    events = []
    positions = []
    for path, item in _batch(raw_body, "events", "event", MAX_EVENTS):
        status = text(item, "status", f"{path}.status", max_len=40)
        if status not in ms.SCAN_STATUSES:
            allowed = ", ".join(sorted(ms.SCAN_STATUSES))
            raise AdapterValidationError(f"{path}.status must be one of: {allowed}", field=f"{path}.status")
        occurred_at, _ = timestamp(item.get("occurred_at"), f"{path}.occurred_at", require_offset=True)
        event_id = text(item, "event_id", f"{path}.event_id", max_len=200)
        eta = _eta(item, path)
        delayed = item.get("delayed", False)
        if not isinstance(delayed, bool):
            raise AdapterValidationError(f"{path}.delayed must be true or false", field=f"{path}.delayed")
        location = _small_object(item, "location", f"{path}.location", ("city", "region", "postal_code", "country"))
        event = TrackingEvent(
            source=SOURCE,
            carrier=carrier_code(item.get("carrier"), f"{path}.carrier"),
            tracking_number=tracking_code(item.get("tracking_number"), f"{path}.tracking_number"),
            status=status,
            occurred_at=occurred_at,
            fingerprint=fingerprint(SOURCE, event_id),
            carrier_status=status,
            description=text(item, "description", f"{path}.description", required=False, max_len=1000),
            location=Location.from_dict(location),
            delayed=delayed,
            eta=eta,
            driver=_small_object(item, "driver", f"{path}.driver", ("name", "phone")),
            proof_of_delivery=_small_object(
                item,
                "proof_of_delivery",
                f"{path}.proof_of_delivery",
                ("photo_url", "signature_url", "recipient_name", "note"),
            ),
            pickup=_pickup(item, path),
        )
        extra = {"delivery_change": _delivery_change(item, path), "delivery_options": _delivery_options(item, path)}
        if any(extra.values()):
            event = replace(event, extra={name: value for name, value in extra.items() if value})
        events.append(event)
        position = _event_position(item, path, event, now) if now is not None else None
        if position is not None:
            positions.append(position)
    return events, positions


def parse_webhook(raw_body: bytes, now: datetime | None = None) -> Parsed:
    """Native bodies always hold at least one event (an empty list is a 400), so nothing is ever ignored."""
    events, positions = parse_with_positions(raw_body, now)
    return Parsed(events, positions=positions)
