"""Porchlight's own signed webhook format (DESIGN 3.2)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from ..domain import milestones as ms
from ..domain.events import Location, TrackingEvent, fingerprint
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


def parse(raw_body: bytes) -> list[TrackingEvent]:
    body = load_json_object(raw_body)
    items = array(body, "events", "events")
    if not items:
        raise AdapterValidationError("events must hold at least one event", field="events")
    if len(items) > MAX_EVENTS:
        raise AdapterValidationError(f"events holds more than {MAX_EVENTS} events", field="events")
    events = []
    for index, item in enumerate(items):
        path = f"events[{index}]"
        if not isinstance(item, dict):
            raise AdapterValidationError(f"{path} must be an object", field=path)
        status = text(item, "status", f"{path}.status", max_len=40)
        if status not in ms.SCAN_STATUSES:
            allowed = ", ".join(sorted(ms.SCAN_STATUSES))
            raise AdapterValidationError(f"{path}.status must be one of: {allowed}", field=f"{path}.status")
        occurred_at, _ = timestamp(item.get("occurred_at"), f"{path}.occurred_at", require_offset=True)
        event_id = text(item, "event_id", f"{path}.event_id", max_len=200)
        eta = None
        if item.get("eta") is not None:
            eta_obj = obj(item, "eta", f"{path}.eta")
            eta = {
                k: v
                for k, v in (
                    ("start", optional_timestamp_text(eta_obj.get("start"), f"{path}.eta.start")),
                    ("end", optional_timestamp_text(eta_obj.get("end"), f"{path}.eta.end")),
                )
                if v
            } or None
        delayed = item.get("delayed", False)
        if not isinstance(delayed, bool):
            raise AdapterValidationError(f"{path}.delayed must be true or false", field=f"{path}.delayed")
        location = _small_object(item, "location", f"{path}.location", ("city", "region", "postal_code", "country"))
        events.append(
            TrackingEvent(
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
            )
        )
    return events


def parse_webhook(raw_body: bytes) -> Parsed:
    """Native bodies always hold at least one event (an empty list is a 400), so nothing is ever ignored."""
    return Parsed(parse(raw_body))
