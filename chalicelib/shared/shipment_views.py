"""The retailer API's shapes of a shipment and its notifications (summaries, the detail), read-side only."""

from __future__ import annotations

from typing import Any

from ..domain import milestones as ms
from ..domain.delivery_changes import public as public_change
from ..domain.events import iso
from ..domain.notifications import CHAT_PREFIX, is_notification
from ..errors import NotFound, ValidationError
from ..store import shipments as shipment_store
from ..store.notifications import OutboxItem
from ..store.shipments import ShipmentRecord
from .links import tracking_url


def summary(record: ShipmentRecord) -> dict[str, Any]:
    progress = record.progress
    return {
        "id": record.id,
        "order_id": record.order_id,
        "carrier": record.carrier,
        "tracking_number": record.tracking_number,
        "status": progress.status,
        "status_label": ms.label(progress.status),
        "claimed": record.claimed,
        "tracking_token": record.tracking_token,
        "tracking_url": tracking_url(record.tracking_token),
        "eta": progress.eta,
        "last_event_at": progress.last_event_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def detail(retailer_id: str, shipment_id: str) -> dict[str, Any]:
    record, events, outbox = shipment_store.get_with_history(shipment_id)
    if record is None or record.retailer_id != retailer_id or placeholder(record):
        raise NotFound(f"no shipment {shipment_id!r}", field="id")
    progress = record.progress
    return {
        **summary(record),
        "customer": record.customer,
        "destination": record.destination,
        "items": record.items,
        "promised_date": record.promised_date,
        "service": record.service,
        "origin": record.origin,
        "driver": progress.driver,
        "proof_of_delivery": progress.proof_of_delivery,
        "pickup": progress.pickup,  # the retailer's API keeps what the carrier sent, code included (D48)
        "shopper": record.shopper,
        "events": [
            {
                "status": event.status,
                "status_label": ms.label(event.status),
                "occurred_at": iso(event.occurred_at),
                "description": event.description,
                "location": event.location.to_dict() if event.location else None,
                "carrier_status": event.carrier_status,
                "source": event.source,
                "delayed": event.delayed,
                "time_zone_unknown": event.time_zone_unknown,
                "reported_at": event.reported_at,
            }
            for event in events
        ],
        "notifications": [
            notification_json(item)
            for item in sorted(outbox, key=lambda item: (item.created_at, item.kind, item.channel))
            if is_notification(item.kind)
        ],
        "chat_messages": sum(1 for item in outbox if item.kind.startswith(CHAT_PREFIX)),
        "delivery_change": public_change(record.delivery_changes[-1]) if record.delivery_changes else None,
    }


def placeholder(record: ShipmentRecord) -> bool:
    """What erasure leaves of a recycled number's first parcel: where later scans go, and no shipment to show."""
    return not record.claimed and not record.event_count and bool(record.generation_starts)


def check_status(status: str) -> None:
    if status not in ms.MILESTONES:
        raise ValidationError(f"unknown status {status!r}; use one of: {', '.join(ms.MILESTONES)}", field="status")


def notification_json(item: OutboxItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "channel": item.channel,
        "status": item.status,
        "reason": item.reason or None,
        "fallback": item.fallback,
        "attempts": item.attempts,
        "manual_retries": item.manual_retries,
        "provider": item.provider or None,
        "provider_message_id": item.provider_message_id or None,
        "created_at": item.created_at,
        "sent_at": item.sent_at or None,
        "updated_at": item.updated_at,
        "due_at": item.due_at or None,
        "preview": item.preview or None,
    }


def owned(retailer_id: str, shipment_id: str) -> ShipmentRecord:
    record = shipment_store.get(shipment_id)
    if record is None or record.retailer_id != retailer_id:
        raise NotFound(f"no shipment {shipment_id!r}", field="id")
    return record
