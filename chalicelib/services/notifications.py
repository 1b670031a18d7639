"""The retailer's view of notifications across shipments: the ones that never arrived, and sending one again.

A text to a mistyped number or an email to a full mailbox fails for good; support fixes the contact details
(PATCH /v1/shipments/{id}) and asks for the notification again. Failed notifications sit in a sparse listing of the
`by_retailer` index, written only when one fails, so sending costs nothing more when all goes well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.events import iso
from ..domain.hooks import WEBHOOK
from ..domain.notifications import EMAIL, SMS, is_notification, no_longer_news
from ..domain.policy import SKIP
from ..domain.relay import RELAY_CHANNEL
from ..errors import Conflict, NotFound
from ..shared.paging import decode_cursor, encode_cursor
from ..shared.sending import shopper_policy, to_shopper
from ..shared.shipment_views import notification_json, summary
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.notifications import OutboxKey

#: Channels a notification may have gone by: the shopper's, the retailer's endpoint, and the relay's texts.
CHANNELS = (SMS, EMAIL, WEBHOOK, RELAY_CHANNEL)
#: Why the policy would skip a retried notification, in words for the 409 answer.
WOULD_SKIP = {
    "no_phone": "the shopper has no phone number: add one with PATCH /v1/shipments/{id} first",
    "no_email": "the shopper has no email address: add one with PATCH /v1/shipments/{id} first",
    "opted_out": "the shopper's phone opted out of texts (STOP); only the shopper can opt back in (START)",
    "suppressed": "the address bounced or unsubscribed: correct it with PATCH /v1/shipments/{id} first",
    "no_sms_consent": "the shopper has not consented to texts for this notification",
    "channel_disabled": "this channel is switched off for this notification in /v1/settings",
    "shopper_preference": "the shopper chose another channel on the tracking page",
}


def list_failed(
    retailer_id: str, since: datetime | None, channel: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Notifications that failed or bounced at or after `since`, latest failure first, each with its shipment.

    One index query and one batch read of the shipments per page. With a channel, the page holds only that
    channel's and may be shorter than `limit` (or empty) while `next_cursor` says more may follow.
    """
    start = decode_cursor(cursor, outbox.failed_listing(retailer_id))
    items, end = outbox.list_failed(retailer_id, iso(since) if since else None, start, limit)
    if channel:
        items = [item for item in items if item.channel == channel]
    records = {r.id: r for r in shipment_store.get_many(sorted({item.key.shipment_id for item in items}))}
    listed = [
        {**notification_json(item), "failed_at": item.updated_at, "shipment": summary(records[item.key.shipment_id])}
        for item in items
        # The index lags a moment: a notification retried since is no longer failed.
        if item.status in outbox.UNREACHED
        and item.key.shipment_id in records
        and records[item.key.shipment_id].retailer_id == retailer_id
    ]
    return {"notifications": listed, "next_cursor": encode_cursor(end)}


def retry(retailer_id: str, shipment_id: str, kind: str, channel: str, now: datetime) -> dict[str, Any]:
    """Send a notification that did not go out, once the reason may have gone: a corrected phone or address, a phone
    added to a shipment registered without one, a channel switched on since.

    Refused with a precise reason when it cannot help: it did not fail, the news is stale (the parcel moved on),
    the shopper policy would skip it (opted out, no consent, no contact), or it was retried too often already.
    """
    record = shipment_store.get(shipment_id)
    if record is None or record.retailer_id != retailer_id or not record.claimed:
        raise NotFound(f"no shipment {shipment_id!r}", field="id")
    key = OutboxKey(shipment_id, kind, channel)
    item = outbox.get(key) if is_notification(kind) else None
    if item is None:
        raise NotFound(f"shipment {shipment_id!r} has no {kind} notification by {channel}", field="kind")
    if item.status not in outbox.RETRYABLE:
        raise Conflict(
            f"only a notification that failed, bounced or was skipped can be sent again; this one is {item.status}",
            code="not_failed",
        )
    if item.manual_retries >= outbox.MAX_MANUAL_RETRIES:
        raise Conflict(
            f"this notification was already sent again {item.manual_retries} times", code="retry_limit_reached"
        )
    if no_longer_news(kind, record.progress.status):
        raise Conflict(
            f"the shipment is {record.progress.status} now: this {kind} notification is no longer news",
            code="superseded",
        )
    if channel in (SMS, EMAIL) and to_shopper(kind):
        retailer = retailer_store.get(retailer_id)
        decision = shopper_policy(item, record, retailer, now) if retailer is not None else None
        if decision is not None and decision.action == SKIP:
            message = WOULD_SKIP.get(decision.reason, f"it would not be sent: {decision.reason}")
            raise Conflict(message.replace("{id}", shipment_id), code=decision.reason)
    retried = outbox.retry(key, now)
    if retried is None:  # sent again by someone else meanwhile, or its last retry was just used
        raise Conflict("the notification changed meanwhile: read it again", code="changed")
    return notification_json(retried)
