"""Counter updates for analytics, at the moments things happen. Best effort: a failed counter never fails the
request that caused it (it is logged), so analytics can undercount slightly but never block a webhook."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from zoneinfo import ZoneInfo

from ..domain import engagement, promise
from ..domain import milestones as ms
from ..domain.hooks import WEBHOOK
from ..domain.shipment import Progress
from ..observability import metric
from ..store import stats as stats_store

logger = logging.getLogger("porchlight.stats")
#: The driver's arrival against the window shown, as counter names `eta:<name>` (before one rule judged both
#: figures, a late arrival was counted as `eta:missed`: analytics read those as late).
DRIVER_COUNTERS = {promise.INSIDE: "kept", promise.EARLY: "early", promise.LATE: "late"}
#: Upper bounds (minutes) of the buckets used for time-in-milestone percentiles.
DURATION_BOUNDS = [15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 10**9]


def driver_key(name: str) -> str:
    return hashlib.sha256(name.strip().lower().encode()).hexdigest()[:10]


def bucket(minutes: float) -> int:
    for index, bound in enumerate(DURATION_BOUNDS):
        if minutes <= bound:
            return index
    return len(DURATION_BOUNDS) - 1


#: A batch's counters not yet written, by retailer and day (set by `added_up`, in this context only).
_pending: ContextVar[dict[tuple[str, str], dict[str, float]] | None] = ContextVar("pending_counters", default=None)


def count(
    retailer_id: str, moment: datetime | str, deltas: Mapping[str, float], labels: Mapping[str, str] | None = None
) -> None:
    day = (moment if isinstance(moment, str) else moment.isoformat())[:10]
    pending = _pending.get()
    if pending is not None and not labels:
        kept = pending.setdefault((retailer_id, day), {})
        for name, delta in deltas.items():
            kept[name] = kept.get(name, 0) + delta
        return
    _write(retailer_id, day, deltas, labels)


def _write(retailer_id: str, day: str, deltas: Mapping[str, float], labels: Mapping[str, str] | None) -> None:
    try:
        stats_store.add(retailer_id, day, deltas, labels)
    except Exception:  # counters must never break the flow that feeds them
        logger.exception("counter update failed", extra={"retailer_id": retailer_id})


@contextmanager
def added_up() -> Iterator[None]:
    """Counters counted inside (a stream batch, a drain pass) are added up and written when it ends, one update per
    retailer and day instead of one per notification. Whatever ends it, an error included, writes them; a process
    killed inside loses that batch's counts, as analytics may (see above). Threads it starts count directly."""
    pending: dict[tuple[str, str], dict[str, float]] = {}
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        for (retailer_id, day), deltas in pending.items():
            _write(retailer_id, day, deltas, None)


def milestone_durations(
    before_status: str, before_at: str | None, scans: list[tuple[str, str]]
) -> list[tuple[str, float]]:
    """(milestone, minutes spent in it) for each change of milestone among new scans (time-ordered (status, iso)),
    continuing from where the shipment was. Scans older than the current milestone are history, not a change."""
    durations = []
    status, since = before_status, before_at
    for scan_status, at in scans:
        if scan_status not in ms.MILESTONES or scan_status == status or (since and at < since):
            continue
        if since and status != ms.PENDING:
            durations.append(
                (status, (datetime.fromisoformat(at) - datetime.fromisoformat(since)).total_seconds() / 60)
            )
        status, since = scan_status, at
    return durations


def delivery_promise(
    promised_date: str | None,
    before: Progress,
    after: Progress,
    zone: ZoneInfo,
    driver_eta: dict[str, str] | None = None,
) -> promise.PromiseOutcome | None:
    """How a delivery that just happened kept its promise (None unless this change is the arrival), against the
    last window the shopper was shown: the driver's own during the last mile, else the carrier's."""
    if after.status != ms.DELIVERED or before.status == ms.DELIVERED or not after.status_at:
        return None
    return promise.outcome(after.status_at, promised_date, driver_eta or promise.window_shown(before, after), zone)


def progress_changed(
    retailer_id: str,
    carrier: str,
    before_status: str,
    before_at: str | None,
    after_status: str,
    after_at: str | None,
    promised_date: str | None,
    scans: list[tuple[str, str]] | None = None,
    last_mile: bool = False,
    kept: tuple[promise.PromiseOutcome, str | None, str] | None = None,
) -> None:
    """One counter update for a change of milestone. `kept` (the delivery's promise outcome, its service and lane)
    adds the promise-accuracy counters to the same update, and decides on time by the shopper's calendar day; with
    `last_mile` (the arrival came straight from out for delivery) its window outcome is also the driver's
    (analytics' `driver_eta`: one rule, `domain.promise.against_window`, for both figures)."""
    if after_status == before_status or not after_at:
        return
    deltas: dict[str, float] = {}
    for milestone, minutes in milestone_durations(before_status, before_at, scans or []):
        key = f"dur:{milestone}:b{bucket(minutes)}"
        deltas[key] = deltas.get(key, 0) + 1
    if after_status == ms.DELIVERED and before_status != ms.DELIVERED:
        deltas.update({"delivered": 1, f"carrier:{carrier}:delivered": 1})
        on_time = (
            promise.on_time(kept[0]) if kept else (after_at[:10] <= str(promised_date)[:10] if promised_date else None)
        )
        if on_time is not None:
            outcome = "ontime" if on_time else "late"
            deltas.update({outcome: 1, f"carrier:{carrier}:{outcome}": 1})
        if last_mile and kept and kept[0].window is not None:
            deltas[f"eta:{DRIVER_COUNTERS[kept[0].window]}"] = 1
        if kept:
            deltas.update(promise.deltas(carrier, kept[1], kept[2], kept[0]))
    if after_status == ms.RETURNED and before_status != ms.RETURNED:  # a delivery that went back (D48)
        deltas.update({"returned": 1, f"carrier:{carrier}:returned": 1})
    if deltas:
        count(retailer_id, after_at, deltas)


def return_progress(retailer_id: str, carrier: str, before_status: str, after_status: str, now: datetime) -> None:
    """A shopper's return reaching a step (D48): `returns:dropped_off` and `returns:received`, apart from every
    delivery counter (a returned delivery is `returned`, counted in progress_changed)."""
    names = {ms.SHIPPED: "returns:dropped_off", ms.DELIVERED: "returns:received"}
    name = names.get(after_status)
    if name is None or after_status == before_status:
        return
    if after_status == ms.SHIPPED and before_status not in (ms.PENDING, ms.PROCESSED):
        return  # dropped off once: later in-transit scans after a hitch are not a second drop-off
    count(retailer_id, now, {name: 1, f"carrier:{carrier}:{name}": 1})


def parcel_late(retailer_id: str, carrier: str, reason: str, now: datetime) -> None:
    """A registered parcel was found late for the first time, and why (domain.notifications.DELAY_REASONS)."""
    count(retailer_id, now, {"delays": 1, f"delays:{reason}": 1, f"carrier:{carrier}:delays": 1})


def notification_outcome(retailer_id: str, channel: str, outcome: str, now: datetime, kind: str | None = None) -> None:
    """By channel, and with `kind` also by kind and channel (D45), in the same counter write."""
    metric("Notifications", channel=channel, outcome=outcome)
    if channel in ("sms", "email", WEBHOOK):
        deltas = {f"notif:{channel}:{outcome}": 1}
        by_kind = engagement.counter(kind, channel, engagement.OUTCOMES.get(outcome, "")) if kind else None
        if by_kind:
            deltas[by_kind] = 1
        count(retailer_id, now, deltas)
