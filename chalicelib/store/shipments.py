"""Shipments: one STATE item per shipment, its EVENT items and its OUTBOX items, in one partition."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from msgspec import Struct, field
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.events import TrackingEvent, iso
from ..domain.live import StoredPosition
from ..domain.lookup import contact_digests, normalise_order_id
from ..domain.notifications import Intent
from ..domain.shipment import Progress
from . import listings
from .models import LivePosition, OrderEntry, RetailerListing, ShipmentEvent, ShipmentState, TableItem, ttl
from .notifications import OutboxItem, OutboxKey, item_from, outbox_model
from .table import GSI_TOKEN, GSI_TRACKING, dumps, from_item, index_page, rows, table_connection, to_item

MAX_TRANSACTION_ITEMS = 100


class VersionConflict(Exception):
    """Another writer changed the shipment since we read it: read again and re-apply."""


class ShipmentRecord(Struct, frozen=True):
    id: str
    retailer_id: str
    carrier: str
    tracking_number: str
    tracking_token: str
    created_at: str
    updated_at: str
    claimed: bool = False
    version: int = 0
    order_id: str | None = None
    customer: dict[str, Any] | None = None
    destination: dict[str, Any] | None = None
    items: list[dict[str, Any]] | None = None
    promised_date: str | None = None
    #: The retailer's service level ("ground", "express") and where the parcel left from ({"country", "region"}):
    #: optional, for promise accuracy per carrier/service and per lane (domain.promise).
    service: str | None = None
    origin: dict[str, Any] | None = None
    progress: Progress = field(default_factory=Progress)
    notified: frozenset[str] = frozenset()
    event_count: int = 0
    #: What the shopper chose on the tracking page: {"notify": "sms"|"email"|"none", "instructions": str}.
    shopper: dict[str, Any] = field(default_factory=dict)
    #: Which parcel of a recycled tracking number this is (domain.generations); 0 for the first.
    generation: int = 0
    #: Kept on generation 0 only: when each later generation starts (canonical UTC text, ascending).
    generation_starts: tuple[str, ...] = ()
    #: `return` for a parcel the shopper sends back (domain.returns, D48); its outbound shipment's id, if given;
    #: and on an outbound shipment, the ids of the returns registered for it.
    direction: str = "outbound"
    outbound_id: str | None = None
    return_ids: tuple[str, ...] = ()
    #: The shopper's delivery-change requests, oldest first (domain.delivery_changes; at most one open).
    delivery_changes: tuple[dict[str, Any], ...] = ()
    #: The windows and pickup points the carrier last offered for this parcel (a native event's `delivery_options`).
    change_options: dict[str, Any] | None = None

    @property
    def is_return(self) -> bool:
        return self.direction == "return"

    def doc(self) -> dict[str, Any]:
        recycled: dict[str, Any] = {"generation": self.generation} if self.generation else {}
        if self.generation_starts:
            recycled["generation_starts"] = list(self.generation_starts)
        # Only when set: an ordinary outbound shipment's item stays the size it was.
        linked: dict[str, Any] = {"direction": self.direction} if self.is_return else {}
        if self.outbound_id:
            linked["outbound_id"] = self.outbound_id
        if self.return_ids:
            linked["return_ids"] = list(self.return_ids)
        if self.delivery_changes:
            recycled["delivery_changes"] = list(self.delivery_changes)
        if self.change_options:
            recycled["change_options"] = self.change_options
        return {
            **recycled,
            **linked,
            "order_id": self.order_id,
            "customer": self.customer,
            "destination": self.destination,
            "items": self.items,
            "promised_date": self.promised_date,
            **({"service": self.service} if self.service else {}),
            **({"origin": self.origin} if self.origin else {}),
            "progress": self.progress.to_dict(),
            "notified": sorted(self.notified),
            "event_count": self.event_count,
            "shopper": self.shopper,
        }


def state_key(shipment_id: str) -> dict[str, Any]:
    """The key of a shipment's state item (also for batch reads that fetch it beside other items)."""
    return to_item({"pk": f"SHIP#{shipment_id}", "sk": "STATE"})


def record_from(data: dict[str, Any]) -> ShipmentRecord:
    """The record a deserialised STATE item (or a `ShipmentState`'s attribute values) holds."""
    doc = json.loads(data["doc"])
    return ShipmentRecord(
        id=data["pk"].removeprefix("SHIP#"),
        retailer_id=data["retailer_id"],
        carrier=data["carrier"],
        tracking_number=data["tracking_number"],
        tracking_token=data["tracking_token"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        claimed=bool(data.get("claimed")),
        version=int(data["version"]),
        order_id=doc.get("order_id"),
        customer=doc.get("customer"),
        destination=doc.get("destination"),
        items=doc.get("items"),
        promised_date=doc.get("promised_date"),
        service=doc.get("service"),
        origin=doc.get("origin"),
        progress=Progress.from_dict(doc.get("progress")),
        notified=frozenset(doc.get("notified", ())),
        event_count=int(doc.get("event_count", 0)),
        shopper=doc.get("shopper") or {},
        generation=int(doc.get("generation", 0)),
        generation_starts=tuple(doc.get("generation_starts", ())),
        direction=doc.get("direction", "outbound"),
        outbound_id=doc.get("outbound_id"),
        return_ids=tuple(doc.get("return_ids", ())),
        delivery_changes=tuple(doc.get("delivery_changes", ())),
        change_options=doc.get("change_options"),
    )


def _state_model(before: ShipmentRecord | None, record: ShipmentRecord) -> ShipmentState:
    """The STATE item of `record`, carrying the version read before (none for a new shipment): saving it checks
    that version and writes the next, `record.version`."""
    expected = before.version if before is not None else None
    if record.version != (expected or 0) + 1:
        raise ValueError(f"shipment {record.id}: version {record.version} does not follow {expected}")
    state = ShipmentState(
        f"SHIP#{record.id}",
        "STATE",
        retailer_id=record.retailer_id,
        carrier=record.carrier,
        tracking_number=record.tracking_number,
        tracking_lookup=f"{record.retailer_id}#{record.tracking_number}",
        tracking_token=record.tracking_token,
        status=record.progress.status,
        claimed=record.claimed,
        created_at=record.created_at,
        updated_at=record.updated_at,
        doc=dumps(record.doc()),
        expires_at=ttl(record.updated_at),  # every change keeps an active shipment alive
    )
    if expected is not None:
        state.version = expected
    return state


def _record(state: ShipmentState) -> ShipmentRecord:
    return record_from(state.attribute_values)


def get(shipment_id: str) -> ShipmentRecord | None:
    try:
        return _record(ShipmentState.get(f"SHIP#{shipment_id}", "STATE", consistent_read=True))
    except DoesNotExist:
        return None


def get_with_history(shipment_id: str) -> tuple[ShipmentRecord | None, list[TrackingEvent], list[OutboxItem]]:
    """The whole partition in one strongly consistent query (paged for very long histories)."""
    record: ShipmentRecord | None = None
    events: list[TrackingEvent] = []
    outbox: list[OutboxItem] = []
    for raw in rows(f"SHIP#{shipment_id}", consistent_read=True):
        sk = raw["sk"]["S"]
        if sk == "STATE":
            record = _record(ShipmentState.from_raw_data(raw))
        elif sk.startswith("EVENT#"):
            events.append(TrackingEvent.from_dict(json.loads(ShipmentEvent.from_raw_data(raw).doc)))
        elif sk.startswith("OUTBOX#"):
            outbox.append(item_from(from_item(raw)))
    events.sort(key=TrackingEvent.sort_key)
    return record, events, outbox


def find_by_tracking_number(retailer_id: str, tracking_number: str) -> list[ShipmentRecord]:
    """Every parcel with this number (each carrier, each generation). The index also holds each one's LIVE
    position item (store.live), which is left out here."""
    return [
        record_from(ShipmentState.from_raw_data(raw).attribute_values)
        for raw in rows(f"{retailer_id}#{tracking_number}", index=GSI_TRACKING)
        if raw["sk"]["S"] == "STATE"
    ]


class TrackedShipment(Struct, frozen=True):
    """Everything the shopper's page shows, as one `by_token` query returns it."""

    record: ShipmentRecord | None
    events: list[TrackingEvent]
    chat: list[OutboxItem]
    relay_open: bool
    survey: dict[str, Any] | None = None
    #: The driver's newest position (sk LIVE, store.live), which carries the token too.
    position: StoredPosition | None = None


def find_by_token(token: str) -> TrackedShipment:
    """The shopper's page in ONE query: state, scans, chat messages and relay session all carry the token."""
    record: ShipmentRecord | None = None
    events: list[TrackingEvent] = []
    chat: list[OutboxItem] = []
    relay = False
    survey: dict[str, Any] | None = None
    position: StoredPosition | None = None
    for raw in rows(token, index=GSI_TOKEN):
        sk = raw["sk"]["S"]
        if sk == "STATE":
            record = _record(ShipmentState.from_raw_data(raw))
        elif sk.startswith("EVENT#"):
            events.append(TrackingEvent.from_dict(json.loads(ShipmentEvent.from_raw_data(raw).doc)))
        elif sk.startswith("OUTBOX#chat:"):
            chat.append(item_from(from_item(raw)))
        elif sk == "RELAY":
            relay = True
        elif sk == "SURVEY":
            survey = from_item(raw)
        elif sk == "LIVE":
            position = stored_position(LivePosition.from_raw_data(raw).attribute_values)
    events.sort(key=TrackingEvent.sort_key)
    chat.sort(key=lambda item: item.key.kind)
    return TrackedShipment(record, events, chat, relay, survey, position)


def stored_position(values: dict[str, Any]) -> StoredPosition:
    """The position a LIVE item's attribute values hold."""
    return StoredPosition(
        lat=float(values["lat"]),
        lng=float(values["lng"]),
        recorded_at=datetime.fromisoformat(values["recorded_at"]),
        stops_before=int(values["stops_before"]) if values.get("stops_before") is not None else None,
        eta=json.loads(values["eta"]) if values.get("eta") else None,
        close_notified=bool(values.get("close_notified")),
    )


def listing(retailer_id: str, status: str) -> str:
    """The `by_retailer` listing of a retailer's registered shipments in one status (sharded: store.listings)."""
    return f"SHIPMENTS#{retailer_id}#{status}"


def _listing_entry(record: ShipmentRecord, now: str) -> RetailerListing:
    """The shipment's entry in its status listing, sorted by when it got there; rewritten when the status changes."""
    since = record.progress.status_at or record.created_at
    return RetailerListing(
        f"SHIP#{record.id}",
        "LISTING",
        retailer_id=record.retailer_id,
        retailer_index=listings.shard_key(listing(record.retailer_id, record.progress.status), record.id),
        retailer_sort=f"{since}#{record.id}",
        expires_at=ttl(now or record.updated_at),
    )


def changes_listing(retailer_id: str) -> str:
    """The `by_retailer` listing of a retailer's status changes, by when we recorded them (the sync feed; sharded)."""
    return f"SHIPMENTS#{retailer_id}#changes"


def _changes_entry(record: ShipmentRecord, now: str) -> RetailerListing:
    """The shipment's place in the change feed: moved to the end whenever its status changes (one item, rewritten)."""
    changed_at = now or record.updated_at
    return RetailerListing(
        f"SHIP#{record.id}",
        "CHANGES",
        retailer_id=record.retailer_id,
        retailer_index=listings.shard_key(changes_listing(record.retailer_id), record.id),
        retailer_sort=f"{changed_at}#{record.id}",
        expires_at=ttl(changed_at),
    )


def open_changes_listing(retailer_id: str) -> str:
    """The `by_retailer` partition of a retailer's delivery-change requests awaiting an answer (sparse: written when
    a request goes to the retailer, deleted when it is answered, in the shipment's own transaction)."""
    return f"SHIPMENTS#{retailer_id}#change_open"


def _open_change_id(record: ShipmentRecord | None) -> str | None:
    if record is None or not record.delivery_changes:
        return None
    last = record.delivery_changes[-1]
    return str(last["id"]) if last.get("status") == "pending" else None


def _open_change_writes(before: ShipmentRecord | None, after: ShipmentRecord, now: str) -> list[Write]:
    """Keep the open-request entry in step with the shipment's last request (nothing for an ordinary scan)."""
    old, new = _open_change_id(before), _open_change_id(after)
    if old == new:
        return []
    if new is None:
        return [("delete", RetailerListing(f"SHIP#{after.id}", "CHANGE_OPEN"), None)]
    requested = str(after.delivery_changes[-1].get("requested_at") or now)
    entry = RetailerListing(
        f"SHIP#{after.id}",
        "CHANGE_OPEN",
        retailer_id=after.retailer_id,
        retailer_index=open_changes_listing(after.retailer_id),
        retailer_sort=f"{requested}#{after.id}",
        expires_at=ttl(now or after.updated_at),
    )
    return [("save", entry, None)]


def list_open_changes(
    retailer_id: str, start: dict[str, Any] | None, limit: int
) -> tuple[list[ShipmentRecord], dict[str, Any] | None]:
    """Shipments with a delivery-change request awaiting an answer, oldest request first: one index query and one
    batch read per page (an entry the index still shows after its answer is left out)."""
    entries, end = index_page(open_changes_listing(retailer_id), start, limit)
    records = get_many([entry["pk"].removeprefix("SHIP#") for entry in entries])
    return [r for r in records if r.retailer_id == retailer_id and _open_change_id(r)], end


def list_changed_since(
    retailer_id: str, since: str, after: str | None, limit: int
) -> tuple[list[tuple[ShipmentRecord, str]], str | None]:
    """Registered shipments whose status changed at or after `since` (canonical UTC text), oldest change first,
    each with the time of its latest change, from after the sort key `after` on: one query per listing partition
    and one batch read per page; and where the next page starts."""
    entries, end = listings.page(changes_listing(retailer_id), after, limit, since=since)
    changed = {entry["pk"].removeprefix("SHIP#"): entry["retailer_sort"].rpartition("#")[0] for entry in entries}
    records = get_many(list(changed))
    return [(r, changed[r.id]) for r in records if r.retailer_id == retailer_id and r.claimed], end


def list_by_status(
    retailer_id: str, status: str, after: str | None, limit: int
) -> tuple[list[ShipmentRecord], str | None]:
    """Registered shipments now in `status`, latest arrivals first, from after the sort key `after` on: one query
    per listing partition and one batch read per page; and where the next page starts.

    The index lags the table by a moment, so a shipment that has just moved on is left out of this page.
    """
    entries, end = listings.page(listing(retailer_id, status), after, limit, newest_first=True)
    records = get_many([entry["pk"].removeprefix("SHIP#") for entry in entries])
    return [r for r in records if r.retailer_id == retailer_id and r.claimed and r.progress.status == status], end


def order_pk(retailer_id: str, order_id: str) -> str:
    """The partition of one order's lookup entries (one per shipment)."""
    return f"ORDER#{retailer_id}#{normalise_order_id(order_id)}"


def _order_entry(record: ShipmentRecord | None) -> tuple[str, frozenset[str]] | None:
    """Where and how a registered shipment is found by order number, or None when it is not (yet) findable."""
    if record is None or not record.claimed or not record.order_id:
        return None
    customer = record.customer or {}
    digests = contact_digests(record.retailer_id, customer.get("email"), customer.get("phone"))
    return order_pk(record.retailer_id, record.order_id), digests


#: One write of a shipment transaction: save (put) or delete the item, under an optional condition.
Write = tuple[str, Model, Any]


def _order_writes(before: ShipmentRecord | None, after: ShipmentRecord, now: str) -> list[Write]:
    """Keep the order-number lookup entry in step: written when registered, moved when the order or contact changes."""
    old, new = _order_entry(before), _order_entry(after)
    if old == new:
        return []
    writes: list[Write] = []
    if old is not None and (new is None or old[0] != new[0]):
        writes.append(("delete", OrderEntry(old[0], f"SHIP#{after.id}"), None))
    if new is not None:
        entry = OrderEntry(
            new[0],
            f"SHIP#{after.id}",
            tracking_token=after.tracking_token,
            created_at=after.created_at,
            contacts=set(new[1]) or None,
            expires_at=ttl(now or after.updated_at),
        )
        writes.append(("save", entry, None))
    return writes


def order_entries(retailer_id: str, order_id: str) -> list[tuple[str, str, frozenset[str]]]:
    """One order's lookup entries (shipment id, tracking token, contact digests), in one query of its partition."""
    return [
        (entry.sk.removeprefix("SHIP#"), entry.tracking_token, frozenset(entry.contacts or ()))
        for entry in OrderEntry.query(
            order_pk(retailer_id, order_id), OrderEntry.sk.startswith("SHIP#"), consistent_read=True
        )
    ]


def order_shipment_ids(retailer_id: str, order_id: str) -> list[str]:
    """The registered shipments of one order, from its lookup entries (one query)."""
    return [
        entry.sk.removeprefix("SHIP#")
        for entry in OrderEntry.query(
            order_pk(retailer_id, order_id), OrderEntry.sk.startswith("SHIP#"), attributes_to_get=["sk"]
        )
    ]


def get_many(shipment_ids: Sequence[str]) -> list[ShipmentRecord]:
    """The state of several shipments in one batch read (order kept, missing ones left out)."""
    found = {
        state.pk.removeprefix("SHIP#"): _record(state)
        for state in ShipmentState.batch_get([(f"SHIP#{shipment_id}", "STATE") for shipment_id in shipment_ids])
    }
    return [found[i] for i in shipment_ids if i in found]


def save(
    before: ShipmentRecord | None,
    after: ShipmentRecord,
    events: Sequence[TrackingEvent] = (),
    intents: Sequence[Intent] = (),
    now: str = "",
) -> None:
    """Write state, new events and outbox items in ONE transaction, conditional on the version we read.

    `after.version` must be `before.version + 1` (or 1 for a new shipment): the state's VersionAttribute checks
    the one and writes the other. Raises VersionConflict when another writer got there first; nothing is written
    then.
    """
    writes = _writes(before, after, events, intents, now)
    if len(writes) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"transaction of {len(writes)} items exceeds {MAX_TRANSACTION_ITEMS}")
    try:
        with TransactWrite(connection=table_connection().connection, return_consumed_capacity="TOTAL") as write:
            for operation, item, condition in writes:
                if operation == "delete":
                    write.delete(item, condition)
                else:
                    write.save(item, condition)
    except TransactWriteError as exc:
        reasons = [reason.code for reason in exc.cancellation_reasons if reason is not None]
        # Another writer won the version race, or (TransactionConflict) another transaction held one of the items
        # while ours ran: either way nothing was written and reading again and re-applying is safe.
        if "ConditionalCheckFailed" in reasons or "TransactionConflict" in reasons:
            raise VersionConflict(after.id) from exc
        raise


def items_besides_events(before: ShipmentRecord | None, after: ShipmentRecord, intents: Sequence[Intent]) -> int:
    """At most how many items a transaction from `before` to `after` holds besides its events: the state, the
    status listing and change-feed entries (counted whenever the shipment is registered, as any scan may move its
    status), the order-lookup writes and one outbox item per intent. `transaction_items` never holds more."""
    listing = 2 if after.claimed else 0
    changes = len(_open_change_writes(before, after, after.updated_at))
    return 1 + listing + len(_order_writes(before, after, after.updated_at)) + changes + len(intents)


def transaction_items(
    before: ShipmentRecord | None,
    after: ShipmentRecord,
    events: Sequence[TrackingEvent] = (),
    intents: Sequence[Intent] = (),
    now: str = "",
) -> list[dict[str, Any]]:
    """The items of `save`'s transaction as DynamoDB receives them (deletes first, then puts, the state first)."""
    built: dict[str, list[dict[str, Any]]] = {"delete": [], "save": []}
    for operation, item, condition in _writes(before, after, events, intents, now):
        if operation == "delete":
            built["delete"].append({"Delete": item.get_delete_kwargs_from_instance(condition=condition)})
        else:
            built["save"].append({"Put": item.get_save_kwargs_from_instance(condition=condition)})
    return built["delete"] + built["save"]


def _writes(
    before: ShipmentRecord | None,
    after: ShipmentRecord,
    events: Sequence[TrackingEvent] = (),
    intents: Sequence[Intent] = (),
    now: str = "",
) -> list[Write]:
    """The writes of one shipment transaction, in order (the state first)."""
    writes: list[Write] = [("save", _state_model(before, after), None)]
    if after.claimed and (before is None or not before.claimed or before.progress.status != after.progress.status):
        writes.append(("save", _listing_entry(after, now), None))
        writes.append(("save", _changes_entry(after, now), None))
    writes += _order_writes(before, after, now)
    writes += _open_change_writes(before, after, now)
    for event in events:
        scan = ShipmentEvent(
            f"SHIP#{after.id}",
            f"EVENT#{iso(event.occurred_at)}#{event.fingerprint}",
            doc=dumps(event.to_dict()),
            received_at=now,
            tracking_token=after.tracking_token,
            expires_at=ttl(now),
        )
        writes.append(("save", scan, None))
    for intent in intents:
        key = OutboxKey(after.id, intent.kind, intent.channel)
        outbox = outbox_model(after.retailer_id, key, now, due_at=intent.not_before)
        writes.append(("save", outbox, TableItem.pk.does_not_exist()))
    return writes
