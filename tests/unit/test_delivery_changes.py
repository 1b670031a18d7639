"""Pure rules of shopper-requested delivery changes (domain.delivery_changes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from chalicelib.domain import delivery_changes as dc

SECRET = b"test-secret"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = date(2026, 12, 3)
SETTINGS = {
    "carriers": {
        "ups": {
            "kinds": ["reschedule", "safe_place", "neighbour", "pickup_point", "hold"],
            "windows": ["08:00-12:00", "12:00-17:00"],
            "days_ahead": 3,
            "pickup_points": [{"id": "pp1", "name": "Corner shop"}],
            "cutoff": {"not_once_out": True, "local_time": "04:00"},
            "second_factor": ["hold"],
        },
        "*": {"kinds": ["safe_place"], "safe_places": ["porch"]},
    }
}


def rules(carrier: str = "ups") -> dc.CarrierRules:
    return dc.rules_for(SETTINGS, carrier)


def test_rules_fall_back_to_the_star_carrier_and_to_nothing_without_settings() -> None:
    assert rules("fedex").kinds == ("safe_place",)
    assert rules("fedex").safe_places == ("porch",)
    assert dc.rules_for(None, "ups").kinds == ()
    assert dc.rules_for({"carriers": {"ups": {"kinds": ["hold"]}}}, "dhl").kinds == ()


def test_address_changing_kinds_always_need_a_code_and_others_only_when_the_retailer_says() -> None:
    assert rules().needs_code("neighbour") and rules().needs_code("pickup_point")
    assert rules().needs_code("hold")
    assert not rules().needs_code("safe_place")
    assert rules("fedex").needs_code("neighbour")


def test_nothing_may_be_changed_once_out_for_delivery_when_the_retailer_says_so() -> None:
    assert dc.blocked(rules(), "out_for_delivery", DAY, NOW) == "out_for_delivery"
    relaxed = dc.rules_for({"carriers": {"ups": {"kinds": ["hold"], "cutoff": {"not_once_out": False}}}}, "ups")
    assert dc.blocked(relaxed, "out_for_delivery", DAY, NOW) is None


@pytest.mark.parametrize("status", ["delivered", "cancelled", "returned", "available_for_pickup"])
def test_arrived_or_cancelled_parcels_cannot_be_changed(status: str) -> None:
    assert dc.blocked(rules(), status, DAY, NOW) == "finished"


def test_the_local_cut_off_applies_on_the_delivery_day_only() -> None:
    on_the_day = datetime.combine(DAY, time(4, 0), tzinfo=UTC)
    assert dc.blocked(rules(), "shipped", DAY, on_the_day) == "past_cutoff"
    assert dc.blocked(rules(), "shipped", DAY, on_the_day - timedelta(minutes=1)) is None
    assert dc.blocked(rules(), "shipped", DAY, on_the_day + timedelta(days=1, hours=-5)) == "past_cutoff"


def test_not_offered_for_a_carrier_without_settings() -> None:
    assert dc.blocked(dc.CarrierRules(), "shipped", None, NOW) == "not_offered"
    with pytest.raises(dc.ChangeRefused) as refused:
        dc.checked_request(dc.rules_for(SETTINGS, "fedex"), "hold", {}, "shipped", None, NOW)
    assert refused.value.code == "not_offered"


def test_reschedule_takes_only_an_offered_later_day_and_window() -> None:
    days = dc.reschedule_days(rules(), DAY, NOW.date())
    assert days == [date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 6)]
    ok = dc.checked_request(rules(), "reschedule", {"date": "2026-12-04", "window": "08:00-12:00"}, "shipped", DAY, NOW)
    assert ok == {"date": "2026-12-04", "window": "08:00-12:00"}
    for form in ({"date": "2026-12-03", "window": "08:00-12:00"}, {"date": "2026-12-04", "window": "06:00-07:00"}):
        with pytest.raises(dc.ChangeRefused) as refused:
            dc.checked_request(rules(), "reschedule", form, "shipped", DAY, NOW)
        assert refused.value.code == "invalid_change"


def test_safe_place_neighbour_and_pickup_point_are_checked_against_what_is_offered() -> None:
    assert dc.checked_request(rules(), "safe_place", {"place": "garage"}, "shipped", DAY, NOW) == {"place": "garage"}
    named = dc.checked_request(rules(), "neighbour", {"neighbour": "  Ana   at no. 5 "}, "shipped", DAY, NOW)
    assert named == {"neighbour": "Ana at no. 5"}
    point = dc.checked_request(rules(), "pickup_point", {"point": "pp1"}, "shipped", DAY, NOW)
    assert point == {"point": "pp1", "point_name": "Corner shop"}
    for kind, form in (("safe_place", {"place": "roof"}), ("neighbour", {"neighbour": " "}), ("pickup_point", {})):
        with pytest.raises(dc.ChangeRefused):
            dc.checked_request(rules(), kind, form, "shipped", DAY, NOW)
    with pytest.raises(dc.ChangeRefused) as refused:
        dc.checked_request(rules("fedex"), "safe_place", {"place": "garage"}, "shipped", DAY, NOW)
    assert refused.value.code == "invalid_change"


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(dc.ChangeRefused) as refused:
        dc.checked_request(rules(), "teleport", {}, "shipped", DAY, NOW)
    assert refused.value.code == "invalid_change"


def awaiting(now: datetime = NOW) -> dict:
    code = dc.code_for(SECRET, "chg_1", "n1")
    return {
        "id": "chg_1",
        "status": dc.AWAITING_CODE,
        "code_nonce": "n1",
        "code_digest": dc.code_digest(SECRET, "chg_1", code),
        "code_expires_at": (now + dc.CODE_TTL).isoformat(),
        "code_attempts": 0,
    }


def test_codes_are_six_digits_and_differ_per_nonce() -> None:
    first, second = dc.code_for(SECRET, "chg_1", "n1"), dc.code_for(SECRET, "chg_1", "n2")
    assert len(first) == 6 and first.isdigit() and first != second


def test_the_right_code_moves_the_request_to_pending_and_drops_the_digest() -> None:
    checked = dc.check_code(SECRET, awaiting(), dc.code_for(SECRET, "chg_1", "n1"), NOW)
    assert checked.outcome == "ok"
    assert checked.change["status"] == dc.PENDING
    assert not any(key.startswith("code_") for key in checked.change)


def test_the_fifth_wrong_code_locks_the_request() -> None:
    change = awaiting()
    right = dc.code_for(SECRET, "chg_1", "n1")
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(4):
        checked = dc.check_code(SECRET, change, wrong, NOW)
        assert checked.outcome == "wrong"
        change = checked.change
    assert dc.check_code(SECRET, change, wrong, NOW).outcome == dc.LOCKED
    locked = dc.check_code(SECRET, change, wrong, NOW).change
    assert dc.check_code(SECRET, locked, right, NOW).outcome == "not_awaiting"


def test_a_code_entered_after_ten_minutes_expires_the_request() -> None:
    late = NOW + dc.CODE_TTL
    checked = dc.check_code(SECRET, awaiting(), dc.code_for(SECRET, "chg_1", "n1"), late)
    assert checked.outcome == dc.EXPIRED and checked.change["status"] == dc.EXPIRED


def test_answers_apply_once_replay_harmlessly_and_refuse_the_opposite_answer() -> None:
    changes = [{"id": "chg_1", "status": dc.PENDING}]
    first, changes = dc.answer(changes, "chg_1", dc.CONFIRMED, "ok", "carrier", "t1")
    assert first.outcome == "applied" and changes[0]["status"] == dc.CONFIRMED and changes[0]["note"] == "ok"
    again, same = dc.answer(changes, "chg_1", dc.CONFIRMED, None, "retailer", "t2")
    assert again.outcome == "replayed" and same == changes
    opposite, same = dc.answer(changes, "chg_1", dc.REFUSED, None, "retailer", "t2")
    assert opposite.outcome == "conflict" and same == changes
    assert dc.answer(changes, "chg_x", dc.CONFIRMED, None, "carrier", "t3")[0].outcome == "unknown"


def test_a_request_still_awaiting_its_code_cannot_be_answered() -> None:
    outcome, _ = dc.answer([awaiting()], "chg_1", dc.CONFIRMED, None, "carrier", "t1")
    assert outcome.outcome == "not_open"


def test_the_public_shape_never_carries_the_code() -> None:
    assert dc.public({**awaiting(), "code_sent": True, "kind": "hold"}) == {
        "id": "chg_1",
        "status": "awaiting_code",
        "kind": "hold",
    }


def test_carrier_options_add_windows_and_pickup_points_but_never_kinds() -> None:
    only_hold = dc.rules_for(
        {"carriers": {"ups": {"kinds": ["hold", "reschedule"], "windows": ["08:00-12:00"]}}}, "ups"
    )
    options = {"windows": ["08:00-12:00", "18:00-20:00"], "pickup_points": [{"id": "lk1", "name": "Locker 1"}]}
    merged = dc.with_carrier_options(only_hold, options)
    assert merged.windows == ("08:00-12:00", "18:00-20:00")
    assert merged.pickup_points == ({"id": "lk1", "name": "Locker 1"},)
    assert dc.offered_now(merged, "shipped", DAY, NOW) == ("reschedule", "hold")  # no pickup_point: not offered
    assert dc.with_carrier_options(only_hold, None) is only_hold
