"""Which notifications a change of progress calls for (DESIGN 3.1): the current milestone, once, never a superseded
one."""

from __future__ import annotations

from dataclasses import dataclass

from . import milestones as ms
from .shipment import Progress

SMS = "sms"
EMAIL = "email"


@dataclass(frozen=True)
class Contact:
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Intent:
    """A durable wish to tell the shopper something; becomes one outbox item keyed by shipment, kind and channel."""

    kind: str
    channel: str


def channels_for(contact: Contact) -> list[str]:
    channels = []
    if contact.phone:
        channels.append(SMS)
    if contact.email:
        channels.append(EMAIL)
    return channels


def plan(before: Progress, after: Progress, notified: frozenset[str], contact: Contact | None) -> list[Intent]:
    """Intents for what changed between two progresses of a claimed shipment.

    Only the milestone the shipment is in *after* the change is considered, so a backfilled history or a
    superseded scan (out for delivery arriving after delivered) never notifies. Each kind fires once per shipment.
    """
    if contact is None:
        return []
    kinds: list[str] = []
    if after.status != before.status and after.status in ms.NOTIFYING and after.status not in notified:
        kinds.append(after.status)
    delay_is_news = after.latest_delayed and after.latest_key != before.latest_key
    if delay_is_news and ms.DELAYED not in notified and after.status not in ms.TERMINAL:
        kinds.append(ms.DELAYED)
    return [Intent(kind, channel) for kind in kinds for channel in channels_for(contact)]


def plan_on_claim(progress: Progress, notified: frozenset[str], contact: Contact) -> list[Intent]:
    """A retailer registered a shipment that scans reached first: tell the shopper where it is now, once."""
    if progress.status in ms.NOTIFYING and progress.status not in notified:
        return [Intent(progress.status, channel) for channel in channels_for(contact)]
    return []
