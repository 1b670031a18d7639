"""Registering shipments and reading them back, always within one retailer's data."""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from ..config import settings
from ..domain import milestones as ms
from ..domain.events import RETAILER_SOURCE, iso, normalise_carrier, normalise_tracking_number
from ..domain.generations import reused_for_order, start_after
from ..domain.notifications import CHAT_PREFIX, Contact, is_notification, plan_on_claim
from ..errors import Busy, Conflict, NotFound, ValidationError
from ..observability import metric
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.shipments import ShipmentRecord, VersionConflict
from . import stats
from .lateness import with_check
from .notifications import notification_json

#: How long one request keeps re-reading and re-applying a write that lost a race: inside API Gateway's 29 s and the
#: Lambda's 30 s with 9 s to spare for the rest of the request, and longer than 48 concurrent scans on one parcel take
#: to land one after another against the embedded moto server on a loaded machine (about 16 s; DynamoDB: ~1 s).
WRITE_BUDGET_SECONDS = 20.0
MAX_BACKOFF_SECONDS = 0.25
#: What a sender is told to wait when the budget is spent (503 + Retry-After): long enough for a burst to pass.
BUSY_RETRY_AFTER_SECONDS = 2
T = TypeVar("T")


def shipment_id_for(retailer_id: str, carrier: str, tracking_number: str, generation: int = 0) -> str:
    """Shipments are keyed by (retailer, carrier, tracking number): scans and registration meet on one id.

    A recycled number's later parcels (domain.generations) get ids of their own, derived the same way.
    """
    key = f"{retailer_id}\x1f{carrier}\x1f{tracking_number}" + (f"\x1f{generation}" if generation else "")
    return "shp_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits, 22 characters: short enough for one SMS


def tracking_url(token: str) -> str:
    return f"{settings().public_base_url}/t/{token}"


def contact_of(record: ShipmentRecord) -> Contact | None:
    if not record.claimed or not record.customer:
        return None
    return Contact(phone=record.customer.get("phone"), email=record.customer.get("email"))


def enabled_channels(retailer_id: str) -> Mapping[str, frozenset[str]] | None:
    """The retailer's channel choice per kind, from the cached profile (the webhook already read it)."""
    from .retailer_profile import notification_settings

    retailer = retailer_store.get(retailer_id)
    return notification_settings(retailer).channels if retailer else None


def write_deadline() -> float:
    """When a request's write budget ends (time.monotonic); one per request, shared by all its writes."""
    return time.monotonic() + WRITE_BUDGET_SECONDS


def with_retries(operation: Callable[[], T], deadline: float | None = None) -> T:
    """Optimistic concurrency: re-read and re-apply when another writer won the version race (or held an item in a
    transaction), with jittered exponential backoff, until the request's write budget (`deadline`) is spent. Then
    503 with Retry-After: an answer carriers retry, where a 409 is one many treat as final."""
    deadline = write_deadline() if deadline is None else deadline
    attempt = 0
    while True:
        try:
            return operation()
        except VersionConflict:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # Full jitter, exponential: n writers racing on one shipment finish in about n rounds.
            pause = random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.005 * 2**attempt))  # noqa: S311
            time.sleep(min(pause, left))
            attempt += 1
    metric("WriteBudgetSpent")
    raise Busy(
        "the shipment is being updated by many writers at once; retry shortly",
        retry_after=BUSY_RETRY_AFTER_SECONDS,
        code="write_conflict",
    )


def open_generation(head: ShipmentRecord, start: str, now: datetime, *, via: str) -> None:
    """Record on the number's first shipment that a new parcel's scans begin at `start` (domain.generations)."""
    stamp = iso(now)
    opened = replace(
        head, generation_starts=(*head.generation_starts, start), version=head.version + 1, updated_at=stamp
    )
    shipment_store.save(head, opened, now=stamp)
    metric("RecycledNumbers", via=via, carrier=head.carrier)


@dataclass(frozen=True)
class Registration:
    record: ShipmentRecord
    created: bool


def register(retailer_id: str, request: dict[str, Any], now: datetime) -> Registration:
    """Create, claim (scans got here first) or return the existing shipment for this carrier + tracking number.

    A different order on a parcel that has finished means the carrier recycled the number: a new shipment starts.
    """
    carrier = normalise_carrier(request["carrier"])
    tracking_number = normalise_tracking_number(request["tracking_number"])
    stamp = iso(now)
    details = {
        "order_id": request["order_id"],
        "customer": request["customer"],
        "destination": request.get("destination"),
        "items": request.get("items"),
        "promised_date": request.get("promised_date"),
    }

    def id_of(generation: int) -> str:
        return shipment_id_for(retailer_id, carrier, tracking_number, generation)

    def registered_earlier(head: ShipmentRecord, generations: int) -> ShipmentRecord | None:
        """This order on an earlier parcel of a recycled number (a backfill re-sending old orders)."""
        for generation in range(generations):
            record = shipment_store.get(id_of(generation)) if generation else head
            if record is not None and record.claimed and record.order_id == details["order_id"]:
                return record
        return None

    def attempt() -> Registration:
        head = shipment_store.get(id_of(0))
        generation = len(head.generation_starts) if head else 0
        existing = shipment_store.get(id_of(generation)) if generation else head
        if existing is None:
            record = ShipmentRecord(
                id=id_of(generation),
                retailer_id=retailer_id,
                carrier=carrier,
                tracking_number=tracking_number,
                tracking_token=new_tracking_token(),
                created_at=stamp,
                updated_at=stamp,
                claimed=True,
                version=1,
                generation=generation,
                **details,
            )
            record, checks = with_check(record, [], now)
            shipment_store.save(None, record, intents=checks, now=stamp)
            stats.count(retailer_id, now, {"registered": 1, f"carrier:{carrier}:registered": 1})
            return Registration(record, created=True)
        if existing.claimed:
            if existing.order_id == details["order_id"]:
                return Registration(existing, created=False)
            assert head is not None  # a parcel exists, so the first one does
            earlier = registered_earlier(head, generation)
            if earlier is not None:
                return Registration(earlier, created=False)
            if not reused_for_order(existing.progress, existing.order_id, details["order_id"]):
                return Registration(existing, created=False)  # one parcel, several orders: the first one's
            open_generation(head, start_after(existing.progress), now, via="registration")
            return attempt()  # the new parcel has no shipment yet: the first branch creates it
        claimed = replace(existing, claimed=True, version=existing.version + 1, updated_at=stamp, **details)
        contact = contact_of(claimed)
        intents = (
            plan_on_claim(claimed.progress, claimed.notified, contact, enabled=enabled_channels(retailer_id))
            if contact
            else []
        )
        claimed = replace(claimed, notified=claimed.notified | {i.kind for i in intents})
        claimed, intents = with_check(claimed, intents, now)
        shipment_store.save(existing, claimed, intents=intents, now=stamp)
        stats.count(retailer_id, now, {"registered": 1, f"carrier:{carrier}:registered": 1})
        return Registration(claimed, created=True)

    return with_retries(attempt)


def registration_warnings(body: dict[str, Any]) -> list[str]:
    """What registration accepted but will not honour as asked: a locale without messages of its own (the
    retailer's default language is used instead, said here rather than silently)."""
    from ..web.templating import LOCALES

    locale = (body.get("customer") or {}).get("locale")
    if isinstance(locale, str) and locale and locale.split("-")[0].lower() not in LOCALES:
        supported = ", ".join(LOCALES)
        return [
            f"customer.locale {locale!r} has no messages: the retailer's default language is used "
            f"(supported: {supported})"
        ]
    return []


def register_many(
    retailer_id: str, entries: list[Any], parse: Callable[[Any], dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """Each entry parsed and registered on its own: its outcome is 201, 200 (already registered) or its error."""
    from ..errors import PorchlightError

    results: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        try:
            registration = register(retailer_id, parse(entry), now)
        except PorchlightError as error:
            failure = {"code": error.code, "message": error.message, **({"field": error.field} if error.field else {})}
            results.append({"index": index, "status": error.status, "error": failure})
            continue
        status = 201 if registration.created else 200
        warnings = registration_warnings(entry if isinstance(entry, dict) else {})
        results.append(
            {
                "index": index,
                "status": status,
                "shipment": summary(registration.record),
                **({"warnings": warnings} if warnings else {}),
            }
        )
    created = sum(1 for result in results if result["status"] == 201)
    existing = sum(1 for result in results if result["status"] == 200)
    return {"created": created, "existing": existing, "failed": len(results) - created - existing, "results": results}


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
        "driver": progress.driver,
        "proof_of_delivery": progress.proof_of_delivery,
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
    }


def list_in_status(retailer_id: str, status: str, cursor: str | None, limit: int) -> dict[str, Any]:
    """A page of the retailer's shipments now in one status (say, every failed attempt), latest arrivals first."""
    from .paging import decode_cursor, encode_cursor

    check_status(status)
    start = decode_cursor(cursor, shipment_store.listing(retailer_id, status))
    records, end = shipment_store.list_by_status(retailer_id, status, start, limit)
    return {"shipments": [summary(record) for record in records], "next_cursor": encode_cursor(end)}


#: Where a parcel waits on someone: the shopper or support should act (re-delivery, a carrier problem, a refund).
NEEDS_ATTENTION = (ms.ATTEMPT_FAILED, ms.EXCEPTION, ms.RETURNED)


def needing_attention(retailer_id: str, per_status: int = 10) -> list[dict[str, Any]]:
    """The latest shipments in each status that calls for action: one bounded query and batch read per status."""
    found: list[dict[str, Any]] = []
    for status in NEEDS_ATTENTION:
        records, _ = shipment_store.list_by_status(retailer_id, status, None, per_status)
        found += [summary(record) for record in records]
    return sorted(found, key=lambda shipment: shipment["last_event_at"] or "", reverse=True)


def changed_since(retailer_id: str, since: datetime, cursor: str | None, limit: int) -> dict[str, Any]:
    """The sync feed: registered shipments whose status changed at or after `since`, oldest change first.

    Each shipment appears once, at its latest change. The index lags writes by a moment, so a poller resumes from a
    little before `latest_change_at` (a minute is plenty) and treats a shipment seen twice as an update.
    """
    from .paging import decode_cursor, encode_cursor

    start = decode_cursor(cursor, shipment_store.changes_listing(retailer_id))
    found, end = shipment_store.list_changed_since(retailer_id, iso(since), start, limit)
    shipments = [{**summary(record), "status_changed_at": changed_at} for record, changed_at in found]
    return {
        "shipments": shipments,
        "next_cursor": encode_cursor(end),
        "latest_change_at": shipments[-1]["status_changed_at"] if shipments else None,
    }


def check_status(status: str) -> None:
    if status not in ms.MILESTONES:
        raise ValidationError(f"unknown status {status!r}; use one of: {', '.join(ms.MILESTONES)}", field="status")


def find(
    retailer_id: str, tracking_number: str, carrier: str | None, status: str | None = None
) -> list[dict[str, Any]]:
    """Every shipment with this tracking number (carriers reuse numbers), newest first, optionally narrowed."""
    records = shipment_store.find_by_tracking_number(retailer_id, normalise_tracking_number(tracking_number))
    records.sort(
        key=lambda record: (record.created_at, record.generation), reverse=True
    )  # a recycled number's newest first
    if carrier:
        records = [r for r in records if r.carrier == normalise_carrier(carrier)]
    if status:
        check_status(status)
        records = [r for r in records if r.progress.status == status]
    return [summary(record) for record in records if record.retailer_id == retailer_id and not placeholder(record)]


def find_by_order(retailer_id: str, order_id: str, status: str | None = None) -> list[dict[str, Any]]:
    """Every shipment registered for an order (one order may ship in several parcels), newest first."""
    if status:
        check_status(status)
    records = shipment_store.get_many(shipment_store.order_shipment_ids(retailer_id, order_id))
    records.sort(key=lambda record: record.created_at, reverse=True)
    return [
        summary(record)
        for record in records
        if record.retailer_id == retailer_id and record.claimed and (not status or record.progress.status == status)
    ]


def placeholder(record: ShipmentRecord) -> bool:
    """What erasure leaves of a recycled number's first parcel: where later scans go, and no shipment to show."""
    return not record.claimed and not record.event_count and bool(record.generation_starts)


def _owned(retailer_id: str, shipment_id: str) -> ShipmentRecord:
    record = shipment_store.get(shipment_id)
    if record is None or record.retailer_id != retailer_id:
        raise NotFound(f"no shipment {shipment_id!r}", field="id")
    return record


def with_changes(record: ShipmentRecord, changes: Mapping[str, Any]) -> ShipmentRecord:
    """The record with a PATCH applied: named fields replace, `null` clears, customer fields merge one by one, and
    `destination`, an address, is replaced whole.

    SMS consent belongs to a phone number, so a new number starts without it unless the same change grants it.
    """
    customer = dict(record.customer or {})
    customer_changes = changes.get("customer") or {}
    new_phone = customer_changes.get("phone", customer.get("phone"))
    if new_phone != customer.get("phone") and "sms_consent" not in customer_changes:
        customer["sms_consent"] = False
    for name, value in customer_changes.items():
        if value is None:
            customer.pop(name, None)
        else:
            customer[name] = value
    details = {name: changes[name] for name in ("order_id", "destination", "items", "promised_date") if name in changes}
    if details.get("destination") is not None:
        # An address is one value (a new line1 with the old city would be a third address): it is replaced whole,
        # and a line sent as null is simply absent. Empty means no destination.
        details["destination"] = {key: value for key, value in details["destination"].items() if value is not None}
        details["destination"] = details["destination"] or None
    return replace(record, customer=customer, **details)


def update_details(retailer_id: str, shipment_id: str, changes: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Correct a registered shipment (a new phone, a later promised date...); an unchanged request writes nothing."""

    def attempt() -> None:
        record = _owned(retailer_id, shipment_id)
        if not record.claimed:
            raise Conflict("register this shipment before changing it", field="id", code="not_registered")
        changed = with_changes(record, changes)
        if changed != record:
            after, checks = with_check(replace(changed, version=record.version + 1, updated_at=iso(now)), [], now)
            shipment_store.save(record, after, intents=checks, now=iso(now))

    with_retries(attempt)
    return detail(retailer_id, shipment_id)


def cancel(retailer_id: str, shipment_id: str, reason: str | None, now: datetime) -> dict[str, Any]:
    """The retailer cancels the order: recorded as a scan, so pending texts become superseded and chat closes.

    Cancelling twice is harmless; a shipment that already arrived or went back cannot be cancelled.
    """
    from ..domain.events import TrackingEvent, fingerprint
    from .ingest import ingest_for_shipment

    record = _owned(retailer_id, shipment_id)
    status = record.progress.status
    final = {ms.DELIVERED: "arrived", ms.RETURNED: "been returned"}.get(status)
    if final:
        raise Conflict(f"the shipment has already {final}; it cannot be cancelled", field="id", code="not_cancellable")
    if status != ms.CANCELLED:
        event = TrackingEvent(
            source=RETAILER_SOURCE,
            carrier=record.carrier,
            tracking_number=record.tracking_number,
            status=ms.CANCELLED,
            occurred_at=now,
            fingerprint=fingerprint("retailer-cancel", shipment_id, iso(now)),
            description=reason or "Cancelled by the retailer",
        )
        ingest_for_shipment(record, [event], now)
    return detail(retailer_id, shipment_id)


def assign_driver(retailer_id: str, shipment_id: str, driver: dict[str, str], now: datetime) -> dict[str, Any]:
    from ..domain.events import TrackingEvent, fingerprint
    from ..domain.milestones import UNKNOWN
    from .ingest import ingest_for_shipment

    record = _owned(retailer_id, shipment_id)
    event = TrackingEvent(
        source=RETAILER_SOURCE,
        carrier=record.carrier,
        tracking_number=record.tracking_number,
        status=UNKNOWN,
        occurred_at=now,
        fingerprint=fingerprint("retailer-driver", shipment_id, iso(now), driver["phone"]),
        description="Driver assigned",
        driver={"name": driver["name"], "phone": driver["phone"]},
    )
    ingest_for_shipment(record, [event], now)
    return detail(retailer_id, shipment_id)
