"""Driver positions (DESIGN 3.8): one LIVE item per shipment, beside its state, replaced only by a newer position."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from ..domain.live import StoredPosition
from .models import LivePosition, ShipmentState, ttl
from .shipments import ShipmentRecord, record_from, stored_position
from .table import GSI_TRACKING, condition_failed, rows

LIVE_SK = "LIVE"


def stamp(moment: datetime) -> str:
    """Canonical UTC text with milliseconds: fixed width, so text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def stored_from_raw(raw: dict[str, Any]) -> StoredPosition:
    return stored_position(LivePosition.from_raw_data(raw).attribute_values)


def find_for_position(
    retailer_id: str, carrier: str, tracking_number: str
) -> tuple[ShipmentRecord | None, StoredPosition | None]:
    """The parcel now carrying this number (the newest generation of a recycled one) and its stored position, in
    ONE eventually consistent `by_tracking` query: the LIVE item carries the lookup key too."""
    states: dict[str, ShipmentRecord] = {}
    positions: dict[str, StoredPosition] = {}
    condition = ShipmentState.carrier == carrier
    for raw in rows(f"{retailer_id}#{tracking_number}", condition, index=GSI_TRACKING):
        pk, sk = raw["pk"]["S"], raw["sk"]["S"]
        if sk == "STATE":
            states[pk] = record_from(ShipmentState.from_raw_data(raw).attribute_values)
        elif sk == LIVE_SK:
            positions[pk] = stored_from_raw(raw)
    if not states:
        return None, None
    record = max(states.values(), key=lambda found: found.generation)
    return record, positions.get(f"SHIP#{record.id}")


def save_if_newer(record: ShipmentRecord, position: StoredPosition, now: datetime) -> bool:
    """Write the position unless the stored one is as new or newer (a conditional put: a shuffled, replayed stream
    ends at the newest whatever order the writes land in). False when the stored one won."""
    written = stamp(now)
    recorded = stamp(position.recorded_at)
    item = LivePosition(
        f"SHIP#{record.id}",
        LIVE_SK,
        retailer_id=record.retailer_id,
        carrier=record.carrier,
        tracking_lookup=f"{record.retailer_id}#{record.tracking_number}",
        tracking_token=record.tracking_token,
        lat=position.lat,
        lng=position.lng,
        recorded_at=recorded,
        stops_before=position.stops_before,
        eta=json.dumps(position.eta, sort_keys=True) if position.eta else None,
        close_notified=position.close_notified or None,
        written_at=written,
        expires_at=ttl(written, days=2),  # a position is worth nothing after the delivery day
    )
    condition = LivePosition.pk.does_not_exist() | (LivePosition.recorded_at < recorded)
    try:
        item.save(condition=condition)
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def get(shipment_id: str) -> StoredPosition | None:
    """One shipment's stored position (strongly consistent): the arrival window it held when the parcel arrived."""
    try:
        found = LivePosition.get(f"SHIP#{shipment_id}", LIVE_SK, consistent_read=True)
    except LivePosition.DoesNotExist:
        return None
    return stored_position(found.attribute_values)
