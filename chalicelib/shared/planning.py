"""What registration, ingest and the late checks plan alike: shipment ids, the shopper's contact and channels,
the lateness checks, the survey and the driver-chat session a parcel calls for."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from msgspec.structs import replace

from ..config import settings
from ..domain import milestones as ms
from ..domain import pickup as pickup_rules
from ..domain import relay as relay_rules
from ..domain import survey as survey_rules
from ..domain.events import iso
from ..domain.lateness import plan_check, plan_silence_check
from ..domain.notifications import EMAIL, SMS, Contact, Intent, channels_for
from ..domain.stalls import plan_watch
from ..observability import metric
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from .retailer_profile import (
    notification_settings,
    pickup_settings,
    shopper_zone,
    silent_after_days,
    stall_days,
    survey_settings,
)


def shipment_id_for(retailer_id: str, carrier: str, tracking_number: str, generation: int = 0) -> str:
    """Shipments are keyed by (retailer, carrier, tracking number): scans and registration meet on one id.

    A recycled number's later parcels (domain.generations) get ids of their own, derived the same way.
    """
    key = f"{retailer_id}\x1f{carrier}\x1f{tracking_number}" + (f"\x1f{generation}" if generation else "")
    return "shp_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def contact_of(record: ShipmentRecord) -> Contact | None:
    if not record.claimed or not record.customer:
        return None
    return Contact(phone=record.customer.get("phone"), email=record.customer.get("email"))


def enabled_channels(retailer_id: str) -> Mapping[str, frozenset[str]] | None:
    """The retailer's channel choice per kind, from the cached profile (the webhook already read it)."""
    retailer = retailer_store.get(retailer_id)
    return notification_settings(retailer).channels if retailer else None


def open_generation(head: ShipmentRecord, start: str, now: datetime, *, via: str) -> None:
    """Record on the number's first shipment that a new parcel's scans begin at `start` (domain.generations)."""
    stamp = iso(now)
    opened = replace(
        head, generation_starts=(*head.generation_starts, start), version=head.version + 1, updated_at=stamp
    )
    shipment_store.save(head, opened, now=stamp)
    metric("RecycledNumbers", via=via, carrier=head.carrier)


def with_check(record: ShipmentRecord, intents: list[Intent], now: datetime) -> tuple[ShipmentRecord, list[Intent]]:
    """The record and intents with this promise's check, the silence and stall watches and the pickup reminders,
    added when a registered shipment needs them (at registration, claim and correction). A return has no promise
    and no watch: the shopper may take days to drop it off (D48)."""
    if not record.claimed or record.is_return:
        return record, intents
    retailer = retailer_store.get(record.retailer_id)
    zone = shopper_zone(record.customer, retailer)
    checks = [
        plan_check(record.promised_date, record.progress.status, record.notified, zone, now),
        silence_check(record, retailer, now),
        stall_watch(record, retailer, now),
    ]
    planned = [check for check in checks if check is not None]
    # A parcel registered (or given a contact) while it already waits at a pickup point gets its reminders too.
    planned += pickup_reminders(record, retailer, now)
    if not planned:
        return record, intents
    return replace(record, notified=record.notified | {check.kind for check in planned}), [*intents, *planned]


def silence_check(record: ShipmentRecord, retailer: Retailer | None, now: datetime) -> Intent | None:
    """The silence watch for a registered parcel that has started moving, unless one is armed (cheap: pure)."""
    if not record.claimed or retailer is None:
        return None
    return plan_silence_check(record.progress, record.notified, silent_after_days(retailer), now)


def stall_watch(record: ShipmentRecord, retailer: Retailer | None, now: datetime) -> Intent | None:
    """The stall watch for a registered parcel (domain.stalls, D45), once per shipment (cheap: pure)."""
    if not record.claimed or retailer is None:
        return None
    first_scan_days, stuck_days = stall_days(retailer)
    return plan_watch(record.progress, record.created_at, record.notified, first_scan_days, stuck_days, now)


def pickup_reminders(record: ShipmentRecord, retailer: Retailer | None, now: datetime) -> list[Intent]:
    """The reminders before a waiting parcel's pickup deadline (D48), planned once, when it becomes available, on
    the channels the retailer chose for `available_for_pickup` (cheap: pure, from the cached profile)."""
    contact = contact_of(record)
    progress = record.progress
    if retailer is None or contact is None or progress.status != ms.AVAILABLE_FOR_PICKUP or not progress.status_at:
        return []
    hold_days, sequence = pickup_settings(retailer)
    until = pickup_rules.deadline(progress.pickup, progress.status_at, hold_days)
    enabled = notification_settings(retailer).channels.get(ms.AVAILABLE_FOR_PICKUP, frozenset())
    return [
        Intent(kind, channel, not_before=due)
        for kind, due in pickup_rules.reminder_plan(progress.status_at, until, sequence, record.notified, now)
        for channel in channels_for(contact)
        if channel in enabled
    ]


STALE_DELIVERY = timedelta(hours=72)


def plan_survey(record: ShipmentRecord, retailer: Retailer | None, now: datetime) -> Intent | None:
    """When a claimed shipment is delivered: one survey, by text (with consent) or email, after the delay."""
    if (
        retailer is None
        or not record.claimed
        or record.is_return  # "received by the retailer" is not a delivery to rate
        or record.progress.status != ms.DELIVERED
        or survey_rules.SURVEY in record.notified
    ):
        return None
    config = survey_settings(retailer)
    delivered_at = datetime.fromisoformat(record.progress.status_at or iso(now))
    if not config["enabled"] or now - delivered_at > STALE_DELIVERY:
        return None
    customer = record.customer or {}
    preferred = (record.shopper or {}).get("notify")
    if preferred == "none":
        return None
    can_text = (
        bool(customer.get("phone")) and (bool(customer.get("sms_consent")) or preferred == SMS) and preferred != EMAIL
    )
    channel = SMS if can_text else EMAIL if customer.get("email") else None
    if channel is None:
        return None  # the page still asks
    due = max(now, delivered_at + timedelta(minutes=int(config["delay_minutes"])))
    return Intent(survey_rules.SURVEY, channel, not_before=iso(due))


def wants_session(record: ShipmentRecord) -> bool:
    """Out for delivery with a driver we can text, and a relay pool configured."""
    return bool(pool()) and record.progress.status == ms.OUT_FOR_DELIVERY and bool(driver_of(record).get("phone"))


def pool() -> tuple[str, ...]:
    return settings().twilio_relay_numbers


def grace() -> timedelta:
    return timedelta(minutes=settings().relay_grace_minutes)


def driver_of(record: ShipmentRecord) -> dict[str, str]:
    return record.progress.driver or {}


def is_open(record: ShipmentRecord, now: datetime) -> bool:
    return relay_rules.session_open(record.progress.status, record.progress.status_at, now, grace())
