"""Erasing a shopper's data on the retailer's request: everything the shipment left anywhere in the table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import NotFound
from ..store import relay as relay_store
from ..store.table import client, from_item, table_name, to_item


def _query_keys(pk: str, keep: Any = None) -> list[dict[str, Any]]:
    keys = []
    kwargs: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": pk}),
        "ConsistentRead": True,
    }
    while True:
        page = client().query(**kwargs)
        for raw in page.get("Items", []):
            item = from_item(raw)
            if keep is None or keep(item):
                keys.append({"pk": raw["pk"], "sk": raw["sk"], "_item": item})
        if "LastEvaluatedKey" not in page:
            return keys
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _delete(keys: list[dict[str, Any]]) -> int:
    for start in range(0, len(keys), 25):
        requests = [{"DeleteRequest": {"Key": {"pk": k["pk"], "sk": k["sk"]}}} for k in keys[start : start + 25]]
        pending: dict[str, Any] = {table_name(): requests}
        while pending:
            result = client().batch_write_item(RequestItems=pending)
            pending = result.get("UnprocessedItems") or {}
    return len(keys)


def erase_shipment(retailer_id: str, shipment_id: str, now: datetime) -> dict[str, int]:
    """Delete the shipment with its scans, notifications, chat, relay routes, survey and the shopper's texts to us.

    Kept on purpose: opt-out and suppression records (the legal record of a STOP or unsubscribe, which must keep being
    honoured) and the anonymous daily counters.
    """
    partition = _query_keys(f"SHIP#{shipment_id}")
    state = next((k["_item"] for k in partition if k["_item"]["sk"] == "STATE"), None)
    if state is None or state.get("retailer_id") != retailer_id:
        raise NotFound(f"no shipment {shipment_id!r}", field="id")
    import json

    customer = (json.loads(state["doc"]).get("customer") or {}) if state.get("doc") else {}
    phones = {p for p in (customer.get("phone"),) if p}
    session = relay_store.get_session(shipment_id)
    extra: list[dict[str, Any]] = []
    if session is not None:
        for phone in (session.shopper_phone, session.driver_phone):
            if phone:
                extra += _query_keys(
                    relay_store.route_pk(session.relay_number, phone), lambda i: i["sk"] == shipment_id
                )
        phones.add(session.shopper_phone)
    for item in (k["_item"] for k in partition):
        token = item.get("unsubscribe_token")
        if token:
            extra.append({"pk": {"S": f"UNSUB#{token}"}, "sk": {"S": "EMAIL"}, "_item": {}})
    for phone in filter(None, phones):
        extra += _query_keys(f"SURVEYWAIT#{phone}", lambda i: i.get("shipment_id") == shipment_id)
        extra += _query_keys(f"SMSLAST#{phone}", lambda i: i.get("shipment_id") == shipment_id)
        extra += _query_keys(f"INBOUND#{phone}", lambda i: i.get("retailer_id") == retailer_id)
    return {"shipment_items": _delete(partition), "related_items": _delete(extra)}
