"""Registering shipments and reading them back, always within one retailer's data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from ..domain import milestones as ms
from ..domain.events import iso, normalise_carrier, normalise_tracking_number
from ..domain.generations import reused_for_order, start_after
from ..domain.notifications import plan_on_claim
from ..domain.returns import OUTBOUND, RETURN
from ..errors import Conflict, NotFound, PorchlightError, ValidationError
from ..shared import stats
from ..shared.links import new_tracking_token
from ..shared.paging import decode_position, encode_position
from ..shared.planning import contact_of, enabled_channels, open_generation, shipment_id_for, with_check
from ..shared.retries import with_retries
from ..shared.shipment_views import check_status, detail, owned, placeholder, summary
from ..store import shipments as shipment_store
from ..store.shipments import ShipmentRecord


class Registration(Struct, frozen=True):
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
        "service": request.get("service"),
        "origin": request.get("origin"),
    }
    outbound = _outbound_of(retailer_id, request)
    if request.get("direction") == RETURN:
        details["direction"] = RETURN
        details["outbound_id"] = outbound.id if outbound else None
    counted: dict[str, float] = {"returns:registered": 1} if request.get("direction") == RETURN else {"registered": 1}

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
            _count_registration(retailer_id, carrier, counted, now)
            _link_return(outbound, record, now)
            return Registration(record, created=True)
        if existing.claimed:
            if existing.direction != details.get("direction", OUTBOUND) and existing.order_id == details["order_id"]:
                raise Conflict(
                    f"this tracking number is registered as a {existing.direction} shipment",
                    field="direction",
                    code="direction_mismatch",
                )
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
            if contact and not claimed.is_return  # a return's scans before registration tell the shopper nothing
            else []
        )
        claimed = replace(claimed, notified=claimed.notified | {i.kind for i in intents})
        claimed, intents = with_check(claimed, intents, now)
        shipment_store.save(existing, claimed, intents=intents, now=stamp)
        _count_registration(retailer_id, carrier, counted, now)
        _link_return(outbound, claimed, now)
        return Registration(claimed, created=True)

    return with_retries(attempt)


def _count_registration(retailer_id: str, carrier: str, counted: dict[str, float], now: datetime) -> None:
    """Deliveries and returns are counted apart (D48): `registered` or `returns:registered`."""
    name = next(iter(counted))
    stats.count(retailer_id, now, {**counted, f"carrier:{carrier}:{name}": 1})


def _outbound_of(retailer_id: str, request: dict[str, Any]) -> ShipmentRecord | None:
    """The delivery a return names (`outbound_shipment_id`): the retailer's own, registered, and not a return."""
    shipment_id = request.get("outbound_shipment_id")
    if not shipment_id:
        return None
    record = shipment_store.get(shipment_id)
    if record is None or record.retailer_id != retailer_id or not record.claimed:
        raise NotFound(f"no shipment {shipment_id!r}", field="outbound_shipment_id", code="unknown_outbound")
    if record.is_return:
        raise ValidationError(
            "outbound_shipment_id names a return; name the delivery it returns",
            field="outbound_shipment_id",
            code="not_outbound",
        )
    return record


def _link_return(outbound: ShipmentRecord | None, record: ShipmentRecord, now: datetime) -> None:
    """Note the return on its delivery, so each page links to the other (one more write, at registration only)."""
    if outbound is None:
        return

    def attempt() -> None:
        current = shipment_store.get(outbound.id)
        if current is None or record.id in current.return_ids:
            return
        linked = replace(
            current,
            return_ids=(*current.return_ids, record.id),
            version=current.version + 1,
            updated_at=iso(now),
        )
        shipment_store.save(current, linked, now=iso(now))

    with_retries(attempt)


def registration_warnings(body: dict[str, Any]) -> list[str]:
    """What registration accepted but will not honour as asked: a locale without messages of its own (the
    retailer's default language is used instead, said here rather than silently)."""
    # jinja2 (via web.templating): off the webhook path, which imports this module too
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


def list_in_status(retailer_id: str, status: str, cursor: str | None, limit: int) -> dict[str, Any]:
    """A page of the retailer's shipments now in one status (say, every failed attempt), latest arrivals first."""
    check_status(status)
    listing = shipment_store.listing(retailer_id, status)
    records, end = shipment_store.list_by_status(retailer_id, status, decode_position(cursor, listing), limit)
    return {"shipments": [summary(record) for record in records], "next_cursor": encode_position(end, listing)}


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
    listing = shipment_store.changes_listing(retailer_id)
    found, end = shipment_store.list_changed_since(retailer_id, iso(since), decode_position(cursor, listing), limit)
    shipments = [{**summary(record), "status_changed_at": changed_at} for record, changed_at in found]
    return {
        "shipments": shipments,
        "next_cursor": encode_position(end, listing),
        "latest_change_at": shipments[-1]["status_changed_at"] if shipments else None,
    }


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
    named = ("order_id", "destination", "items", "promised_date", "service", "origin")
    details = {name: changes[name] for name in named if name in changes}
    for place in ("destination", "origin"):
        if details.get(place) is not None:
            # An address is one value (a new line1 with the old city would be a third address): it is replaced
            # whole, and a line sent as null is simply absent. Empty means none.
            details[place] = {key: value for key, value in details[place].items() if value is not None} or None
    return replace(record, customer=customer, **details)


def update_details(retailer_id: str, shipment_id: str, changes: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Correct a registered shipment (a new phone, a later promised date...); an unchanged request writes nothing."""

    def attempt() -> None:
        record = owned(retailer_id, shipment_id)
        if not record.claimed:
            raise Conflict("register this shipment before changing it", field="id", code="not_registered")
        changed = with_changes(record, changes)
        if changed != record:
            after, checks = with_check(replace(changed, version=record.version + 1, updated_at=iso(now)), [], now)
            shipment_store.save(record, after, intents=checks, now=iso(now))

    with_retries(attempt)
    return detail(retailer_id, shipment_id)
