"""Sharded `by_retailer` listings (D42): a busy retailer's hot listings spread over `LISTING_SHARDS` partitions.

A listing named `L` (say `SHIPMENTS#<retailer>#changes`) is written to `L#<n>`, `n` derived from the shipment id,
so a shipment's entry always lands in the same shard and a rewrite replaces it. A page reads every shard and the
unsharded `L` (entries written before the shards, until they are rewritten or expire), one bounded query each, and
merges them by sort key. Sort keys end with the entry's id, so they are unique within a listing and the merge is a
total order: the last sort key a page returned is the position in every shard at once, and the next page starts
after it in each of them (the same resumption a single partition's start key gives, and a cursor of the same size).
"""

from __future__ import annotations

import hashlib
from typing import Any

from .table import GSI_RETAILER, client, from_item, table_name, to_item

#: Partitions of each hot listing (D42): 8 keep the change feed (0.667 WCU per webhook on one key before) under
#: 1,000 WCU/s up to 12,000 webhooks/s of one retailer. A listing page costs one query per shard plus one.
LISTING_SHARDS = 8


def shard_of(shipment_id: str) -> int:
    """The shard of a shipment's entries: fixed by its id (a slice of the digest the `by_due` and `by_log` shards
    do not use), so a status change rewrites the same entry and never doubles it."""
    return int(hashlib.sha256(shipment_id.encode()).hexdigest()[8:12], 16) % LISTING_SHARDS


def shard_key(listing: str, shipment_id: str) -> str:
    """The `retailer_index` a shipment's entry in `listing` is written under."""
    return f"{listing}#{shard_of(shipment_id)}"


def partitions(listing: str) -> list[str]:
    """Every partition a page of `listing` reads: the shards, then the unsharded key of entries kept from before."""
    return [f"{listing}#{shard}" for shard in range(LISTING_SHARDS)] + [listing]


def _query(
    partition: str, low: str | None, high: str | None, limit: int, newest_first: bool
) -> tuple[list[dict[str, Any]], bool]:
    condition, values = "retailer_index = :index", {":index": partition}
    if low is not None and high is not None:
        condition += " AND retailer_sort BETWEEN :low AND :high"
    elif low is not None:
        condition += " AND retailer_sort >= :low"
    elif high is not None:
        condition += " AND retailer_sort <= :high"
    values.update({name: value for name, value in ((":low", low), (":high", high)) if value is not None})
    answer = client().query(
        TableName=table_name(),
        IndexName=GSI_RETAILER,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=to_item(values),
        ScanIndexForward=not newest_first,
        Limit=limit,
    )
    return [from_item(raw) for raw in answer.get("Items", [])], "LastEvaluatedKey" in answer


def page(
    listing: str, after: str | None, limit: int, *, since: str | None = None, newest_first: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """The next `limit` entries of `listing` after the sort key `after` (at or after `since`, when given), oldest
    first or newest first, merged over its partitions; and the sort key the next page starts after (None at the
    end). Costs `len(partitions(listing))` queries of at most `limit + 1` entries each."""
    low, high = since, None
    if after is not None:
        if newest_first:
            high = after
        else:
            low = after if since is None or after > since else since
    if low is not None and high is not None and low > high:
        return [], None  # a position before `since` (a cursor of another range): nothing follows
    merged: list[dict[str, Any]] = []
    cut: list[str] = []  # the last entry read from each partition that has more: the merge is exact up to there
    for partition in partitions(listing):
        entries, more = _query(partition, low, high, limit + 1, newest_first)  # `after` itself may come back
        if more and entries:
            cut.append(entries[-1]["retailer_sort"])
        merged += [entry for entry in entries if entry["retailer_sort"] != after]
    merged.sort(key=lambda entry: str(entry["retailer_sort"]), reverse=newest_first)
    if cut:
        bound = max(cut) if newest_first else min(cut)
        exact = [e for e in merged if (e["retailer_sort"] >= bound if newest_first else e["retailer_sort"] <= bound)]
    else:
        exact = merged
    taken = exact[:limit]
    more = bool(cut) or len(merged) > len(taken)
    return taken, (str(taken[-1]["retailer_sort"]) if taken and more else None)
