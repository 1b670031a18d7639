"""Late-shipment detection: when a promise counts as broken, and when the check must stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chalicelib.domain import milestones as ms
from chalicelib.domain.lateness import (
    after_silence,
    broken_at,
    check_kind,
    is_silence_check,
    is_silent,
    plan_check,
    plan_silence_check,
    promise_broken,
    silent_from,
    why_not_late,
)
from chalicelib.domain.shipment import Progress

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


SCANNED = "2026-11-20T10:00:00+00:00"
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def at(status: str, last_scan: str, eta: dict[str, str] | None = None) -> Progress:
    """A parcel's progress with only what the silence watch reads: its status, latest scan time and ETA."""
    return Progress(status=status, latest_key=(last_scan, 0, "fp"), eta=eta)


def test_the_silence_watch_is_armed_once_for_a_moving_parcel_for_days_after_its_latest_scan() -> None:
    check = plan_silence_check(at(ms.SHIPPED, SCANNED, None), frozenset(), 5, NOW)
    assert check is not None and is_silence_check(check.kind) and check.not_before == "2026-11-25T10:00:00+00:00"
    assert plan_silence_check(at(ms.SHIPPED, SCANNED, None), frozenset({check.kind}), 5, NOW) is None  # armed already
    assert plan_silence_check(at(ms.SHIPPED, SCANNED, None), frozenset({ms.DELAYED}), 5, NOW) is None  # told late
    assert plan_silence_check(at(ms.PROCESSED, SCANNED, None), frozenset(), 5, NOW) is None  # not moving yet
    assert plan_silence_check(at(ms.DELIVERED, SCANNED, None), frozenset(), 5, NOW) is None
    assert plan_silence_check(at(ms.SHIPPED, SCANNED, None), frozenset(), 0, NOW) is None  # switched off
    # A backfilled history whose silence began long before we heard of the parcel texts nobody.
    assert plan_silence_check(at(ms.SHIPPED, SCANNED, None), frozenset(), 5, datetime(2026, 12, 1, tzinfo=UTC)) is None


def test_a_carrier_eta_later_than_the_silence_deadline_postpones_it() -> None:
    eta = {"start": "2026-11-28T09:00:00+00:00", "end": "2026-11-28T17:00:00+00:00"}
    assert silent_from(at(ms.SHIPPED, SCANNED, eta), 5) == datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    assert silent_from(at(ms.SHIPPED, SCANNED, {"start": "2026-11-21T09:00:00+00:00"}), 5) == datetime(
        2026, 11, 25, 10, 0, tzinfo=UTC
    )
    assert silent_from(at(ms.SHIPPED, SCANNED, {"end": "2026-11-28"}), 5) == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_a_silence_check_that_comes_due_tells_re_arms_or_ends() -> None:
    due = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert after_silence(at(ms.SHIPPED, SCANNED, None), frozenset(), 5, due) == (None, None)  # silent: tell the shopper
    assert after_silence(at(ms.OUT_FOR_DELIVERY, SCANNED, None), frozenset(), 5, due) == (None, None)
    later_scan = "2026-11-24T08:00:00+00:00"
    assert after_silence(at(ms.SHIPPED, later_scan, None), frozenset(), 5, due) == (
        "news_since",
        datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
    )
    assert after_silence(at(ms.ATTEMPT_FAILED, SCANNED, None), frozenset(), 5, due) == (
        "not_moving",
        datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )
    abandoned = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)  # an exception nobody resolved for a month
    assert after_silence(at(ms.EXCEPTION, SCANNED, None), frozenset(), 5, abandoned) == ("not_moving", None)
    assert after_silence(at(ms.DELIVERED, SCANNED, None), frozenset(), 5, due) == ("journey_over", None)
    assert after_silence(at(ms.SHIPPED, SCANNED, None), frozenset({ms.DELAYED}), 5, due) == ("already_told", None)
    assert after_silence(at(ms.SHIPPED, SCANNED, None), frozenset(), 0, due) == ("switched_off", None)


def test_the_page_calls_a_parcel_silent_only_once_the_deadline_passed() -> None:
    assert not is_silent(at(ms.SHIPPED, SCANNED, None), 5, datetime(2026, 11, 25, 9, 59, tzinfo=UTC))
    assert is_silent(at(ms.SHIPPED, SCANNED, None), 5, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert not is_silent(at(ms.AVAILABLE_FOR_PICKUP, SCANNED, None), 5, datetime(2026, 12, 25, tzinfo=UTC))
    assert not is_silent(at(ms.SHIPPED, SCANNED, None), 0, datetime(2026, 12, 25, tzinfo=UTC))


def test_the_reason_for_a_delay_prefers_what_the_carrier_said() -> None:
    from chalicelib.domain.notifications import NO_NEWS, PROMISE_PASSED, TOLD_SILENT, delay_reason

    assert delay_reason(Progress(status=ms.SHIPPED), None, frozenset({TOLD_SILENT})) == NO_NEWS
    assert delay_reason(Progress(status=ms.SHIPPED), "2026-11-20", frozenset()) == PROMISE_PASSED
    assert delay_reason(Progress(status=ms.SHIPPED, latest_delayed=True), None, frozenset({TOLD_SILENT})) == (
        "carrier_delay"
    )
