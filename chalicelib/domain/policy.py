"""Whether, and when, one notification may go out: channel choice, consent, opt-outs, quiet hours (pure)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from msgspec import Struct, field

from . import milestones as ms
from . import quiet_hours
from .delivery_changes import CODE_KIND as DELIVERY_CHANGE_CODE
from .delivery_changes import NOTICE_KIND as DELIVERY_CHANGE
from .live import DRIVER_CLOSE
from .notifications import EMAIL, RETURN_MILESTONE, SMS
from .pickup import REMINDER_KINDS, is_reminder
from .relay import CHAT_OPENED, RELAY_OPEN
from .survey import SURVEY

NOTIFICATION_KINDS: tuple[str, ...] = (
    ms.PROCESSED,
    ms.SHIPPED,
    ms.OUT_FOR_DELIVERY,
    ms.DELIVERED,
    ms.DELAYED,
    ms.ATTEMPT_FAILED,
    ms.AVAILABLE_FOR_PICKUP,
    ms.RETURNED,
    ms.EXCEPTION,
)
CHANNELS: tuple[str, ...] = (SMS, EMAIL)
#: Without SMS consent only this kind may be texted (the package-delivery exemption), once per shipment.
CONSENT_EXEMPT_KIND = ms.OUT_FOR_DELIVERY

SEND, DEFER, SKIP = "send", "defer", "skip"
#: Texts that are only true for a moment ("your driver is 2 stops away"): in quiet hours they are dropped, never
#: deferred to 08:00, when they would be false (docs/decisions.md D46).
NOW_OR_NEVER_KINDS: frozenset[str] = frozenset({DRIVER_CLOSE})

#: Who a text goes to decides which rules apply to it (docs/operations.md, "Texts and opt-outs"):
#: to the shopper: channel settings, the shopper's own choice, opt-out, consent (or the one-text exemption), quiet
#: hours (deferred, never dropped); to the driver: the driver's own opt-out of the chat only (they are working the
#: delivery and wrote or are written to about it); a reply: the answer to a text that number just sent us (STOP and
#: START confirmations, HELP, survey and chat answers), which carriers' rules allow whatever the consent or the hour.
TO_SHOPPER, TO_DRIVER, REPLY = "to_shopper", "to_driver", "reply"
#: The relay's outbound kinds (a relayed message's outbox kind is chat:<time>-<id>; its direction names its kind here).
RELAY_TO_SHOPPER, RELAY_TO_DRIVER = "chat_to_shopper", "chat_to_driver"
#: Answers to an inbound text (TwiML replies).
REPLY_STOP, REPLY_START, REPLY_HELP, REPLY_SURVEY, REPLY_RELAY, REPLY_UNROUTED = (
    "reply_stop",
    "reply_start",
    "reply_help",
    "reply_survey",
    "reply_relay",
    "reply_unrouted",
)
#: Every kind of text Porchlight sends, and whom it goes to. A text kind missing here is never sent (decide() skips
#: it as `unregistered_kind`, nor e-mailed), and tests/unit/test_text_policy.py covers each entry.
TEXT_KINDS: dict[str, str] = {
    **{kind: TO_SHOPPER for kind in NOTIFICATION_KINDS},
    SURVEY: TO_SHOPPER,
    DRIVER_CLOSE: TO_SHOPPER,
    **{kind: TO_SHOPPER for kind in REMINDER_KINDS},
    **{kind: TO_SHOPPER for kind in RETURN_MILESTONE},
    DELIVERY_CHANGE: TO_SHOPPER,  # the answer to the shopper's own request (its code goes at once, as asked)
    RELAY_OPEN: TO_SHOPPER,
    RELAY_TO_SHOPPER: TO_SHOPPER,
    RELAY_TO_DRIVER: TO_DRIVER,
    CHAT_OPENED: TO_DRIVER,
    REPLY_STOP: REPLY,
    REPLY_START: REPLY,
    REPLY_HELP: REPLY,
    REPLY_SURVEY: REPLY,
    REPLY_RELAY: REPLY,
    REPLY_UNROUTED: REPLY,
    # A one-time code the shopper asked for on the tracking page a moment ago: an answer, like a reply, at any hour.
    DELIVERY_CHANGE_CODE: REPLY,
}
#: The messages about the parcel a shopper gets (engagement and the notification log's filter list them): every
#: kind sent to the shopper but the chat's own texts.
SHOPPER_MESSAGE_KINDS: tuple[str, ...] = tuple(
    kind for kind, to in TEXT_KINDS.items() if to == TO_SHOPPER and kind not in (RELAY_OPEN, RELAY_TO_SHOPPER)
)


class QuietHours(Struct, frozen=True):
    """Local-time window with no texts; start > end means it spans midnight (the TCPA default 21:00-08:00)."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class NotificationSettings(Struct, frozen=True):
    channels: dict[str, frozenset[str]] = field(
        default_factory=lambda: {kind: frozenset(CHANNELS) for kind in NOTIFICATION_KINDS}
    )
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    time_zone: str = "America/New_York"
    email_fallback: bool = True

    def enabled(self, kind: str, channel: str) -> bool:
        return channel in self.channels.get(kind, frozenset())


class Recipient(Struct, frozen=True):
    phone: str | None = None
    email: str | None = None
    sms_consent: bool = False
    time_zone: str | None = None
    #: The shopper's own choice on the tracking page: "sms", "email" or "none" (None: the retailer's choice stands).
    preferred: str | None = None
    #: The delivery address's US state ("FL"), whose stricter texting hours then apply (domain/quiet_hours.py).
    us_state: str | None = None


class Decision(Struct, frozen=True):
    action: str
    reason: str = ""
    not_before: datetime | None = None


def zone_for(recipient: Recipient, settings: NotificationSettings) -> ZoneInfo:
    for name in (recipient.time_zone, settings.time_zone, "UTC"):
        if name:
            try:
                return ZoneInfo(name)
            except (KeyError, ValueError):
                continue
    return ZoneInfo("UTC")


def next_allowed(now: datetime, zone: ZoneInfo, quiet: QuietHours | None) -> datetime | None:
    """The first minute outside quiet hours in the shopper's zone, or None if `now` is already allowed.

    Wall-clock arithmetic happens in local time and is converted back to UTC, so a DST change overnight still
    lands on 08:00 local.
    """
    if quiet is None:
        return None
    local = now.astimezone(zone)
    if not quiet.contains(local.time()):
        return None
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)  # evening side of a window that spans midnight
    candidate = datetime.combine(day, quiet.end, tzinfo=zone)
    return candidate.astimezone(now.tzinfo)


def decide(
    kind: str,
    channel: str,
    recipient: Recipient,
    settings: NotificationSettings,
    *,
    opted_out: bool,
    suppressed: bool,
    now: datetime,
) -> Decision:
    """The one policy every text and email passes: send now, defer (quiet hours) or skip, with the reason.

    Milestone kinds follow the retailer's channel settings; the other kinds (survey, relay introduction and
    messages) have no per-kind switch unless the caller puts one in `settings.channels` (the survey's planned channel).
    """
    audience = TEXT_KINDS.get(kind)
    if audience is None:
        return Decision(SKIP, "unregistered_kind")
    if channel != SMS:
        audience = TO_SHOPPER
    if audience == REPLY:
        return Decision(SEND, "reply_to_inbound")
    if audience == TO_DRIVER:
        return Decision(SKIP, "opted_out") if opted_out else Decision(SEND)
    switch = ms.AVAILABLE_FOR_PICKUP if is_reminder(kind) else kind  # reminders follow the pickup text's channels
    if (switch in NOTIFICATION_KINDS or switch in settings.channels) and not settings.enabled(switch, channel):
        return Decision(SKIP, "channel_disabled")
    if recipient.preferred is not None and recipient.preferred != channel:
        return Decision(SKIP, "shopper_preference")
    if channel == SMS:
        if not recipient.phone:
            return Decision(SKIP, "no_phone")
        if opted_out:
            return Decision(SKIP, "opted_out")
        if not recipient.sms_consent and kind != CONSENT_EXEMPT_KIND:
            return Decision(SKIP, "no_sms_consent")
        # The legal floor (federal and state windows) and the retailer's quiet hours, whichever is stricter.
        wait_until = quiet_hours.next_permitted(
            now, zone_for(recipient, settings), settings.quiet_hours, recipient.us_state
        )
        if wait_until is not None and kind in NOW_OR_NEVER_KINDS:
            return Decision(SKIP, "quiet_hours")
        if wait_until is not None:
            return Decision(DEFER, "quiet_hours", wait_until)
        return Decision(SEND)
    if channel == EMAIL:
        if not recipient.email:
            return Decision(SKIP, "no_email")
        if suppressed:
            return Decision(SKIP, "suppressed")
        return Decision(SEND)
    return Decision(SKIP, "unknown_channel")


def choice_refusal(choice: str, recipient: Recipient, settings: NotificationSettings) -> str | None:
    """Why a channel the shopper picks on the tracking page would leave them with no news at all (`no_phone`,
    `no_email`, `channel_off` when the retailer sends nothing that way), or None when it can reach them."""
    if choice not in (SMS, EMAIL):
        return None
    if choice == SMS and not recipient.phone:
        return "no_phone"
    if choice == EMAIL and not recipient.email:
        return "no_email"
    if not any(choice in channels for channels in settings.channels.values()):
        return "channel_off"
    return None
