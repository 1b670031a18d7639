"""Answers to a shopper's text (STOP, START, HELP, ...) through the text policy, in the shopper's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.notifications import SMS
from ..domain.policy import SEND, NotificationSettings, Recipient, decide
from ..store import contacts
from ..store import shipments as shipment_store


def answer(kind: str, text: str, phone: str, now: datetime) -> str | None:
    """A reply to the text `phone` just sent, once the text policy agrees (replies are always allowed: see
    domain.policy.TEXT_KINDS)."""
    decision = decide(
        kind, SMS, Recipient(phone=phone), NotificationSettings(), opted_out=False, suppressed=False, now=now
    )
    return text if decision.action == SEND else None


def shopper_locale(phone: str, last: dict[str, Any] | None = None) -> str | None:
    """The language of the shopper's newest shipment texted from our number, if we know it."""
    last = last if last is not None else contacts.last_sms_sender(phone)
    record = shipment_store.get(last["shipment_id"]) if last and last.get("shipment_id") else None
    return (record.customer or {}).get("locale") if record is not None else None
