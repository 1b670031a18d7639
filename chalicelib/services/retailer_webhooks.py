"""Webhooks to the retailer's own systems: status changes, late parcels, low survey scores and test events.

Signed like our native format (`X-Porchlight-Signature: t=..,v1=..` with the retailer's `outbound` secret, two `v1`
while a rotation's grace period runs). Status changes and escalations go through the outbox, so a failed call is
retried with backoff and its outcome is visible in the API; a test event is sent at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from secrets import token_hex, token_urlsafe
from typing import Any

from ..channels import SendError
from ..domain import hooks, stalls
from ..domain import milestones as ms
from ..domain.events import iso
from ..domain.notifications import delay_reason
from ..errors import Conflict, NotFound
from ..shared.outbound_webhooks import post_signed, shipment_event, signing_secrets
from ..shared.retailer_profile import settings_document
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store.notifications import OutboxItem
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord


def rotate_secret(retailer_id: str, keep_previous: timedelta, now: datetime) -> dict[str, Any]:
    """A new outbound secret, returned once. Calls carry a signature for each secret until the old one retires."""
    retailer = retailer_store.get(retailer_id, fresh=True)
    if retailer is None:
        raise NotFound("retailer not found")
    secret = token_urlsafe(32)
    previous = retailer.integrations.get("outbound")
    until = int((now + keep_previous).timestamp()) if previous and keep_previous else None
    retailer_store.rotate_outbound_secret(retailer_id, secret, previous if until else None, until)
    return {
        "secret": secret,
        "previous_valid_until": datetime.fromtimestamp(until, UTC).isoformat() if until else None,
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
    return shipment_event(record, hooks.STATUS_CHANGED, f"{record.id}:{version}", created_at, details, version)


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
    return shipment_event(record, hooks.DELAYED, f"{record.id}:{version}", created_at, details, version)


def stalled_payload(record: ShipmentRecord, reason: str, version: int, created_at: str) -> dict[str, Any]:
    """A problem before the shopper calls (D45), once per shipment and reason: why, and where the parcel is."""
    progress = record.progress
    details = {
        "reason": reason,
        "status": progress.status,
        "status_label": ms.label(progress.status),
        "last_event_at": progress.last_event_at,
        "registered_at": record.created_at,
    }
    # Its own id: a first failed attempt's status change is posted at the same version, and receivers dedupe on id.
    return shipment_event(record, stalls.EVENT, f"{record.id}:stalled:{reason}", created_at, details, version)


def deliver_status_change(
    item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime
) -> tuple[str, dict[str, Any]]:
    stalled = stalls.parse_hook_kind(item.kind)
    if stalled is not None:
        return _post(retailer, stalled_payload(record, stalled[0], stalled[1], item.created_at), now)
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


def _post(retailer: Retailer, payload: dict[str, Any], now: datetime) -> tuple[str, dict[str, Any]]:
    url = settings_document(retailer)["webhooks"].get("url")
    secrets = signing_secrets(retailer, now)
    if not url or not secrets:
        return outbox.SKIPPED, {"reason": "no_webhook_configured"}
    answered = post_signed(url, secrets, payload, payload["id"])
    return outbox.SENT, {"provider": "webhook", "reason": f"HTTP {answered}"}


def send_test(retailer_id: str, now: datetime) -> dict[str, Any]:
    """A `webhook.test` event, sent at once (not through the outbox) so an integrator sees the answer right away.

    Sent even while status webhooks are turned off, so the endpoint can be checked before they are turned on.
    """
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
