"""Pre-aggregated counters per retailer and day: analytics read a bounded range of these, never the shipments.

Counters are plain numeric attributes added to with `ADD`, so concurrent writers never lose an increment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from .models import DayCounters
from .table import from_item, rows, to_attribute


def add(retailer_id: str, day: str, deltas: Mapping[str, float], labels: Mapping[str, str] | None = None) -> None:
    if not deltas and not labels:
        return
    actions: list[Action] = [Path(counter).add(to_attribute(delta)) for counter, delta in deltas.items()]
    actions += [Path(label).set(to_attribute(text)) for label, text in (labels or {}).items()]
    DayCounters(f"STATS#{retailer_id}", f"DAY#{day}").update(actions)


def read(retailer_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """One bounded query (paged past 1 MB): a day item per day that had activity."""
    days = DayCounters.sk.between(f"DAY#{first_day}", f"DAY#{last_day}")
    return [from_item(raw) for raw in rows(f"STATS#{retailer_id}", days)]
