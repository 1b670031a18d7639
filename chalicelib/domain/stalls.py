"""Problems before the shopper calls (D45): a label created but never scanned by the carrier, a parcel stuck at the
same scan, a first delivery attempt that failed. Pure: what the watch decides, and the retailer's event for it.

One watch per registered parcel (an outbox item due when the next problem could begin, on the `by_due` index like
the late checks of domain.lateness). Scans never move it: when it comes due it reads the parcel and either finds a
problem, or news since and looks again later. A failed first attempt is seen by ingest itself, at the scan.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import milestones as ms
from .events import iso
from .hooks import PREFIX
from .notifications import CHECK_PREFIX, Intent
from .shipment import Progress

#: The watch's outbox kind: under the checks' prefix, so it is never a notification (nor listed as one).
WATCH = CHECK_PREFIX + "stall"
WATCH_CHANNEL = "schedule"
NO_FIRST_SCAN, STUCK, FIRST_ATTEMPT_FAILED = "no_first_scan", "stuck", "first_attempt_failed"
REASONS: tuple[str, ...] = (NO_FIRST_SCAN, STUCK, FIRST_ATTEMPT_FAILED)
#: What a retailer subscribes to (`webhooks.statuses`) to get `shipment.stalled`: opt-in, never a default.
SUBSCRIPTION = "stalled"
EVENT = "shipment.stalled"
DEFAULT_NO_FIRST_SCAN_DAYS, DEFAULT_STUCK_DAYS = 2, 3
#: Before the carrier's first scan: the label exists (or the order was registered), the parcel has not moved.
NOT_SCANNED = frozenset({ms.PENDING, ms.PROCESSED})
#: Where the journey is over or waits for the shopper: nothing to watch.
DONE = ms.TERMINAL | {ms.AVAILABLE_FOR_PICKUP}
#: A parcel nobody scans for this long is left alone: the watch must not keep a dead parcel alive past retention.
WATCH_LIMIT = timedelta(days=30)


def marker(reason: str) -> str:
    """In the shipment's `notified` once this problem was found: each reason once per shipment."""
    return f"stalled:{reason}"


def _moment(text: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def next_look(
    progress: Progress,
    registered_at: str,
    notified: frozenset[str],
    first_scan_days: int,
    stuck_days: int,
    now: datetime,
) -> datetime | None:
    """When the next problem could begin: `first_scan_days` after registration while the carrier has not scanned
    it, `stuck_days` after the latest scan once it has; None when there is nothing left to find. A parcel not
    scanned yet whose first-scan problem is found (or switched off) is looked at again every `stuck_days`, so the
    watch is there when it starts moving."""
    if progress.status in DONE:
        return None
    if progress.status in NOT_SCANNED:
        since = _moment(registered_at)
        if since is None:
            return None
        if first_scan_days > 0 and marker(NO_FIRST_SCAN) not in notified:
            return since + timedelta(days=first_scan_days)
        if stuck_days > 0 and marker(STUCK) not in notified:
            return max(since + timedelta(days=stuck_days), now + timedelta(days=stuck_days) if since < now else now)
        return None
    latest = _moment(progress.last_event_at)
    if stuck_days <= 0 or latest is None or marker(STUCK) in notified:
        return None
    return latest + timedelta(days=stuck_days)


def plan_watch(
    progress: Progress,
    registered_at: str,
    notified: frozenset[str],
    first_scan_days: int,
    stuck_days: int,
    now: datetime,
) -> Intent | None:
    """The watch for a parcel just registered (once: its kind goes into `notified`). A parcel whose problem began
    before we heard of it (a backfill) is not flagged late in its life: the first look is never before now."""
    if WATCH in notified:
        return None
    due = next_look(progress, registered_at, notified, first_scan_days, stuck_days, now)
    if due is None:
        return None
    return Intent(WATCH, WATCH_CHANNEL, not_before=iso(max(due, now)))


def decide(
    progress: Progress,
    registered_at: str,
    notified: frozenset[str],
    first_scan_days: int,
    stuck_days: int,
    now: datetime,
) -> tuple[str | None, datetime | None]:
    """What the watch finds when it comes due: (the problem or None, when to look again or None to stop)."""
    latest = _moment(progress.last_event_at) or _moment(registered_at)
    if latest is None or now - latest > WATCH_LIMIT:
        return None, None
    if progress.status in NOT_SCANNED:
        since = _moment(registered_at)
        due = since + timedelta(days=first_scan_days) if since is not None else None
        if first_scan_days > 0 and marker(NO_FIRST_SCAN) not in notified and due is not None and due <= now:
            after = notified | {marker(NO_FIRST_SCAN)}
            return NO_FIRST_SCAN, next_look(progress, registered_at, after, first_scan_days, stuck_days, now)
        return None, next_look(progress, registered_at, notified, first_scan_days, stuck_days, now)
    due = next_look(progress, registered_at, notified, first_scan_days, stuck_days, now)
    if due is None:
        return None, None
    if due > now:
        return None, due  # news since: look again when it could next become a problem
    return STUCK, None  # each reason once per shipment: after this one there is nothing left to find


def newly_failed_attempt(before: str, after: str, notified: frozenset[str]) -> bool:
    """The carrier's first failed delivery attempt for this shipment, seen at the scan that reports it."""
    return after == ms.ATTEMPT_FAILED and before != after and marker(FIRST_ATTEMPT_FAILED) not in notified


def hook_kind(reason: str, version: int) -> str:
    return f"{PREFIX}{SUBSCRIPTION}:{reason}:{version}"


def parse_hook_kind(kind: str) -> tuple[str, int] | None:
    """(reason, version) of a `shipment.stalled` call's outbox kind; None for any other kind."""
    head = f"{PREFIX}{SUBSCRIPTION}:"
    if not kind.startswith(head):
        return None
    reason, _, version = kind.removeprefix(head).rpartition(":")
    return (reason, int(version)) if reason in REASONS and version.isdigit() else None


def plan_hook(reason: str, version: int, subscribed: frozenset[str] | None) -> Intent | None:
    """The retailer's `shipment.stalled` call for this problem, if it subscribed (the caller marks it once)."""
    if subscribed is None or SUBSCRIPTION not in subscribed:
        return None
    return Intent(hook_kind(reason, version), "webhook")
