"""What providers tell us after a send: inbound texts (STOP/START/HELP), Twilio status callbacks, SendGrid events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain.notifications import EMAIL, SMS
from ..errors import NotFound, ValidationError
from ..store import contacts
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.notifications import OutboxKey
from ..store.table import client, dumps, expires_at, table_name, to_item
from . import stats

STOP_WORDS = frozenset({"STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

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
SUPPRESSING_EVENTS = {
    "bounce": "bounced",
    "spamreport": "spam_report",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()


def keyword(body: str) -> str:
    return body.strip().upper()


def _support_line(retailer_id: str | None) -> tuple[str, str]:
    retailer = retailer_store.get(retailer_id) if retailer_id and retailer_id != contacts.ALL_RETAILERS else None
    if retailer is None:
        return "Porchlight", ""
    from .retailer_profile import brand

    values = brand(retailer)
    contact = " or ".join(
        v for v in (values.get("support_phone"), values.get("support_email"), values.get("support_url")) if v
    )
    return values["display_name"], contact


def _keep_inbound(message: InboundSms, retailer_id: str | None, now: datetime, handled_as: str) -> None:
    """Every text a shopper sends is stored, whatever we do with it (nothing is silently dropped)."""
    client().put_item(
        TableName=table_name(),
        Item=to_item(
            {
                "pk": f"INBOUND#{message.from_number}",
                "sk": f"{now.isoformat(timespec='seconds')}#{message.message_sid}",
                "retailer_id": retailer_id or "",
                "to": message.to_number,
                "doc": dumps({"body": message.body, "media": list(message.media_urls), "handled_as": handled_as}),
                "expires_at": expires_at(now.isoformat()),
            }
        ),
    )


def handle_inbound_sms(message: InboundSms, now: datetime) -> str | None:
    """Opt-out keywords first (DESIGN routing); returns the reply text, or None for no reply."""
    word = keyword(message.body)
    last = contacts.last_sms_sender(message.from_number)
    retailer_id = last["retailer_id"] if last else None
    if word in STOP_WORDS:
        scope = contacts.ALL_RETAILERS if word == "STOPALL" or retailer_id is None else retailer_id
        first_time = contacts.opt_out(message.from_number, scope, now, source=f"sms:{word}")
        _keep_inbound(message, retailer_id, now, "opt_out")
        if not first_time:
            return None  # confirmed once already
        name, _ = _support_line(scope)
        return f"You're unsubscribed from {name} texts and will get no more. Reply START to resubscribe."
    if word in START_WORDS:
        removed = False
        for scope in {retailer_id or contacts.ALL_RETAILERS, contacts.ALL_RETAILERS}:
            removed |= contacts.opt_in(message.from_number, scope)
        _keep_inbound(message, retailer_id, now, "opt_in")
        name, _ = _support_line(retailer_id)
        return f"You're resubscribed to {name} delivery texts. Reply STOP to opt out." if removed else None
    if word in HELP_WORDS:
        _keep_inbound(message, retailer_id, now, "help")
        name, contact = _support_line(retailer_id)
        where = f" Contact {contact}." if contact else ""
        return f"{name} delivery updates.{where} Reply STOP to opt out. Msg&data rates may apply."
    from .surveys import handle_sms_reply

    handled, reply = handle_sms_reply(message.from_number, message.body, now)
    if handled:
        _keep_inbound(message, retailer_id, now, "survey")
        return reply
    _keep_inbound(message, retailer_id, now, "unrouted")
    name, contact = _support_line(retailer_id)
    where = f" For help, contact {contact}." if contact else ""
    return f"{name}: this number sends delivery updates only.{where} Reply HELP for help, STOP to opt out."


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
        stats.notification_outcome(item.retailer_id, item.channel, status, now)
    if changed and status == outbox.FAILED and item.channel == SMS:
        _fallback_after_failed_text(item.key, item.retailer_id, error_code, now)
    return {"notification": f"{item.kind}/{item.channel}", "status": status, "changed": changed}


def _fallback_after_failed_text(key: OutboxKey, retailer_id: str, error_code: str, now: datetime) -> None:
    from .deliver import _recipient, handle_permanent_sms_failure

    record = shipment_store.get(key.shipment_id)
    retailer = retailer_store.get(retailer_id)
    if record is not None and retailer is not None:
        handle_permanent_sms_failure(key, retailer, _recipient(record), error_code, now)


def apply_sendgrid_events(events: Any, now: datetime) -> dict[str, int]:
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


def _apply_sendgrid_event(event: dict[str, Any], now: datetime) -> bool:
    name = event["event"]
    shipment_id, kind, retailer_id = event.get("pl_shipment"), event.get("pl_kind"), event.get("pl_retailer")
    email = event.get("email")
    applied = False
    if name in SUPPRESSING_EVENTS and isinstance(email, str) and email:
        # A hard bounce is about the address; spam reports and unsubscribes are about this retailer's mail.
        scope = contacts.ALL_RETAILERS if name == "bounce" else retailer_id
        if scope:
            contacts.suppress(email, str(scope), now, SUPPRESSING_EVENTS[name])
            applied = True
    if name in SENDGRID_STATUS and isinstance(shipment_id, str) and isinstance(kind, str):
        reason = str(event.get("reason") or event.get("response") or "")[:300] if name in ("bounce", "dropped") else ""
        status = SENDGRID_STATUS[name]
        listed_for = retailer_id if isinstance(retailer_id, str) else None
        changed = outbox.advance_status(
            OutboxKey(shipment_id, kind, EMAIL), status, now, reason, retailer_id=listed_for
        )
        if changed and isinstance(retailer_id, str) and status in (outbox.DELIVERED, outbox.FAILED, outbox.BOUNCED):
            stats.notification_outcome(retailer_id, EMAIL, status, now)
        applied = True
    return applied


def unsubscribe(token: str, now: datetime) -> dict[str, Any]:
    target = contacts.unsubscribe_target(token)
    if target is None:
        raise NotFound("this unsubscribe link is not valid")
    contacts.suppress(target["email"], target["retailer_id"], now, "unsubscribe_link")
    name, _ = _support_line(target["retailer_id"])
    return {"retailer": name}


def unsubscribe_preview(token: str) -> dict[str, Any]:
    target = contacts.unsubscribe_target(token)
    if target is None:
        raise NotFound("this unsubscribe link is not valid")
    name, _ = _support_line(target["retailer_id"])
    return {"retailer": name}
