"""What erasing a shipment reads and deletes: whole partitions as plain items, and items by key in batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import TableItem
from .table import from_item, rows


def partition(pk: str) -> list[dict[str, Any]]:
    """Every item of one partition, whatever its type, as plain values (strongly consistent, paged past 1 MB)."""
    return [from_item(raw) for raw in rows(pk, consistent_read=True)]


def delete(keys: Iterable[tuple[str, str]]) -> int:
    """Delete items by (pk, sk): BatchWriteItem of 25 at a time, unprocessed ones sent again by PynamoDB."""
    count = 0
    with TableItem.batch_write() as batch:
        for pk, sk in keys:
            batch.delete(TableItem(pk, sk))
            count += 1
    return count
