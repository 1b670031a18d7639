"""Late-shipment detection (DESIGN 1, the scheduler's third job): the promised date passed and the parcel has not come.

Carriers often say nothing when a parcel stalls, so waiting for a delay scan or a slipped ETA leaves the shopper
guessing. When a shipment gets a promised date, a check is planned for the moment the promise is broken; when it
runs and the parcel is still on its way, the shopper gets the `delayed` notification (once per shipment, whichever
of carrier delay, slipped ETA or this check comes first).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import milestones as ms
from .events import iso
from .notifications import CHECK_PREFIX, Intent

CHECK_CHANNEL = "schedule"
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
