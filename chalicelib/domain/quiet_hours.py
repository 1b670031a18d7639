"""The legal floor under quiet hours: when a text may reach a shopper whatever the retailer's settings say (D31).

The federal window is 08:00-21:00 at the called party's location (47 CFR 64.1200(c)(1)). Some US states set a
narrower window or no texts on some weekdays; they apply where the delivery address is in that state. A retailer's
own quiet hours can only narrow this further: a text goes out when both allow it. Sources per state are in
docs/operations.md ("Compliance" > "Quiet hours"). State holidays are not modelled (see D31).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from msgspec import Struct


class Quiet(Protocol):
    @property
    def start(self) -> time: ...

    @property
    def end(self) -> time: ...

    def contains(self, moment: time) -> bool: ...


class Window(Struct, frozen=True):
    """Texts allowed from `start` (inclusive) to `end` (exclusive), local time, same day."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end


FEDERAL = Window(time(8), time(21))
ALL_WEEK = range(7)  # Monday = 0
SUNDAY = 6


def _week(weekdays: Window, saturday: Window | None = None, sunday: Window | None = None) -> tuple[Window | None, ...]:
    return (weekdays,) * 5 + (saturday or weekdays, sunday)


def _every_day(window: Window) -> tuple[Window | None, ...]:
    return (window,) * 7


EIGHT_TO_EIGHT = Window(time(8), time(20))
#: Per state, the window for each weekday (Monday first); None: no texts that day. Only states stricter than the
#: federal window are listed.
STATE_WINDOWS: dict[str, tuple[Window | None, ...]] = {
    "AL": _week(EIGHT_TO_EIGHT, sunday=None),
    "CT": _every_day(Window(time(9), time(20))),
    "FL": _every_day(EIGHT_TO_EIGHT),
    "KY": _every_day(Window(time(10), time(21))),
    "LA": _week(EIGHT_TO_EIGHT, sunday=None),
    "MA": _every_day(EIGHT_TO_EIGHT),
    "MD": _every_day(EIGHT_TO_EIGHT),
    "MI": _every_day(Window(time(9), time(21))),
    "MN": _every_day(Window(time(9), time(21))),
    "MS": _week(EIGHT_TO_EIGHT, sunday=None),
    "NV": _every_day(Window(time(9), time(20))),
    "NM": _every_day(Window(time(9), time(21))),
    "OK": _every_day(EIGHT_TO_EIGHT),
    "TX": _week(Window(time(9), time(21)), sunday=Window(time(12), time(21))),
    "WA": _every_day(EIGHT_TO_EIGHT),
}
STATE_NAMES = {
    "ALABAMA": "AL",
    "CONNECTICUT": "CT",
    "FLORIDA": "FL",
    "KENTUCKY": "KY",
    "LOUISIANA": "LA",
    "MASSACHUSETTS": "MA",
    "MARYLAND": "MD",
    "MICHIGAN": "MI",
    "MINNESOTA": "MN",
    "MISSISSIPPI": "MS",
    "NEVADA": "NV",
    "NEW MEXICO": "NM",
    "OKLAHOMA": "OK",
    "TEXAS": "TX",
    "WASHINGTON": "WA",
}


def us_state(destination: dict[str, str | None] | None) -> str | None:
    """The two-letter US state of a delivery address ("FL", "Florida", "fl"), or None outside the US or unknown."""
    if not destination:
        return None
    country = (destination.get("country") or "US").upper()
    region = (destination.get("region") or "").strip().upper()
    if country != "US" or not region:
        return None
    code = STATE_NAMES.get(region, region)
    return code if len(code) == 2 else None


def legal_window(day: int, state: str | None) -> Window | None:
    """The window the law leaves on a weekday (0 = Monday) for a shopper in `state` (None: federal only)."""
    windows = STATE_WINDOWS.get(state or "")
    if windows is None:
        return FEDERAL
    window = windows[day]
    if window is None:
        return None
    start, end = max(window.start, FEDERAL.start), min(window.end, FEDERAL.end)
    return Window(start, end) if start < end else None


def permitted(local: datetime, state: str | None, quiet: Quiet | None) -> bool:
    window = legal_window(local.weekday(), state)
    if window is None or not window.contains(local.time()):
        return False
    return quiet is None or not quiet.contains(local.time())


def next_permitted(now: datetime, zone: ZoneInfo, quiet: Quiet | None, state: str | None = None) -> datetime | None:
    """The first moment a text may go out (legal floor and retailer's quiet hours), or None if `now` is allowed.

    Allowed time is a union of intervals, each starting where a legal window opens or the retailer's quiet hours
    end, so the answer is `now` or the earliest of those instants that is itself allowed. Wall-clock arithmetic is
    in local time, so a DST change overnight still lands on 08:00 local.
    """
    local = now.astimezone(zone)
    if permitted(local, state, quiet):
        return None
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        window = legal_window(day.weekday(), state)
        starts = [window.start] if window else []
        if quiet is not None and quiet.start != quiet.end:
            starts.append(quiet.end)
        for start in sorted(starts):
            candidate = datetime.combine(day, start, tzinfo=zone)
            if candidate > local and permitted(candidate, state, quiet):
                return candidate.astimezone(now.tzinfo)
    # The retailer's hours leave no allowed minute in a week (e.g. quiet 07:00-22:00): the floor alone decides.
    return next_permitted(now, zone, None, state)


def clamp(start: time, end: time) -> tuple[time, time, list[str]]:
    """A retailer's quiet hours (start-end, spanning midnight when start > end) no weaker than the federal floor,
    and what was changed, in words for the settings answer."""
    floor = "08:00-21:00 in the shopper's time zone (TCPA, 47 CFR 64.1200(c)(1))"
    if start == end:
        return time(21), time(8), [f"quiet hours from {start:%H:%M} to {end:%H:%M} never apply: set to {floor}"]
    if start < end:  # a daytime pause: the night is still covered by the floor at delivery
        return start, end, [f"texts also wait outside {floor}, whatever these hours say"]
    new_start, new_end = min(start, FEDERAL.end), max(end, FEDERAL.start)
    warnings = []
    if new_start != start:
        warnings.append(f"quiet hours start at {new_start:%H:%M} at the latest, not {start:%H:%M}: {floor}")
    if new_end != end:
        warnings.append(f"quiet hours end at {new_end:%H:%M} at the earliest, not {end:%H:%M}: {floor}")
    return new_start, new_end, warnings


__all__ = ["ALL_WEEK", "FEDERAL", "STATE_WINDOWS", "SUNDAY", "Window", "clamp", "legal_window", "next_permitted"]
