"""Pickup points (domain.pickup, D48) and one-time codes (domain.one_time_codes): pure rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain import milestones as ms
from chalicelib.domain import one_time_codes as otp
from chalicelib.domain import pickup, sms
from chalicelib.domain.notifications import no_longer_news
from chalicelib.domain.policy import SKIP, NotificationSettings, Recipient, decide
from chalicelib.web.templating import LOCALES, opt_out_text, render_email, render_sms
from tests.unit.test_templates import WORST_CASE

AVAILABLE = "2026-11-20T10:00:00+00:00"
NOW = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)


def test_the_carriers_deadline_wins_over_the_retailers_hold_days() -> None:
    assert pickup.deadline({"deadline": "2026-11-23T18:00:00+00:00"}, AVAILABLE, 7) == "2026-11-23T18:00:00+00:00"
    assert pickup.deadline({"name": "Locker"}, AVAILABLE, 7) == "2026-11-27T10:00:00+00:00"
    assert pickup.deadline(None, None, 7) is None


def test_public_facts_never_hold_the_code_nor_a_private_address() -> None:
    facts = {"name": "Locker", "area": "Riverside", "address": "12 Water St", "code": "4839", "id": "L1"}
    shown = pickup.public_facts(facts)
    assert shown == {"name": "Locker", "area": "Riverside", "address": None, "opening_hours": None, "has_code": True}
    assert pickup.public_facts({**facts, "address_public": True})["address"] == "12 Water St"


def test_the_reminder_sequence_is_planned_once_and_drops_steps_too_close_to_the_deadline() -> None:
    until = "2026-11-24T10:00:00+00:00"
    steps = [{"after_hours": 24}, {"before_deadline_hours": 24}, {"after_hours": 96}]
    plan = pickup.reminder_plan(AVAILABLE, until, steps, frozenset(), NOW)
    assert plan == [
        ("pickup_reminder_1", "2026-11-21T10:00:00+00:00"),
        ("pickup_reminder_2", "2026-11-23T10:00:00+00:00"),
    ]  # the third falls within an hour of the deadline
    assert pickup.reminder_plan(AVAILABLE, until, steps, frozenset({"pickup_reminder_1"}), NOW)[0][0] == (
        "pickup_reminder_2"
    )
    late = datetime(2026, 11, 22, tzinfo=UTC)  # registered late: a step already past goes out now
    assert pickup.reminder_plan(AVAILABLE, until, steps[:1], frozenset(), late) == [
        ("pickup_reminder_1", "2026-11-22T00:00:00+00:00")
    ]


def test_reminders_are_stale_once_the_parcel_left_the_pickup_point() -> None:
    for status in (ms.DELIVERED, ms.RETURNED, ms.CANCELLED, ms.SHIPPED):
        assert no_longer_news("pickup_reminder_1", status)
    assert not no_longer_news("pickup_reminder_1", ms.AVAILABLE_FOR_PICKUP)


def test_reminders_follow_the_pickup_texts_channel_switch() -> None:
    settings = NotificationSettings(channels={ms.AVAILABLE_FOR_PICKUP: frozenset({"email"})})
    recipient = Recipient(phone="+14155550123", sms_consent=True, time_zone="America/New_York")
    verdict = decide("pickup_reminder_2", "sms", recipient, settings, opted_out=False, suppressed=False, now=NOW)
    assert (verdict.action, verdict.reason) == (SKIP, "channel_disabled")


def test_one_time_codes_are_compared_by_salted_digest_and_read_without_spaces() -> None:
    stored = otp.digest("salt", "123456")
    assert "123456" not in stored and stored != otp.digest("other", "123456")
    assert otp.matches(stored, "salt", otp.normalise(" 123 456 "))
    assert not otp.matches(stored, "salt", "123457")
    assert not otp.well_formed("12345") and not otp.well_formed("12345६") and otp.well_formed("000000")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("available_for_pickup", {"pickup_until": "22. Dez."}),
        ("pickup_reminder_1", {"pickup_until": "22. Dez."}),
        ("pickup_reminder_3", {"pickup_until": "22 déc."}),
        ("returned", {"uncollected": True}),
        ("return_label_created", {}),
        ("return_dropped_off", {}),
        ("return_received", {}),
        ("pickup_otp", {"code": "123456"}),
    ],
)
def test_pickup_and_return_texts_fit_one_segment_in_every_locale(kind: str, extra: dict, locale: str) -> None:
    context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale, **extra}
    body = render_sms(kind, locale, context).body
    assert sms.is_gsm7(body) and sms.gsm7_length(body) <= 160, (sms.gsm7_length(body), body)
    assert WORST_CASE["order_id"] in body or "..0123456789" in body  # whole, or its tail visibly cut
    if kind != "pickup_otp":  # the one-time code is a reply to the shopper's own request: no link, no STOP line
        assert "STOP" in body and context["tracking_url"] in body
    else:
        assert "123456" in body


@pytest.mark.parametrize("kind", ["pickup_reminder_2", "return_label_created", "return_received", "pickup_otp"])
def test_pickup_and_return_emails_have_a_subject_and_a_body(kind: str) -> None:
    for locale in LOCALES:
        email = render_email(
            kind, locale, {**WORST_CASE, "opt_out": "", "locale": locale, "pickup_until": "x", "code": "1"}
        )
        assert email.subject and "000123456789" in email.text
