"""Promise accuracy: how a delivery compared with the date promised and the ETA window the shopper was shown.

Pure: the ingest turns a delivery into counter increments here (`deltas`), and analytics turn the summed counters
back into figures (`figures`). Counter names are `pr:<scope>:<group>:<metric>`, scope `all` (the day), `cs`
(carrier/service) or `ln` (origin>destination lane); metrics are `n` (deliveries), `d<days>` (days after the
promised date, clamped to +-`SPREAD_DAYS`) and `win:in` / `win:out` (inside or outside the window shown).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct

from . import milestones as ms
from .shipment import Progress

PREFIX = "pr"
ALL, CARRIER_SERVICE, LANE = "all", "cs", "ln"
#: Early or late by more than this many days is counted at this many (the spread's ends read "or more").
SPREAD_DAYS = 7
NO_SERVICE = "-"
UNKNOWN_REGION = "?"
_SAFE_SERVICE = re.compile(r"[^a-z0-9_.-]+")
_SAFE_REGION = re.compile(r"[^A-Z0-9-]+")


#: Where a delivery fell against the window shown: `inside`, or outside it `early` or `late` (one rule for the
#: promise figures and the driver's on-time figure, D44/D46).
INSIDE, EARLY, LATE = "inside", "early", "late"


class PromiseOutcome(Struct, frozen=True):
    """One delivery: days after the promised date (None without a promise), where it fell against the window shown
    (None if no window was shown)."""

    days_late: int | None
    window: str | None

    @property
    def in_window(self) -> bool | None:
        return None if self.window is None else self.window == INSIDE


def service_label(service: str | None) -> str:
    """A service level as a counter name part: lower case, no separators; `-` when the retailer gave none."""
    cleaned = _SAFE_SERVICE.sub("_", (service or "").strip().lower())[:40].strip("_")
    return cleaned or NO_SERVICE


def region_label(place: dict[str, Any] | None) -> str:
    """`US-CA` from {"country": "US", "region": "CA"}; the country alone, the region alone, or `?`."""
    place = place or {}
    parts = [_SAFE_REGION.sub("", str(place.get(name) or "").strip().upper())[:20] for name in ("country", "region")]
    label = "-".join(part for part in parts if part)
    return label or UNKNOWN_REGION


def lane_label(origin: dict[str, Any] | None, destination: dict[str, Any] | None) -> str:
    return f"{region_label(origin)}>{region_label(destination)}"


def window_shown(before: Progress, after: Progress) -> dict[str, str] | None:
    """The ETA the shopper last saw before the parcel arrived: the latest one given by a scan no later than the
    delivery (an ETA on the delivery scan itself, or after it, was never shown as a promise)."""
    delivered_at = after.status_at
    for progress in (after, before):
        if progress.eta and progress.eta_key and (delivered_at is None or progress.eta_key[0] < delivered_at):
            return progress.eta
    return None


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _promised_day(promised_date: str, zone: ZoneInfo) -> date:
    """A date is the shopper's date; a date and time is read in the shopper's zone (no offset: already local)."""
    if "T" not in promised_date:
        return date.fromisoformat(promised_date[:10])
    moment = datetime.fromisoformat(promised_date)
    return moment.date() if moment.tzinfo is None else moment.astimezone(zone).date()


def is_date_only(moment: datetime) -> bool:
    """AfterShip's "2026-12-04" and EasyPost's "...T00:00:00Z" name a day, not midnight UTC: never a clock time."""
    return (moment.hour, moment.minute, moment.second) == (0, 0, 0) and moment.utcoffset() in (None, timedelta(0))


def _bound_day(text: str | None, zone: ZoneInfo) -> date | None:
    """The local day a bound of a window falls on; a day-only bound (or one without an offset) is that day."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if is_date_only(moment) or moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(zone).date()


def current_eta(
    status: str, status_at: str | None, eta: dict[str, str] | None, zone: ZoneInfo
) -> dict[str, str] | None:
    """The carrier's ETA while it still means something to the shopper, for messages and the page alike: none once
    the parcel has arrived, waits at a pickup point or has ended; while out for delivery only one for that day (a
    Friday ETA from the shipping scan beside "out for delivery today" is stale, not a second promise)."""
    if not eta or status in ms.TERMINAL or status == ms.AVAILABLE_FOR_PICKUP:
        return None
    if status == ms.OUT_FOR_DELIVERY and status_at:
        out_on = _local_day(datetime.fromisoformat(status_at), zone)
        first, last = _bound_day(eta.get("start"), zone), _bound_day(eta.get("end"), zone)
        if not (first or out_on) <= out_on <= (last or out_on):
            return None
    return eta


def _aware(text: str | None, zone: ZoneInfo) -> datetime | None:
    """A bound of the window; one without an offset is the shopper's local time (D5)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def against_window(delivered: datetime, eta: dict[str, str], zone: ZoneInfo) -> str | None:
    """`inside`, `early` or `late`: a day-only bound is that whole local day; a missing bound is open. None when
    the window has neither bound (nothing was shown)."""
    start, end = (_aware(eta.get(bound), zone) for bound in ("start", "end"))
    if start is None and end is None:
        return None
    day = _local_day(delivered, zone)
    if start is not None and (day < start.date() if is_date_only(start) else delivered < start):
        return EARLY
    if end is not None and (day > end.date() if is_date_only(end) else delivered > end):
        return LATE
    return INSIDE


def inside(delivered: datetime, eta: dict[str, str], zone: ZoneInfo) -> bool | None:
    """Whether `delivered` falls in the window (`against_window`); None when nothing was shown."""
    where = against_window(delivered, eta, zone)
    return None if where is None else where == INSIDE


def outcome(delivered_at: str, promised_date: str | None, eta: dict[str, str] | None, zone: ZoneInfo) -> PromiseOutcome:
    delivered = datetime.fromisoformat(delivered_at)
    days_late = None
    if promised_date:
        days_late = (_local_day(delivered, zone) - _promised_day(str(promised_date), zone)).days
    return PromiseOutcome(days_late, against_window(delivered, eta, zone) if eta else None)


def on_time(result: PromiseOutcome) -> bool | None:
    """Arrived on or before the promised date (the shopper's calendar day); None without a promise."""
    return None if result.days_late is None else result.days_late <= 0


def deltas(carrier: str, service: str | None, lane: str, result: PromiseOutcome) -> dict[str, float]:
    """The increments one delivery adds to its day's counters: the day as a whole, its carrier/service, its lane."""
    out: dict[str, float] = {}
    groups = ((ALL, "all"), (CARRIER_SERVICE, f"{carrier}/{service_label(service)}"), (LANE, lane))
    for scope, group in groups:
        base = f"{PREFIX}:{scope}:{group}"
        out[f"{base}:n"] = 1
        if result.days_late is not None:
            clamped = max(-SPREAD_DAYS, min(SPREAD_DAYS, result.days_late))
            out[f"{base}:d{clamped}"] = 1
        if result.in_window is not None:
            out[f"{base}:win:{'in' if result.in_window else 'out'}"] = 1
    return out


def _rate(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def summary(metrics: dict[str, float]) -> dict[str, Any]:
    """One group's figures from its summed metrics (`n`, `d<days>`, `win:in`, `win:out`)."""
    spread = {int(name[1:]): int(value) for name, value in metrics.items() if re.fullmatch(r"d-?\d+", name) and value}
    promised = sum(spread.values())
    early = sum(count for days, count in spread.items() if days < 0)
    same_day = spread.get(0, 0)
    late = sum(count for days, count in spread.items() if days > 0)
    window_in, window_out = int(metrics.get("win:in", 0)), int(metrics.get("win:out", 0))
    ordered = sorted(spread.items())
    median = None
    if promised:
        seen, middle = 0, (promised + 1) // 2
        for days, count in ordered:
            seen += count
            if seen >= middle:
                median = days
                break
    return {
        "delivered": int(metrics.get("n", 0)),
        "with_promise": promised,
        "by_promised_date": early + same_day,
        "by_promised_date_rate": _rate(early + same_day, promised),
        "early": early,
        "on_the_day": same_day,
        "late": late,
        "median_days_late": median,
        "days_late": [{"days": days, "count": count} for days, count in ordered],
        "with_window": window_in + window_out,
        "inside_window": window_in,
        "inside_window_rate": _rate(window_in, window_in + window_out),
    }


def grouped(totals: dict[str, float], scope: str) -> dict[str, dict[str, float]]:
    """{group: {metric: value}} of one scope from summed counters ('pr:cs:ups/ground:d1' -> {'ups/ground': {'d1'}})."""
    out: dict[str, dict[str, float]] = {}
    prefix = f"{PREFIX}:{scope}:"
    for name, value in totals.items():
        if name.startswith(prefix):
            group, _, metric = name[len(prefix) :].partition(":")
            out.setdefault(group, {})[metric] = value
    return out


def week_of(day: str) -> str:
    """The Monday that starts the ISO week of `day` (the per-week rows are labelled by it)."""
    moment = date.fromisoformat(day)
    return (moment - timedelta(days=moment.weekday())).isoformat()
