"""Hourly miss counters for guess-bounded public lookups (D25): one item per scope and hour, removed by TTL.

A lookup reads its counters in the same strongly consistent BatchGetItem as the shipment states it may answer with,
and a miss adds one to each scope with an atomic ADD: separate UpdateItems rather than one transaction, because a
busy store's counter is hot under attack and concurrent transactions on one item cancel each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .shipments import ShipmentRecord, record_from, state_key
from .table import TTL_ATTRIBUTE, client, from_item, table_name, to_item

BATCH_GET_LIMIT = 100


def _counter_key(scope: str, subject: str, window: str) -> dict[str, Any]:
    return to_item({"pk": f"LIMIT#{scope}#{subject}", "sk": f"LOOKUP#{window}"})


def read(
    subjects: Mapping[str, str], window: str, shipment_ids: Sequence[str]
) -> tuple[dict[str, int], list[ShipmentRecord]]:
    """Misses counted this hour per scope ({scope: subject}) and the states of `shipment_ids` (order kept, missing
    ones left out), in one strongly consistent batch read (more only past 100 keys)."""
    counter_keys = {scope: _counter_key(scope, subject, window) for scope, subject in subjects.items()}
    keys = [*counter_keys.values(), *(state_key(shipment_id) for shipment_id in shipment_ids)]
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

    def stored(key: dict[str, Any]) -> dict[str, Any] | None:
        return found.get((key["pk"]["S"], key["sk"]["S"]))

    counts = {scope: int((stored(key) or {}).get("count", 0)) for scope, key in counter_keys.items()}
    states = [stored(state_key(shipment_id)) for shipment_id in shipment_ids]
    return counts, [record_from(data) for data in states if data is not None]


def count_miss(subjects: Mapping[str, str], window: str, expires_at: int) -> None:
    """One more miss in each scope's counter for this hour (atomic ADD; the item expires after the hour)."""
    for scope, subject in subjects.items():
        client().update_item(
            TableName=table_name(),
            Key=_counter_key(scope, subject, window),
            UpdateExpression="ADD #count :one SET #ttl = :ttl",
            ExpressionAttributeNames={"#count": "count", "#ttl": TTL_ATTRIBUTE},
            ExpressionAttributeValues=to_item({":one": 1, ":ttl": expires_at}),
        )
