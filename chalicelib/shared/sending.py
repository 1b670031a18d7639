"""What delivering any shopper notification shares: whom it goes to, the shopper policy, retry backoff and
the fallback after a text that can never arrive (the deliver use case and provider callbacks both apply them)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from msgspec.structs import replace

from ..channels import EmailMessage
from ..domain import hooks
from ..domain.delivery_changes import OUTBOX_PREFIX as CHANGE_PREFIX
from ..domain.notifications import CHAT_PREFIX, CHECK_PREFIX, EMAIL, SMS
from ..domain.policy import NOW_OR_NEVER_KINDS, Decision, Recipient, decide
from ..domain.relay import CHAT_OPENED, RELAY_OPEN
from ..domain.survey import COMMENT_PREFIX, ESCALATION, SURVEY
from ..store import contacts
from ..store import notifications as outbox
from ..store.notifications import OutboxItem, OutboxKey
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from .retailer_profile import notification_settings, shopper_recipient

if TYPE_CHECKING:  # jinja2 (via web.templating) stays off the paths that never render
    from ..web.templating import RenderedEmail

MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)
#: Twilio error 21610: the number replied STOP to Twilio itself; honour it as our own opt-out too.
TWILIO_UNSUBSCRIBED = "21610"


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped: 30 s, 1 min, 2 min ... 1 h."""
    ceiling = min(MAX_BACKOFF.total_seconds(), 30 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not security


def recipient_of(record: ShipmentRecord) -> Recipient:
    return shopper_recipient(record.customer, record.shopper, record.destination)


def shopper_email(
    record: ShipmentRecord,
    retailer: Retailer,
    kind: str,
    to: str,
    email: RenderedEmail,
    from_name: str,
    unsubscribe: str,
) -> EmailMessage:
    """A rendered e-mail addressed to the shopper, tagged so SendGrid's event webhook finds its way back to it."""
    return EmailMessage(
        to=to,
        subject=email.subject,
        text=email.text,
        html=email.html,
        from_name=from_name,
        unsubscribe_url=unsubscribe,
        tags={"pl_shipment": record.id, "pl_kind": kind, "pl_retailer": retailer.id},
    )


def to_shopper(kind: str) -> bool:
    """Milestone, delay and survey notifications, which the shopper policy governs (consent, quiet hours); relay
    sessions, chat, webhooks to the retailer and checks are not."""
    return kind not in (RELAY_OPEN, CHAT_OPENED, ESCALATION) and not kind.startswith(
        (CHAT_PREFIX, hooks.PREFIX, CHECK_PREFIX, COMMENT_PREFIX, CHANGE_PREFIX)
    )


def shopper_policy(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Decision:
    """What the shopper policy says of sending this notification now: send, defer (quiet hours) or skip (and why)."""
    key = item.key
    config = notification_settings(retailer)
    if item.fallback:  # an email standing in for a failed text goes out whatever the email channel setting
        channels = config.channels.get(key.kind, frozenset()) | {EMAIL}
        config = replace(config, channels={**config.channels, key.kind: channels})
    if key.kind == SURVEY:  # the survey picked its channel when it was planned
        config = replace(config, channels={**config.channels, SURVEY: frozenset({key.channel})})
    recipient = recipient_of(record)
    opted_out = (
        key.channel == SMS and bool(recipient.phone) and contacts.is_opted_out(recipient.phone or "", retailer.id)
    )
    suppressed = (
        key.channel == EMAIL and bool(recipient.email) and contacts.is_suppressed(recipient.email or "", retailer.id)
    )
    return decide(key.kind, key.channel, recipient, config, opted_out=opted_out, suppressed=suppressed, now=now)


def handle_permanent_sms_failure(
    key: OutboxKey, retailer: Retailer, recipient: Recipient, code: str, now: datetime
) -> None:
    """A text that can never arrive: honour carrier-level opt-outs and fall back to email if the retailer wants."""
    if key.channel != SMS:
        return
    if code == TWILIO_UNSUBSCRIBED and recipient.phone:
        contacts.opt_out(recipient.phone, retailer.id, now, source="twilio_21610")
    if key.kind in NOW_OR_NEVER_KINDS:  # a moment's news ("driver is close") has no e-mail stand-in
        return
    if notification_settings(retailer).email_fallback and recipient.email:
        outbox.add_fallback(retailer.id, OutboxKey(key.shipment_id, key.kind, EMAIL), now)
