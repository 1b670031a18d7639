"""Carriers recycle tracking numbers: one (retailer, carrier, number) can name several parcels over time (DESIGN 3.2).

Each parcel is a generation of the shipment key. The first one keeps the key's own id and records when each later
generation starts; a scan belongs to the latest generation that started at or before its time. So a late or replayed
scan of an earlier parcel still reaches that parcel, and nothing about the first parcel changes for the second.

A new generation starts when (a) a scan arrives long after the current parcel finished (arrived, returned or
cancelled more than RECYCLE_GAP before it), or (b) the retailer registers a different order on a finished parcel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from . import milestones as ms
from .events import TrackingEvent, iso, parse_iso
from .shipment import Progress

#: No carrier scans a finished parcel again this long after its last scan; a scan after that is a new parcel.
RECYCLE_GAP = timedelta(days=30)


def generation_for(occurred_at: str, starts: Sequence[str]) -> int:
    """Which generation a scan at `occurred_at` (canonical UTC text) belongs to; `starts` are ascending."""
    return sum(1 for start in starts if occurred_at >= start)


def finished(progress: Progress) -> bool:
    return progress.status in ms.TERMINAL and progress.last_event_at is not None


def recycled_by(progress: Progress, events: Iterable[TrackingEvent]) -> TrackingEvent | None:
    """The earliest of `events` that must be a new parcel, if any: it comes long after this one finished."""
    if not finished(progress):
        return None
    assert progress.last_event_at is not None
    limit = parse_iso(progress.last_event_at) + RECYCLE_GAP
    later = [event for event in events if event.occurred_at > limit]
    return min(later, key=TrackingEvent.sort_key) if later else None


def reused_for_order(progress: Progress, registered_order_id: str | None, order_id: str) -> bool:
    """A different order registered on a finished parcel: the carrier has given its number to a new parcel."""
    return finished(progress) and registered_order_id is not None and registered_order_id != order_id


def start_after(progress: Progress) -> str:
    """Where a generation opened by registration starts: every scan after the finished parcel's last one."""
    assert progress.last_event_at is not None
    return iso(parse_iso(progress.last_event_at) + timedelta(seconds=1))
