"""The stall watch (domain.stalls, D45): finds parcels in trouble before the shopper calls, lists them for the
retailer's "Needs attention" and, when subscribed, posts `shipment.stalled` once per shipment and reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec.structs import replace

from ..domain import stalls
from ..domain.events import iso
from ..domain.notifications import Intent
from ..observability import metric
from ..shared.retailer_profile import stall_days, status_subscriptions
from ..shared.retries import with_retries
from ..store import notifications as outbox
from ..store import shipments as shipment_store
from ..store import stalls as stall_store
from ..store.notifications import OutboxItem
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord


def watch(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    """The watch has come due: flag what it finds, then sleep until the next problem could begin (the same outbox
    item, deferred: no new item, no state write while nothing is wrong) or end."""

    reads = iter([record])  # the state delivery just read; a retry after a version conflict reads it again

    def attempt() -> tuple[str, dict[str, Any]]:
        current = next(reads, None) or shipment_store.get(record.id) or record
        first_scan_days, stuck_days = stall_days(retailer)
        reason, again = stalls.decide(
            current.progress, current.created_at, current.notified, first_scan_days, stuck_days, now
        )
        if reason is not None:
            found(current, retailer, reason, now)
        if again is not None:
            why = f"{reason} found; watching" if reason else "nothing wrong yet"
            return outbox.DEFERRED, {"reason": why, "not_before": again}
        return outbox.SENT if reason else outbox.SKIPPED, {"reason": reason or "nothing left to watch"}

    return with_retries(attempt)


def found(record: ShipmentRecord, retailer: Retailer, reason: str, now: datetime) -> None:
    """List the parcel, and plan the retailer's event with the marker that keeps it to one, in one conditional write
    (a version conflict reads again: with_retries)."""
    if stalls.marker(reason) in record.notified:
        return
    stall_store.add(record, reason, now)  # first: a repeat after a conflict rewrites the same entry
    hook = stalls.plan_hook(reason, record.version + 1, status_subscriptions(retailer))
    intents: list[Intent] = [hook] if hook else []
    stamp = iso(now)
    after = replace(
        record, notified=record.notified | {stalls.marker(reason)}, version=record.version + 1, updated_at=stamp
    )
    shipment_store.save(record, after, intents=intents, now=stamp)
    metric("StalledShipments", reason=reason, carrier=record.carrier)
