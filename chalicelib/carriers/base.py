"""What every carrier adapter shares: typed validation errors, field readers, time parsing, HMAC helpers."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..domain import milestones as ms
from ..domain.events import TrackingEvent, normalise_carrier, normalise_tracking_number
from ..errors import InvalidSignature, ValidationError

#: Scans outside these years are corrupt data (and the extremes overflow when converted to UTC).
MIN_YEAR, MAX_YEAR = 1990, 2200


class AdapterValidationError(ValidationError):
    """A webhook body that is not what the source documents; `field` names the offending path."""

    code = "invalid_payload"


def load_json_object(raw_body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw_body.decode("utf-8"))
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
