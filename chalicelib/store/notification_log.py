"""A retailer's notifications by when they were planned: the `by_log` index, keys only, over `LOG_SHARDS` partitions.

A page reads each shard from where the last page ended (one bounded query each), keeps the earliest entries across
them, and reads those notifications in one batch: its cost follows the page and the retailer's own notifications in
the range, never the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .notifications import LOG_SHARDS, OutboxItem, OutboxKey, item_from, log_listing
from .table import GSI_LOG, client, from_item, table_name, to_item


def key_of(sort: str) -> OutboxKey:
    """The notification an index entry names (`<created>#<shipment>#<kind>#<channel>`)."""
    _, shipment_id, rest = sort.split("#", 2)
    kind, _, channel = rest.rpartition("#")
    return OutboxKey(shipment_id, kind, channel)


def page(
    retailer_id: str,
    first: str,
    last: str,
    after: str | None,
    limit: int,
    wanted: Callable[[OutboxKey], bool] = lambda _: True,
) -> tuple[list[str], str | None]:
    """The sort keys of the next `limit` entries planned in [first, last] after `after`, oldest first, and the key
    the page after this one starts after (None at the end). `wanted` (kind, channel) drops entries from the page
    without reading them; the page may then be shorter than `limit` while more follow."""
    low = max(first, after) if after else first
    if low > last:  # a cursor past the range (one from another range): nothing follows
        return [], None
    found: list[str] = []
    more = False
    for shard in range(LOG_SHARDS):
        answer = client().query(
            TableName=table_name(),
            IndexName=GSI_LOG,
            KeyConditionExpression="log_index = :index AND log_sort BETWEEN :low AND :high",
            ExpressionAttributeValues=to_item({":index": log_listing(retailer_id, shard), ":low": low, ":high": last}),
            Limit=limit + 1,  # `after` itself comes back from the one shard that holds it
        )
        entries = [from_item(raw)["log_sort"] for raw in answer.get("Items", [])]
        entries = [sort for sort in entries if after is None or sort > after]
        more = more or "LastEvaluatedKey" in answer
        found += entries
    found.sort()
    taken = found[:limit]
    more = more or len(found) > limit
    return [sort for sort in taken if wanted(key_of(sort))], (taken[-1] if taken and more else None)


def read(keys: list[OutboxKey]) -> dict[OutboxKey, OutboxItem]:
    """The notifications named, in batch reads of up to 100 keys (what DynamoDB leaves unprocessed is asked again)."""
    found: dict[OutboxKey, OutboxItem] = {}
    for start in range(0, len(keys), 100):
        pending: dict[str, Any] = {
            table_name(): {"Keys": [key.item_key() for key in keys[start : start + 100]], "ConsistentRead": False}
        }
        while pending:
            answer = client().batch_get_item(RequestItems=pending)
            for raw in answer.get("Responses", {}).get(table_name(), []):
                item = item_from(from_item(raw))
                found[item.key] = item
            pending = answer.get("UnprocessedKeys") or {}
    return found
