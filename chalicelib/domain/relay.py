"""Driver chat relay rules (pure): when a session is open, what each side sees, limits, and order references."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from msgspec import Struct

from . import milestones as ms

RELAY_OPEN = "relay_open"  # the outbox kind that opens a session
RELAY_CHANNEL = "relay"
CHAT_OPENED = "relay_chat_opened"  # the outbox kind that tells the driver, once, that the shopper started a chat
SHOPPER, DRIVER = "shopper", "driver"
MAX_MESSAGE_CHARS = 600
RATE_LIMIT_MESSAGES = 10
RATE_LIMIT_WINDOW = timedelta(minutes=10)
DEFAULT_GRACE = timedelta(hours=2)
CLOSING_STATUSES = frozenset({ms.ATTEMPT_FAILED, ms.RETURNED, ms.EXCEPTION, ms.CANCELLED})


class Verdict(Struct, frozen=True):
    relay: bool
    reason: str = ""


def session_open(status: str, status_at: str | None, now: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    """Open while out for delivery, and for a grace period after delivery; closed at once on failure or return."""
    if status == ms.OUT_FOR_DELIVERY:
        return True
    if status == ms.DELIVERED and status_at:
        return now < datetime.fromisoformat(status_at) + grace
    return False


def check_message(body: str, media_count: int, recent_from_sender: int) -> Verdict:
    if not body.strip() and media_count == 0:
        return Verdict(False, "empty")
    if len(body) > MAX_MESSAGE_CHARS:
        return Verdict(False, "too_long")
    if recent_from_sender >= RATE_LIMIT_MESSAGES:
        return Verdict(False, "rate_limited")
    return Verdict(True)


def relayed_text(sender_role: str, order_ref: str, driver_name: str, body: str, media_urls: tuple[str, ...]) -> str:
    """What the other side reads: the driver sees the order reference, the shopper sees the driver's first name."""
    links = " ".join(media_urls)
    text = " ".join(part for part in (body.strip(), links) if part)
    if sender_role == SHOPPER:
        return f"[{order_ref}] Customer: {text}"
    return f"{driver_name or 'Your driver'}: {text}"


def pick_session_by_reference(body: str, references: dict[str, str]) -> str | None:
    """When one phone has several open sessions on a relay number, a message starting with an order reference says
    which one it is for (e.g. "ORD-1001: at the gate"). Returns the session's shipment id, or None."""
    head = body.strip().upper()
    for shipment_id, reference in references.items():
        ref = reference.upper()
        if re.match(rf"^\[?#?{re.escape(ref)}\]?(\b|:|\s|$)", head):
            return shipment_id
    return None


def strip_reference(body: str, reference: str) -> str:
    return re.sub(rf"^\s*\[?#?{re.escape(reference)}\]?\s*:?\s*", "", body, flags=re.IGNORECASE)


def chat_opened_text(brand_name: str, order_ref: str) -> str:
    """The one text a driver gets when the shopper starts the chat, from the relay number (one GSM-7 segment)."""
    return (
        f"{brand_name[:20]}: a customer chat opened for order {order_ref[-12:]}. Texts from this number are the "
        "customer; reply here. Neither sees the other's number."
    )
