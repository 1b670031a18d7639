"""Who may be told what, when: consent, opt-outs, suppression and quiet hours across zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import milestones as ms
from chalicelib.domain.policy import (
    DEFER,
    SEND,
    SKIP,
    NotificationSettings,
    QuietHours,
    Recipient,
    decide,
    next_allowed,
)

CONSENTED = Recipient(phone="+14155550123", email="a@example.com", sms_consent=True, time_zone="America/New_York")
SETTINGS = NotificationSettings()


def at(zone: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "local", "expected_local"),
    [
        ("America/New_York", (2026, 11, 23, 21, 0), (2026, 11, 24, 8, 0)),
        ("America/New_York", (2026, 11, 24, 7, 59), (2026, 11, 24, 8, 0)),
        ("America/Los_Angeles", (2026, 11, 23, 23, 30), (2026, 11, 24, 8, 0)),
        ("Europe/Berlin", (2026, 11, 23, 22, 15), (2026, 11, 24, 8, 0)),
        ("Asia/Kolkata", (2026, 11, 23, 5, 45), (2026, 11, 23, 8, 0)),
        # DST: spring forward and fall back overnight still wake at 08:00 local time.
        ("America/New_York", (2026, 3, 7, 22, 0), (2026, 3, 8, 8, 0)),
        ("America/New_York", (2026, 10, 31, 22, 0), (2026, 11, 1, 8, 0)),
        ("Europe/Berlin", (2026, 3, 28, 23, 0), (2026, 3, 29, 8, 0)),
        ("Europe/Berlin", (2026, 10, 24, 21, 30), (2026, 10, 25, 8, 0)),
    ],
)
def test_texts_in_quiet_hours_wait_for_eight_local(zone: str, local: tuple, expected_local: tuple) -> None:
    now = at(zone, *local)
    recipient = Recipient(phone="+1", sms_consent=True, time_zone=zone)
    decision = decide(ms.SHIPPED, "sms", recipient, SETTINGS, opted_out=False, suppressed=False, now=now)
    assert decision.action == DEFER and decision.reason == "quiet_hours"
    assert decision.not_before == at(zone, *expected_local)
    assert decision.not_before.astimezone(ZoneInfo(zone)).hour == 8


def test_dst_changes_are_real_utc_differences() -> None:
    spring = next_allowed(at("America/New_York", 2026, 3, 7, 22, 0), ZoneInfo("America/New_York"), QuietHours())
    fall = next_allowed(at("America/New_York", 2026, 10, 31, 22, 0), ZoneInfo("America/New_York"), QuietHours())
    assert spring == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # EDT, UTC-4
    assert fall == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # EST, UTC-5


@pytest.mark.parametrize(
    ("zone", "local"),
    [
        ("America/New_York", (2026, 11, 23, 8, 0)),
        ("Asia/Kolkata", (2026, 11, 23, 20, 59)),
        ("Europe/Berlin", (2026, 7, 1, 12, 0)),
    ],
)
def test_texts_in_daytime_go_now(zone: str, local: tuple) -> None:
    recipient = Recipient(phone="+1", sms_consent=True, time_zone=zone)
    assert (
        decide(ms.SHIPPED, "sms", recipient, SETTINGS, opted_out=False, suppressed=False, now=at(zone, *local)).action
        == SEND
    )


def test_email_is_never_deferred_and_zone_falls_back_to_the_retailers() -> None:
    night = at("America/New_York", 2026, 11, 23, 23, 0)
    assert decide(ms.SHIPPED, "email", CONSENTED, SETTINGS, opted_out=False, suppressed=False, now=night).action == SEND
    no_zone = Recipient(phone="+1", sms_consent=True)
    berlin = NotificationSettings(time_zone="Europe/Berlin")
    decision = decide(
        ms.SHIPPED,
        "sms",
        no_zone,
        berlin,
        opted_out=False,
        suppressed=False,
        now=at("Europe/Berlin", 2026, 11, 23, 6, 0),
    )
    assert decision.action == DEFER and decision.not_before == at("Europe/Berlin", 2026, 11, 23, 8, 0)


def test_custom_and_disabled_quiet_hours() -> None:
    lunch = NotificationSettings(quiet_hours=QuietHours(time(12, 0), time(13, 30)))
    decision = decide(
        ms.SHIPPED,
        "sms",
        CONSENTED,
        lunch,
        opted_out=False,
        suppressed=False,
        now=at("America/New_York", 2026, 11, 23, 12, 10),
    )
    assert decision.not_before == at("America/New_York", 2026, 11, 23, 13, 30)
    none = NotificationSettings(quiet_hours=None)  # switched off: the legal floor still holds the 03:00 text
    at_three = decide(
        ms.SHIPPED,
        "sms",
        CONSENTED,
        none,
        opted_out=False,
        suppressed=False,
        now=at("America/New_York", 2026, 11, 23, 3, 0),
    )
    assert at_three.action == DEFER and at_three.not_before == at("America/New_York", 2026, 11, 23, 8, 0)


def test_without_consent_only_out_for_delivery_may_be_texted() -> None:
    noon = at("America/New_York", 2026, 11, 23, 12, 0)
    recipient = Recipient(phone="+14155550123", email="a@example.com", sms_consent=False, time_zone="America/New_York")
    for kind in (ms.PROCESSED, ms.SHIPPED, ms.DELIVERED, ms.DELAYED, ms.ATTEMPT_FAILED):
        decision = decide(kind, "sms", recipient, SETTINGS, opted_out=False, suppressed=False, now=noon)
        assert (decision.action, decision.reason) == (SKIP, "no_sms_consent")
    assert (
        decide(ms.OUT_FOR_DELIVERY, "sms", recipient, SETTINGS, opted_out=False, suppressed=False, now=noon).action
        == SEND
    )
    assert decide(ms.SHIPPED, "email", recipient, SETTINGS, opted_out=False, suppressed=False, now=noon).action == SEND


def test_opt_outs_suppressions_missing_contacts_and_disabled_channels_skip() -> None:
    noon = at("America/New_York", 2026, 11, 23, 12, 0)
    assert (
        decide(ms.SHIPPED, "sms", CONSENTED, SETTINGS, opted_out=True, suppressed=False, now=noon).reason == "opted_out"
    )
    assert (
        decide(ms.SHIPPED, "email", CONSENTED, SETTINGS, opted_out=False, suppressed=True, now=noon).reason
        == "suppressed"
    )
    assert (
        decide(
            ms.SHIPPED, "sms", Recipient(email="a@b.co"), SETTINGS, opted_out=False, suppressed=False, now=noon
        ).reason
        == "no_phone"
    )
    email_only = NotificationSettings(channels={ms.SHIPPED: frozenset({"email"})})
    assert (
        decide(ms.SHIPPED, "sms", CONSENTED, email_only, opted_out=False, suppressed=False, now=noon).reason
        == "channel_disabled"
    )
