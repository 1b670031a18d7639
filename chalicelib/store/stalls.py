"""Parcels found stalled (D45): a sparse `by_retailer` listing, `SHIPMENTS#<retailer>#stalled`, newest first.

Written only when the stall watch finds a problem, so watching costs nothing here; read by "Needs attention" with
one bounded query and one batch read of the shipments, which also says whether each has moved since.
"""

from __future__ import annotations

from datetime import datetime

from ..domain.events import iso
from .models import StalledEntry, ttl
from .shipments import ShipmentRecord, get_many
from .table import index_page


def listing(retailer_id: str) -> str:
    return f"SHIPMENTS#{retailer_id}#stalled"


def add(record: ShipmentRecord, reason: str, now: datetime) -> None:
    """List the parcel under `reason`, with the scan it was stuck at (rewritten, never doubled, on a repeat)."""
    stamp = iso(now)
    StalledEntry(
        f"SHIP#{record.id}",
        f"STALLED#{reason}",
        retailer_id=record.retailer_id,
        retailer_index=listing(record.retailer_id),
        retailer_sort=f"{stamp}#{record.id}#{reason}",
        reason=reason,
        last_event_at=record.progress.last_event_at or "",
        expires_at=ttl(stamp),
    ).save()


def latest(retailer_id: str, limit: int) -> list[tuple[ShipmentRecord, str, str]]:
    """The latest stalled parcels still as they were when found: (record, reason, found at), newest first."""
    entries, _ = index_page(listing(retailer_id), None, limit, newest_first=True)
    ids = list(dict.fromkeys(entry["pk"].removeprefix("SHIP#") for entry in entries))  # one per parcel: a batch
    records = {record.id: record for record in get_many(ids)}  # read refuses a key twice
    found = []
    for entry in entries:
        record = records.get(entry["pk"].removeprefix("SHIP#"))
        if record is None or record.retailer_id != retailer_id:
            continue
        if (record.progress.last_event_at or "") != entry.get("last_event_at", ""):
            continue  # the carrier has scanned it since: no longer stalled there
        found.append((record, str(entry["reason"]), str(entry["retailer_sort"]).split("#", 1)[0]))
    return found
