"""Clamping far-future scans (domain.events.clamp_future): pure, and only beyond the documented tolerance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.events import FUTURE_TOLERANCE, TrackingEvent, clamp_future, fingerprint, iso


def scan(at: datetime, name: str = "s") -> TrackingEvent:
    return TrackingEvent("native", "ups", "1Z", "shipped", at, fingerprint("native", name))


def test_clamping_is_pure_and_only_touches_scans_beyond_the_tolerance() -> None:
    received = datetime(2026, 11, 20, 12, tzinfo=UTC)
    edge = scan(received + FUTURE_TOLERANCE, "edge")
    far = scan(received + FUTURE_TOLERANCE + timedelta(seconds=1), "far")
    past = scan(received - timedelta(days=3), "past")
    kept_edge, clamped, kept_past = clamp_future([edge, far, past], received)
    assert kept_edge == edge and kept_past == past
    assert clamped.occurred_at == received and clamped.reported_at == iso(far.occurred_at)
    assert clamped.fingerprint == far.fingerprint
    assert TrackingEvent.from_dict(clamped.to_dict()) == clamped
