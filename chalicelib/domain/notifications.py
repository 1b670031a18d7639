"""Which notifications a change of progress calls for (DESIGN 3.1): the current milestone, once, never a superseded
one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from msgspec import Struct

from . import milestones as ms
from .pickup import is_reminder, reminder_stale
from .shipment import Progress
from .survey import SURVEY

SMS = "sms"
EMAIL = "email"
#: Outbox kinds that are not notifications: relayed chat messages and the scheduler's late-shipment checks.
CHAT_PREFIX = "chat:"  # chat:<time>-<id>
CHECK_PREFIX = "late_check:"  # late_check:<promised date>
#: Why a parcel is late: the carrier says so, its ETA ends after the promised date, or the promised date passed.
CARRIER_DELAY, ETA_AFTER_PROMISE, PROMISE_PASSED = "carrier_delay", "eta_after_promise", "promise_passed"
#: ...or the carrier has said nothing for days about a parcel on its way (domain.lateness).
NO_NEWS = "no_news"
DELAY_REASONS = (CARRIER_DELAY, ETA_AFTER_PROMISE, PROMISE_PASSED, NO_NEWS)
#: A return's outbox kinds (domain.returns.KINDS) and the milestone each tells of; kept here, as returns imports this.
RETURN_MILESTONE: dict[str, str] = {
    "return_label_created": ms.PROCESSED,
    "return_dropped_off": ms.SHIPPED,
    "return_received": ms.DELIVERED,
}
#: In `notified` once silence made the parcel late, so later messages about the delay give that reason.
TOLD_SILENT = "delayed:no_news"
#: In `notified` once the parcel was counted late in the retailer's analytics (once, whatever made it late).
DELAY_COUNTED = "delayed:counted"


class Contact(Struct, frozen=True):
    phone: str | None = None
    email: str | None = None


class Intent(Struct, frozen=True):
    """A durable wish to tell the shopper something; becomes one outbox item keyed by shipment, kind and channel."""

    kind: str
    channel: str
    #: ISO time before which it must not go out (a survey waits after delivery); None means now.
    not_before: str | None = None


def channels_for(contact: Contact) -> list[str]:
    channels = []
    if contact.phone:
        channels.append(SMS)
    if contact.email:
        channels.append(EMAIL)
    return channels


def eta_slipped(eta: dict[str, str] | None, promised_date: str | None) -> bool:
    """The carrier's newest ETA ends after the date the retailer promised."""
    if not eta or not promised_date:
        return False
    latest = eta.get("end") or eta.get("start")
    if not latest:
        return False
    try:
        return datetime.fromisoformat(latest).date() > date.fromisoformat(promised_date[:10])
    except ValueError:
        return False


def _intents(kinds: list[str], contact: Contact, enabled: Mapping[str, frozenset[str]] | None) -> list[Intent]:
    return [
        Intent(kind, channel)
        for kind in kinds
        for channel in channels_for(contact)
        if enabled is None or channel in enabled.get(kind, frozenset())
    ]


def plan(
    before: Progress,
    after: Progress,
    notified: frozenset[str],
    contact: Contact | None,
    *,
    enabled: Mapping[str, frozenset[str]] | None = None,
    promised_date: str | None = None,
) -> list[Intent]:
    """Intents for what changed between two progresses of a claimed shipment.

    Only the milestone the shipment is in *after* the change is considered, so a backfilled history or a
    superseded scan (out for delivery arriving after delivered) never notifies. Each kind fires once per shipment.
    A delay is news when the newest scan reports one or when the ETA first slips past the promised date.
    """
    if contact is None:
        return []
    kinds: list[str] = []
    if (
        after.status != before.status
        and after.status in ms.NOTIFYING
        and after.status not in notified
        and not told_further(after.status, notified)
    ):
        kinds.append(after.status)
    # One scan, at most one text: a milestone that fires says more than a delay on the same scan would.
    if not kinds and delay_news(before, after, promised_date) and ms.DELAYED not in notified:
        kinds.append(ms.DELAYED)
    return _intents(kinds, contact, enabled)


#: The forward journey; a shopper is never told a step earlier than one already told.
JOURNEY: tuple[str, ...] = (ms.PROCESSED, ms.SHIPPED, ms.OUT_FOR_DELIVERY, ms.DELIVERED)


def told_further(status: str, notified: frozenset[str]) -> bool:
    """The shopper was already told of a later step of the journey than `status` (a `shipped` scan stamped after
    out for delivery must not send "has shipped" after "out for delivery")."""
    if status not in JOURNEY:
        return False
    return any(later in notified for later in JOURNEY[JOURNEY.index(status) + 1 :])


def delay_reason(progress: Progress, promised_date: str | None, notified: frozenset[str]) -> str:
    """Why the parcel counts as late, from what we know now: the carrier said so, its ETA ends after the promised
    date, the carrier went silent, or the promised date simply passed."""
    if progress.latest_delayed:
        return CARRIER_DELAY
    if eta_slipped(progress.eta, promised_date):
        return ETA_AFTER_PROMISE
    if TOLD_SILENT in notified:
        return NO_NEWS
    return PROMISE_PASSED


def delay_news(before: Progress, after: Progress, promised_date: str | None) -> str | None:
    """Why this change makes the parcel newly late, if it does: the newest scan reports a delay, or the ETA has just
    slipped past the promised date. Never for a parcel whose journey is over."""
    if after.status in ms.TERMINAL:
        return None
    if after.latest_delayed and after.latest_key != before.latest_key:
        return CARRIER_DELAY
    if eta_slipped(after.eta, promised_date) and not eta_slipped(before.eta, promised_date):
        return ETA_AFTER_PROMISE
    return None


def plan_delay(contact: Contact, enabled: Mapping[str, frozenset[str]] | None = None) -> list[Intent]:
    """The `delayed` notification on its own: the promised date passed with the parcel still on its way."""
    return _intents([ms.DELAYED], contact, enabled)


def plan_on_claim(
    progress: Progress,
    notified: frozenset[str],
    contact: Contact,
    *,
    enabled: Mapping[str, frozenset[str]] | None = None,
) -> list[Intent]:
    """A retailer registered a shipment that scans reached first: tell the shopper where it is now, once."""
    if (
        progress.status in ms.NOTIFYING
        and progress.status not in notified
        and not told_further(progress.status, notified)
    ):
        return _intents([progress.status], contact, enabled)
    return []


def is_notification(kind: str) -> bool:
    """An outbox kind the retailer reads as a notification (to the shopper, the driver or the retailer's own
    endpoint); chat messages have their transcript and checks are the scheduler's own business."""
    return not kind.startswith((CHAT_PREFIX, CHECK_PREFIX))


def no_longer_news(kind: str, status: str) -> bool:
    """A notification that must not go out (or out again) now that the shipment is in `status`: a milestone it has
    moved past (an overnight-deferred text, say), a delay of a parcel whose journey is over, a survey of a parcel no
    longer delivered (returned or cancelled since)."""
    if kind == ms.DELAYED:
        return status in ms.TERMINAL
    if kind == SURVEY:
        return status != ms.DELIVERED
    if is_reminder(kind):
        return reminder_stale(status)
    if kind in RETURN_MILESTONE:  # a return's message (domain.returns): its step has passed
        return status != RETURN_MILESTONE[kind]
    return kind in ms.MILESTONES and status != kind
