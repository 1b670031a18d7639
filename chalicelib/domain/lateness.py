"""Late-shipment detection (DESIGN 1, the scheduler's third job): the promised date passed and the parcel has not come,
or the carrier has gone quiet about a parcel on its way.

Carriers often say nothing when a parcel stalls, so waiting for a delay scan or a slipped ETA leaves the shopper
guessing. When a shipment gets a promised date, a check is planned for the moment the promise is broken; when it
runs and the parcel is still on its way, the shopper gets the `delayed` notification (once per shipment, whichever
of carrier delay, slipped ETA, broken promise or silence comes first).

Without a promise, silence is the signal: a parcel in transit or out for delivery whose carrier has sent no scan
for some days (the retailer's `silent_after_days`, 5 unless set). One silence check per parcel is armed when it
starts moving; when it runs it either finds news since (and re-arms itself for the new deadline) or tells the
shopper. Scans never move the check, so watching costs one write per parcel per stretch of days, not one per scan.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import milestones as ms
from .events import iso
from .notifications import CHECK_PREFIX, Intent
from .shipment import Progress

CHECK_CHANNEL = "schedule"
#: Silence checks: late_check:silent:<due time>; the due time in the kind makes each re-arming a new outbox item.
SILENCE_PREFIX = CHECK_PREFIX + "silent:"
DEFAULT_SILENT_DAYS = 5
#: A parcel stuck in a status that is not moving (an exception nobody resolved) is looked at again for this long.
WATCH_LIMIT = timedelta(days=30)
#: Statuses in which the carrier has the parcel moving and keeps scanning it.
MOVING = frozenset({ms.SHIPPED, ms.OUT_FOR_DELIVERY})
#: A date promises the whole day; the check runs the next morning, when a text may be sent (TCPA: from 08:00).
MORNING = time(8, 0)
#: A time promises that moment; the delivery scan gets this long to arrive before the parcel counts as late.
SCAN_GRACE = timedelta(hours=1)
#: Milestones at which the parcel is no longer late: it arrived, waits at a pickup point, or its journey ended.
NOT_LATE = ms.TERMINAL | {ms.AVAILABLE_FOR_PICKUP}


def check_kind(promised_date: str) -> str:
    return f"{CHECK_PREFIX}{promised_date}"


def is_check(kind: str) -> bool:
    return kind.startswith(CHECK_PREFIX)


def broken_at(promised_date: str, zone: ZoneInfo) -> datetime:
    """The UTC moment the promise counts as broken; times without an offset are the shopper's local time."""
    if "T" not in promised_date:
        day = date.fromisoformat(promised_date[:10]) + timedelta(days=1)
        return datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC)
    moment = datetime.fromisoformat(promised_date)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return (moment + SCAN_GRACE).astimezone(UTC)


def plan_check(
    promised_date: str | None, status: str, notified: frozenset[str], zone: ZoneInfo, now: datetime
) -> Intent | None:
    """The check for this promise, unless it is planned already, the parcel's journey is over, or the promise was
    broken before we heard of it (a backfill of old orders must not text anyone that a long-gone parcel is late)."""
    if not promised_date or status in NOT_LATE or check_kind(promised_date) in notified:
        return None
    deadline = broken_at(promised_date, zone)
    if deadline <= now:
        return None
    return Intent(check_kind(promised_date), CHECK_CHANNEL, not_before=iso(deadline))


def why_not_late(
    check: str, promised_date: str | None, status: str, notified: frozenset[str], now: datetime, zone: ZoneInfo
) -> str | None:
    """None when the shopper must now hear that the parcel is late; otherwise the reason the check stays quiet."""
    if not promised_date or check != check_kind(promised_date):
        return "promise_changed"  # the retailer moved or cleared the date; that date's own check decides
    if status in NOT_LATE:
        return "not_late"
    if ms.DELAYED in notified:
        return "already_told"
    if now < broken_at(promised_date, zone):
        return "not_yet"
    return None


def promise_broken(promised_date: str | None, status: str, now: datetime, zone: ZoneInfo) -> bool:
    """For the tracking page: the promised moment has passed and the parcel is still on its way."""
    return bool(promised_date) and status not in NOT_LATE and now >= broken_at(str(promised_date), zone)


def silence_kind(due: datetime) -> str:
    return f"{SILENCE_PREFIX}{iso(due)}"


def is_silence_check(kind: str) -> bool:
    return kind.startswith(SILENCE_PREFIX)


def _moment(text: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def silent_from(progress: Progress, days: int) -> datetime | None:
    """When the carrier's silence about a moving parcel becomes news: `days` after its latest scan, or when the
    carrier's own ETA has passed if that is later. None when nothing is moving or the retailer switched it off."""
    latest = _moment(progress.last_event_at)
    if days <= 0 or progress.status not in MOVING or latest is None:
        return None
    due = latest + timedelta(days=days)
    eta = progress.eta or {}
    promised_by_carrier = _moment(eta.get("end") or eta.get("start"))
    return max(due, promised_by_carrier) if promised_by_carrier else due


def plan_silence_check(progress: Progress, notified: frozenset[str], days: int, now: datetime) -> Intent | None:
    """Arm the silence watch for a parcel that has started moving, once: not when one is armed already, the shopper
    already heard it is late, or the silence began before we heard of the parcel (a backfill of old scans)."""
    if ms.DELAYED in notified or any(is_silence_check(kind) for kind in notified):
        return None
    due = silent_from(progress, days)
    if due is None or due <= now:
        return None
    return Intent(silence_kind(due), CHECK_CHANNEL, not_before=iso(due))


def after_silence(
    progress: Progress, notified: frozenset[str], days: int, now: datetime
) -> tuple[str | None, datetime | None]:
    """What a silence check that has come due decides: (None, None) when the shopper must now hear the parcel is late;
    otherwise why not, and when to look again (None: the watch ends)."""
    if progress.status in NOT_LATE:
        return "journey_over", None
    if ms.DELAYED in notified:
        return "already_told", None
    if days <= 0:
        return "switched_off", None
    due = silent_from(progress, days)
    if due is None:  # not moving yet, or held up in a way the shopper has heard of (a failed attempt, an exception)
        latest = _moment(progress.last_event_at)
        if latest is None or now - latest > WATCH_LIMIT:
            return "not_moving", None  # abandoned: the watch must not keep a dead parcel alive past its retention
        return "not_moving", now + timedelta(days=days)
    if due > now:
        return "news_since", due
    return None, None


def is_silent(progress: Progress, days: int, now: datetime) -> bool:
    """For the tracking page: the carrier has said nothing for too long about a parcel on its way."""
    due = silent_from(progress, days)
    return due is not None and due <= now
