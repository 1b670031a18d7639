"""Pre-aggregated counters per retailer and day: analytics read a bounded range of these, never the shipments.

Counters are plain numeric attributes added to with `ADD`, so concurrent writers never lose an increment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .table import client, query_all, table_name, to_item


def add(retailer_id: str, day: str, deltas: Mapping[str, float], labels: Mapping[str, str] | None = None) -> None:
    if not deltas and not labels:
        return
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    adds, sets = [], []
    for index, (counter, delta) in enumerate(deltas.items()):
        names[f"#c{index}"] = counter
        values[f":c{index}"] = delta
        adds.append(f"#c{index} :c{index}")
    for index, (label, text) in enumerate((labels or {}).items()):
        names[f"#l{index}"] = label
        values[f":l{index}"] = text
        sets.append(f"#l{index} = :l{index}")
    expression = " ".join(
        part
        for part in (("ADD " + ", ".join(adds)) if adds else "", ("SET " + ", ".join(sets)) if sets else "")
        if part
    )
    client().update_item(
        TableName=table_name(),
        Key=to_item({"pk": f"STATS#{retailer_id}", "sk": f"DAY#{day}"}),
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_item(values),
    )


def read(retailer_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """One bounded query (paged past 1 MB): a day item per day that had activity."""
    return list(
        query_all(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues=to_item(
                {":pk": f"STATS#{retailer_id}", ":first": f"DAY#{first_day}", ":last": f"DAY#{last_day}"}
            ),
            ReturnConsumedCapacity="TOTAL",
        )
    )
