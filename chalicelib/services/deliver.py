"""Delivering outbox items: the same code runs from the table stream (AWS), the local drainer and the scheduler.

Each item is claimed with a conditional write before anything is sent, so a repeated stream record, a concurrent
drainer or a retry never sends twice; a sender that dies mid-send leaves a lease that expires and is taken over.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ..channels import EmailMessage, PermanentSendError, RetryableSendError, SendResult, SmsMessage
from ..config import settings
from ..domain import hooks
from ..domain import milestones as ms
from ..domain.carrier_names import display_name
from ..domain.notifications import CHAT_PREFIX, CHECK_PREFIX, EMAIL, SMS, delay_reason, no_longer_news
from ..domain.policy import DEFER, SKIP, Decision, Recipient, decide, zone_for
from ..domain.redaction import Redactor
from ..domain.relay import CHAT_OPENED, RELAY_OPEN
from ..domain.survey import COMMENT_PREFIX, ESCALATION, SURVEY
from ..errors import ValidationError
from ..store import contacts
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.notifications import OutboxItem, OutboxKey
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from . import stats
from .retailer_profile import brand, notification_settings, shopper_recipient
from .shipments import tracking_url

logger = logging.getLogger("porchlight.deliver")
T = TypeVar("T")

NOT_DUE_OR_TAKEN = "not_due_or_taken"
ERROR = "error"
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)
#: Twilio error 21610: the number replied STOP to Twilio itself; honour it as our own opt-out too.
TWILIO_UNSUBSCRIBED = "21610"


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped: 30 s, 1 min, 2 min ... 1 h."""
    ceiling = min(MAX_BACKOFF.total_seconds(), 30 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not security


def deliver_due(now: datetime, limit: int = 100, *, deadline: float | None = None, workers: int = 1) -> dict[str, int]:
    """Everything whose time has come (new, deferred past quiet hours, retries): the drainer and the scheduler.

    Works through a backlog (8:00 ends quiet hours for every deferred text at once) in batches of `limit`, with
    `workers` sends in flight, until none is due or the monotonic `deadline` passes. A batch in which nothing could
    be claimed (all leased by other senders) ends the run rather than spinning.
    """
    outcomes: dict[str, int] = {}
    while deadline is None or time.monotonic() < deadline:
        keys = outbox.due(now, limit)
        if workers > 1 and len(keys) > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
                results = list(pool.map(lambda key: _deliver_one(key, now), keys))
        else:
            results = [_deliver_one(key, now) for key in keys]
        for outcome in results:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if len(keys) < limit or all(outcome == NOT_DUE_OR_TAKEN for outcome in results):
            break
    return outcomes


def _deliver_one(key: OutboxKey, now: datetime) -> str:
    """One item of a batch: whatever happens to it (the table itself failing, say), the rest of the batch goes on;
    its lease runs out and a later drain takes it again."""
    try:
        return deliver(key, now)
    except Exception:
        logger.exception("delivery could not be recorded", extra={"kind": key.kind, "channel": key.channel})
        return ERROR


def deliver(key: OutboxKey, now: datetime) -> str:
    item = outbox.claim(key, now)
    if item is None:
        return NOT_DUE_OR_TAKEN
    try:
        return _deliver_claimed(item, now)
    except Exception as exc:
        # Unexpected trouble must not lose the notification, nor retry it forever, nor stop the rest of the batch:
        # it is handed back for a later attempt like a provider outage, and fails (listed) once attempts run out.
        logger.exception("delivery failed unexpectedly", extra={"kind": key.kind, "channel": key.channel})
        return retry_or_give_up(item, RetryableSendError(f"internal error ({type(exc).__name__})"), now)


def _recipient(record: ShipmentRecord) -> Recipient:
    return shopper_recipient(record.customer, record.shopper, record.destination)


def to_shopper(kind: str) -> bool:
    """Milestone, delay and survey notifications, which the shopper policy governs (consent, quiet hours); relay
    sessions, chat, webhooks to the retailer and checks are not."""
    return kind not in (RELAY_OPEN, CHAT_OPENED, ESCALATION) and not kind.startswith(
        (CHAT_PREFIX, hooks.PREFIX, CHECK_PREFIX, COMMENT_PREFIX)
    )


def _deliver_claimed(item: OutboxItem, now: datetime) -> str:
    key = item.key
    record = shipment_store.get(key.shipment_id)
    retailer = retailer_store.get(item.retailer_id)
    if record is None or retailer is None:
        outbox.finish(key, outbox.SKIPPED, now, reason="shipment_or_retailer_missing")
        return outbox.SKIPPED
    if not to_shopper(key.kind):
        return _deliver_relay(item, record, retailer, now)
    if no_longer_news(key.kind, record.progress.status):
        outbox.finish(key, outbox.SKIPPED, now, reason="superseded")
        return outbox.SKIPPED
    if key.kind == SURVEY:
        from .surveys import due_after_arrival_text

        later = due_after_arrival_text(record, retailer, key.channel, now)
        if later is not None:
            outbox.reschedule(key, outbox.DEFERRED, later, now, "after_arrival_text")
            return outbox.DEFERRED
    recipient = _recipient(record)
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
        result, preview = _send(item, record, retailer, recipient, now)
    except RetryableSendError as error:
        return retry_or_give_up(item, error, now)
    except PermanentSendError as error:
        outbox.fail(key, retailer.id, now, error.reason)
        stats.notification_outcome(retailer.id, key.channel, "failed", now)
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
        contacts.remember_sms_sender(recipient.phone, retailer.id, record.id, now)
    stats.notification_outcome(retailer.id, key.channel, "sent", now)
    return outbox.SENT


def shopper_policy(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Decision:
    """What the shopper policy says of sending this notification now: send, defer (quiet hours) or skip (and why)."""
    key = item.key
    config = notification_settings(retailer)
    if item.fallback:  # an email standing in for a failed text goes out whatever the email channel setting
        channels = config.channels.get(key.kind, frozenset()) | {EMAIL}
        config = replace(config, channels={**config.channels, key.kind: channels})
    if key.kind == SURVEY:  # the survey picked its channel when it was planned
        config = replace(config, channels={**config.channels, SURVEY: frozenset({key.channel})})
    recipient = _recipient(record)
    opted_out = (
        key.channel == SMS and bool(recipient.phone) and contacts.is_opted_out(recipient.phone or "", retailer.id)
    )
    suppressed = (
        key.channel == EMAIL and bool(recipient.email) and contacts.is_suppressed(recipient.email or "", retailer.id)
    )
    return decide(key.kind, key.channel, recipient, config, opted_out=opted_out, suppressed=suppressed, now=now)


def retry_or_give_up(item: OutboxItem, error: RetryableSendError, now: datetime) -> str:
    """A temporary failure: try again after a backoff, or record the failure once attempts are used up."""
    if item.attempts >= MAX_ATTEMPTS:
        outbox.fail(item.key, item.retailer_id, now, f"gave up after {item.attempts} attempts: {error.reason}")
        count_outcome(item, outbox.FAILED, now)
        return outbox.FAILED
    outbox.reschedule(item.key, outbox.RETRY, now + backoff(item.attempts), now, error.reason)
    return outbox.RETRY


def _deliver_relay(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> str:
    """Relay sessions, relayed messages, webhooks to the retailer and late checks: the same claim, retry and status
    handling as notifications. Relay texts ask the same text policy themselves (services.relay.text_decision), since
    whom they go to is only known there; a deferred one comes back with `not_before`."""
    from . import relay

    key = item.key
    try:
        if key.kind == RELAY_OPEN:
            status, fields = relay.open_session(record, retailer, now)
        elif key.kind == CHAT_OPENED:
            status, fields = relay.tell_driver_chat_opened(record, retailer, now)
        elif key.kind == ESCALATION:
            from .surveys import deliver_escalation

            status, fields = deliver_escalation(record, retailer, now)
        elif key.kind.startswith(COMMENT_PREFIX):
            from .surveys import deliver_comment_added

            status, fields = deliver_comment_added(item, record, retailer, now)
        elif key.kind.startswith(CHECK_PREFIX):
            from .lateness import run_check

            status, fields = run_check(key.kind, record.id, retailer, now)
        elif key.kind.startswith(hooks.PREFIX):
            from .retailer_webhooks import deliver_status_change

            status, fields = deliver_status_change(item, record, retailer, now)
        else:
            status, fields = relay.deliver_chat(item, record, now)
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
        stats.notification_outcome(item.retailer_id, item.key.channel, outcome, now)


def handle_permanent_sms_failure(
    key: OutboxKey, retailer: Retailer, recipient: Recipient, code: str, now: datetime
) -> None:
    """A text that can never arrive: honour carrier-level opt-outs and fall back to email if the retailer wants."""
    if key.channel != SMS:
        return
    if code == TWILIO_UNSUBSCRIBED and recipient.phone:
        contacts.opt_out(recipient.phone, retailer.id, now, source="twilio_21610")
    if notification_settings(retailer).email_fallback and recipient.email:
        outbox.add_fallback(retailer.id, OutboxKey(key.shipment_id, key.kind, EMAIL), now)


def message_context(
    record: ShipmentRecord, retailer: Retailer, locale: str, unsubscribe_url: str = ""
) -> dict[str, Any]:
    from ..web.i18n import status_label
    from ..web.templating import format_eta, opt_out_text

    brand_values = brand(retailer)
    customer = record.customer or {}
    zone = zone_for(_recipient(record), notification_settings(retailer))
    pod = record.progress.proof_of_delivery or {}
    # Carrier-written text quoted to the shopper is redacted like on the tracking page (DESIGN 3.4).
    redactor = Redactor.for_shipment(
        customer.get("name"),
        record.destination,
        [pod.get("recipient_name")],
        phone=customer.get("phone"),
        email=customer.get("email"),
    )
    delivered = record.progress.status == ms.DELIVERED
    return {
        "retailer": brand_values["display_name"],
        "order_id": record.order_id or record.tracking_number,
        "first_name": (customer.get("name") or "").split(" ")[0] or "there",
        "status_label": status_label(record.progress.status, locale),  # the shopper's words, not the API's (D38)
        "eta": format_eta(record.progress.eta, zone, locale),
        "tracking_url": tracking_url(record.tracking_token),
        "carrier": display_name(record.carrier),
        "tracking_number": record.tracking_number,
        "support_phone": brand_values.get("support_phone") or "",
        "support_email": brand_values.get("support_email") or "",
        "opt_out": opt_out_text(locale),
        "brand": brand_values,
        "locale": locale,
        "unsubscribe_url": unsubscribe_url,
        "delay_reason": delay_reason(record.progress, record.promised_date, record.notified),
        "delivery_note": redactor.text(pod.get("note")).rstrip(" .") if delivered else "",  # the template ends it
    }


def unsubscribe_url(item: OutboxItem, retailer: Retailer, email: str, now: datetime) -> str:
    """The email's one-click unsubscribe link, under the token its outbox item holds (the same for every attempt,
    so erasing the shipment finds the link's record through the item)."""
    contacts.save_unsubscribe_token(item.unsubscribe_token, retailer.id, email, now)
    return f"{settings().public_base_url}/v1/unsubscribe/{item.unsubscribe_token}"


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
    item: OutboxItem, record: ShipmentRecord, retailer: Retailer, recipient: Recipient, now: datetime
) -> tuple[SendResult, dict[str, Any]]:
    from ..web.templating import Override, render_email, render_sms, resolve_locale

    key = item.key
    if key.kind == SURVEY:
        from .surveys import send_survey

        return send_survey(item, record, retailer, now)
    customer = record.customer or {}
    locale = resolve_locale(customer.get("locale"), brand(retailer).get("default_locale"))
    stored = retailer_store.templates_for(retailer.id, key.kind, key.channel).get(locale)
    override = Override(body=stored["body"], subject=stored.get("subject")) if stored else None
    config = settings()
    if key.channel == SMS:
        context = message_context(record, retailer, locale)
        sms, fallback = _with_fallback(render_sms, key.kind, locale, context, override, retailer.id)
        message = SmsMessage(
            to=recipient.phone or "", body=sms.body, status_callback=f"{config.public_base_url}/v1/twilio/status"
        )
        shown = {"body": sms.body, "locale": locale, **fallback}
        if config.twilio_configured:
            from ..channels import twilio_sms

            return twilio_sms.send(message), shown
        from ..channels import local_outbox

        return local_outbox.send_sms(message, now), shown
    unsubscribe = unsubscribe_url(item, retailer, recipient.email or "", now)
    context = message_context(record, retailer, locale, unsubscribe)
    email, fallback = _with_fallback(render_email, key.kind, locale, context, override, retailer.id)
    mail = EmailMessage(
        to=recipient.email or "",
        subject=email.subject,
        text=email.text,
        html=email.html,
        from_name=context["retailer"],
        unsubscribe_url=unsubscribe,
        tags={"pl_shipment": record.id, "pl_kind": key.kind, "pl_retailer": retailer.id},
    )
    preview = {"subject": email.subject, "locale": locale, **fallback}
    if config.sendgrid_configured:
        from ..channels import sendgrid_email

        return sendgrid_email.send(mail), preview
    from ..channels import local_outbox

    return local_outbox.send_email(mail, now), preview
