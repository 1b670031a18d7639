"""The pure rules of D45: when the stall watch looks and what it finds; engagement counter names, links, rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain import engagement, stalls
from chalicelib.domain import milestones as ms
from chalicelib.domain.shipment import Progress

REGISTERED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def progress(status: str, last_scan: datetime | None = None) -> Progress:
    return Progress(status=status, latest_key=(last_scan.isoformat(), 0, "fp") if last_scan else None)


def decide(p: Progress, now: datetime, notified: frozenset[str] = frozenset(), days: tuple[int, int] = (2, 3)):
    return stalls.decide(p, REGISTERED.isoformat(), notified, days[0], days[1], now)


def test_a_label_without_a_carrier_scan_is_found_after_the_first_scan_days_then_watched_for_a_scan() -> None:
    label = progress(ms.PROCESSED, REGISTERED)
    assert decide(label, REGISTERED + timedelta(days=1)) == (None, REGISTERED + timedelta(days=2))
    now = REGISTERED + timedelta(days=2, minutes=1)
    assert decide(label, now) == (stalls.NO_FIRST_SCAN, now + timedelta(days=3))
    assert decide(label, now, frozenset({stalls.marker(stalls.NO_FIRST_SCAN)})) == (None, now + timedelta(days=3))


def test_a_moving_parcel_is_stuck_only_after_the_stuck_days_without_news() -> None:
    scanned = REGISTERED + timedelta(days=1)
    moving = progress(ms.SHIPPED, scanned)
    assert decide(moving, scanned + timedelta(days=2)) == (None, scanned + timedelta(days=3))
    assert decide(moving, scanned + timedelta(days=3)) == (stalls.STUCK, None)
    assert decide(moving, scanned + timedelta(days=4), frozenset({stalls.marker(stalls.STUCK)})) == (None, None)


def test_the_watch_ends_when_the_journey_does_or_after_a_month_of_silence_and_zero_days_switch_off() -> None:
    assert decide(progress(ms.DELIVERED, REGISTERED), REGISTERED + timedelta(days=9)) == (None, None)
    assert decide(progress(ms.AVAILABLE_FOR_PICKUP, REGISTERED), REGISTERED + timedelta(days=9)) == (None, None)
    assert decide(progress(ms.SHIPPED, REGISTERED), REGISTERED + timedelta(days=31)) == (None, None)
    assert decide(progress(ms.PENDING), REGISTERED + timedelta(days=5), days=(0, 0)) == (None, None)
    assert stalls.plan_watch(progress(ms.PENDING), REGISTERED.isoformat(), frozenset(), 0, 0, REGISTERED) is None


def test_the_watch_is_armed_once_and_never_in_the_past() -> None:
    old_scan = REGISTERED - timedelta(days=10)
    intent = stalls.plan_watch(progress(ms.SHIPPED, old_scan), REGISTERED.isoformat(), frozenset(), 2, 3, REGISTERED)
    assert intent is not None and intent.kind == stalls.WATCH and intent.not_before == REGISTERED.isoformat()
    assert (
        stalls.plan_watch(progress(ms.PENDING), REGISTERED.isoformat(), frozenset({stalls.WATCH}), 2, 3, REGISTERED)
        is None
    )


def test_only_the_first_failed_attempt_is_news_and_hook_kinds_round_trip() -> None:
    assert stalls.newly_failed_attempt(ms.OUT_FOR_DELIVERY, ms.ATTEMPT_FAILED, frozenset())
    marked = frozenset({stalls.marker(stalls.FIRST_ATTEMPT_FAILED)})
    assert not stalls.newly_failed_attempt(ms.OUT_FOR_DELIVERY, ms.ATTEMPT_FAILED, marked)
    assert not stalls.newly_failed_attempt(ms.ATTEMPT_FAILED, ms.ATTEMPT_FAILED, frozenset())
    kind = stalls.hook_kind(stalls.STUCK, 7)
    assert stalls.parse_hook_kind(kind) == (stalls.STUCK, 7)
    assert (
        stalls.parse_hook_kind("status:stalled:bogus:7") is None and stalls.parse_hook_kind("status:shipped:7") is None
    )
    assert stalls.plan_hook(stalls.STUCK, 7, frozenset({"shipped"})) is None
    assert stalls.plan_hook(stalls.STUCK, 7, None) is None


def test_engagement_counters_links_and_markers_admit_only_known_kinds() -> None:
    assert engagement.counter("shipped", "email", "opened") == "eng:shipped:email:opened"
    assert engagement.counter("status:shipped:3", "webhook", "sent") is None
    assert engagement.counter("shipped", "email", "bogus") is None
    assert engagement.marked_link("https://t.example/t/abc", "delayed") == "https://t.example/t/abc?m=delayed"
    assert engagement.text_link("https://t.example/t/abc") == "https://t.example/t/abc?s"
    assert engagement.kind_of_marker("delivered") == "delivered"
    assert engagement.kind_of_marker("<script>") is None and engagement.kind_of_marker(None) is None


def test_engagement_rows_sum_counters_and_divide_by_what_each_rate_is_of() -> None:
    rows = engagement.rows(
        {
            "eng:delivered:email:sent": 4,
            "eng:delivered:email:delivered": 2,
            "eng:delivered:email:opened": 1,
            "eng:delivered:email:visited": 3,
            "eng:shipped:sms:sent": 2,
            "eng:shipped:sms:stopped": 1,
            "eng:bogus:sms:sent": 9,
            "notif:sms:sent": 2,
        }
    )
    assert [(r["kind"], r["channel"]) for r in rows] == [("shipped", "sms"), ("delivered", "email")]
    shipped, delivered = rows
    assert (shipped["opt_out_rate"], shipped["open_rate"], shipped["delivery_rate"]) == (50.0, None, 0.0)
    assert (delivered["open_rate"], delivered["visit_rate"], delivered["delivery_rate"]) == (50.0, 75.0, 50.0)
