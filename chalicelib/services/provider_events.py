"""What providers tell us after a send: inbound texts (STOP/START/HELP), Twilio status callbacks, SendGrid events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from msgspec import Struct

from ..domain import engagement, keywords
from ..domain.notifications import EMAIL, SMS
from ..domain.policy import (
    REPLY_HELP,
    REPLY_START,
    REPLY_STOP,
    REPLY_SURVEY,
    REPLY_UNROUTED,
)
from ..errors import NotFound, ValidationError
from ..shared import engagement as engagement_counts
from ..shared import sending, stats
from ..shared.retailer_profile import brand
from ..shared.sending import backoff, handle_permanent_sms_failure, recipient_of
from ..shared.sms_replies import answer, shopper_locale
from ..store import contacts, kept_messages
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.notifications import OutboxKey
from ..web.replies import reply, reply_text, words

TWILIO_STATUS = {
    "accepted": outbox.QUEUED,
    "queued": outbox.QUEUED,
    "sending": outbox.QUEUED,
    "sent": outbox.SENT,
    "delivered": outbox.DELIVERED,
    "undelivered": outbox.FAILED,
    "failed": outbox.FAILED,
}
SENDGRID_STATUS = {
    "processed": outbox.SENT,
    "delivered": outbox.DELIVERED,
    "bounce": outbox.BOUNCED,
    "dropped": outbox.FAILED,
}
#: Events about this retailer's mail (the shopper's wish): suppress the address for that retailer only.
RETAILER_SUPPRESSING_EVENTS = {
    "spamreport": "spam_report",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}
#: `dropped` reasons (SendGrid's documented list) that say the address itself is invalid: every retailer.
INVALID_DROP_REASONS = {"invalid", "bounced address"}
#: `dropped` reasons that repeat an earlier choice of the shopper about this sender: this retailer only.
RETAILER_DROP_REASONS = {"unsubscribed address": "unsubscribed", "spam reporting address": "spam_report"}
#: A `bounce` whose `type` is "blocked" (or a 4.x.x status), and every `deferred`: temporary, sent again later.
TEMPORARY_BOUNCE_TYPES = {"blocked"}


#: (phone, text, now) -> (handled, reply): whether a survey took the text, and what to answer.
SurveyReply = Callable[[str, str, datetime], tuple[bool, str | None]]


class InboundSms(Struct, frozen=True):
    message_sid: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()


def _support_line(retailer_id: str | None) -> tuple[str, str]:
    retailer = retailer_store.get(retailer_id) if retailer_id and retailer_id != contacts.ALL_RETAILERS else None
    if retailer is None:
        return "Porchlight", ""

    values = brand(retailer)
    contact = " or ".join(
        v for v in (values.get("support_phone"), values.get("support_email"), values.get("support_url")) if v
    )
    return values["display_name"], contact


def _keep_inbound(message: InboundSms, retailer_id: str | None, now: datetime, handled_as: str) -> None:
    """Every text a shopper sends is stored, whatever we do with it (nothing is silently dropped)."""
    content = {"body": message.body, "media": list(message.media_urls), "handled_as": handled_as}
    kept_messages.keep_inbound(message.from_number, message.message_sid, retailer_id, message.to_number, content, now)


def handle_inbound_sms(message: InboundSms, now: datetime, survey_reply: SurveyReply) -> str | None:
    """A text to our milestone number: stop, start, help first (in the shopper's words), then survey answers
    (`survey_reply`, the survey use case's, handed in by the route so that use cases never import each other).

    The milestone number is shared by every retailer, and the shopper cannot tell whose text they are answering:
    a STOP there records an opt-out of every text from Porchlight's number (any retailer, and the driver chat's
    introduction and messages), START removes every opt-out that number's STOPs and carrier blocks recorded (not a
    STOP sent to a driver chat number, which START on that number undoes), and both are always confirmed.
    """
    intent = keywords.classify(message.body)
    phone = message.from_number
    last = contacts.last_sms_sender(phone)
    retailer_id = last["retailer_id"] if last else None
    locale = keywords.reply_locale(
        intent, shopper_locale(phone, last) if intent.action and intent.locale in (None, "en") else None
    )
    if intent.action == keywords.STOP:
        first_time = contacts.opt_out(
            phone, contacts.ALL_RETAILERS, now, source=f"sms:{keywords.normalise(message.body)[:40]}"
        )
        _keep_inbound(message, retailer_id, now, "opt_out")
        if first_time:
            engagement_counts.stopped(last, now)
        if not first_time:
            return None  # confirmed once already
        return answer(REPLY_STOP, reply("stop", locale), phone, now)
    if intent.action == keywords.START:
        contacts.opt_in_all(phone, keep=frozenset({contacts.RELAY}))
        _keep_inbound(message, retailer_id, now, "opt_in")
        return answer(REPLY_START, reply("start", locale), phone, now)
    if intent.action == keywords.HELP:
        _keep_inbound(message, retailer_id, now, "help")
        name, contact = _support_line(retailer_id)
        return answer(REPLY_HELP, reply("help", locale, name_value=name, contact=contact), phone, now)
    handled, survey_answer = survey_reply(phone, message.body, now)
    if handled:
        _keep_inbound(message, retailer_id, now, "survey")
        return answer(REPLY_SURVEY, survey_answer, phone, now) if survey_answer else None
    _keep_inbound(message, retailer_id, now, "unrouted")
    name, contact = _support_line(retailer_id)
    locale = keywords.reply_locale(intent, shopper_locale(phone, last))  # no keyword said which language
    where = words("unrouted_contact", locale).format(contact=contact) if contact else ""
    return answer(REPLY_UNROUTED, reply_text("unrouted", locale, name=name, contact=where), phone, now)


def apply_twilio_status(params: dict[str, str], now: datetime) -> dict[str, Any]:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    raw_status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not sid:
        raise ValidationError("MessageSid is required", field="MessageSid")
    if raw_status not in TWILIO_STATUS:
        raise ValidationError(f"unknown MessageStatus {raw_status!r}", field="MessageStatus")
    item = outbox.find_by_provider_id(sid)
    if item is None:
        raise NotFound(f"no notification was sent as {sid}", field="MessageSid")
    status = TWILIO_STATUS[raw_status]
    error_code = params.get("ErrorCode") or ""
    reason = f"twilio {raw_status} error {error_code}" if error_code else ""
    changed = outbox.advance_status(item.key, status, now, reason, retailer_id=item.retailer_id)
    if changed and status in (outbox.DELIVERED, outbox.FAILED):
        stats.notification_outcome(item.retailer_id, item.channel, status, now, kind=item.kind)
    if changed and status == outbox.FAILED and item.channel == SMS:
        _fallback_after_failed_text(item.key, item.retailer_id, error_code, now)
    return {"notification": f"{item.kind}/{item.channel}", "status": status, "changed": changed}


def _fallback_after_failed_text(key: OutboxKey, retailer_id: str, error_code: str, now: datetime) -> None:
    record = shipment_store.get(key.shipment_id)
    retailer = retailer_store.get(retailer_id)
    if record is not None and retailer is not None:
        handle_permanent_sms_failure(key, retailer, recipient_of(record), error_code, now)


def apply_sendgrid_events(events: Any, now: datetime) -> dict[str, int]:
    """A verified Event Webhook batch: status changes, suppressions (per retailer unless SendGrid says the address
    is invalid) and blocks/deferrals sent back to retry; each event once (by `sg_event_id`)."""
    if not isinstance(events, list):
        raise ValidationError("the Event Webhook body must be a JSON array of events", field="body")
    counts = {"processed": 0, "duplicates": 0, "ignored": 0}
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise ValidationError(f"event {index} must be an object with an 'event' name", field=f"[{index}].event")
    for event in events:
        event_id = str(event.get("sg_event_id") or "")
        if event_id and not contacts.first_sighting("sendgrid", event_id, now):
            counts["duplicates"] += 1
            continue
        counts["processed" if _apply_sendgrid_event(event, now) else "ignored"] += 1
    return counts


def sendgrid_outcome(event: dict[str, Any]) -> tuple[str, str | None]:
    """What a SendGrid event means for the notification and the address: (status or "retry" or "", suppression
    scope: "*" every retailer, "retailer" this one, None)."""
    name = event["event"]
    if name == "deferred":
        return "retry", None
    if name == "bounce":
        status_code = str(event.get("status") or "")
        if str(event.get("type") or "").lower() in TEMPORARY_BOUNCE_TYPES or status_code.startswith("4"):
            return "retry", None
        return outbox.BOUNCED, contacts.ALL_RETAILERS  # a hard bounce: the address does not take mail
    if name == "dropped":
        reason = str(event.get("reason") or "").strip().lower()
        if reason in INVALID_DROP_REASONS:
            return outbox.FAILED, contacts.ALL_RETAILERS
        if reason in RETAILER_DROP_REASONS:
            return outbox.FAILED, "retailer"
        return outbox.FAILED, None
    if name in RETAILER_SUPPRESSING_EVENTS:
        return "", "retailer"
    return SENDGRID_STATUS.get(name, ""), None


def _suppression_reason(event: dict[str, Any], scope: str) -> str:
    name = event["event"]
    if scope == contacts.ALL_RETAILERS:
        return contacts.INVALID_ADDRESS
    if name == "dropped":
        return RETAILER_DROP_REASONS[str(event.get("reason") or "").strip().lower()]
    return RETAILER_SUPPRESSING_EVENTS[name]


def _apply_sendgrid_event(event: dict[str, Any], now: datetime) -> bool:
    name = event["event"]
    shipment_id, kind, retailer_id = event.get("pl_shipment"), event.get("pl_kind"), event.get("pl_retailer")
    email = event.get("email")
    outcome, scope = sendgrid_outcome(event)
    applied = _count_engagement(event, now)
    if scope and isinstance(email, str) and email:
        target = contacts.ALL_RETAILERS if scope == contacts.ALL_RETAILERS else retailer_id
        if isinstance(target, str) and target:
            detail = str(event.get("reason") or event.get("type") or "")[:120]
            contacts.suppress(email, target, now, _suppression_reason(event, scope), source=f"sendgrid {name} {detail}")
            applied = True
    if not (outcome and isinstance(shipment_id, str) and isinstance(kind, str)):
        return applied
    key = OutboxKey(shipment_id, kind, EMAIL)
    listed_for = retailer_id if isinstance(retailer_id, str) else None
    detail = str(event.get("reason") or event.get("response") or "")[:300]
    if outcome == "retry":
        return _send_again_later(key, event, detail, now) or applied
    reason = detail if name in ("bounce", "dropped") else ""
    changed = outbox.advance_status(key, outcome, now, reason, retailer_id=listed_for)
    if changed and isinstance(retailer_id, str) and outcome in (outbox.DELIVERED, outbox.FAILED, outbox.BOUNCED):
        stats.notification_outcome(retailer_id, EMAIL, outcome, now, kind=kind)
    return True


#: SendGrid engagement events (D45) and the metric each counts, once per message.
ENGAGEMENT_EVENTS = {
    "open": engagement.OPENED,
    "click": engagement.CLICKED,
    "unsubscribe": engagement.UNSUBSCRIBED,
    "group_unsubscribe": engagement.UNSUBSCRIBED,
    "spamreport": engagement.SPAM_REPORTED,
}


def _count_engagement(event: dict[str, Any], now: datetime) -> bool:
    """An open, click, unsubscribe or spam report of one of our e-mails, counted once per message (True: it was
    about one of ours; unsubscribes and spam reports go on to suppress the address). An open Apple's
    Mail Privacy Protection made (`sg_machine_open`) is a machine open, not the shopper reading it."""
    metric = ENGAGEMENT_EVENTS.get(event["event"])
    shipment_id, kind, retailer_id = event.get("pl_shipment"), event.get("pl_kind"), event.get("pl_retailer")
    if metric is None or not (isinstance(shipment_id, str) and isinstance(kind, str) and isinstance(retailer_id, str)):
        return False
    if metric == engagement.OPENED and event.get("sg_machine_open") is True:
        metric = engagement.MACHINE_OPENED
    engagement_counts.once(OutboxKey(shipment_id, kind, EMAIL), retailer_id, metric, now)
    return True


def _send_again_later(key: OutboxKey, event: dict[str, Any], detail: str, now: datetime) -> bool:
    """A block or deferral of the message we sent: the notification goes back to retry with the same backoff and
    attempt limit as a provider outage. Only the current attempt's message moves it (a late event about an earlier
    attempt, or about a message already delivered, changes nothing)."""
    item = outbox.get(key)
    message_id = str(event.get("sg_message_id") or "")
    if item is None or not item.provider_message_id:
        return False
    if message_id and not message_id.startswith(item.provider_message_id):
        return False
    why = f"sendgrid {event['event']}{' ' + str(event.get('type')) if event.get('type') else ''}: {detail}".strip()
    if item.attempts >= sending.MAX_ATTEMPTS:
        gave_up = f"gave up after {item.attempts} attempts: {why}"[:300]
        if outbox.advance_status(key, outbox.FAILED, now, gave_up, retailer_id=item.retailer_id):
            stats.notification_outcome(item.retailer_id, EMAIL, outbox.FAILED, now, kind=key.kind)
        return True
    return outbox.send_again(key, item.provider_message_id, now + backoff(item.attempts), now, why[:300])


class LinkExpired(NotFound):
    status = 410
    code = "link_expired"


def _live_target(token: str, now: datetime) -> dict[str, Any]:
    """The unsubscribe link's address and retailer; NotFound if unknown, LinkExpired past its retention (the table's
    TTL removes such items only eventually)."""
    target = contacts.unsubscribe_target(token)
    if target is None:
        raise NotFound("this unsubscribe link is not valid")
    if int(target.get("expires_at") or 0) and int(target["expires_at"]) < now.timestamp():
        raise LinkExpired("this unsubscribe link has expired")
    return target


def unsubscribe(token: str, now: datetime) -> dict[str, Any]:
    target = _live_target(token, now)
    contacts.suppress(target["email"], target["retailer_id"], now, "unsubscribe_link", source="unsubscribe link")
    if target.get("shipment_id") and target.get("kind"):
        key = OutboxKey(str(target["shipment_id"]), str(target["kind"]), EMAIL)
        engagement_counts.once(key, str(target["retailer_id"]), engagement.UNSUBSCRIBED, now)
    name, _ = _support_line(target["retailer_id"])
    return {"retailer": name}


def unsubscribe_preview(token: str, now: datetime) -> dict[str, Any]:
    target = _live_target(token, now)
    name, _ = _support_line(target["retailer_id"])
    return {"retailer": name}
