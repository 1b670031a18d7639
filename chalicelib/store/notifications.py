"""Outbox items: one per (shipment, kind, channel), from intent to provider status.

Lifecycle: pending -> sending (leased) -> sent -> delivered | failed | bounced; or deferred (quiet hours) / retry
(provider 429/5xx) back to sending when due; or skipped (policy said no). Items that still need work carry
`due_shard` and `due_at`, which put them in the sparse `by_due` index the drainer and scheduler read.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from msgspec import Struct, field
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from ..domain.events import iso
from ..domain.notifications import EMAIL, is_notification
from .models import Outbox, ttl
from .table import (
    GSI_DUE,
    GSI_PROVIDER_MESSAGE,
    condition_failed,
    dumps,
    from_item,
    index_page,
    rows,
    table_connection,
    to_attribute,
    to_item,
)

#: Partitions of the `by_due` index (D42): every item that needs work is in one, by its shipment, so no partition
#: takes a busy retailer's whole outbox (8 saturated at 1,920 webhooks/s of one retailer; 32 hold 7,680). The
#: scheduler and the local drainer query each one per run (`due`).
DUE_SHARDS = 32
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


class OutboxKey(Struct, frozen=True):
    shipment_id: str
    kind: str
    channel: str

    def item_key(self) -> dict[str, Any]:
        return to_item({"pk": f"SHIP#{self.shipment_id}", "sk": f"OUTBOX#{self.kind}#{self.channel}"})


class OutboxItem(Struct, frozen=True):
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


#: Partitions of a retailer's notification log (`by_log`): every notification a busy retailer plans is written to
#: one of them (by its shipment), so no partition takes them all (D41's reasoning for the day counters).
LOG_SHARDS = 8


def log_listing(retailer_id: str, shard: int) -> str:
    return f"NOTIFLOG#{retailer_id}#{shard}"


def log_entry(retailer_id: str, key: OutboxKey, created_at: str) -> dict[str, str]:
    """The `by_log` keys of a new notification (none for chat messages and checks): its retailer's shard, then when
    it was planned and what it is, so a listing filters on kind and channel before reading any item."""
    if not is_notification(key.kind):
        return {}
    shard = int(hashlib.sha256(key.shipment_id.encode()).hexdigest()[4:8], 16) % LOG_SHARDS
    sort = f"{created_at}#{key.shipment_id}#{key.kind}#{key.channel}"
    return {"log_index": log_listing(retailer_id, shard), "log_sort": sort}


def outbox_model(
    retailer_id: str, key: OutboxKey, now: str, *, fallback: bool = False, due_at: str | None = None
) -> Outbox:
    """A new outbox item as a model, for the ingest's TransactWrite (saved only where none exists yet)."""
    model = Outbox(
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
    entry = log_entry(retailer_id, key, now)
    if entry:
        model.log_index, model.log_sort = entry["log_index"], entry["log_sort"]
    return model


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


def add(
    retailer_id: str, key: OutboxKey, now: datetime, *, fallback: bool = False, doc: dict[str, Any] | None = None
) -> bool:
    """A new outbox item outside an ingest transaction (with `doc`, what its message says); False if it already
    exists, so a kind planned by several racing writers is planned once."""
    item = outbox_model(retailer_id, key, iso(now), fallback=fallback)
    if doc:
        item.doc = json.dumps(doc, sort_keys=True)
    try:
        item.save(Outbox.pk.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _item(key: OutboxKey) -> Outbox:
    return Outbox(f"SHIP#{key.shipment_id}", f"OUTBOX#{key.kind}#{key.channel}")


def _updated(key: OutboxKey, actions: list[Action], condition: Condition | None = None) -> OutboxItem | None:
    """Apply `actions` to the item (if `condition` holds): the item as it is now, or None when it did not hold."""
    try:
        answer = _item(key).update(actions, condition)
    except UpdateError as error:
        if condition_failed(error):
            return None
        raise
    return item_from(from_item(answer["Attributes"]))


def claim(key: OutboxKey, now: datetime, lease_seconds: int = 120) -> OutboxItem | None:
    """Take the item for sending, unless someone else holds it, it is finished, or it is not due yet.

    A lease that expired (a crashed sender) can be taken over; a repeated stream record finds the lease held.
    An email also gets its unsubscribe token here, once: every attempt reuses it, and erasure finds it on the item
    even when no attempt succeeded.
    """
    stamp = iso(now)
    lease_until = iso(datetime.fromtimestamp(now.timestamp() + lease_seconds, tz=now.tzinfo))
    actions: list[Action] = [
        Outbox.status.set(SENDING),
        Outbox.lease_until.set(lease_until),
        Outbox.updated_at.set(stamp),
        Outbox.attempts.add(1),
    ]
    if key.channel == EMAIL:
        actions.append(Outbox.unsubscribe_token.set(Outbox.unsubscribe_token | secrets.token_urlsafe(16)))
    due_now = Outbox.status.is_in(PENDING, DEFERRED, RETRY) & (Outbox.due_at <= stamp)
    lease_over = (Outbox.status == SENDING) & (Outbox.lease_until < stamp)
    return _updated(key, actions, Outbox.pk.exists() & (due_now | lease_over))


def finish(key: OutboxKey, status: str, now: datetime, **fields: Any) -> None:
    """Record a final or provider-accepted state and leave the work index."""
    declared = Outbox.get_attributes()
    actions: list[Action] = [Outbox.status.set(status), Outbox.updated_at.set(iso(now))]
    for name, value in fields.items():
        value = dumps(value) if name == "preview" else value
        actions.append(declared[name].set(value) if name in declared else Path(name).set(to_attribute(value)))
    actions += [Outbox.due_shard.remove(), Outbox.due_at.remove(), Outbox.lease_until.remove()]
    _updated(key, actions)


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
    stamp = iso(now)
    actions: list[Action] = [
        Outbox.status.set(PENDING),
        Outbox.due_shard.set(due_shard(key.shipment_id)),
        Outbox.due_at.set(stamp),
        Outbox.updated_at.set(stamp),
        Outbox.retried_at.set(stamp),
        Outbox.attempts.set(0),
        Outbox.reason.set("retry requested"),
        Outbox.manual_retries.add(1),
        *(
            attribute.remove()
            for attribute in (
                Outbox.retailer_index,
                Outbox.retailer_sort,
                Outbox.provider_message_id,
                Outbox.provider_status_at,
                Outbox.sent_at,
                Outbox.lease_until,
            )
        ),
    ]
    retries_left = Outbox.manual_retries.does_not_exist() | (Outbox.manual_retries < MAX_MANUAL_RETRIES)
    return _updated(key, actions, Outbox.pk.exists() & Outbox.status.is_in(*RETRYABLE) & retries_left)


def list_failed(
    retailer_id: str, since: str | None, start: dict[str, Any] | None, limit: int
) -> tuple[list[OutboxItem], dict[str, Any] | None]:
    """One page of the retailer's failed notifications (those that failed at or after `since`), latest first."""
    entries, end = index_page(failed_listing(retailer_id), start, limit, since=since, newest_first=True)
    return [item_from(entry) for entry in entries], end


def reschedule(key: OutboxKey, status: str, due_at: datetime, now: datetime, reason: str) -> None:
    _updated(key, _back_to_work(key, status, due_at, now, reason))


def _back_to_work(key: OutboxKey, status: str, due_at: datetime, now: datetime, reason: str) -> list[Action]:
    """Due again at `due_at` (in the sparse `by_due` index), the lease let go."""
    return [
        Outbox.status.set(status),
        Outbox.due_shard.set(due_shard(key.shipment_id)),
        Outbox.due_at.set(iso(due_at)),
        Outbox.updated_at.set(iso(now)),
        Outbox.reason.set(reason),
        Outbox.lease_until.remove(),
    ]


def send_again(key: OutboxKey, provider_message_id: str, due_at: datetime, now: datetime, reason: str) -> bool:
    """The provider accepted the message but could not deliver it for now (SendGrid `blocked`, `deferred`): back to
    retry at `due_at`, the old message forgotten. Only while that message is still the one sent and nothing later
    (delivered, a bounce) was heard; False otherwise. Attempts keep counting (the claim adds one)."""
    forget: list[Action] = [
        Outbox.provider_message_id.remove(),
        Outbox.provider_status_at.remove(),
        Outbox.sent_at.remove(),
    ]
    still_sent = Outbox.status.is_in(QUEUED, SENT) & (Outbox.provider_message_id == provider_message_id)
    return _updated(key, _back_to_work(key, RETRY, due_at, now, reason) + forget, still_sent) is not None


def due(now: datetime, limit: int = 100) -> list[OutboxKey]:
    """Items whose time has come, oldest first, across all shards of the sparse `by_due` index."""
    found: list[tuple[str, OutboxKey]] = []
    for shard in range(DUE_SHARDS):
        page = table_connection().query(f"DUE#{shard}", Outbox.due_at <= iso(now), index_name=GSI_DUE, limit=limit)
        for raw in page.get("Items", []):
            data = from_item(raw)
            if data["sk"].startswith("OUTBOX#"):
                found.append((data["due_at"], item_from(data).key))
    found.sort(key=lambda entry: entry[0])
    return [key for _, key in found[:limit]]


def find_by_provider_id(provider_message_id: str) -> OutboxItem | None:
    items = table_connection().query(provider_message_id, index_name=GSI_PROVIDER_MESSAGE).get("Items", [])
    return item_from(from_item(items[0])) if items else None


def get(key: OutboxKey) -> OutboxItem | None:
    item = _item(key)
    raw = table_connection().get_item(item.pk, range_key=item.sk, consistent_read=True).get("Item")
    return item_from(from_item(raw)) if raw else None


def advance_status(
    key: OutboxKey, status: str, now: datetime, reason: str = "", *, retailer_id: str | None = None
) -> bool:
    """Move a sent notification to a later provider status; older or repeated callbacks change nothing. A failure
    or bounce lists it among the retailer's failed notifications."""
    allowed = [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
    stamp = iso(now)
    actions: list[Action] = [
        Outbox.status.set(status),
        Outbox.updated_at.set(stamp),
        Outbox.provider_status_at.set(stamp),
    ]
    if reason:
        actions.append(Outbox.reason.set(reason))
    if status in UNREACHED:
        entry = _failed_entry(retailer_id, key, stamp)
        actions += [Outbox.get_attributes()[name].set(value) for name, value in entry.items()]
    return _updated(key, actions, Outbox.pk.exists() & Outbox.status.is_in(*allowed)) is not None


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
    message = outbox_model(retailer_id, key, iso(now))
    message.doc, message.status, message.reason, message.tracking_token = dumps(doc), status, reason, token
    if status != PENDING:
        message.due_shard = message.due_at = None
    message.save(Outbox.pk.does_not_exist())


def chat_messages(shipment_id: str) -> list[OutboxItem]:
    chat = rows(f"SHIP#{shipment_id}", Outbox.sk.startswith("OUTBOX#chat:"), consistent_read=True)
    return [item_from(from_item(raw)) for raw in chat]


def mark_first(key: OutboxKey, retailer_id: str, event: str, now: datetime) -> bool:
    """Record on the retailer's message that `event` (opened, clicked, visited, ...) happened, the first time only:
    True then, False when it was marked before or the message is not this retailer's (D45: once per message)."""
    attribute = Path(f"{event}_at")
    condition = Outbox.pk.exists() & (Outbox.retailer_id == retailer_id) & attribute.does_not_exist()
    return _updated(key, [attribute.set(to_attribute(iso(now)))], condition) is not None
