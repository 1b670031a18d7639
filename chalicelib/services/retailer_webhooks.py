"""Webhooks to the retailer's own systems: status changes, late parcels, low survey scores and test events.

Signed like our native format (`X-Porchlight-Signature: t=..,v1=..` with the retailer's `outbound` secret, two `v1`
while a rotation's grace period runs). Status changes and escalations go through the outbox, so a failed call is
retried with backoff and its outcome is visible in the API; a test event is sent at once.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain import hooks
from ..domain import milestones as ms
from ..domain.events import iso
from ..domain.notifications import delay_reason
from ..store import notifications as outbox
from ..store.notifications import OutboxItem
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from .retailer_profile import settings_document
from .shipments import tracking_url

USER_AGENT = "Porchlight-Webhooks/1"


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is the endpoint's final answer, never a new destination for a signed request."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def previous_secret_until(retailer: Retailer, now: datetime) -> int | None:
    """While a rotation's grace period runs: the epoch second the previous outbound secret stops signing."""
    until = retailer.integrations.get("outbound_previous_until", "")
    if not retailer.integrations.get("outbound_previous") or not until.isdigit() or int(until) <= now.timestamp():
        return None
    return int(until)


def signing_secrets(retailer: Retailer, now: datetime) -> list[str]:
    """The retailer's outbound secret, and during a rotation's grace period the previous one too."""
    current = retailer.integrations.get("outbound")
    previous = retailer.integrations.get("outbound_previous") if previous_secret_until(retailer, now) else None
    return [secret for secret in (current, previous) if secret]


def rotate_secret(retailer_id: str, keep_previous: timedelta, now: datetime) -> dict[str, Any]:
    """A new outbound secret, returned once. Calls carry a signature for each secret until the old one retires."""
    import secrets

    from ..errors import NotFound
    from ..store import retailers as retailer_store

    retailer = retailer_store.get(retailer_id, fresh=True)
    if retailer is None:
        raise NotFound("retailer not found")
    secret = secrets.token_urlsafe(32)
    previous = retailer.integrations.get("outbound")
    until = int((now + keep_previous).timestamp()) if previous and keep_previous else None
    retailer_store.rotate_outbound_secret(retailer_id, secret, previous if until else None, until)
    return {
        "secret": secret,
        "previous_valid_until": datetime.fromtimestamp(until, UTC).isoformat() if until else None,
    }


def post_signed(url: str, secrets: list[str], payload: dict[str, Any], event_id: str) -> int:
    """POST the JSON payload; the HTTP status on 2xx. 429/5xx/unreachable are retryable, other answers are not.

    The URL is checked again at sending (its host may resolve elsewhere than when it was saved) and redirects are
    never followed: either could aim our signed request at a private address. The signature's timestamp is the wall
    clock at sending (the receiver checks freshness against its own).
    """
    import time
    import urllib.error

    from ..carriers.native import sign_all
    from ..channels import PermanentSendError, RetryableSendError
    from ..errors import ValidationError
    from .configuration import UNRESOLVED, check_webhook_url

    try:
        check_webhook_url(url, "url")
    except ValidationError as exc:
        if exc.code == UNRESOLVED:  # DNS can fail for a while; the next attempt may resolve
            raise RetryableSendError(f"retailer webhook {exc.message}") from exc
        raise PermanentSendError(f"retailer webhook refused: {exc.message}", "url") from exc
    opener = urllib.request.build_opener(NoRedirects)
    body = json.dumps(payload, separators=(",", ":")).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - https (or local in dev), validated
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", USER_AGENT)
    request.add_header("X-Porchlight-Event-Id", event_id)
    request.add_header("X-Porchlight-Signature", sign_all(secrets, body, int(time.time())))
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise RetryableSendError(f"retailer webhook answered {exc.code}", str(exc.code)) from exc
        unfollowed = "; redirects are not followed" if 300 <= exc.code < 400 else ""
        raise PermanentSendError(f"retailer webhook answered {exc.code}{unfollowed}", str(exc.code)) from exc
    except OSError as exc:
        raise RetryableSendError(f"retailer webhook unreachable: {exc.__class__.__name__}") from exc


def _shipment_event(
    record: ShipmentRecord, event_type: str, version: int, created_at: str, details: dict[str, Any]
) -> dict[str, Any]:
    """The envelope and shipment identity every shipment event carries; `details` says what happened."""
    return {
        "id": f"{record.id}:{version}",
        "type": event_type,
        "created_at": created_at,
        "retailer_id": record.retailer_id,
        "data": {
            "shipment_id": record.id,
            "order_id": record.order_id,
            "carrier": record.carrier,
            "tracking_number": record.tracking_number,
            **details,
            "version": version,
            "tracking_url": tracking_url(record.tracking_token),
        },
    }


def status_change_payload(record: ShipmentRecord, status: str, version: int, created_at: str) -> dict[str, Any]:
    """What changed (`status`, at `version`) and the shipment as it is now: receivers order by version."""
    progress = record.progress
    current = {
        "status": progress.status,
        "status_at": progress.status_at,
        "eta": progress.eta,
        "version": record.version,
    }
    details = {"status": status, "status_label": ms.label(status), "current": current}
    return _shipment_event(record, hooks.STATUS_CHANGED, version, created_at, details)


def delayed_payload(record: ShipmentRecord, version: int, created_at: str) -> dict[str, Any]:
    """A parcel became late (once per shipment): why, what was promised, and where it is now."""
    progress = record.progress
    details = {
        "reason": delay_reason(progress, record.promised_date, record.notified),
        "promised_date": record.promised_date,
        "eta": progress.eta,
        "status": progress.status,
        "status_label": ms.label(progress.status),
    }
    return _shipment_event(record, hooks.DELAYED, version, created_at, details)


def deliver_status_change(
    item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime
) -> tuple[str, dict[str, Any]]:
    parsed = hooks.parse_kind(item.kind)
    url = settings_document(retailer)["webhooks"].get("url")
    secrets = signing_secrets(retailer, now)
    if parsed is None or not url or not secrets:
        return outbox.SKIPPED, {"reason": "no_webhook_configured"}
    status, version = parsed
    if status == ms.DELAYED:
        payload = delayed_payload(record, version, item.created_at)
    else:
        payload = status_change_payload(record, status, version, item.created_at)
    answered = post_signed(url, secrets, payload, payload["id"])
    return outbox.SENT, {"provider": "webhook", "reason": f"HTTP {answered}"}


def send_test(retailer_id: str, now: datetime) -> dict[str, Any]:
    """A `webhook.test` event, sent at once (not through the outbox) so an integrator sees the answer right away.

    Sent even while status webhooks are turned off, so the endpoint can be checked before they are turned on.
    """
    from secrets import token_hex

    from ..channels import SendError
    from ..errors import Conflict, NotFound
    from ..store import retailers as retailer_store

    retailer = retailer_store.get(retailer_id, fresh=True)
    if retailer is None:
        raise NotFound("retailer not found")
    url = settings_document(retailer)["webhooks"].get("url")
    secrets = signing_secrets(retailer, now)
    if not url or not secrets:
        raise Conflict("set webhooks.url in /v1/settings first", field="webhooks.url", code="no_webhook_configured")
    event_id = f"test:{token_hex(8)}"
    payload = {
        "id": event_id,
        "type": hooks.TEST,
        "created_at": iso(now),
        "retailer_id": retailer_id,
        "data": {"message": "A test from Porchlight: verify the signature, then answer with any 2xx status."},
    }
    try:
        answered = post_signed(url, secrets, payload, event_id)
    except SendError as error:
        return {"id": event_id, "url": url, "delivered": False, "error": error.reason}
    return {"id": event_id, "url": url, "delivered": True, "status": answered}
