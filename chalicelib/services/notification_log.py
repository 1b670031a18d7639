"""The notification log: every message a retailer's shipments planned in a date range, filterable, as JSON pages
and as a CSV, with contact details masked.

Read from the retailer's own `by_log` entries (store.notification_log), never a scan: a page costs one bounded
query per log shard and one batch read of the notifications and their shipments.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from msgspec import Struct

from ..domain import masking
from ..domain.hooks import WEBHOOK
from ..domain.notifications import EMAIL, SMS
from ..domain.relay import RELAY_CHANNEL
from ..errors import ValidationError
from ..shared.paging import decode_cursor, encode_cursor
from ..shared.spreadsheet import SafeWriter
from ..store import notification_log as log_store
from ..store import notifications as outbox
from ..store import shipments as shipment_store
from ..store.notifications import OutboxKey

CHANNELS = (SMS, EMAIL, WEBHOOK, RELAY_CHANNEL)
STATUSES = tuple(outbox.STATUS_RANK)
#: Rows one CSV export holds at most; a longer range is cut there, and the answer says so.
MAX_EXPORT_ROWS = 20_000
EXPORT_PAGE = 500
COLUMNS = (
    "created_at",
    "order_id",
    "shipment_id",
    "kind",
    "channel",
    "status",
    "sent_at",
    "updated_at",
    "reason",
    "to",
    "attempts",
)


class LogFilter(Struct, frozen=True):
    first: date
    last: date
    kind: str | None = None
    channel: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValidationError(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
        if self.status is not None and self.status not in STATUSES:
            raise ValidationError(f"status must be one of {', '.join(STATUSES)}", field="status")
        if self.kind is not None and (len(self.kind) > 100 or "#" in self.kind):
            raise ValidationError("kind is not a notification kind", field="kind")

    def wants(self, key: OutboxKey) -> bool:
        return (self.kind is None or key.kind == self.kind) and (self.channel is None or key.channel == self.channel)


def _listing(retailer_id: str) -> str:
    return f"NOTIFLOG#{retailer_id}"


def _recipient(channel: str, customer: dict[str, Any] | None) -> str | None:
    customer = customer or {}
    if channel == SMS:
        return masking.phone(customer.get("phone"))
    if channel == EMAIL:
        return masking.email(customer.get("email"))
    return None


def _page(
    retailer_id: str, wanted: LogFilter, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    sorts, next_after = log_store.page(
        retailer_id, wanted.first.isoformat(), wanted.last.isoformat() + "T99", after, limit, wanted.wants
    )
    keys = [log_store.key_of(sort) for sort in sorts]
    items = log_store.read(keys)
    records = {r.id: r for r in shipment_store.get_many(sorted({key.shipment_id for key in keys}))}
    rows = []
    for key in keys:
        item, record = items.get(key), records.get(key.shipment_id)
        if item is None or record is None or record.retailer_id != retailer_id:
            continue  # erased since the index was read, or not this retailer's
        if wanted.status is not None and item.status != wanted.status:
            continue
        rows.append(
            {
                "created_at": item.created_at,
                "order_id": record.order_id,
                "shipment_id": key.shipment_id,
                "kind": key.kind,
                "channel": key.channel,
                "status": item.status,
                "sent_at": item.sent_at or None,
                "updated_at": item.updated_at,
                "reason": masking.text(item.reason) or None,
                "to": _recipient(key.channel, record.customer),
                "attempts": item.attempts,
            }
        )
    return rows, next_after


def list_log(retailer_id: str, wanted: LogFilter, cursor: str | None, limit: int) -> dict[str, Any]:
    """One page, oldest first. With a filter a page may hold fewer than `limit` (even none) while `next_cursor`
    says more may follow."""
    start = decode_cursor(cursor, _listing(retailer_id))
    after = start.get("after") if start else None
    if start is not None and not isinstance(after, str):
        raise ValidationError("cursor is not valid", field="cursor")
    rows, next_after = _page(retailer_id, wanted, after, limit)
    cursor_key = {"retailer_index": {"S": _listing(retailer_id)}, "after": next_after} if next_after else None
    return {
        "from": wanted.first.isoformat(),
        "to": wanted.last.isoformat(),
        "notifications": rows,
        "next_cursor": encode_cursor(cursor_key),
    }


def export_csv(retailer_id: str, wanted: LogFilter) -> tuple[str, bool]:
    """The whole range as a spreadsheet (at most MAX_EXPORT_ROWS rows) and whether it was cut short."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(list(COLUMNS))
    written, after = 0, None
    while True:
        rows, after = _page(retailer_id, wanted, after, EXPORT_PAGE)
        for row in rows[: MAX_EXPORT_ROWS - written]:
            writer.writerow([row[column] for column in COLUMNS])
        written += len(rows)
        if after is None:
            return out.getvalue(), False
        if written >= MAX_EXPORT_ROWS:
            return out.getvalue(), True
