"""Engagement counters kept as things happen (D45): each message's first open, click, visit, unsubscribe or STOP
is marked on its outbox item (one conditional write) and, the first time only, added to the day counters."""

from __future__ import annotations

from datetime import datetime

from ..domain import engagement
from ..domain.notifications import SMS
from ..store import contacts
from ..store import notifications as outbox
from ..store.notifications import OutboxKey
from ..store.shipments import ShipmentRecord
from . import stats


def once(key: OutboxKey, retailer_id: str, metric: str, now: datetime) -> bool:
    """Count `metric` for this message if it is the first time: True when counted."""
    name = engagement.counter(key.kind, key.channel, metric)
    if name is None or not outbox.mark_first(key, retailer_id, metric, now):
        return False
    stats.count(retailer_id, now, {name: 1})
    return True


def visited(record: ShipmentRecord, marker: str | None, from_text: bool, now: datetime) -> bool:
    """A shopper opened the tracking page from a message: credit that message, once per message.

    An e-mail's link names its kind (`?m=<kind>`); a built-in text's link only says it came from a text (`?s`), and
    is credited to the last text this phone got when that was about this shipment (one read of the phone's
    last-sender item, written when it was sent). A visit with neither costs nothing more.
    """
    if not record.claimed:
        return False
    kind = engagement.kind_of_marker(marker)
    if kind is not None:
        return once(OutboxKey(record.id, kind, "email"), record.retailer_id, engagement.VISITED, now)
    phone = (record.customer or {}).get("phone")
    if not from_text or not phone:
        return False
    last = contacts.last_sms_sender(phone)
    if not last or last.get("shipment_id") != record.id or not last.get("kind"):
        return False
    return once(OutboxKey(record.id, str(last["kind"]), SMS), record.retailer_id, engagement.VISITED, now)


def stopped(last_sender: dict[str, object] | None, now: datetime) -> bool:
    """A STOP to our number: credited to the text the phone got last (the one the shopper answered)."""
    if not last_sender or not last_sender.get("kind") or not last_sender.get("shipment_id"):
        return False
    key = OutboxKey(str(last_sender["shipment_id"]), str(last_sender["kind"]), SMS)
    return once(key, str(last_sender["retailer_id"]), engagement.STOPPED, now)
