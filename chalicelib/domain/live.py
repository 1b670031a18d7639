"""The live last mile (DESIGN 3.8), pure: which driver position to keep, when to write it, what the shopper sees.

Positions are kept apart from the scan history: one item per shipment holding the newest position. An older
position never replaces a newer one, and a position that adds little (the same stops and ETA, recorded less than
MIN_WRITE_INTERVAL after the stored one) is not written at all, so a driver pinging every 5 s costs one write
every 30 s, not six.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from . import milestones as ms
from .promise import is_date_only

#: A stored position older than this is not shown: the page says the position is not current instead.
FRESH_FOR = timedelta(minutes=5)
#: How far past our clock a position may be dated (device clocks drift); beyond it the batch is refused.
FUTURE_SKEW = timedelta(seconds=60)
#: A newer position with the same stops and ETA is written only when the stored one is at least this much older.
MIN_WRITE_INTERVAL = timedelta(seconds=30)
MAX_STOPS = 1000
#: `tracking_page.live_position`: hide the position, round it to 2 decimals (about 1 km), or show it as sent.
LIVE_MODES = ("off", "area", "exact")
DEFAULT_LIVE_MODE = "area"
AREA_DECIMALS = 2
#: The "driver is close" text (outbox kind) and its default thresholds: at most this many stops before (when the
#: sender counts stops), else an arrival clock time at most this many minutes ahead.
DRIVER_CLOSE = "driver_close"
DEFAULT_CLOSE_STOPS = 2
DEFAULT_CLOSE_MINUTES = 10


class Position(Struct, frozen=True):
    """One driver position for one parcel, as a carrier or fleet sent it (validated by the adapter)."""

    carrier: str
    tracking_number: str
    lat: float
    lng: float
    recorded_at: datetime
    stops_before: int | None = None
    eta: dict[str, str] | None = None


class StoredPosition(Struct, frozen=True):
    """The position item of one shipment as the store holds it."""

    lat: float
    lng: float
    recorded_at: datetime
    stops_before: int | None = None
    eta: dict[str, str] | None = None
    #: The "driver is close" text was planned for this shipment (it is planned once: domain.live.is_close).
    close_notified: bool = False


def valid_coordinates(lat: Any, lng: Any) -> bool:
    """Finite numbers (never booleans) on the globe."""
    for value in (lat, lng):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return False
    return -90 <= lat <= 90 and -180 <= lng <= 180


def newest_per_parcel(positions: list[Position]) -> tuple[dict[tuple[str, str], Position], int]:
    """The newest position of each parcel in a batch, and how many others it held (older or repeated): those are
    stale before anything is read. Ties keep the one sent last."""
    newest: dict[tuple[str, str], Position] = {}
    for position in positions:
        key = (position.carrier, position.tracking_number)
        if key not in newest or position.recorded_at >= newest[key].recorded_at:
            newest[key] = position
    return newest, len(positions) - len(newest)


def is_newer(position: Position, stored: StoredPosition | None) -> bool:
    return stored is None or position.recorded_at > stored.recorded_at


def needs_write(position: Position, stored: StoredPosition | None) -> bool:
    """Whether a newer position is worth a write: always when it changes stops or ETA, else once per interval."""
    if stored is None:
        return True
    if not is_newer(position, stored):
        return False
    if position.stops_before != stored.stops_before or (position.eta or None) != (stored.eta or None):
        return True
    return position.recorded_at - stored.recorded_at >= MIN_WRITE_INTERVAL


def stored_from(position: Position, close_notified: bool) -> StoredPosition:
    return StoredPosition(
        lat=position.lat,
        lng=position.lng,
        recorded_at=position.recorded_at,
        stops_before=position.stops_before,
        eta=position.eta,
        close_notified=close_notified,
    )


def arrival_moment(eta: dict[str, str] | None, zone: tzinfo | None = None) -> datetime | None:
    """The clock time an arrival window names: its start, else its end. A day-only bound (AfterShip's
    "2026-12-04", EasyPost's midnight UTC) names a day, not a time, and is never read as one; a bound without an
    offset is the shopper's wall clock (D5), read in `zone` (skipped without one)."""
    for bound in ("start", "end"):
        text = (eta or {}).get(bound)
        if not text:
            continue
        moment = datetime.fromisoformat(text)
        if is_date_only(moment):
            continue
        if moment.tzinfo is None:
            if zone is None:
                continue
            moment = moment.replace(tzinfo=zone)
        return moment
    return None


def minutes_away(eta: dict[str, str] | None, now: datetime) -> int | None:
    """Whole minutes until the arrival window's clock time (`arrival_moment`); None when it names no time or that
    time has passed (the window then says nothing about how far the driver is)."""
    moment = arrival_moment(eta)
    if moment is None or moment <= now:
        return None
    return math.ceil((moment - now).total_seconds() / 60)


class CloseThreshold(Struct, frozen=True):
    """When the driver counts as close, per retailer (`tracking_page.driver_close`); 0 switches a test off."""

    stops: int = DEFAULT_CLOSE_STOPS
    minutes: int = DEFAULT_CLOSE_MINUTES
    enabled: bool = True


def is_close(
    status: str, stored: StoredPosition | None, position: Position, threshold: CloseThreshold, now: datetime
) -> bool:
    """The "driver is close" text is due: out for delivery, not planned before, and the driver within the threshold.
    Stops decide when the sender counts them (an ETA is a guess, the stops are the route); only without stops does
    the time decide, and only a clock time still ahead (`minutes_away`). A position older than FRESH_FOR says
    nothing about now and never triggers it."""
    if not threshold.enabled or status != ms.OUT_FOR_DELIVERY or (stored is not None and stored.close_notified):
        return False
    if now - position.recorded_at > FRESH_FOR:
        return False
    if position.stops_before is not None and threshold.stops > 0:
        return position.stops_before <= threshold.stops
    minutes = minutes_away(position.eta, now)
    return minutes is not None and threshold.minutes > 0 and minutes <= threshold.minutes


def rounded(value: float, mode: str) -> float:
    return round(value, AREA_DECIMALS) if mode == "area" else value


def shown_position(
    status: str, stored: StoredPosition | None, mode: str, now: datetime
) -> tuple[dict[str, Any] | None, bool]:
    """The position the shopper may see (`lat`, `lng`, `age_seconds`), and whether one exists but is too old.

    Only while out for delivery, only when at most FRESH_FOR old, never when the retailer set `off`; `area` rounds
    to 2 decimals. A position dated slightly ahead of our clock counts as 0 seconds old."""
    if status != ms.OUT_FOR_DELIVERY or stored is None or mode == "off":
        return None, False
    age = max(0, int((now - stored.recorded_at).total_seconds()))
    if age > FRESH_FOR.total_seconds():
        return None, True
    return {"lat": rounded(stored.lat, mode), "lng": rounded(stored.lng, mode), "age_seconds": age}, False


def live_view(
    status: str,
    stored: StoredPosition | None,
    mode: str,
    progress_eta: dict[str, str] | None,
    now: datetime,
) -> dict[str, Any] | None:
    """The `live` block of the tracking JSON, or None before and after the parcel is out for delivery."""
    if status != ms.OUT_FOR_DELIVERY:
        return None
    position, outdated = shown_position(status, stored, mode, now)
    eta = (stored.eta if stored and stored.eta and not outdated else None) or progress_eta
    return {
        "position": position,
        "position_outdated": outdated,
        "stops_before": stored.stops_before if stored is not None and not outdated else None,
        "eta": dict(eta) if eta else None,
    }


def merged(stored: StoredPosition | None, position: Position) -> Position:
    """A position that names no stops or ETA keeps those already stored (a bare ping moves only the driver)."""
    if stored is None:
        return position
    return replace(
        position,
        stops_before=position.stops_before if position.stops_before is not None else stored.stops_before,
        eta=position.eta if position.eta is not None else stored.eta,
    )
