"""Planning and running late-shipment checks (domain.lateness): a broken promise, or a carrier gone silent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec.structs import replace

from ..domain import milestones as ms
from ..domain.events import iso
from ..domain.hooks import DELAY_POSTED, plan_delay_hook
from ..domain.lateness import (
    CHECK_CHANNEL,
    after_silence,
    is_silence_check,
    silence_kind,
    why_not_late,
)
from ..domain.notifications import (
    DELAY_COUNTED,
    NO_NEWS,
    PROMISE_PASSED,
    TOLD_SILENT,
    Intent,
    plan_delay,
)
from ..observability import metric
from ..shared import stats
from ..shared.planning import contact_of, enabled_channels
from ..shared.retailer_profile import shopper_zone, silent_after_days, status_subscriptions
from ..shared.retries import with_retries
from ..store import notifications as outbox
from ..store import shipments as shipment_store
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord


def run_check(kind: str, shipment_id: str, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    """A check is due: if the parcel is late (promise broken, or the carrier silent), plan the `delayed`
    notifications (once); a silence check that finds news since arms the next one instead."""

    def attempt() -> tuple[str, dict[str, Any]]:
        record = shipment_store.get(shipment_id)
        if record is None:
            return outbox.SKIPPED, {"reason": "shipment_missing"}
        if is_silence_check(kind):
            return _run_silence_check(record, retailer, now)
        zone = shopper_zone(record.customer, retailer)
        reason = why_not_late(kind, record.promised_date, record.progress.status, record.notified, now, zone)
        if reason is not None:
            return outbox.SKIPPED, {"reason": reason}
        if not _tell_late(record, retailer, now, PROMISE_PASSED):
            return outbox.SKIPPED, {"reason": "no_channel"}
        return outbox.SENT, {"reason": "past the promised date: delay notices planned"}

    return with_retries(attempt)


def _run_silence_check(record: ShipmentRecord, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    days = silent_after_days(retailer)
    reason, again = after_silence(record.progress, record.notified, days, now)
    if reason is not None:
        if again is not None:  # news since, or not moving yet: look again when silence could next become news
            check = Intent(silence_kind(again), CHECK_CHANNEL, not_before=iso(again))
            _plan(record, [check], record.notified | {check.kind}, now)
        return outbox.SKIPPED, {"reason": reason}
    if not _tell_late(record, retailer, now, NO_NEWS):
        return outbox.SKIPPED, {"reason": "no_channel"}
    return outbox.SENT, {"reason": f"no scan for {days} days: delay notices planned"}


#: The operations metric for parcels found late by a check, by why.
LATE_METRICS = {PROMISE_PASSED: "LateShipments", NO_NEWS: "SilentShipments"}


def _tell_late(record: ShipmentRecord, retailer: Retailer, now: datetime, reason: str) -> bool:
    """Plan the `delayed` notifications and webhook for a parcel found late, and count it late once (even with
    nobody to tell); False if nobody is there to tell."""
    contact = contact_of(record)
    intents = plan_delay(contact, enabled_channels(retailer.id)) if contact else []
    notified = record.notified | ({ms.DELAYED} if intents else set())
    hook = plan_delay_hook(record.version + 1, record.notified, status_subscriptions(retailer))
    if hook is not None:
        intents.append(hook)
        notified |= {DELAY_POSTED}
    first_time = DELAY_COUNTED not in record.notified
    if intents or first_time:
        markers = {DELAY_COUNTED} | ({TOLD_SILENT} if reason == NO_NEWS else set())
        _plan(record, intents, notified | markers, now)
    if first_time:
        stats.parcel_late(record.retailer_id, record.carrier, reason, now)
        metric(LATE_METRICS[reason], carrier=record.carrier)
    return bool(intents)


def _plan(record: ShipmentRecord, intents: list[Intent], notified: frozenset[str], now: datetime) -> None:
    """Write what a check decided: the new outbox items and markers, conditional on the version it read."""
    stamp = iso(now)
    after = replace(record, notified=notified, version=record.version + 1, updated_at=stamp)
    shipment_store.save(record, after, intents=intents, now=stamp)
