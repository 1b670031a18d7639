"""Pre-aggregated counters per retailer and day: analytics read a bounded range of these, never the shipments.

Counters are plain numeric attributes added to with `ADD`, so concurrent writers never lose an increment. A busy
retailer's day would put every webhook's increment on one item, and one item lives in one partition (1,000 write
units a second): each increment goes to one of `COUNTER_SHARDS` items of the day, chosen at random, and a read adds
the shards up. Counters kept before the shards existed (pk `STATS#<retailer>`) are read as one more shard.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from .models import DayCounters
from .table import from_item, rows, to_attribute

#: Items per retailer and day that share its increments (issue 16.8: bench/scale_model.py measures the effect).
COUNTER_SHARDS = 8


def shard_key(retailer_id: str, shard: int) -> str:
    return f"STATS#{retailer_id}#{shard}"


def add(retailer_id: str, day: str, deltas: Mapping[str, float], labels: Mapping[str, str] | None = None) -> None:
    if not deltas and not labels:
        return
    actions: list[Action] = [Path(counter).add(to_attribute(delta)) for counter, delta in deltas.items()]
    actions += [Path(label).set(to_attribute(text)) for label, text in (labels or {}).items()]
    DayCounters(shard_key(retailer_id, secrets.randbelow(COUNTER_SHARDS)), f"DAY#{day}").update(actions)


def read(retailer_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """A bounded query per shard (paged past 1 MB), summed into one item per day that had activity, oldest first."""
    merged: dict[str, dict[str, Any]] = {}
    partitions = [f"STATS#{retailer_id}", *(shard_key(retailer_id, shard) for shard in range(COUNTER_SHARDS))]
    days = DayCounters.sk.between(f"DAY#{first_day}", f"DAY#{last_day}")
    for partition in partitions:
        for raw in rows(partition, days):
            item = from_item(raw)
            day = merged.setdefault(item["sk"], {"pk": f"STATS#{retailer_id}", "sk": item["sk"]})
            for name, value in item.items():
                if name in ("pk", "sk"):
                    continue
                if isinstance(value, str):
                    day[name] = value
                else:
                    day[name] = day.get(name, 0) + value
    return [merged[sk] for sk in sorted(merged)]
