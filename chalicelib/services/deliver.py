"""Delivering outbox items: the same code runs from the table stream (AWS), the local drainer and the scheduler.

Each item is claimed with a conditional write before anything is sent, so a repeated stream record, a concurrent
drainer or a retry never sends twice; a sender that dies mid-send leaves a lease that expires and is taken over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from msgspec import Struct

from ..channels import PermanentSendError, RetryableSendError, SendResult
from ..channels.outbound import send_email, send_text
from ..domain import hooks
from ..domain.engagement import marked_link, text_link
from ..domain.notifications import SMS, no_longer_news
from ..domain.policy import DEFER, SKIP, Recipient
from ..errors import ValidationError
from ..shared import sending, stats
from ..shared.links import unsubscribe_url
from ..shared.messages import message_context
from ..shared.retailer_profile import brand
from ..shared.sending import (
    backoff,
    handle_permanent_sms_failure,
    recipient_of,
    shopper_email,
    shopper_policy,
    to_shopper,
)
from ..store import contacts
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.notifications import OutboxItem, OutboxKey
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord

logger = logging.getLogger("porchlight.deliver")
T = TypeVar("T")

NOT_DUE_OR_TAKEN = "not_due_or_taken"
ERROR = "error"

#: A use case delivering one kind of item the shopper policy does not govern: its status and the item's fields.
KindHandler = Callable[[OutboxItem, ShipmentRecord, Retailer, datetime], tuple[str, dict[str, Any]]]
#: A shopper notification with a sender of its own (the survey): what was sent and the preview kept on the item.
Sender = Callable[[OutboxItem, ShipmentRecord, Retailer, datetime], tuple[SendResult, dict[str, Any]]]
#: When a shopper notification must wait for another one (the survey for the arrival text), or None to go now.
Hold = Callable[[ShipmentRecord, Retailer, str, datetime], datetime | None]


class OutboxRoutes(Struct, frozen=True):
    """Which use case delivers which outbox kind. This module imports none of them: chalicelib.composition builds
    the one table, once, and hands it to every delivery."""

    #: Kinds outside the shopper policy, by exact kind, then by prefix ("comment#", "check#", "hook#")...
    kinds: Mapping[str, KindHandler]
    prefixes: tuple[tuple[str, KindHandler], ...]
    #: ...and everything else outside it (relayed chat messages).
    otherwise: KindHandler
    #: Shopper notifications sent by their own use case, and those that wait for another one first.
    senders: Mapping[str, Sender]
    holds: Mapping[str, Hold]

    def handler_for(self, kind: str) -> KindHandler:
        if kind in self.kinds:
            return self.kinds[kind]
        return next((handler for prefix, handler in self.prefixes if kind.startswith(prefix)), self.otherwise)


def deliver_due(
    now: datetime, routes: OutboxRoutes, limit: int = 100, *, deadline: float | None = None, workers: int = 1
) -> dict[str, int]:
    """Everything whose time has come (new, deferred past quiet hours, retries): the drainer and the scheduler.

    Works through a backlog (8:00 ends quiet hours for every deferred text at once) in batches of `limit`, with
    `workers` sends in flight, until none is due or the monotonic `deadline` passes. A batch in which nothing could
    be claimed (all leased by other senders) ends the run rather than spinning.
    """
    with stats.added_up():  # one counter update per retailer and day for the pass (threads count their own)
        return _deliver_due(now, routes, limit, deadline, workers)


def _deliver_due(
    now: datetime, routes: OutboxRoutes, limit: int, deadline: float | None, workers: int
) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    while deadline is None or time.monotonic() < deadline:
        keys = outbox.due(now, limit)
        if workers > 1 and len(keys) > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
                results = list(pool.map(lambda key: _deliver_one(key, now, routes), keys))
        else:
            results = [_deliver_one(key, now, routes) for key in keys]
        for outcome in results:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if len(keys) < limit or all(outcome == NOT_DUE_OR_TAKEN for outcome in results):
            break
    return outcomes


def _deliver_one(key: OutboxKey, now: datetime, routes: OutboxRoutes) -> str:
    """One item of a batch: whatever happens to it (the table itself failing, say), the rest of the batch goes on;
    its lease runs out and a later drain takes it again."""
    try:
        return deliver(key, now, routes)
    except Exception:
        logger.exception("delivery could not be recorded", extra={"kind": key.kind, "channel": key.channel})
        return ERROR


def deliver(key: OutboxKey, now: datetime, routes: OutboxRoutes) -> str:
    item = outbox.claim(key, now)
    if item is None:
        return NOT_DUE_OR_TAKEN
    try:
        return _deliver_claimed(item, now, routes)
    except Exception as exc:
        # Unexpected trouble must not lose the notification, nor retry it forever, nor stop the rest of the batch:
        # it is handed back for a later attempt like a provider outage, and fails (listed) once attempts run out.
        logger.exception("delivery failed unexpectedly", extra={"kind": key.kind, "channel": key.channel})
        return retry_or_give_up(item, RetryableSendError(f"internal error ({type(exc).__name__})"), now)


def _deliver_claimed(item: OutboxItem, now: datetime, routes: OutboxRoutes) -> str:
    key = item.key
    record = shipment_store.get(key.shipment_id)
    retailer = retailer_store.get_for_sending(item.retailer_id)
    if record is None or retailer is None:
        outbox.finish(key, outbox.SKIPPED, now, reason="shipment_or_retailer_missing")
        return outbox.SKIPPED
    if not to_shopper(key.kind):
        return _deliver_routed(routes.handler_for(key.kind), item, record, retailer, now)
    if no_longer_news(key.kind, record.progress.status):
        outbox.finish(key, outbox.SKIPPED, now, reason="superseded")
        return outbox.SKIPPED
    hold = routes.holds.get(key.kind)
    later = hold(record, retailer, key.channel, now) if hold else None
    if later is not None:
        outbox.reschedule(key, outbox.DEFERRED, later, now, "after_arrival_text")
        return outbox.DEFERRED
    recipient = recipient_of(record)
    decision = shopper_policy(item, record, retailer, now)
    if decision.action == SKIP:
        outbox.finish(key, outbox.SKIPPED, now, reason=decision.reason)
        if decision.reason in ("opted_out", "suppressed", "shopper_preference"):
            stats.notification_outcome(retailer.id, key.channel, "opted_out", now)
        return outbox.SKIPPED
    if decision.action == DEFER and decision.not_before is not None:
        outbox.reschedule(key, outbox.DEFERRED, decision.not_before, now, decision.reason)
        return outbox.DEFERRED
    try:
        result, preview = _send(item, record, retailer, recipient, now, routes.senders.get(key.kind))
    except RetryableSendError as error:
        return retry_or_give_up(item, error, now)
    except PermanentSendError as error:
        outbox.fail(key, retailer.id, now, error.reason)
        stats.notification_outcome(retailer.id, key.channel, "failed", now, kind=key.kind)
        handle_permanent_sms_failure(key, retailer, recipient, error.code, now)
        return outbox.FAILED
    # provider_message_id keys an index: an empty id (never expected, but not ours to promise) is left out.
    ids = {"provider_message_id": result.message_id} if result.message_id else {}
    outbox.finish(
        key,
        outbox.SENT,
        now,
        provider=result.provider,
        sent_at=now.isoformat(timespec="seconds"),
        reason="",
        preview=preview,
        **ids,
    )
    if key.channel == SMS and recipient.phone:
        contacts.remember_sms_sender(recipient.phone, retailer.id, record.id, now, kind=key.kind)
    stats.notification_outcome(retailer.id, key.channel, "sent", now, kind=key.kind)
    return outbox.SENT


def retry_or_give_up(item: OutboxItem, error: RetryableSendError, now: datetime) -> str:
    """A temporary failure: try again after a backoff, or record the failure once attempts are used up."""
    if item.attempts >= sending.MAX_ATTEMPTS:  # read at call time: one limit for every path
        outbox.fail(item.key, item.retailer_id, now, f"gave up after {item.attempts} attempts: {error.reason}")
        count_outcome(item, outbox.FAILED, now)
        return outbox.FAILED
    outbox.reschedule(item.key, outbox.RETRY, now + backoff(item.attempts), now, error.reason)
    return outbox.RETRY


def _deliver_routed(
    handler: KindHandler, item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime
) -> str:
    """Relay sessions, relayed messages, webhooks to the retailer and late checks: the same claim, retry and status
    handling as notifications. Relay texts ask the same text policy themselves (services.relay.text_decision), since
    whom they go to is only known there; a deferred one comes back with `not_before`."""
    key = item.key
    try:
        status, fields = handler(item, record, retailer, now)
    except RetryableSendError as error:
        return retry_or_give_up(item, error, now)
    except PermanentSendError as error:
        outbox.fail(key, retailer.id, now, error.reason)
        count_outcome(item, outbox.FAILED, now)
        return outbox.FAILED
    reason = str(fields.pop("reason", ""))
    not_before = fields.pop("not_before", None)
    if status == outbox.DEFERRED and isinstance(not_before, datetime):
        outbox.reschedule(key, outbox.DEFERRED, not_before, now, reason)  # quiet hours: later, never dropped
        return outbox.DEFERRED
    if not fields.get("provider_message_id"):
        fields.pop("provider_message_id", None)
    outbox.finish(key, status, now, reason=reason, sent_at=now.isoformat(timespec="seconds"), **fields)
    if status == outbox.SENT:
        count_outcome(item, status, now)
    return status


def count_outcome(item: OutboxItem, outcome: str, now: datetime) -> None:
    """The analytics' by-channel counts: notifications to the shopper and calls to the retailer's webhooks (status
    changes, escalations) — the same items the list of notifications that did not arrive shows."""
    if to_shopper(item.key.kind) or item.key.channel == hooks.WEBHOOK:
        stats.notification_outcome(item.retailer_id, item.key.channel, outcome, now, kind=item.key.kind)


def _with_fallback(
    render: Callable[..., T], kind: str, locale: str, context: dict[str, Any], override: Any, retailer_id: str
) -> tuple[T, dict[str, str]]:
    """The retailer's template, or, when it breaks a render limit or fails, the built-in one and the reason why
    (kept on the notification's preview): one bad template never stops a batch nor leaves a shopper untold."""
    if override is None:
        return render(kind, locale, context, None), {}
    try:
        return render(kind, locale, context, override), {}
    except ValidationError as error:
        logger.warning("custom template failed; built-in used", extra={"retailer_id": retailer_id, "kind": kind})
        return render(kind, locale, context, None), {"template_fallback": error.message}


def _send(
    item: OutboxItem,
    record: ShipmentRecord,
    retailer: Retailer,
    recipient: Recipient,
    now: datetime,
    sender: Sender | None,
) -> tuple[SendResult, dict[str, Any]]:
    if sender is not None:
        return sender(item, record, retailer, now)
    # jinja2 (via web.templating): only rendering a notification needs it (relay texts, checks, webhooks do not)
    from ..web.templating import Override, render_email, render_sms, resolve_locale

    key = item.key
    customer = record.customer or {}
    locale = resolve_locale(customer.get("locale"), brand(retailer).get("default_locale"))
    stored = retailer_store.templates_for(retailer.id, key.kind, key.channel).get(locale)
    override = Override(body=stored["body"], subject=stored.get("subject")) if stored else None
    if key.channel == SMS:
        # What the planner noted for the message (the "driver is close" text: stops and minutes when it was due).
        context = {**message_context(record, retailer, locale), **(item.doc.get("message") or {})}
        if override is None:  # built-in texts fit one segment with the mark (tests/unit/test_templates.py)
            context["tracking_url"] = text_link(context["tracking_url"])
        sms, fallback = _with_fallback(render_sms, key.kind, locale, context, override, retailer.id)
        shown = {"body": sms.body, "locale": locale, **fallback}
        return send_text(recipient.phone or "", sms.body, now), shown
    unsubscribe = unsubscribe_url(item, retailer, recipient.email or "", now, locale)
    context = message_context(record, retailer, locale, unsubscribe)
    context["tracking_url"] = marked_link(context["tracking_url"], key.kind)  # the visit it brings is its own (D45)
    email, fallback = _with_fallback(render_email, key.kind, locale, context, override, retailer.id)
    mail = shopper_email(record, retailer, key.kind, recipient.email or "", email, context["retailer"], unsubscribe)
    preview = {"subject": email.subject, "locale": locale, **fallback}
    return send_email(mail, now), preview
