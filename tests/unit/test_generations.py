"""Recycled tracking numbers: which parcel a scan belongs to, and when a number has moved on to a new parcel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import milestones as ms
from chalicelib.domain.events import TrackingEvent, fingerprint, iso
from chalicelib.domain.generations import (
    RECYCLE_GAP,
    generation_for,
    recycled_by,
    reused_for_order,
    start_after,
)
from chalicelib.domain.shipment import Progress, fold

DELIVERED_AT = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def scan(status: str, at: datetime, n: int = 0) -> TrackingEvent:
    return TrackingEvent(
        source="native",
        carrier="usps",
        tracking_number="9400",
        status=status,
        occurred_at=at,
        fingerprint=fingerprint(status, iso(at), n),
    )


def finished_parcel(status: str = ms.DELIVERED) -> Progress:
    return fold(Progress(), [scan(ms.SHIPPED, DELIVERED_AT - timedelta(days=2)), scan(status, DELIVERED_AT)])


def test_a_scan_belongs_to_the_latest_generation_started_at_or_before_it() -> None:
    starts = ("2026-05-01T00:00:00+00:00", "2026-09-01T00:00:00+00:00")
    assert generation_for("2026-04-30T23:59:59+00:00", starts) == 0
    assert generation_for("2026-05-01T00:00:00+00:00", starts) == 1
    assert generation_for("2026-08-31T23:59:59+00:00", starts) == 1
    assert generation_for("2027-01-01T00:00:00+00:00", starts) == 2
    assert generation_for("2027-01-01T00:00:00+00:00", ()) == 0


@given(st.sampled_from(sorted(ms.TERMINAL)), st.integers(0, 400))
def test_only_a_scan_long_after_a_finished_parcel_is_a_new_parcel(status: str, days_later: int) -> None:
    later = scan(ms.PROCESSED, DELIVERED_AT + timedelta(days=days_later, seconds=1))
    opening = recycled_by(finished_parcel(status), [later])
    assert (opening is not None) == (timedelta(days=days_later, seconds=1) > RECYCLE_GAP)


def test_a_parcel_still_on_its_way_is_never_taken_for_a_new_one() -> None:
    moving = fold(Progress(), [scan(ms.ATTEMPT_FAILED, DELIVERED_AT)])
    assert recycled_by(moving, [scan(ms.PROCESSED, DELIVERED_AT + timedelta(days=200))]) is None
    assert recycled_by(Progress(), [scan(ms.PROCESSED, DELIVERED_AT)]) is None


def test_the_earliest_late_scan_opens_the_new_parcel_and_earlier_ones_stay() -> None:
    returned_soon = scan(ms.RETURNED, DELIVERED_AT + timedelta(days=3))
    first = scan(ms.PROCESSED, DELIVERED_AT + timedelta(days=60))
    second = scan(ms.SHIPPED, DELIVERED_AT + timedelta(days=61))
    assert recycled_by(finished_parcel(), [second, returned_soon, first]) == first


def test_a_different_order_on_a_finished_parcel_reuses_the_number_from_just_after_its_last_scan() -> None:
    parcel = finished_parcel()
    assert reused_for_order(parcel, "ORD-1", "ORD-2")
    assert not reused_for_order(parcel, "ORD-1", "ORD-1")
    assert not reused_for_order(fold(Progress(), [scan(ms.SHIPPED, DELIVERED_AT)]), "ORD-1", "ORD-2")
    assert start_after(parcel) == "2026-03-01T15:00:01+00:00"
    assert generation_for(iso(DELIVERED_AT), (start_after(parcel),)) == 0
