"""Planning and running late-shipment checks (domain.lateness) for registered shipments with a promised date."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ..domain import milestones as ms
from ..domain.events import iso
from ..domain.hooks import DELAY_POSTED, plan_delay_hook
from ..domain.lateness import plan_check, why_not_late
from ..domain.notifications import Intent, plan_delay
from ..observability import metric
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from .retailer_profile import shopper_zone, status_subscriptions


def with_check(record: ShipmentRecord, intents: list[Intent], now: datetime) -> tuple[ShipmentRecord, list[Intent]]:
    """The record and intents with this promise's check added when a registered shipment needs one."""
    if not record.claimed:
        return record, intents
    zone = shopper_zone(record.customer, retailer_store.get(record.retailer_id))
    check = plan_check(record.promised_date, record.progress.status, record.notified, zone, now)
    if check is None:
        return record, intents
    return replace(record, notified=record.notified | {check.kind}), [*intents, check]


def run_check(kind: str, shipment_id: str, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    """The promise is due: if the parcel is still on its way, plan the `delayed` notifications (once)."""
    from .shipments import contact_of, enabled_channels, with_retries

    def attempt() -> tuple[str, dict[str, Any]]:
        record = shipment_store.get(shipment_id)
        if record is None:
            return outbox.SKIPPED, {"reason": "shipment_missing"}
        zone = shopper_zone(record.customer, retailer)
        reason = why_not_late(kind, record.promised_date, record.progress.status, record.notified, now, zone)
        if reason is not None:
            return outbox.SKIPPED, {"reason": reason}
        contact = contact_of(record)
        intents = plan_delay(contact, enabled_channels(retailer.id)) if contact else []
        notified = record.notified | ({ms.DELAYED} if intents else set())
        hook = plan_delay_hook(record.version + 1, record.notified, status_subscriptions(retailer))
        if hook is not None:
            intents.append(hook)
            notified |= {DELAY_POSTED}
        if not intents:
            return outbox.SKIPPED, {"reason": "no_channel"}
        stamp = iso(now)
        after = replace(record, notified=notified, version=record.version + 1, updated_at=stamp)
        shipment_store.save(record, after, intents=intents, now=stamp)
        metric("LateShipments", carrier=record.carrier)
        return outbox.SENT, {"reason": "past the promised date: delay notices planned"}

    return with_retries(attempt)
