"""The live last mile's pure rules (domain/live.py) and the map's geometry (web/live_map.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain import live
from chalicelib.domain.live import CloseThreshold, Position, StoredPosition
from chalicelib.web import live_map

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def position(seconds_ago: float, stops: int | None = 5, **extra: object) -> Position:
    return Position("ups", "1Z1", 52.37, 4.89, NOW - timedelta(seconds=seconds_ago), stops_before=stops, **extra)  # type: ignore[arg-type]


def stored(seconds_ago: float, stops: int | None = 5, **extra: object) -> StoredPosition:
    return StoredPosition(52.3, 4.8, NOW - timedelta(seconds=seconds_ago), stops_before=stops, **extra)  # type: ignore[arg-type]


def test_coordinates_must_be_finite_numbers_on_the_globe() -> None:
    assert live.valid_coordinates(0, 0) and live.valid_coordinates(-90, 180)
    for lat, lng in ((91, 0), (0, -181), (float("nan"), 0), (float("inf"), 0), (True, 0), ("1", 0), (None, 0)):
        assert not live.valid_coordinates(lat, lng)


def test_a_batch_keeps_the_newest_position_of_each_parcel() -> None:
    newest, stale = live.newest_per_parcel([position(30), position(10), position(20), position(10, stops=4)])
    assert stale == 3 and newest[("ups", "1Z1")].stops_before == 4  # a tie keeps the one sent last


def test_writes_are_coalesced_unless_stops_or_eta_change() -> None:
    assert live.needs_write(position(0), None)
    assert not live.needs_write(position(10), stored(5))  # older than what is kept
    assert not live.needs_write(position(0), stored(29))  # newer, but within 30 s and nothing else changed
    assert live.needs_write(position(0), stored(30))
    assert live.needs_write(position(0, stops=4), stored(1))
    assert live.needs_write(position(0, eta={"start": "2026-12-02T10:20:00+00:00"}), stored(1))


def test_the_shopper_sees_a_fresh_position_only_while_out_for_delivery() -> None:
    assert live.shown_position("shipped", stored(10), "area", NOW) == (None, False)
    assert live.shown_position("delivered", stored(10), "area", NOW) == (None, False)
    assert live.shown_position("out_for_delivery", stored(10), "off", NOW) == (None, False)
    assert live.shown_position("out_for_delivery", stored(301), "area", NOW) == (None, True)
    shown, _ = live.shown_position("out_for_delivery", StoredPosition(52.3749, 4.8961, NOW), "area", NOW)
    assert shown == {"lat": 52.37, "lng": 4.9, "age_seconds": 0}
    exact, _ = live.shown_position("out_for_delivery", StoredPosition(52.3749, 4.8961, NOW), "exact", NOW)
    assert exact == {"lat": 52.3749, "lng": 4.8961, "age_seconds": 0}


def test_close_means_within_the_stops_or_minutes_threshold_and_not_told_before() -> None:
    threshold = CloseThreshold(stops=2, minutes=10)
    assert not live.is_close("out_for_delivery", None, position(0, stops=3), threshold, NOW)
    assert live.is_close("out_for_delivery", None, position(0, stops=2), threshold, NOW)
    soon = {"start": (NOW + timedelta(minutes=9)).isoformat()}
    assert live.is_close("out_for_delivery", None, position(0, stops=None, eta=soon), threshold, NOW)
    assert not live.is_close("out_for_delivery", stored(5, close_notified=True), position(0, stops=1), threshold, NOW)
    assert not live.is_close("shipped", None, position(0, stops=1), threshold, NOW)
    assert not live.is_close("out_for_delivery", None, position(400, stops=1), threshold, NOW)  # an old position
    assert not live.is_close("out_for_delivery", None, position(0, stops=1), CloseThreshold(0, 0, False), NOW)


def test_counted_stops_decide_closeness_over_an_eta() -> None:
    threshold = CloseThreshold(stops=2, minutes=10)
    soon = {"start": (NOW + timedelta(minutes=5)).isoformat()}
    assert not live.is_close("out_for_delivery", None, position(0, stops=8, eta=soon), threshold, NOW)
    later = {"start": (NOW + timedelta(minutes=50)).isoformat()}
    assert live.is_close("out_for_delivery", None, position(0, stops=1, eta=later), threshold, NOW)
    # with the stops test switched off, the time decides
    assert live.is_close("out_for_delivery", None, position(0, stops=8, eta=soon), CloseThreshold(0, 10), NOW)


def test_a_window_already_started_or_naming_only_a_day_never_says_the_driver_is_close() -> None:
    threshold = CloseThreshold(stops=2, minutes=10)
    started = {"start": (NOW - timedelta(minutes=30)).isoformat(), "end": (NOW + timedelta(hours=2)).isoformat()}
    assert not live.is_close("out_for_delivery", None, position(0, stops=None, eta=started), threshold, NOW)
    for day_only in ({"start": "2026-12-02T00:00:00+00:00"}, {"end": "2026-12-02T00:00:00+00:00"}):
        assert live.minutes_away(day_only, NOW) is None
        assert not live.is_close("out_for_delivery", None, position(0, stops=None, eta=day_only), threshold, NOW)


def test_the_arrival_clock_skips_day_only_bounds_and_reads_wall_clock_ones_in_the_shoppers_zone() -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Los_Angeles")
    assert live.arrival_moment({"start": "2026-12-04T00:00:00+00:00"}) is None  # EasyPost's "that day"
    assert live.arrival_moment({"start": "2026-12-04T00:00:00", "end": "2026-12-04T14:20:00+00:00"}) == datetime(
        2026, 12, 4, 14, 20, tzinfo=UTC
    )
    assert live.arrival_moment({"start": "2026-12-04T14:20:00"}) is None  # wall clock, but whose?
    assert live.arrival_moment({"start": "2026-12-04T14:20:00"}, zone) == datetime(2026, 12, 4, 14, 20, tzinfo=zone)
    assert live.minutes_away({"start": (NOW + timedelta(seconds=61)).isoformat()}, NOW) == 2
    assert live.minutes_away({"start": NOW.isoformat()}, NOW) is None


def test_the_map_frames_driver_and_area_and_tiles_line_up() -> None:
    block = {"position": {"lat": 52.50, "lng": 13.37}, "destination_area": {"lat": 52.52, "lng": 13.41}}
    drawn = live_map.live_map(block, "")
    assert drawn is not None and drawn["tiles"] == []
    for x, y in (drawn["driver"], drawn["area"]):
        assert 0 < x < live_map.WIDTH and 0 < y < live_map.HEIGHT
    assert drawn["driver"][0] < drawn["area"][0] and drawn["driver"][1] > drawn["area"][1]  # south-west of it
    tiled = live_map.live_map(block, "https://tiles.example.test/{z}/{x}/{y}.png")
    assert tiled is not None and float(tiled["view"]["zoom"]).is_integer() and tiled["tiles"]
    assert all(tile["url"].startswith("https://tiles.example.test/") for tile in tiled["tiles"])
    assert live_map.https_origin("https://tiles.example.test/{z}/{x}/{y}.png") == "https://tiles.example.test"
    assert live_map.live_map({"position": None, "destination_area": None}, "") is None
