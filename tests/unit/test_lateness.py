"""Late-shipment detection: when a promise counts as broken, and when the check must stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chalicelib.domain import milestones as ms
from chalicelib.domain.lateness import broken_at, check_kind, plan_check, promise_broken, why_not_late

NY = ZoneInfo("America/New_York")


def test_a_promised_day_is_broken_the_next_morning_where_the_shopper_lives() -> None:
    assert broken_at("2026-12-01", NY) == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 08:00 in New York
    assert broken_at("2026-12-01", ZoneInfo("Europe/Berlin")) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def test_a_promised_time_is_broken_an_hour_after_it() -> None:
    assert broken_at("2026-12-01T17:00:00-05:00", NY) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert broken_at("2026-12-01T17:00:00", NY) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)  # local when no offset


def test_a_check_is_planned_once_per_promise_and_never_for_a_finished_parcel() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    check = plan_check("2026-12-01", ms.SHIPPED, frozenset(), NY, now)
    assert (
        check is not None and check.kind == check_kind("2026-12-01") and check.not_before == "2026-12-02T13:00:00+00:00"
    )
    assert plan_check("2026-12-01", ms.SHIPPED, frozenset({check.kind}), NY, now) is None
    assert plan_check("2026-12-01", ms.DELIVERED, frozenset(), NY, now) is None
    assert plan_check(None, ms.SHIPPED, frozenset(), NY, now) is None
    assert plan_check("2026-12-03", ms.SHIPPED, frozenset({check.kind}), NY, now) is not None  # a new date, a new check


def test_a_promise_broken_before_registration_is_not_checked() -> None:
    """A backfill of last month's orders must not tell anyone that a long-delivered parcel is late."""
    assert plan_check("2026-11-01", ms.PENDING, frozenset(), NY, datetime(2026, 11, 23, tzinfo=UTC)) is None
    assert plan_check("2026-11-22", ms.PENDING, frozenset(), NY, datetime(2026, 11, 23, 12, 59, tzinfo=UTC))


def test_the_check_speaks_only_for_a_parcel_still_on_its_way_past_the_current_promise() -> None:
    after = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    kind = check_kind("2026-12-01")
    assert why_not_late(kind, "2026-12-01", ms.SHIPPED, frozenset(), after, NY) is None
    assert why_not_late(kind, "2026-12-01", ms.ATTEMPT_FAILED, frozenset(), after, NY) is None
    assert why_not_late(kind, "2026-12-05", ms.SHIPPED, frozenset(), after, NY) == "promise_changed"
    assert why_not_late(kind, None, ms.SHIPPED, frozenset(), after, NY) == "promise_changed"
    assert why_not_late(kind, "2026-12-01", ms.AVAILABLE_FOR_PICKUP, frozenset(), after, NY) == "not_late"
    assert why_not_late(kind, "2026-12-01", ms.SHIPPED, frozenset({ms.DELAYED}), after, NY) == "already_told"
    early = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert why_not_late(kind, "2026-12-01", ms.SHIPPED, frozenset(), early, NY) == "not_yet"
    assert promise_broken("2026-12-01", ms.SHIPPED, after, NY)
    assert not promise_broken("2026-12-01", ms.DELIVERED, after, NY)
    assert not promise_broken("2026-12-01", ms.SHIPPED, early, NY)
