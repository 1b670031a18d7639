"""What erasing a shipment reads and deletes: whole partitions as plain items, and items by key in batches."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .table import from_item, rows, table_connection

BATCH = 25  # DynamoDB's most per BatchWriteItem


def partition(pk: str) -> list[dict[str, Any]]:
    """Every item of one partition, whatever its type, as plain values (strongly consistent, paged past 1 MB)."""
    return [from_item(raw) for raw in rows(pk, consistent_read=True)]


def delete(keys: Iterable[tuple[str, str]]) -> int:
    """Delete items by (pk, sk), 25 per BatchWriteItem, sending again (after a short pause) whatever DynamoDB left
    unprocessed until none is left: an erasure that stopped halfway could not be found to finish later."""
    connection = table_connection()
    pending = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
    for start in range(0, len(pending), BATCH):
        batch, pause = pending[start : start + BATCH], 0.05
        while batch:
            answer = connection.batch_write_item(delete_items=batch)
            left = (answer.get("UnprocessedItems") or {}).get(connection.table_name, [])
            batch = [request["DeleteRequest"]["Key"] for request in left]
            if batch:
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
    return len(pending)
