"""Outbox items: one per (shipment, kind, channel), from intent to provider status.

Lifecycle: pending -> sending (leased) -> sent -> delivered | failed | bounced; or deferred (quiet hours) / retry
(provider 429/5xx) back to sending when due; or skipped (policy said no). Items that still need work carry
`due_shard` and `due_at`, which put them in the sparse `by_due` index the drainer and scheduler read.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.events import iso
from ..domain.notifications import EMAIL, is_notification
from .models import Outbox, ttl
from .table import (
    GSI_DUE,
    GSI_PROVIDER_MESSAGE,
    TTL_ATTRIBUTE,
    client,
    dumps,
    expires_at,
    from_item,
    index_page,
    put_new,
    table_name,
    to_item,
)

DUE_SHARDS = 8
PENDING, DEFERRED, RETRY, SENDING = "pending", "deferred", "retry", "sending"
SENT, DELIVERED, FAILED, BOUNCED, SKIPPED = "sent", "delivered", "failed", "bounced", "skipped"
NOT_RELAYED, SHOWN = "not_relayed", "shown"  # chat messages: refused by a limit, or for a shopper on the page only
QUEUED, UNDELIVERED = "queued", "undelivered"
WAITING = (PENDING, DEFERRED, RETRY)
#: Final statuses of a notification that never reached its recipient: listed for the retailer, who may retry it.
UNREACHED = (FAILED, BOUNCED)
#: What a retailer may ask to send again: what never arrived, and what the policy skipped (no phone yet, say).
RETRYABLE = (*UNREACHED, SKIPPED)
#: Retries a retailer may ask for, per notification (each after fixing something, one hopes).
MAX_MANUAL_RETRIES = 3
#: Provider statuses only move forward; callbacks arriving out of order never move a notification back.
STATUS_RANK = {
    PENDING: 0,
    DEFERRED: 0,
    RETRY: 0,
    SENDING: 1,
    QUEUED: 2,
    SENT: 3,
    DELIVERED: 4,
    UNDELIVERED: 4,
    FAILED: 4,
    BOUNCED: 4,
    SKIPPED: 4,
    NOT_RELAYED: 4,
    SHOWN: 4,
}


@dataclass(frozen=True)
class OutboxKey:
    shipment_id: str
    kind: str
    channel: str

    def item_key(self) -> dict[str, Any]:
        return to_item({"pk": f"SHIP#{self.shipment_id}", "sk": f"OUTBOX#{self.kind}#{self.channel}"})


@dataclass(frozen=True)
class OutboxItem:
    key: OutboxKey
    retailer_id: str
    status: str
    created_at: str
    updated_at: str
    attempts: int = 0
    reason: str = ""
    fallback: bool = False
    provider: str = ""
    provider_message_id: str = ""
    sent_at: str = ""
    due_at: str = ""
    preview: dict[str, Any] = field(default_factory=dict)
    #: Relayed chat messages carry their content: {"from", "body", "media", "via"}.
    doc: dict[str, Any] = field(default_factory=dict)
    #: Emails: the token of the unsubscribe link every attempt carries (set when first claimed).
    unsubscribe_token: str = ""
    #: How often the retailer asked for it to be sent again after it failed.
    manual_retries: int = 0

    @property
    def kind(self) -> str:
        return self.key.kind

    @property
    def channel(self) -> str:
        return self.key.channel


def due_shard(shipment_id: str) -> str:
    return f"DUE#{int(hashlib.sha256(shipment_id.encode()).hexdigest()[:4], 16) % DUE_SHARDS}"


def outbox_put(
    retailer_id: str, key: OutboxKey, now: str, *, fallback: bool = False, due_at: str | None = None
) -> dict[str, Any]:
    """The Put for a new outbox item (used inside the ingest transaction and for email fallbacks)."""
    return {
        "TableName": table_name(),
        "Item": to_item(
            {
                "pk": f"SHIP#{key.shipment_id}",
                "sk": f"OUTBOX#{key.kind}#{key.channel}",
                "retailer_id": retailer_id,
                "shipment_id": key.shipment_id,
                "kind": key.kind,
                "channel": key.channel,
                "status": PENDING,
                "attempts": 0,
                "fallback": fallback,
                "created_at": now,
                "updated_at": now,
                "due_shard": due_shard(key.shipment_id),
                "due_at": due_at or now,
                TTL_ATTRIBUTE: expires_at(now),
            }
        ),
        "ConditionExpression": "attribute_not_exists(pk)",
    }


def outbox_model(
    retailer_id: str, key: OutboxKey, now: str, *, fallback: bool = False, due_at: str | None = None
) -> Outbox:
    """A new outbox item as a model, for the ingest's TransactWrite (saved only where none exists yet)."""
    return Outbox(
        f"SHIP#{key.shipment_id}",
        f"OUTBOX#{key.kind}#{key.channel}",
        retailer_id=retailer_id,
        shipment_id=key.shipment_id,
        kind=key.kind,
        channel=key.channel,
        status=PENDING,
        attempts=0,
        fallback=fallback,
        created_at=now,
        updated_at=now,
        due_shard=due_shard(key.shipment_id),
        due_at=due_at or now,
        expires_at=ttl(now),
    )


def item_from(data: dict[str, Any]) -> OutboxItem:
    _, kind, channel = data["sk"].split("#", 2)
    return OutboxItem(
        key=OutboxKey(data["pk"].removeprefix("SHIP#"), kind, channel),
        retailer_id=data.get("retailer_id", ""),
        status=data.get("status", PENDING),
        created_at=data.get("created_at", ""),
        updated_at=data.get("updated_at", ""),
        attempts=int(data.get("attempts", 0)),
        reason=data.get("reason", ""),
        fallback=bool(data.get("fallback")),
        provider=data.get("provider", ""),
        provider_message_id=data.get("provider_message_id", ""),
        sent_at=data.get("sent_at", ""),
        due_at=data.get("due_at", ""),
        preview=json.loads(data["preview"]) if data.get("preview") else {},
        doc=json.loads(data["doc"]) if data.get("doc") else {},
        unsubscribe_token=data.get("unsubscribe_token", ""),
        manual_retries=int(data.get("manual_retries", 0)),
    )


def add_fallback(retailer_id: str, key: OutboxKey, now: datetime) -> bool:
    """A new email item standing in for a failed text; False if that email already exists."""
    return add(retailer_id, key, now, fallback=True)


def add(retailer_id: str, key: OutboxKey, now: datetime, *, fallback: bool = False) -> bool:
    """A new outbox item outside an ingest transaction; False if it already exists."""
    return put_new(outbox_put(retailer_id, key, iso(now), fallback=fallback)["Item"])


def claim(key: OutboxKey, now: datetime, lease_seconds: int = 120) -> OutboxItem | None:
    """Take the item for sending, unless someone else holds it, it is finished, or it is not due yet.

    A lease that expired (a crashed sender) can be taken over; a repeated stream record finds the lease held.
    An email also gets its unsubscribe token here, once: every attempt reuses it, and erasure finds it on the item
    even when no attempt succeeded.
    """
    stamp = iso(now)
    lease_until = iso(datetime.fromtimestamp(now.timestamp() + lease_seconds, tz=now.tzinfo))
    token = {":token": secrets.token_urlsafe(16)} if key.channel == EMAIL else {}
    ddb = client()
    try:
        result = ddb.update_item(
            TableName=table_name(),
            Key=key.item_key(),
            UpdateExpression="SET #status = :sending, lease_until = :lease, updated_at = :now"
            + (", unsubscribe_token = if_not_exists(unsubscribe_token, :token)" if token else "")
            + " ADD attempts :one",
            ConditionExpression=(
                "attribute_exists(pk) AND ((#status IN (:pending, :deferred, :retry) AND due_at <= :now) "
                "OR (#status = :sending AND lease_until < :now))"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":sending": SENDING,
                    ":pending": PENDING,
                    ":deferred": DEFERRED,
                    ":retry": RETRY,
                    ":lease": lease_until,
                    ":now": stamp,
                    ":one": 1,
                    **token,
                }
            ),
            ReturnValues="ALL_NEW",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return None
    return item_from(from_item(result["Attributes"]))


def finish(key: OutboxKey, status: str, now: datetime, **fields: Any) -> None:
    """Record a final or provider-accepted state and leave the work index."""
    values: dict[str, Any] = {":status": status, ":now": iso(now)}
    sets = ["#status = :status", "updated_at = :now"]
    for name, value in fields.items():
        values[f":{name}"] = dumps(value) if name == "preview" else value
        sets.append(f"{name} = :{name}")
    client().update_item(
        TableName=table_name(),
        Key=key.item_key(),
        UpdateExpression="SET " + ", ".join(sets) + " REMOVE due_shard, due_at, lease_until",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=to_item(values),
    )


def failed_listing(retailer_id: str) -> str:
    """The `by_retailer` partition of a retailer's notifications that never reached their recipient."""
    return f"NOTIFICATIONS#{retailer_id}#failed"


def _failed_entry(retailer_id: str | None, key: OutboxKey, stamp: str) -> dict[str, str]:
    """The index keys that list a notification that has just failed, latest failure first (none for chat messages
    and checks, or without a retailer to list it for). A retry removes them."""
    if not retailer_id or not is_notification(key.kind):
        return {}
    sort = f"{stamp}#{key.shipment_id}#{key.kind}#{key.channel}"
    return {"retailer_index": failed_listing(retailer_id), "retailer_sort": sort}


def fail(key: OutboxKey, retailer_id: str, now: datetime, reason: str) -> None:
    """Record that the provider refused it for good (or retries ran out), and list it for the retailer."""
    finish(key, FAILED, now, reason=reason, **_failed_entry(retailer_id, key, iso(now)))


def retry(key: OutboxKey, now: datetime) -> OutboxItem | None:
    """Send a failed or skipped notification again, as if new: back to pending and due now, off the failed listing,
    its old provider message forgotten (a late callback about it must not touch the new attempt). None if it is not
    in one of those states any more, or its retries are used up."""
    retryable = {f":r{i}": status for i, status in enumerate(RETRYABLE)}
    ddb = client()
    try:
        result = ddb.update_item(
            TableName=table_name(),
            Key=key.item_key(),
            UpdateExpression=(
                "SET #status = :pending, due_shard = :shard, due_at = :now, updated_at = :now, retried_at = :now, "
                "attempts = :zero, reason = :reason ADD manual_retries :one "
                "REMOVE retailer_index, retailer_sort, provider_message_id, provider_status_at, sent_at, lease_until"
            ),
            ConditionExpression=(
                f"attribute_exists(pk) AND #status IN ({', '.join(retryable)}) "
                "AND (attribute_not_exists(manual_retries) OR manual_retries < :max)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":pending": PENDING,
                    ":shard": due_shard(key.shipment_id),
                    ":now": iso(now),
                    ":zero": 0,
                    ":one": 1,
                    ":reason": "retry requested",
                    ":max": MAX_MANUAL_RETRIES,
                    **retryable,
                }
            ),
            ReturnValues="ALL_NEW",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return None
    return item_from(from_item(result["Attributes"]))


def list_failed(
    retailer_id: str, since: str | None, start: dict[str, Any] | None, limit: int
) -> tuple[list[OutboxItem], dict[str, Any] | None]:
    """One page of the retailer's failed notifications (those that failed at or after `since`), latest first."""
    entries, end = index_page(failed_listing(retailer_id), start, limit, since=since, newest_first=True)
    return [item_from(entry) for entry in entries], end


def reschedule(key: OutboxKey, status: str, due_at: datetime, now: datetime, reason: str) -> None:
    client().update_item(
        TableName=table_name(),
        Key=key.item_key(),
        UpdateExpression=(
            "SET #status = :status, due_shard = :shard, due_at = :due, updated_at = :now, reason = :reason "
            "REMOVE lease_until"
        ),
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=to_item(
            {
                ":status": status,
                ":shard": due_shard(key.shipment_id),
                ":due": iso(due_at),
                ":now": iso(now),
                ":reason": reason,
            }
        ),
    )


def send_again(key: OutboxKey, provider_message_id: str, due_at: datetime, now: datetime, reason: str) -> bool:
    """The provider accepted the message but could not deliver it for now (SendGrid `blocked`, `deferred`): back to
    retry at `due_at`, the old message forgotten. Only while that message is still the one sent and nothing later
    (delivered, a bounce) was heard; False otherwise. Attempts keep counting (the claim adds one)."""
    ddb = client()
    try:
        ddb.update_item(
            TableName=table_name(),
            Key=key.item_key(),
            UpdateExpression=(
                "SET #status = :retry, due_shard = :shard, due_at = :due, updated_at = :now, reason = :reason "
                "REMOVE provider_message_id, provider_status_at, sent_at, lease_until"
            ),
            ConditionExpression="#status IN (:queued, :sent) AND provider_message_id = :id",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":retry": RETRY,
                    ":shard": due_shard(key.shipment_id),
                    ":due": iso(due_at),
                    ":now": iso(now),
                    ":reason": reason,
                    ":queued": QUEUED,
                    ":sent": SENT,
                    ":id": provider_message_id,
                }
            ),
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def due(now: datetime, limit: int = 100) -> list[OutboxKey]:
    """Items whose time has come, oldest first, across all shards of the sparse `by_due` index."""
    found: list[tuple[str, OutboxKey]] = []
    for shard in range(DUE_SHARDS):
        page = client().query(
            TableName=table_name(),
            IndexName=GSI_DUE,
            KeyConditionExpression="due_shard = :shard AND due_at <= :now",
            ExpressionAttributeValues=to_item({":shard": f"DUE#{shard}", ":now": iso(now)}),
            Limit=limit,
        )
        for raw in page.get("Items", []):
            data = from_item(raw)
            if data["sk"].startswith("OUTBOX#"):
                found.append((data["due_at"], item_from(data).key))
    found.sort(key=lambda entry: entry[0])
    return [key for _, key in found[:limit]]


def find_by_provider_id(provider_message_id: str) -> OutboxItem | None:
    page = client().query(
        TableName=table_name(),
        IndexName=GSI_PROVIDER_MESSAGE,
        KeyConditionExpression="provider_message_id = :id",
        ExpressionAttributeValues=to_item({":id": provider_message_id}),
    )
    items = page.get("Items", [])
    return item_from(from_item(items[0])) if items else None


def get(key: OutboxKey) -> OutboxItem | None:
    item = client().get_item(TableName=table_name(), Key=key.item_key(), ConsistentRead=True).get("Item")
    return item_from(from_item(item)) if item else None


def advance_status(
    key: OutboxKey, status: str, now: datetime, reason: str = "", *, retailer_id: str | None = None
) -> bool:
    """Move a sent notification to a later provider status; older or repeated callbacks change nothing. A failure
    or bounce lists it among the retailer's failed notifications."""
    allowed = [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
    names = {f":s{i}": s for i, s in enumerate(allowed)}
    extra = {":reason": reason} if reason else {}
    if status in UNREACHED:
        extra.update({f":{name}": value for name, value in _failed_entry(retailer_id, key, iso(now)).items()})
    ddb = client()
    try:
        ddb.update_item(
            TableName=table_name(),
            Key=key.item_key(),
            UpdateExpression="SET #status = :status, updated_at = :now, provider_status_at = :now"
            + "".join(f", {name[1:]} = {name}" for name in extra),
            ConditionExpression=f"attribute_exists(pk) AND #status IN ({', '.join(names)})",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":status": status, ":now": iso(now), **names, **extra}),
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def add_chat_message(
    retailer_id: str,
    key: OutboxKey,
    doc: dict[str, Any],
    now: datetime,
    *,
    token: str,
    status: str = PENDING,
    reason: str = "",
) -> None:
    """Store a chat message before anything else happens to it; pending ones are relayed like notifications.

    It carries the tracking token so the shopper's page reads it in the same query as the shipment.
    """
    item = outbox_put(retailer_id, key, iso(now))
    values = from_item(item["Item"])
    values.update(doc=dumps(doc), status=status, reason=reason, tracking_token=token)
    if status != PENDING:
        values.pop("due_shard", None)
        values.pop("due_at", None)
    item["Item"] = to_item(values)
    client().put_item(**item)


def chat_messages(shipment_id: str) -> list[OutboxItem]:
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues=to_item({":pk": f"SHIP#{shipment_id}", ":prefix": "OUTBOX#chat:"}),
        ConsistentRead=True,
    )
    return [item_from(from_item(raw)) for raw in page.get("Items", [])]
