"""Erasing a shopper's data on the retailer's request: everything the shipment left anywhere in the table."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..domain.events import iso
from ..errors import NotFound
from ..shared.links import new_tracking_token
from ..store import erasure
from ..store import relay as relay_store
from ..store import shipments as shipment_store
from ..store.shipments import ShipmentRecord


def _keys(pk: str, keep: Callable[[dict[str, Any]], bool] | None = None) -> list[tuple[str, str]]:
    return [(item["pk"], item["sk"]) for item in erasure.partition(pk) if keep is None or keep(item)]


def erase_shipment(retailer_id: str, shipment_id: str, now: datetime) -> dict[str, int]:
    """Delete the shipment with its scans, notifications, chat, relay routes, survey and the shopper's texts to us.

    Kept on purpose: opt-out and suppression records (the legal record of a STOP or unsubscribe, which must keep being
    honoured) and the anonymous daily counters.
    """
    partition = erasure.partition(f"SHIP#{shipment_id}")
    state = next((item for item in partition if item["sk"] == "STATE"), None)
    if state is None or state.get("retailer_id") != retailer_id:
        raise NotFound(f"no shipment {shipment_id!r}", field="id")
    doc = json.loads(state["doc"]) if state.get("doc") else {}
    customer = doc.get("customer") or {}
    phones = {p for p in (customer.get("phone"),) if p}
    session = relay_store.get_session(shipment_id)
    related: list[tuple[str, str]] = []
    if session is not None:
        for phone in (session.shopper_phone, session.driver_phone):
            if phone:
                related += _keys(relay_store.route_pk(session.relay_number, phone), lambda i: i["sk"] == shipment_id)
        phones.add(session.shopper_phone)
    related += [(f"UNSUB#{item['unsubscribe_token']}", "EMAIL") for item in partition if item.get("unsubscribe_token")]
    if doc.get("order_id"):
        related.append((shipment_store.order_pk(retailer_id, doc["order_id"]), f"SHIP#{shipment_id}"))
    for phone in filter(None, phones):
        related += _keys(f"SURVEYWAIT#{phone}", lambda i: i.get("shipment_id") == shipment_id)
        related += _keys(f"SMSLAST#{phone}", lambda i: i.get("shipment_id") == shipment_id)
        related += _keys(f"INBOUND#{phone}", lambda i: i.get("retailer_id") == retailer_id)
    routing = shipment_store.record_from(state) if doc.get("generation_starts") else None
    erased = {
        "shipment_items": erasure.delete((item["pk"], item["sk"]) for item in partition),
        "related_items": erasure.delete(related),
    }
    if routing is not None:
        _keep_routing(routing, now)
    return erased


def _keep_routing(record: ShipmentRecord, now: datetime) -> None:
    """The first parcel of a recycled number also says where later scans go: leave that, and nothing personal."""
    stub = ShipmentRecord(
        id=record.id,
        retailer_id=record.retailer_id,
        carrier=record.carrier,
        tracking_number=record.tracking_number,
        tracking_token=new_tracking_token(),
        created_at=record.created_at,
        updated_at=iso(now),
        version=1,
        generation_starts=record.generation_starts,
    )
    shipment_store.save(None, stub, now=iso(now))
