"""Recording driver positions (DESIGN 3.8), shared by the positions batch and by native scans that carry one.

Per parcel of a batch: the newest position only (domain.live.newest_per_parcel), one `by_tracking` query that
returns the shipment and its stored position together, and a write only when it is newer and worth it
(domain.live.needs_write), conditional on being newer still when it lands. The "driver is close" text is planned
here too, once per shipment: its outbox item is put only where none exists (store.notifications.add).
"""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from ..domain import live as rules
from ..domain.live import Position
from ..domain.notifications import SMS
from ..store import live as live_store
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store.notifications import OutboxKey
from ..store.shipments import ShipmentRecord
from .retailer_profile import close_threshold


class Recorded(Struct, frozen=True):
    #: Positions newer than what was kept (written, or coalesced into the stored one).
    accepted: int = 0
    #: Positions no newer than one already kept or sent in the same batch.
    stale: int = 0
    #: Positions for a tracking number no shipment of this retailer has (nothing is kept for them).
    unmatched: int = 0
    #: How many position items were written (the rest were coalesced).
    written: int = 0


def record_positions(retailer_id: str, positions: list[Position], now: datetime) -> Recorded:
    newest, stale = rules.newest_per_parcel(positions)
    accepted = unmatched = written = 0
    for (carrier, tracking_number), position in newest.items():
        record, stored = live_store.find_for_position(retailer_id, carrier, tracking_number)
        if record is None:
            unmatched += 1
            continue
        if not rules.is_newer(position, stored):
            stale += 1
            continue
        outcome = _record_one(record, stored, rules.merged(stored, position), now)
        if outcome is None:
            stale += 1  # a newer one landed between our read and our write
            continue
        accepted += 1
        written += outcome
    return Recorded(accepted=accepted, stale=stale, unmatched=unmatched, written=written)


def _record_one(
    record: ShipmentRecord, stored: rules.StoredPosition | None, position: Position, now: datetime
) -> int | None:
    """1 when written, 0 when coalesced, None when a newer position won the conditional write."""
    already = stored is not None and stored.close_notified
    close = rules.is_close(record.progress.status, stored, position, _threshold(record), now) and record.claimed
    if close:
        _plan_driver_close(record, position, now)
    if not close and not rules.needs_write(position, stored):
        return 0
    kept = rules.stored_from(position, close_notified=already or close)
    return 1 if live_store.save_if_newer(record, kept, now) else None


def _threshold(record: ShipmentRecord) -> rules.CloseThreshold:
    return close_threshold(retailer_store.get(record.retailer_id))


def _plan_driver_close(record: ShipmentRecord, position: Position, now: datetime) -> None:
    """The "driver is close" text: planned once (the outbox item is only put where none exists, so replays and
    concurrent pings that all see the threshold crossed still make one), sent under the shopper policy."""
    message = {
        "stops_before": position.stops_before,
        "minutes": rules.minutes_away(position.eta, now),
    }
    outbox.add(record.retailer_id, OutboxKey(record.id, rules.DRIVER_CLOSE, SMS), now, doc={"message": message})
