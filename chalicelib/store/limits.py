"""Hourly attempt counters for guess-bounded public lookups (D25): one item per scope and hour, removed by TTL.

A lookup first takes an attempt in each scope with an atomic `ADD ... ReturnValues=UPDATED_NEW` and is decided on the
values returned, so concurrent lookups cannot all read "under the limit" and then all go through; an attempt that
turns out a hit or a refusal gives its count back. Separate UpdateItems rather than one transaction, because a busy
store's counter is hot under attack and concurrent transactions on one item cancel each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from .models import LookupCounter, ShipmentState
from .shipments import ShipmentRecord, record_from

BATCH_GET_LIMIT = 100


def take_attempt(subjects: Mapping[str, str], window: str, expires_at: int) -> dict[str, int]:
    """One more attempt in each scope's counter for this hour; the counts after it, per scope (atomic ADD)."""
    return {scope: _add(scope, subject, window, 1, expires_at) for scope, subject in subjects.items()}


def give_back(subjects: Mapping[str, str], window: str, expires_at: int) -> None:
    """Undo `take_attempt` (a lookup that found its order, or one refused): only misses stay counted."""
    for scope, subject in subjects.items():
        _add(scope, subject, window, -1, expires_at)


def _add(scope: str, subject: str, window: str, amount: int, expires_at: int) -> int:
    counter = LookupCounter(f"LIMIT#{scope}#{subject}", f"LOOKUP#{window}")
    counter.update(
        [LookupCounter.attempts.add(amount), LookupCounter.expires_at.set(datetime.fromtimestamp(expires_at, UTC))]
    )
    return int(counter.attempts or 0)


def states(shipment_ids: Sequence[str]) -> list[ShipmentRecord]:
    """The states of `shipment_ids` (order kept, missing ones left out), in one strongly consistent batch read
    (more only past 100 keys; none for no ids)."""
    keys = [(f"SHIP#{shipment_id}", "STATE") for shipment_id in shipment_ids]
    found = {(state.pk, state.sk): state for state in ShipmentState.batch_get(keys, consistent_read=True)}
    return [record_from(found[key].attribute_values) for key in keys if key in found]
