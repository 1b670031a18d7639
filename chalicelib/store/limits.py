"""Hourly attempt counters for guess-bounded public lookups (D25): one item per scope and hour, removed by TTL.

A lookup first takes an attempt in each scope with an atomic `ADD ... ReturnValues=UPDATED_NEW` and is decided on the
values returned, so concurrent lookups cannot all read "under the limit" and then all go through; an attempt that
turns out a hit or a refusal gives its count back. Separate UpdateItems rather than one transaction, because a busy
store's counter is hot under attack and concurrent transactions on one item cancel each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .shipments import ShipmentRecord, record_from, state_key
from .table import TTL_ATTRIBUTE, client, from_item, table_name, to_item

BATCH_GET_LIMIT = 100


def _counter_key(scope: str, subject: str, window: str) -> dict[str, Any]:
    return to_item({"pk": f"LIMIT#{scope}#{subject}", "sk": f"LOOKUP#{window}"})


def take_attempt(subjects: Mapping[str, str], window: str, expires_at: int) -> dict[str, int]:
    """One more attempt in each scope's counter for this hour; the counts after it, per scope (atomic ADD)."""
    return {scope: _add(scope, subject, window, 1, expires_at) for scope, subject in subjects.items()}


def give_back(subjects: Mapping[str, str], window: str, expires_at: int) -> None:
    """Undo `take_attempt` (a lookup that found its order, or one refused): only misses stay counted."""
    for scope, subject in subjects.items():
        _add(scope, subject, window, -1, expires_at)


def _add(scope: str, subject: str, window: str, amount: int, expires_at: int) -> int:
    answer = client().update_item(
        TableName=table_name(),
        Key=_counter_key(scope, subject, window),
        UpdateExpression="ADD #count :amount SET #ttl = :ttl",
        ExpressionAttributeNames={"#count": "count", "#ttl": TTL_ATTRIBUTE},
        ExpressionAttributeValues=to_item({":amount": amount, ":ttl": expires_at}),
        ReturnValues="UPDATED_NEW",
    )
    return int(from_item(answer["Attributes"])["count"])


def states(shipment_ids: Sequence[str]) -> list[ShipmentRecord]:
    """The states of `shipment_ids` (order kept, missing ones left out), in one strongly consistent batch read
    (more only past 100 keys; none for no ids)."""
    keys = [state_key(shipment_id) for shipment_id in shipment_ids]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        pending: dict[str, Any] = {
            table_name(): {"Keys": keys[start : start + BATCH_GET_LIMIT], "ConsistentRead": True}
        }
        while pending:
            answer = client().batch_get_item(RequestItems=pending)
            for item in answer.get("Responses", {}).get(table_name(), []):
                data = from_item(item)
                found[(data["pk"], data["sk"])] = data
            pending = answer.get("UnprocessedKeys") or {}
    stored = [found.get((key["pk"]["S"], key["sk"]["S"])) for key in keys]
    return [record_from(data) for data in stored if data is not None]
