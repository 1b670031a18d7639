"""Driver chat relay: sessions on a pool of relay numbers, inbound texts and page messages relayed both ways.

Every message is stored (as a chat outbox item) before it is relayed; relaying reuses the notification delivery
machinery, so retries, status callbacks and idempotency work the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from msgspec.structs import replace

from ..channels import SendResult
from ..channels.outbound import send_text
from ..domain import keywords
from ..domain import relay as rules
from ..domain.events import iso
from ..domain.notifications import CHAT_PREFIX, SMS
from ..domain.policy import (
    DEFER,
    RELAY_TO_DRIVER,
    RELAY_TO_SHOPPER,
    REPLY_HELP,
    REPLY_RELAY,
    REPLY_START,
    REPLY_STOP,
    SEND,
    TEXT_KINDS,
    TO_DRIVER,
    Decision,
    NotificationSettings,
    Recipient,
    decide,
)
from ..domain.sms import to_gsm7
from ..errors import Conflict, NotFound, TooManyRequests, ValidationError
from ..observability import metric
from ..shared.planning import driver_of, is_open, pool
from ..shared.retailer_profile import brand, notification_settings, shopper_recipient
from ..shared.sms_replies import answer, shopper_locale
from ..shared.tracking_view import resolve
from ..store import contacts
from ..store import notifications as outbox
from ..store import relay as relay_store
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.notifications import OutboxItem, OutboxKey
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from ..web.replies import reply, reply_text, words

RELAY_SCOPE = contacts.RELAY  # opt-outs sent to a relay number cover relay traffic only
#: Chat message states that mean the message was (or is being) relayed, not refused by a limit.
RELAYED = frozenset({outbox.PENDING, outbox.SENDING, outbox.RETRY, outbox.SENT, outbox.SHOWN, outbox.DELIVERED})


def order_ref(record: ShipmentRecord) -> str:
    return record.order_id or record.tracking_number


def _send(to: str, body: str, from_number: str, now: datetime) -> SendResult:
    return send_text(to, to_gsm7(body), now, from_number=from_number)


def text_decision(kind: str, record: ShipmentRecord, retailer: Retailer | None, phone: str, now: datetime) -> Decision:
    """The text policy for a relay text to `phone`: the driver's chat opt-out for texts to the driver; for the
    shopper, everything a milestone text obeys (consent, their choice, quiet hours) and a STOP to either the
    milestone number or the relay."""
    scopes = contacts.opt_out_scopes(phone)
    config = notification_settings(retailer) if retailer is not None else None
    if TEXT_KINDS.get(kind) == TO_DRIVER:
        recipient = Recipient(phone=phone)
        opted_out = RELAY_SCOPE in scopes
    else:
        recipient = replace(shopper_recipient(record.customer, record.shopper, record.destination), phone=phone)
        opted_out = bool(scopes & {record.retailer_id, contacts.ALL_RETAILERS, RELAY_SCOPE})
    return decide(
        kind, SMS, recipient, config or NotificationSettings(), opted_out=opted_out, suppressed=False, now=now
    )


def _unsent(decision: Decision) -> tuple[str, dict[str, Any]]:
    """What becomes of a relay text the policy holds back: deferred to the end of quiet hours, or kept on the page."""
    if decision.action == DEFER:
        return outbox.DEFERRED, {"reason": decision.reason, "not_before": decision.not_before}
    if decision.reason == "opted_out":
        return outbox.NOT_RELAYED, {"reason": "recipient_opted_out"}
    return outbox.SHOWN, {"reason": decision.reason}


def allocate_number(shipment_id: str, phones: list[str], now: datetime) -> str:
    """A pool number on which neither participant has another open session; if none is left, the least bad one
    (messages are then disambiguated by order reference instead of guessed)."""
    numbers = pool()
    start = int(hashlib.sha256(shipment_id.encode()).hexdigest()[:8], 16) % len(numbers)
    ordered = numbers[start:] + numbers[:start]
    for number in ordered:
        if not any(relay_store.busy(number, phone, now) for phone in phones if phone):
            return number
    return ordered[0]


def open_session(record: ShipmentRecord, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    """Called for the `relay_open` outbox item: allocate, store, and introduce the relay to the shopper."""
    shopper_phone = (record.customer or {}).get("phone") or ""
    session = relay_store.get_session(record.id)
    if session is None:
        driver = driver_of(record)
        number = allocate_number(record.id, [shopper_phone, driver.get("phone", "")], now)
        session = relay_store.Session(
            shipment_id=record.id,
            relay_number=number,
            shopper_phone=shopper_phone,
            driver_phone=driver.get("phone", ""),
            driver_name=(driver.get("name") or "").split(" ")[0],
            opened_at=iso(now),
        )
        relay_store.open_session(session, now, record.tracking_token)
    # else: this item is delivered again (deferred by quiet hours, or retried): the session stands, the
    # introduction is still owed.
    number = session.relay_number
    if not shopper_phone:
        return outbox.SHOWN, {"relay_number": number}
    decision = text_decision(rules.RELAY_OPEN, record, retailer, shopper_phone, now)
    if decision.action != SEND:
        status, fields = _unsent(decision)
        return status, {**fields, "relay_number": number}

    name = brand(retailer)["display_name"][:20]
    locale = (record.customer or {}).get("locale")
    driver_name = session.driver_name or words("relay_your_driver", locale)
    intro = reply_text("relay_intro", locale, name=name, driver=driver_name, order=order_ref(record)[-12:])
    result = _send(shopper_phone, intro, number, now)
    return outbox.SENT, {"relay_number": number, "provider": result.provider, "provider_message_id": result.message_id}


def new_message_key(shipment_id: str, now: datetime) -> OutboxKey:
    return OutboxKey(
        shipment_id, f"{CHAT_PREFIX}{now.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(3)}", rules.RELAY_CHANNEL
    )


def accept_message(
    record: ShipmentRecord, role: str, body: str, media: tuple[str, ...], via: str, now: datetime
) -> tuple[bool, str]:
    """Store the message, queued for relaying unless a limit says no. Returns (relayed, reason). The shopper's
    first relayed message also queues the driver's one notice that a chat opened."""
    earlier = [m for m in outbox.chat_messages(record.id) if m.doc.get("from") == role]
    since = iso(now - rules.RATE_LIMIT_WINDOW)
    verdict = rules.check_message(body, len(media), sum(1 for m in earlier if m.created_at >= since))

    metric("RelayMessages", via=via, outcome="accepted" if verdict.relay else verdict.reason)
    doc = {"from": role, "body": body[: rules.MAX_MESSAGE_CHARS * 2], "media": list(media), "via": via}
    key = new_message_key(record.id, now)
    token = record.tracking_token
    if verdict.relay:
        if role == rules.SHOPPER and not any(m.status in RELAYED for m in earlier):
            # Conditional put: a second "first" message racing this one finds the notice already queued. Written
            # first and due a second earlier, so both the stream (same partition, in write order) and the scheduler
            # (by due time) send it before the message.
            notice = OutboxKey(record.id, rules.CHAT_OPENED, rules.RELAY_CHANNEL)
            outbox.add(record.retailer_id, notice, now - timedelta(seconds=1))
        outbox.add_chat_message(record.retailer_id, key, doc, now, token=token)
    else:
        outbox.add_chat_message(
            record.retailer_id, key, doc, now, token=token, status=outbox.NOT_RELAYED, reason=verdict.reason
        )
    return verdict.relay, verdict.reason


def tell_driver_chat_opened(record: ShipmentRecord, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    """Called for the `relay_chat_opened` outbox item: the driver learns, from the session's relay number, that the
    shopper started a chat (so the relayed texts that follow are not a stranger's)."""
    session = relay_store.get_session(record.id)
    if session is None:
        return outbox.NOT_RELAYED, {"reason": "no_session"}
    if not session.driver_phone:
        return outbox.SKIPPED, {"reason": "no_driver_phone"}
    decision = text_decision(rules.CHAT_OPENED, record, retailer, session.driver_phone, now)
    if decision.action != SEND:
        return _unsent(decision)

    text = rules.chat_opened_text(brand(retailer)["display_name"], order_ref(record))
    result = _send(session.driver_phone, text, session.relay_number, now)
    return outbox.SENT, {"provider": result.provider, "provider_message_id": result.message_id}


def deliver_chat(item: OutboxItem, record: ShipmentRecord, now: datetime) -> tuple[str, dict[str, Any]]:
    """Relay one stored message to the other side from the session's relay number."""
    session = relay_store.get_session(record.id)
    if session is None:
        return outbox.NOT_RELAYED, {"reason": "no_session"}
    sender = item.doc.get("from")
    target = session.driver_phone if sender == rules.SHOPPER else session.shopper_phone
    if not target:
        return outbox.SHOWN, {"reason": "shown_on_page"}  # a shopper without a phone reads replies on the page
    kind = RELAY_TO_DRIVER if sender == rules.SHOPPER else RELAY_TO_SHOPPER
    decision = text_decision(kind, record, retailer_store.get(record.retailer_id), target, now)
    if decision.action != SEND:
        return _unsent(decision)
    driver_name = session.driver_name or words("relay_your_driver", (record.customer or {}).get("locale"))
    text = rules.relayed_text(
        sender or "", order_ref(record), driver_name, item.doc.get("body", ""), tuple(item.doc.get("media", []))
    )
    result = _send(target, text, session.relay_number, now)
    return outbox.SENT, {"provider": result.provider, "provider_message_id": result.message_id}


def _support(retailer_id: str, locale: str | None) -> str:
    retailer = retailer_store.get(retailer_id)
    if retailer is None:
        return ""

    values = brand(retailer)
    contact = values.get("support_phone") or values.get("support_email") or values.get("support_url")
    return words("relay_support", locale).format(name=values["display_name"], contact=f": {contact}" if contact else "")


def handle_relay_inbound(
    relay_number: str, sender: str, body: str, media: tuple[str, ...], now: datetime
) -> str | None:
    """A text to a relay number: STOP/START/HELP first, then routing to exactly one open session, or a question."""
    intent = keywords.classify(body)
    if intent.action is not None:
        locale = keywords.reply_locale(intent, shopper_locale(sender) if intent.locale in (None, "en") else None)
        if intent.action == keywords.STOP:
            first = contacts.opt_out(sender, RELAY_SCOPE, now, source=f"relay:{keywords.normalise(body)[:40]}")
            return answer(REPLY_STOP, reply("relay_stop", locale), sender, now) if first else None
        if intent.action == keywords.HELP:
            return answer(REPLY_HELP, reply("relay_help", locale), sender, now)
        # START undoes a relay STOP; a "yes" from someone who never stopped is an answer for the driver.
        if contacts.opt_in(sender, RELAY_SCOPE) or keywords.normalise(body) in ("START", "UNSTOP"):
            return answer(REPLY_START, reply("relay_start", locale), sender, now)
    text = _route_inbound(relay_number, sender, body, media, now)
    return answer(REPLY_RELAY, text, sender, now) if text else None


def _route_inbound(relay_number: str, sender: str, body: str, media: tuple[str, ...], now: datetime) -> str | None:
    """Routing to exactly one open session, or a question back; the reply text, if any."""
    candidates: dict[str, tuple[ShipmentRecord, str]] = {}
    closed: ShipmentRecord | None = None
    for route in relay_store.routes(relay_number, sender, now):
        record = shipment_store.get(route["sk"])
        if record is None:
            continue
        if is_open(record, now):
            candidates[record.id] = (record, route["role"])
        else:
            closed = record
    locale = _sender_locale(sender, [*(record for record, _ in candidates.values()), *([closed] if closed else [])])
    if not candidates:
        if closed is not None:
            _keep_unrouted(closed, sender, body, media, now, "session_closed")
            return reply_text("relay_ended", locale, support=_support(closed.retailer_id, locale))
        return reply_text("relay_no_delivery", locale)
    if len(candidates) > 1:
        references = {shipment_id: order_ref(record) for shipment_id, (record, _) in candidates.items()}
        chosen = rules.pick_session_by_reference(body, references)
        if chosen is None:
            listing = words("relay_or", locale).join(sorted(references.values()))
            return reply_text("relay_which_order", locale, orders=listing)
        record, role = candidates[chosen]
        body = rules.strip_reference(body, references[chosen])
    else:
        record, role = next(iter(candidates.values()))
    relayed, reason = accept_message(record, role, body, media, "sms", now)
    if relayed:
        return None
    if reason == "too_long":
        return reply_text("relay_too_long", locale, limit=str(rules.MAX_MESSAGE_CHARS))
    if reason == "rate_limited":
        return reply_text("relay_rate_limited", locale)
    return None  # an empty text needs no answer


def _sender_locale(sender: str, records: list[ShipmentRecord]) -> str | None:
    """A shopper is answered in their shipment's language; a driver (or a stranger) in English."""
    for record in records:
        if (record.customer or {}).get("phone") == sender:
            return (record.customer or {}).get("locale")
    return None


def _keep_unrouted(
    record: ShipmentRecord, sender: str, body: str, media: tuple[str, ...], now: datetime, reason: str
) -> None:
    role = rules.SHOPPER if (record.customer or {}).get("phone") == sender else rules.DRIVER
    outbox.add_chat_message(
        record.retailer_id,
        new_message_key(record.id, now),
        {"from": role, "body": body, "media": list(media), "via": "sms"},
        now,
        token=record.tracking_token,
        status=outbox.NOT_RELAYED,
        reason=reason,
    )


def post_from_page(token: str, body: str, now: datetime) -> None:
    found, _ = resolve(token)
    record = shipment_store.get(found.id)
    if record is None or relay_store.get_session(record.id) is None or not is_open(record, now):
        raise Conflict("the chat with your driver is not open", code="chat_closed")
    if not body.strip():
        raise ValidationError("write a message first", field="message", code="empty_message")
    relayed, reason = accept_message(record, rules.SHOPPER, body, (), "page", now)
    if reason == "rate_limited":
        raise TooManyRequests("too many messages in a short time; please wait a few minutes", code="rate_limited")
    if not relayed:
        raise ValidationError(
            {"too_long": f"messages are limited to {rules.MAX_MESSAGE_CHARS} characters"}.get(reason, str(reason)),
            field="message",
            code="message_too_long" if reason == "too_long" else None,
        )


def transcript(record: ShipmentRecord, now: datetime) -> dict[str, Any]:
    session = relay_store.get_session(record.id)
    return {
        "session": None
        if session is None
        else {
            "relay_number": session.relay_number,
            "opened_at": session.opened_at,
            "open": is_open(record, now),
            "driver_name": session.driver_name,
        },
        "messages": [
            {
                "at": item.created_at,
                "from": item.doc.get("from"),
                "via": item.doc.get("via"),
                "body": item.doc.get("body"),
                "media": item.doc.get("media", []),
                "status": item.status,
                "reason": item.reason or None,
                "attempts": item.attempts,
            }
            for item in sorted(outbox.chat_messages(record.id), key=lambda m: m.key.kind)
        ],
    }


def retailer_transcript(retailer_id: str, shipment_id: str, now: datetime) -> dict[str, Any]:
    record = shipment_store.get(shipment_id)
    if record is None or record.retailer_id != retailer_id:
        raise NotFound(f"no shipment {shipment_id!r}", field="id")
    return transcript(record, now)
