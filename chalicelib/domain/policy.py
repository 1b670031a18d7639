"""Whether, and when, one notification may go out: channel choice, consent, opt-outs, quiet hours (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import milestones as ms
from . import quiet_hours
from .notifications import EMAIL, SMS

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


@dataclass(frozen=True)
class QuietHours:
    """Local-time window with no texts; start > end means it spans midnight (the TCPA default 21:00-08:00)."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    def contains(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class NotificationSettings:
    channels: dict[str, frozenset[str]] = field(
        default_factory=lambda: {kind: frozenset(CHANNELS) for kind in NOTIFICATION_KINDS}
    )
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    time_zone: str = "America/New_York"
    email_fallback: bool = True

    def enabled(self, kind: str, channel: str) -> bool:
        return channel in self.channels.get(kind, frozenset())


@dataclass(frozen=True)
class Recipient:
    phone: str | None = None
    email: str | None = None
    sms_consent: bool = False
    time_zone: str | None = None
    #: The shopper's own choice on the tracking page: "sms", "email" or "none" (None: the retailer's choice stands).
    preferred: str | None = None
    #: The delivery address's US state ("FL"), whose stricter texting hours then apply (domain/quiet_hours.py).
    us_state: str | None = None


@dataclass(frozen=True)
class Decision:
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
    if not settings.enabled(kind, channel):
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
