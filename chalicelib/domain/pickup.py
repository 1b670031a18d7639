"""Pickup points and lockers (issue 18, D48): what a carrier tells us of where a parcel waits, until when, the
reminders before that deadline, and what the public may see of it (pure: the clock is passed in)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from . import milestones as ms

#: The facts a carrier may send on a native event's `pickup` object (DESIGN 3.2, D48), each a short text.
FIELDS: tuple[str, ...] = ("id", "name", "area", "address", "opening_hours", "deadline", "code", "note")
#: `address` is shown on the public page only when the carrier marks it the pickup point's own public address.
ADDRESS_PUBLIC = "address_public"
#: Days a pickup point holds a parcel when the carrier gives no deadline (the retailer's `pickup.hold_days`).
DEFAULT_HOLD_DAYS = 7
MAX_HOLD_DAYS = 30
#: At most this many reminders, each its own outbox kind so that each goes out once (`pickup_reminder_1`...).
MAX_REMINDERS = 3
REMINDER_PREFIX = "pickup_reminder_"
REMINDER_KINDS: tuple[str, ...] = tuple(f"{REMINDER_PREFIX}{n}" for n in range(1, MAX_REMINDERS + 1))
#: One step of the sequence: hours after the parcel became available, or hours before the deadline.
AFTER, BEFORE = "after_hours", "before_deadline_hours"
#: The default sequence: a day after it arrived, and a final one the day before the deadline.
DEFAULT_REMINDERS: tuple[dict[str, int], ...] = ({AFTER: 24}, {BEFORE: 24})
#: A reminder due this close to the deadline (or after it) is not worth sending.
LAST_USEFUL = timedelta(hours=1)


def is_reminder(kind: str) -> bool:
    return kind in REMINDER_KINDS


def template_kind(kind: str) -> str:
    """The built-in template's block for an outbox kind: every reminder of the sequence uses one wording."""
    return "pickup_reminder" if is_reminder(kind) else kind


def deadline(pickup: Mapping[str, Any] | None, available_at: str | None, hold_days: int) -> str | None:
    """Until when the parcel waits: the carrier's deadline, else `hold_days` after it became available."""
    given = (pickup or {}).get("deadline")
    if given:
        return str(given)
    if not available_at:
        return None
    return (datetime.fromisoformat(available_at) + timedelta(days=hold_days)).isoformat(timespec="seconds")


def public_facts(pickup: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What anyone holding the tracking link may read: the point's name, area, opening hours and (only when it is
    the point's own public address) its street address; whether a pickup code exists, never the code itself."""
    if not pickup:
        return None
    return {
        "name": pickup.get("name"),
        "area": pickup.get("area"),
        "address": pickup.get("address") if pickup.get(ADDRESS_PUBLIC) else None,
        "opening_hours": pickup.get("opening_hours"),
        "has_code": bool(pickup.get("code")),
    }


def reminder_plan(
    available_at: str,
    until: str | None,
    sequence: Sequence[Mapping[str, int]],
    notified: frozenset[str],
    now: datetime,
) -> list[tuple[str, str]]:
    """(kind, due time) for each step of the retailer's sequence not planned before, in order. A step whose time
    falls within LAST_USEFUL of the deadline (or past it) is dropped; one whose time has passed goes out now."""
    start = datetime.fromisoformat(available_at)
    end = datetime.fromisoformat(until) if until else None
    planned = []
    for kind, step in zip(REMINDER_KINDS, sequence, strict=False):
        if kind in notified:
            continue
        if AFTER in step:
            due = start + timedelta(hours=int(step[AFTER]))
        elif BEFORE in step and end is not None:
            due = end - timedelta(hours=int(step[BEFORE]))
        else:
            continue
        if end is not None and due > end - LAST_USEFUL:
            continue
        planned.append((kind, max(due, now).isoformat(timespec="seconds")))
    return planned


def reminder_stale(status: str) -> bool:
    """A reminder must not go out once the parcel has left the pickup point (collected, returned, anything)."""
    return status != ms.AVAILABLE_FOR_PICKUP
