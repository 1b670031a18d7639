"""The legal floor under quiet hours: federal 08:00-21:00, stricter state windows, retailers only narrow (20.4)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.policy import QuietHours
from chalicelib.domain.quiet_hours import clamp, legal_window, next_permitted, us_state

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")


def local(zone: ZoneInfo, day: int, hour: int, minute: int = 0) -> datetime:
    """November 2026: the 23rd is a Monday, the 29th a Sunday."""
    return datetime(2026, 11, day, hour, minute, tzinfo=zone).astimezone(UTC)


@pytest.mark.parametrize(
    ("quiet", "label"),
    [
        (None, "switched off"),
        (QuietHours(time(23), time(6)), "23:00-06:00"),
        (QuietHours(time(7), time(7)), "start=end"),
    ],
)
def test_no_retailer_setting_lets_a_text_out_before_8_or_after_9(quiet: QuietHours | None, label: str) -> None:
    assert next_permitted(local(NY, 23, 7, 30), NY, quiet) == local(NY, 23, 8), label
    assert next_permitted(local(NY, 23, 21, 30), NY, quiet) == local(NY, 24, 8), label
    assert next_permitted(local(NY, 23, 12), NY, quiet) is None, label


def test_a_retailer_can_narrow_the_window_further() -> None:
    quiet = QuietHours(time(19), time(10))
    assert next_permitted(local(NY, 23, 9), NY, quiet) == local(NY, 23, 10)
    assert next_permitted(local(NY, 23, 19, 5), NY, quiet) == local(NY, 24, 10)


def test_florida_stops_at_8pm_and_texas_waits_for_noon_on_sunday() -> None:
    assert next_permitted(local(NY, 23, 20, 15), NY, None, "FL") == local(NY, 24, 8)
    assert next_permitted(local(NY, 23, 20, 15), NY, None, None) is None  # New York: the federal window
    assert next_permitted(local(CHICAGO, 29, 10), CHICAGO, None, "TX") == local(CHICAGO, 29, 12)
    assert next_permitted(local(CHICAGO, 28, 8, 30), CHICAGO, None, "TX") == local(CHICAGO, 28, 9)  # Saturday 9am


def test_mississippi_has_no_texts_on_sunday_and_connecticut_starts_at_9() -> None:
    assert next_permitted(local(CHICAGO, 29, 12), CHICAGO, None, "MS") == local(CHICAGO, 30, 8)
    assert legal_window(0, "CT") is not None and legal_window(0, "CT").start == time(9)  # type: ignore[union-attr]
    assert legal_window(6, "MS") is None


def test_a_delivery_address_names_its_state_by_code_or_name_and_only_in_the_us() -> None:
    assert us_state({"region": "Florida", "country": "US"}) == "FL"
    assert us_state({"region": "tx"}) == "TX"
    assert us_state({"region": "ON", "country": "CA"}) is None
    assert us_state(None) is None


def test_clamping_says_what_changed() -> None:
    assert clamp(time(23), time(6))[:2] == (time(21), time(8))
    assert len(clamp(time(23), time(6))[2]) == 2
    assert clamp(time(20), time(9)) == (time(20), time(9), [])
    assert clamp(time(7), time(7))[:2] == (time(21), time(8))
