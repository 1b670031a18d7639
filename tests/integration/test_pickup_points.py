"""Pickup points and lockers (issue 18, D48): where and until when on the page and in the messages, the reminders
before the deadline (once each, quiet hours, opt-outs, stopping once collected), and the pickup code shown only
after a one-time code sent to the shopper's own contact."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_notifications import CUSTOMER, NY, inbound, notes
from tests.integration.test_shopper_forms import Shopper
from tests.payloads import native_event

TN = "1Z999AA10123456784"
LOCKER_CODE = "483920"


def pickup_facts(deadline: datetime | None = None, **extra: Any) -> dict[str, Any]:
    facts = {
        "id": "LOCKER-17",
        "name": "Parcel locker Riverside",
        "area": "Riverside, Brooklyn",
        "address": "12 Water Street",
        "opening_hours": "Every day 06:00-22:00",
        "code": LOCKER_CODE,
        **extra,
    }
    if deadline is not None:
        facts["deadline"] = deadline.isoformat()
    return facts


def at_locker(
    api: Api, retailer: Retailer, deadline: datetime | None = None, event_id: str = "locker-1", **extra: Any
) -> Any:
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    body = {"events": [native_event(event_id, "available_for_pickup", when, pickup=pickup_facts(deadline, **extra))]}
    response = api.native(retailer, body)
    assert response.status_code == 200, response.body
    return response


def registered(api: Api, retailer: Retailer, **customer: Any) -> dict[str, Any]:
    response = api.register(retailer, customer={**CUSTOMER, **customer})
    assert response.status_code == 201, response.body
    return response.json_body


def reminder_notes(api: Api, retailer: Retailer, shipment_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {key: note for key, note in notes(api, retailer, shipment_id).items() if key[0].startswith("pickup_rem")}


def texts_with(providers: Providers, words: str) -> list[str]:
    return [r.form["Body"] for r in providers.capture.of("twilio") if words in r.form["Body"]]


def test_the_page_and_json_say_where_and_until_when_but_never_the_pickup_code(api: Api, retailer: Retailer) -> None:
    shipment = registered(api, retailer)
    deadline = datetime.now(UTC) + timedelta(days=3)
    at_locker(api, retailer, deadline)
    view = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert view["pickup"]["name"] == "Parcel locker Riverside"
    assert view["pickup"]["area"] == "Riverside, Brooklyn"
    assert view["pickup"]["opening_hours"] == "Every day 06:00-22:00"
    assert view["pickup"]["until"] == deadline.replace(microsecond=0).isoformat()
    assert view["pickup"]["has_code"] is True
    assert view["pickup"]["address"] is None  # not marked as the point's own public address
    raw = json.dumps(view)
    assert LOCKER_CODE not in raw and "12 Water Street" not in raw and "LOCKER-17" not in raw
    page = html.unescape(api.http.get(f"/t/{shipment['tracking_token']}").body.decode())
    assert "Parcel locker Riverside" in page and "Every day 06:00-22:00" in page
    assert LOCKER_CODE not in page and "12 Water Street" not in page
    assert "Send me a one-time code" in page
    # The retailer's own API keeps what the carrier sent.
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["pickup"]["code"] == LOCKER_CODE and detail["pickup"]["address"] == "12 Water Street"


def test_a_pickup_points_own_public_address_is_shown_and_the_retailer_default_deadline_applies(
    api: Api, retailer: Retailer
) -> None:
    shipment = registered(api, retailer)
    api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"pickup": {"hold_days": 5}}))
    at_locker(api, retailer, None, address_public=True)
    view = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert view["pickup"]["address"] == "12 Water Street"
    available = datetime.fromisoformat(view["events"][0]["occurred_at"])
    assert datetime.fromisoformat(view["pickup"]["until"]) == available + timedelta(days=5)


@pytest.mark.parametrize(
    "bad", [{"deadline": "next week"}, {"name": ["Riverside"]}, {"address_public": "yes"}, "locker"]
)
def test_a_malformed_pickup_object_is_a_400_naming_the_field(api: Api, retailer: Retailer, bad: Any) -> None:
    facts = {**pickup_facts(), **bad} if isinstance(bad, dict) else bad
    event = native_event("bad-1", "available_for_pickup", datetime.now(UTC).isoformat(), pickup=facts)
    response = api.native(retailer, {"events": [event]})
    assert response.status_code == 400
    assert response.json_body["error"]["field"].startswith("events[0].pickup")


def test_the_ready_text_names_the_deadline_and_reminders_go_out_once_each_under_replays(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = registered(api, retailer)
    deadline = local_time(NY, 14, days_ahead=4)
    for _ in range(3):  # the carrier's retries: the same scan three times
        at_locker(api, retailer, deadline)
    reminders = reminder_notes(api, retailer, shipment["id"])
    assert sorted(reminders) == [
        ("pickup_reminder_1", "email"),
        ("pickup_reminder_1", "sms"),
        ("pickup_reminder_2", "email"),
        ("pickup_reminder_2", "sms"),
    ]
    first_day = local_time(NY, 12, days_ahead=2)  # past the 24 h step, at noon
    for _ in range(2):
        drain(first_day)
    final_day = local_time(NY, 15, days_ahead=3)  # past "the day before" (24 h before 14:00 on day 4)
    for _ in range(2):
        drain(final_day)
    ready = texts_with(providers, "is ready for pickup until")
    assert len(ready) == 1 and "Bring ID" in ready[0]
    waiting = texts_with(providers, "is still waiting for you until")
    assert len(waiting) == 2  # the 24 h one and the final one, each once
    sent = reminder_notes(api, retailer, shipment["id"])
    assert {note["status"] for note in sent.values()} == {"sent"}
    subjects = [r.json["subject"] for r in providers.capture.of("sendgrid")]
    assert sum(subject.startswith("Reminder:") for subject in subjects) == 2


def test_reminders_wait_out_quiet_hours(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = registered(api, retailer)
    at_locker(api, retailer, local_time(NY, 14, days_ahead=6))
    drain(local_time(NY, 23, days_ahead=2))  # the 24 h reminder is due, but it is 23:00 for the shopper
    first = reminder_notes(api, retailer, shipment["id"])[("pickup_reminder_1", "sms")]
    assert first["status"] == "deferred" and first["reason"] == "quiet_hours"
    assert texts_with(providers, "still waiting") == []
    drain(local_time(NY, 9, days_ahead=3))
    assert len(texts_with(providers, "still waiting")) == 1


def test_reminders_honour_an_opt_out(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = registered(api, retailer)
    at_locker(api, retailer, local_time(NY, 14, days_ahead=6))
    # the ready text at the shopper's next noon, always before the 24 h reminder (tomorrow's noon came after it
    # while New York's clock was before noon)
    noon = local_time(NY, 12, days_ahead=0)
    drain(noon if noon > datetime.now(UTC) else local_time(NY, 12, days_ahead=1))
    assert "unsubscribed" in inbound(api, "STOP").body.decode()
    drain(local_time(NY, 12, days_ahead=2))
    first = reminder_notes(api, retailer, shipment["id"])[("pickup_reminder_1", "sms")]
    assert first["status"] == "skipped" and first["reason"] == "opted_out"
    assert texts_with(providers, "still waiting") == []


def test_reminders_stop_once_the_parcel_is_collected(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = registered(api, retailer)
    at_locker(api, retailer, local_time(NY, 14, days_ahead=4))
    drain(local_time(NY, 12, days_ahead=2))
    assert len(texts_with(providers, "still waiting")) == 1
    collected = native_event("collected", "delivered", datetime.now(UTC).isoformat())
    assert api.native(retailer, {"events": [collected]}).status_code == 200
    drain(local_time(NY, 15, days_ahead=3))
    final = reminder_notes(api, retailer, shipment["id"])[("pickup_reminder_2", "sms")]
    assert final["status"] == "skipped" and final["reason"] == "superseded"
    assert len(texts_with(providers, "still waiting")) == 1


def test_a_parcel_sent_back_from_the_pickup_point_says_it_was_not_collected(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = registered(api, retailer)
    at_locker(api, retailer, local_time(NY, 14, days_ahead=4))
    back = native_event("back", "returned", datetime.now(UTC).isoformat())
    assert api.native(retailer, {"events": [back]}).status_code == 200
    drain(local_time(NY, 12, days_ahead=1))
    assert len(texts_with(providers, "was not collected and went back to us")) == 1
    page = html.unescape(api.http.get(f"/t/{shipment['tracking_token']}").body.decode())
    assert "was not collected from the pickup point in time" in page
    assert api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body["pickup"] is None


def test_reminder_settings_are_validated(api: Api, retailer: Retailer) -> None:
    for bad in (
        {"reminders": [{"after_hours": 24, "before_deadline_hours": 2}]},
        {"reminders": [{}]},
        {"reminders": [{"after_hours": 24}] * 4},
        {"hold_days": 0},
    ):
        response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"pickup": bad}))
        assert response.status_code == 400, (bad, response.body)
    good = {"hold_days": 10, "reminders": [{"after_hours": 48}]}
    response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"pickup": good}))
    assert response.status_code == 200 and response.json_body["pickup"] == good


# The pickup code behind a one-time code.


def otp_from(providers: Providers) -> str:
    body = [r.form["Body"] for r in providers.capture.of("twilio") if "is your code" in r.form["Body"]][-1]
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def locker_page(api: Api, retailer: Retailer) -> tuple[dict[str, Any], Shopper, str]:
    shipment = registered(api, retailer)
    at_locker(api, retailer, datetime.now(UTC) + timedelta(days=3))
    base = f"/t/{shipment['tracking_token']}"
    return shipment, Shopper(api, base), base


def page_text(response: Any) -> str:
    return html.unescape(response.body.decode())


def test_the_pickup_code_is_shown_only_after_the_one_time_code_sent_to_the_shoppers_phone(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment, shopper, base = locker_page(api, retailer)
    sent = shopper.post(f"{base}/pickup/send", f"csrf={shopper.csrf}")
    assert sent.status_code == 303 and "code_sent=1" in sent.headers["Location"]
    [text] = [r for r in providers.capture.of("twilio") if "is your code" in r.form["Body"]]
    assert text.form["To"] == CUSTOMER["phone"] and LOCKER_CODE not in text.form["Body"]
    code = otp_from(providers)
    wrong = "000000" if code != "000000" else "111111"
    refused = shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={wrong}")
    assert refused.status_code == 400 and LOCKER_CODE not in page_text(refused)
    assert "That code is not right" in page_text(refused)
    shown = shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={code[:3]}+{code[3:]}")
    assert shown.status_code == 200 and LOCKER_CODE in page_text(shown)
    assert shown.headers["Cache-Control"] == "no-store"
    # It opens once, and never reaches the public JSON or the plain page.
    again = shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={code}")
    assert again.status_code == 429 and LOCKER_CODE not in page_text(again)
    assert LOCKER_CODE not in json.dumps(api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body)
    assert LOCKER_CODE not in page_text(api.http.get(base))


def test_wrong_codes_are_limited_to_five_tries_then_even_the_right_one_is_refused(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    _, shopper, base = locker_page(api, retailer)
    shopper.post(f"{base}/pickup/send", f"csrf={shopper.csrf}")
    code = otp_from(providers)
    wrong = "000000" if code != "000000" else "111111"
    answers = [shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={wrong}") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [400] * 5
    blocked = shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={code}")
    assert blocked.status_code == 429 and LOCKER_CODE not in page_text(blocked)
    assert "tried too many times" in page_text(blocked)


def test_an_expired_code_a_malformed_code_and_a_quick_resend_are_refused(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.api import tracking_api

    _, shopper, base = locker_page(api, retailer)
    shopper.post(f"{base}/pickup/send", f"csrf={shopper.csrf}")
    too_soon = shopper.post(f"{base}/pickup/send", f"csrf={shopper.csrf}")
    assert too_soon.status_code == 429 and "moments ago" in page_text(too_soon)
    malformed = shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code=12ab")
    assert malformed.status_code == 400 and "6-digit" in page_text(malformed)
    code = otp_from(providers)
    later = datetime.now(UTC) + timedelta(minutes=11)
    monkeypatch.setattr(tracking_api, "utcnow", lambda: later)
    expired = shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={code}")
    assert expired.status_code == 400 and "expired" in page_text(expired) and LOCKER_CODE not in page_text(expired)
    shopper.post(f"{base}/pickup/send", f"csrf={shopper.csrf}")  # a new code, minutes later
    assert shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={otp_from(providers)}").status_code == 200


def test_a_forwarded_link_cannot_ask_for_a_code_cross_site_nor_for_a_parcel_without_one(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    _, shopper, base = locker_page(api, retailer)
    forged = shopper.post(f"{base}/pickup/send", f"csrf={shopper.csrf}", origin="https://evil.example")
    assert forged.status_code == 403
    assert not [r for r in providers.capture.of("twilio") if "is your code" in r.form["Body"]]
    other = api.register(retailer, tracking_number="1ZNOCODE", customer=CUSTOMER).json_body
    when = datetime.now(UTC).isoformat()
    event = native_event("nc", "available_for_pickup", when, tracking_number="1ZNOCODE", pickup={"name": "Shop"})
    api.native(retailer, {"events": [event]})
    no_code = Shopper(api, f"/t/{other['tracking_token']}")
    refused = no_code.post(f"/t/{other['tracking_token']}/pickup/send", f"csrf={no_code.csrf}")
    assert refused.status_code == 409 and "no pickup code" in page_text(refused)


def test_aftership_pickup_location_and_note_reach_the_page(api: Api, retailer: Retailer) -> None:
    """AfterShip's published tracking (aftership-sdk-java CreateTrackingResult.json) carries `pickup_location` and
    `pickup_note`; the tag is moved to AvailableForPickup here, as a tracking waiting at the store would be."""
    from tests.integration.test_aggregator_summaries import fixture

    body = fixture("aftership_sdk_pending.json")
    body["msg"]["tag"] = "AvailableForPickup"
    shipment = api.register(retailer, carrier="fedex", tracking_number="1111111111111", customer=CUSTOMER).json_body
    assert api.aftership(retailer, body).json_body["accepted"] == 1
    view = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert view["status"] == "available_for_pickup"
    assert view["pickup"]["name"] == "Flagship Store"
    assert view["pickup"]["note"] == "Contact shop keepers when you arrive our stores for shipment pickup"
    assert view["pickup"]["has_code"] is False
    assert datetime.fromisoformat(view["pickup"]["until"]) == datetime.fromisoformat(
        "2018-08-17T06:25:32+00:00"
    ) + timedelta(days=7)


def test_without_a_phone_the_one_time_code_goes_by_e_mail(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = registered(api, retailer, phone=None)
    at_locker(api, retailer, datetime.now(UTC) + timedelta(days=3))
    base = f"/t/{shipment['tracking_token']}"
    shopper = Shopper(api, base)
    assert shopper.post(f"{base}/pickup/send", f"csrf={shopper.csrf}").status_code == 303
    [mail] = [r.json for r in providers.capture.of("sendgrid") if r.json["subject"].startswith("Your code for")]
    assert mail["personalizations"][0]["to"][0]["email"] == CUSTOMER["email"]
    text = next(part["value"] for part in mail["content"] if part["type"] == "text/plain")
    code = re.search(r"Enter (\d{6}) on the tracking page", text)
    assert code and LOCKER_CODE not in text and "unsubscribe" not in text.lower()
    shown = shopper.post(f"{base}/pickup/reveal", f"csrf={shopper.csrf}&code={code.group(1)}")
    assert shown.status_code == 200 and LOCKER_CODE in page_text(shown)


def test_a_parcel_registered_after_its_pickup_scan_gets_its_reminders_once(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    at_locker(api, retailer, local_time(NY, 14, days_ahead=4))  # the scan comes first: an unclaimed shipment
    shipment = registered(api, retailer)
    assert api.register(retailer, customer=CUSTOMER).status_code == 200  # registering again plans nothing more
    assert sorted(key[0] for key in reminder_notes(api, retailer, shipment["id"])) == [
        "pickup_reminder_1",
        "pickup_reminder_1",
        "pickup_reminder_2",
        "pickup_reminder_2",
    ]
    drain(local_time(NY, 12, days_ahead=2))
    assert len(texts_with(providers, "is ready for pickup until")) == 1
    assert len(texts_with(providers, "still waiting")) == 1
