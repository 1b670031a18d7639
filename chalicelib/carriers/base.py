"""What every carrier adapter shares: typed validation errors, field readers, time parsing, HMAC helpers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from ..domain import json_text
from ..domain import milestones as ms
from ..domain.events import TrackingEvent, fingerprint, iso, normalise_carrier, normalise_tracking_number
from ..domain.live import Position
from ..errors import InvalidSignature, ValidationError

#: Scans outside these years are corrupt data (and the extremes overflow when converted to UTC).
MIN_YEAR, MAX_YEAR = 1990, 2200


class Ignored(Struct, frozen=True):
    """Why an accepted delivery yielded no scan: a `reason` code, and the value that made it so."""

    reason: str
    detail: str = ""
    carrier: str | None = None
    tracking_number: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "detail": self.detail}
        out.update({k: v for k, v in (("carrier", self.carrier), ("tracking_number", self.tracking_number)) if v})
        return out


#: The event type carries no tracking (EasyPost batch.*, Shippo transaction_*, AfterShip edd_revise, ...).
NOT_TRACKING = "not_a_tracking_event"
#: A tracking with no scans whose own status says nothing yet (AfterShip Pending, EasyPost unknown, ...).
NO_SCANS = "no_scans"


class Parsed(Struct, frozen=True):
    """What one delivery holds: its scans, or why it holds none."""

    events: list[TrackingEvent]
    ignored: list[Ignored] = field(default_factory=list)
    #: Driver positions carried beside the scans (native events may; DESIGN 3.8): never part of the history.
    positions: list[Position] = field(default_factory=list)


class AdapterValidationError(ValidationError):
    """A webhook body that is not what the source documents; `field` names the offending path."""

    code = "invalid_payload"


def load_json_object(raw_body: bytes) -> dict[str, Any]:
    try:
        raw_body.decode("utf-8")  # a precise error for what is not UTF-8 at all
        data = json_text.loads(raw_body)
    except UnicodeDecodeError as exc:
        raise AdapterValidationError("body is not UTF-8 text", field="body") from exc
    except RecursionError as exc:  # nesting deeper than the parser goes: no real payload looks like that
        raise AdapterValidationError("body is nested too deeply", field="body") from exc
    except ValueError as exc:
        raise AdapterValidationError(f"body is not valid JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise AdapterValidationError("body must be a JSON object", field="body")
    return data


def obj(container: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> dict[str, Any]:
    value = container.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise AdapterValidationError(f"{path} must be an object", field=path)
    return value


def array(container: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> list[Any]:
    value = container.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise AdapterValidationError(f"{path} must be an array", field=path)
    return value


def text(container: Mapping[str, Any], key: str, path: str, *, required: bool = True, max_len: int = 2000) -> str:
    value = container.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise AdapterValidationError(f"{path} must be a non-empty string", field=path)
    if len(value) > max_len:
        raise AdapterValidationError(f"{path} is longer than {max_len} characters", field=path)
    return value.strip()


def optional_text(container: Mapping[str, Any], key: str, path: str, max_len: int = 2000) -> str | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise AdapterValidationError(f"{path} must be a string", field=path)
    return value.strip()[:max_len] or None


def timestamp(value: Any, path: str, *, require_offset: bool = False) -> tuple[datetime, bool]:
    """An ISO 8601 moment as aware UTC, and whether the carrier left out its offset (then read as UTC)."""
    if not isinstance(value, str) or not value.strip():
        raise AdapterValidationError(f"{path} must be an ISO 8601 date-time string", field=path)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise AdapterValidationError(f"{path} is not an ISO 8601 date-time: {value[:40]!r}", field=path) from exc
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise AdapterValidationError(f"{path} is outside {MIN_YEAR}-{MAX_YEAR}: {value[:40]!r}", field=path)
    if moment.tzinfo is None:
        if require_offset:
            raise AdapterValidationError(f"{path} must carry a UTC offset (for example +00:00)", field=path)
        return moment.replace(tzinfo=UTC), True
    return moment.astimezone(UTC), False


def optional_timestamp_text(value: Any, path: str) -> str | None:
    """An ETA bound kept as canonical UTC text; absent or null stays None."""
    if value in (None, ""):
        return None
    moment, _ = timestamp(value, path)
    return moment.isoformat(timespec="seconds")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Header lookup that ignores case whatever mapping the transport handed us."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def require_equal(expected: str | bytes, given: str | bytes | None, message: str) -> None:
    """Constant-time comparison; any mismatch, including a missing value, is an InvalidSignature."""
    if given is None:
        raise InvalidSignature(message)
    left = expected.encode() if isinstance(expected, str) else expected
    right = given.encode() if isinstance(given, str) else given
    if not hmac.compare_digest(left, right):
        raise InvalidSignature(message)


def carrier_code(value: Any, path: str) -> str:
    if not isinstance(value, str) or not normalise_carrier(value) or len(value) > 64:
        raise AdapterValidationError(f"{path} must name a carrier (letters or digits, at most 64)", field=path)
    return normalise_carrier(value)


def tracking_code(value: Any, path: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not normalise_tracking_number(value) or len(value) > 64:
        raise AdapterValidationError(f"{path} must be a tracking number (at most 64 characters)", field=path)
    return normalise_tracking_number(value)


def attach_tracker_facts(
    events: list[TrackingEvent], eta: dict[str, str] | None, signed_by: str | None
) -> list[TrackingEvent]:
    """Aggregators report the ETA and the signer per shipment: they belong to the newest (delivered) scan."""
    if not events:
        return events
    result = list(events)
    newest = max(range(len(result)), key=lambda i: result[i].sort_key())
    if eta:
        result[newest] = replace(result[newest], eta=eta)
    delivered = [i for i, event in enumerate(result) if event.status == ms.DELIVERED]
    if signed_by and delivered:
        last = max(delivered, key=lambda i: result[i].sort_key())
        pod = dict(result[last].proof_of_delivery or {}, recipient_name=signed_by)
        result[last] = replace(result[last], proof_of_delivery=pod)
    return result


def adds_news(events: list[TrackingEvent], status: str, delayed: bool) -> bool:
    """Whether a tracking-level status says something the newest scan does not (no scans: always)."""
    if not events:
        return True
    newest = max(events, key=TrackingEvent.sort_key)
    return (newest.status, newest.delayed) != (status, delayed)


def tracking_status_event(
    events: list[TrackingEvent],
    *,
    source: str,
    carrier: str,
    tracking_number: str,
    status: str,
    delayed: bool,
    carrier_status: str,
    updated_at: datetime | None,
    description: str = "",
    time_zone_unknown: bool = False,
) -> TrackingEvent | None:
    """An aggregator's own status of the tracking as one more scan (DESIGN 3.1), or None when it adds nothing.

    With scans it is timed at the newest scan, and the fold's rank tie-break decides between the two: timing it
    later (at the update time) would let a lagging summary outrank a real scan the next delivery brings (an "out
    for delivery" tag stamped 12:00 would beat a delivered scan at 11:00). Without scans it is timed at the
    tracking's update time. Its id is built from that time and the status: a replay of the same delivery gives the
    same event. Folded like any scan, so the order deliveries arrive in still does not matter. A status that names
    no milestone and no delay says nothing.
    """
    if status not in ms.MILESTONES and not delayed:
        return None
    if not adds_news(events, status, delayed):
        return None
    if events:
        newest = max(events, key=TrackingEvent.sort_key)
        at, zone_unknown = newest.occurred_at, newest.time_zone_unknown
    elif updated_at is not None:
        at, zone_unknown = updated_at, time_zone_unknown
    else:
        return None
    return TrackingEvent(
        source=source,
        carrier=carrier,
        tracking_number=tracking_number,
        status=status,
        occurred_at=at,
        fingerprint=fingerprint(source, "tracking-status", carrier, tracking_number, iso(at), carrier_status),
        carrier_status=carrier_status,
        description=description,
        delayed=delayed,
        time_zone_unknown=zone_unknown,
    )


def optional_moment(value: Any, path: str) -> tuple[datetime | None, bool]:
    """A tracking's update time when it gives one (absent or null: None)."""
    if value in (None, ""):
        return None, False
    return timestamp(value, path)
