"""domain.promise: how one delivery kept its promise, and the figures summed counters give back."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from chalicelib.domain import promise
from chalicelib.domain.shipment import Progress

NEW_YORK = ZoneInfo("America/New_York")


def test_a_promised_date_is_the_shoppers_calendar_day_not_the_utc_one() -> None:
    assert promise.outcome("2026-11-06T03:30:00+00:00", "2026-11-05", None, NEW_YORK).days_late == 0
    assert promise.outcome("2026-11-06T03:30:00+00:00", "2026-11-05", None, ZoneInfo("UTC")).days_late == 1
    # a promise with a time is read in the shopper's zone too
    assert promise.outcome("2026-11-06T03:30:00+00:00", "2026-11-05T18:00:00-05:00", None, NEW_YORK).days_late == 0


def test_outside_the_window_is_early_before_its_start_and_late_after_its_end() -> None:
    window = {"start": "2026-11-05T14:00:00+00:00", "end": "2026-11-05T18:00:00+00:00"}
    moment = promise.datetime.fromisoformat
    assert promise.against_window(moment("2026-11-05T13:59:00+00:00"), window, NEW_YORK) == promise.EARLY
    assert promise.against_window(moment("2026-11-05T14:00:00+00:00"), window, NEW_YORK) == promise.INSIDE
    assert promise.against_window(moment("2026-11-05T18:00:01+00:00"), window, NEW_YORK) == promise.LATE
    day = {"start": "2026-11-07T00:00:00Z"}  # a day-only start: early only on an earlier local day
    assert promise.against_window(moment("2026-11-07T05:00:00+00:00"), day, NEW_YORK) == promise.INSIDE
    assert promise.against_window(moment("2026-11-07T03:00:00+00:00"), day, NEW_YORK) == promise.EARLY
    assert promise.against_window(moment("2026-11-07T03:00:00+00:00"), {}, NEW_YORK) is None


def test_a_window_is_inside_between_its_bounds_a_day_only_bound_is_the_whole_local_day_and_none_is_open() -> None:
    window = {"start": "2026-11-05T14:00:00+00:00", "end": "2026-11-05T18:00:00+00:00"}
    assert promise.inside(promise.datetime.fromisoformat("2026-11-05T18:00:00+00:00"), window, NEW_YORK) is True
    assert promise.inside(promise.datetime.fromisoformat("2026-11-05T18:00:01+00:00"), window, NEW_YORK) is False
    assert promise.inside(promise.datetime.fromisoformat("2026-11-05T13:59:00+00:00"), window, NEW_YORK) is False
    day = {"start": "2026-11-07T00:00:00Z", "end": "2026-11-07T00:00:00Z"}
    assert promise.outcome("2026-11-08T03:00:00+00:00", None, day, NEW_YORK).in_window is True  # 22:00 on the 7th
    assert promise.outcome("2026-11-08T06:00:00+00:00", None, day, NEW_YORK).in_window is False
    assert promise.outcome("2026-11-05T15:00:00+00:00", None, {"end": "2026-11-05T11:00:00"}, NEW_YORK).in_window
    assert promise.outcome("2026-11-05T15:00:00+00:00", None, {}, NEW_YORK).in_window is None


def test_the_window_shown_is_the_last_eta_before_the_arrival_never_one_on_the_delivery_scan() -> None:
    shown = {"start": "2026-11-05T14:00:00+00:00", "end": "2026-11-05T18:00:00+00:00"}
    on_arrival = {"start": "2026-11-05T19:00:00+00:00", "end": "2026-11-05T21:00:00+00:00"}
    before = Progress(status="out_for_delivery", status_key=("2026-11-05T09:00:00+00:00", "a"), eta=shown,
                      eta_key=("2026-11-05T09:00:00+00:00", "a"))  # fmt: skip
    after = Progress(status="delivered", status_key=("2026-11-05T20:00:00+00:00", "b"), eta=on_arrival,
                     eta_key=("2026-11-05T20:00:00+00:00", "b"))  # fmt: skip
    assert promise.window_shown(before, after) == shown
    assert promise.window_shown(Progress(), after) is None


def test_counter_names_carry_no_separator_from_what_the_retailer_typed() -> None:
    assert promise.service_label("Next Day: AM/PM") == "next_day_am_pm"
    assert promise.service_label(None) == promise.NO_SERVICE
    assert promise.lane_label({"country": "us", "region": "C:A>"}, None) == "US-CA>?"
    deltas = promise.deltas("ups", "ground", "US-CA>US-NY", promise.PromiseOutcome(days_late=12, window=promise.LATE))
    assert deltas == {
        "pr:all:all:n": 1, "pr:all:all:d7": 1, "pr:all:all:win:out": 1,
        "pr:cs:ups/ground:n": 1, "pr:cs:ups/ground:d7": 1, "pr:cs:ups/ground:win:out": 1,
        "pr:ln:US-CA>US-NY:n": 1, "pr:ln:US-CA>US-NY:d7": 1, "pr:ln:US-CA>US-NY:win:out": 1,
    }  # fmt: skip


def test_the_summary_counts_by_date_early_late_the_median_and_the_window() -> None:
    figures = promise.summary({"n": 6, "d-2": 1, "d0": 2, "d4": 1, "d7": 1, "win:in": 2, "win:out": 2})
    assert figures["with_promise"] == 5 and figures["by_promised_date"] == 3 and figures["by_promised_date_rate"] == 60
    assert (figures["early"], figures["on_the_day"], figures["late"], figures["median_days_late"]) == (1, 2, 2, 0)
    assert figures["inside_window_rate"] == 50.0
    empty = promise.summary({})
    assert empty["by_promised_date_rate"] is None and empty["median_days_late"] is None and empty["days_late"] == []


def test_a_carrier_eta_is_current_until_arrival_and_while_out_for_delivery_only_for_that_day() -> None:
    friday = {"start": "2026-11-20", "end": "2026-11-20"}
    assert promise.current_eta("shipped", "2026-11-18T10:00:00+00:00", friday, NEW_YORK) == friday
    assert promise.current_eta("out_for_delivery", "2026-11-18T13:00:00+00:00", friday, NEW_YORK) is None
    same_day = {"start": "2026-11-18T19:00:00Z", "end": "2026-11-18T21:00:00Z"}
    assert promise.current_eta("out_for_delivery", "2026-11-18T13:00:00+00:00", same_day, NEW_YORK) == same_day
    overnight = {"start": "2026-11-17T23:00:00-05:00", "end": "2026-11-19T09:00:00-05:00"}  # spans the day out
    assert promise.current_eta("out_for_delivery", "2026-11-18T13:00:00+00:00", overnight, NEW_YORK) == overnight
    for ended in ("delivered", "returned", "cancelled", "available_for_pickup"):
        assert promise.current_eta(ended, "2026-11-18T13:00:00+00:00", same_day, NEW_YORK) is None
    assert promise.current_eta("shipped", None, None, NEW_YORK) is None
