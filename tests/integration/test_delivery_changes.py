"""Shopper-requested delivery changes through HTTP (DESIGN 3.9, D47): the retailer's settings, the page's form and
its one-time code, the signed webhook to the retailer, the open-request listing, the carrier's and the retailer's
answers, and the one notice that tells the shopper."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from chalicelib.api.openapi import document
from chalicelib.carriers.native import sign
from chalicelib.domain import delivery_changes as dc
from chalicelib.simulator import daytime_zone
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain
from tests.integration.test_shopper_forms import Shopper, assert_page_says
from tests.payloads import native_event

UPS_RULES = {
    "kinds": ["reschedule", "safe_place", "neighbour", "pickup_point", "hold"],
    "windows": ["08:00-12:00", "12:00-17:00"],
    "pickup_points": [{"id": "pp-1", "name": "Corner Shop"}],
    "cutoff": {"not_once_out": True, "local_time": "04:00"},
}


def offer(api: Api, retailer: Retailer, providers: Providers | None = None, **carriers: Any) -> dict:
    body: dict[str, Any] = {"delivery_changes": {"carriers": carriers or {"ups": UPS_RULES}}}
    if providers is not None:
        body["webhooks"] = {"url": f"{providers.capture.url}/hooks/changes", "statuses": ["delivered"]}
    response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(body))
    assert response.status_code == 200, response.body
    return response.json_body


def parcel(api: Api, retailer: Retailer, name: str, *statuses: str, carrier: str = "UPS", **fields: Any) -> dict:
    tn = f"1ZCHG{name.upper()}"
    customer = {
        "name": "Pat Example",
        "phone": "+14155553001",
        "email": "pat@example.com",
        "sms_consent": True,
        "time_zone": daytime_zone(),
        **fields.pop("customer", {}),
    }
    created = api.register(
        retailer, order_id=f"C-{name}", tracking_number=tn, carrier=carrier, customer=customer, **fields
    )
    assert created.status_code == 201, created.body
    now = datetime.now(UTC)
    for n, status in enumerate(statuses):
        when = (now - timedelta(hours=len(statuses) - n)).isoformat()
        event = native_event(f"{tn}-{n}", status, when, tracking_number=tn, carrier=carrier.lower())
        assert api.native(retailer, {"events": [event]}).status_code == 200
    return created.json_body


def conforms(value: Any, shape: str) -> None:
    """What the published document promises (its components resolve the shape's references)."""
    components = document()["components"]
    jsonschema.validate(value, {**components["schemas"][shape], "components": components})


def soon() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=5)


def texts_to(providers: Providers, phone: str) -> list[str]:
    return [r.form["Body"] for r in providers.capture.of("twilio") if r.form.get("To") == phone]


def code_in(providers: Providers, phone: str) -> str:
    drain(soon())
    bodies = [body for body in texts_to(providers, phone) if "code" in body]
    assert bodies, "no code was texted"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def change_of(api: Api, retailer: Retailer, shipment_id: str) -> dict | None:
    return api.shipment(retailer, shipment_id).json_body["delivery_change"]


def test_settings_are_validated_and_a_carriers_entry_replaces_its_previous_one(api: Api, retailer: Retailer) -> None:
    bad = [
        {"ups": {"kinds": ["teleport"]}},
        {"ups": {"kinds": ["reschedule"]}},  # no windows
        {"ups": {"kinds": ["pickup_point"]}},  # no points
        {"ups": {"kinds": ["hold"], "windows": ["25:00-26:00"]}},
        {"ups": {"kinds": ["hold"], "cutoff": {"local_time": "4am"}}},
        {"UPS!": {"kinds": ["hold"]}},
    ]
    for carriers in bad:
        answer = api.http.put(
            "/v1/settings", headers=retailer.auth, body=json.dumps({"delivery_changes": {"carriers": carriers}})
        )
        assert answer.status_code == 400, (carriers, answer.body)
    offer(api, retailer, ups=UPS_RULES, fedex={"kinds": ["hold"]})
    saved = offer(api, retailer, fedex={"kinds": ["safe_place"]})["delivery_changes"]["carriers"]
    assert saved["ups"]["kinds"] == UPS_RULES["kinds"] and saved["fedex"]["kinds"] == ["safe_place"]


def test_a_safe_place_goes_to_the_retailer_signed_and_the_carriers_confirmation_tells_the_shopper_once(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    secret = offer(api, retailer, providers)["webhooks"]["secret"]
    record = parcel(api, retailer, "porch", "shipped")
    path = f"/t/{record['tracking_token']}"
    page = api.http.get(path).body.decode()
    assert 'value="safe_place"' in page and 'value="hold"' in page and 'action="' in page
    shopper = Shopper(api, path)
    asked = shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=safe_place&place=porch")
    assert asked.status_code == 303, asked.body
    change = change_of(api, retailer, record["id"])
    assert change["status"] == "pending" and change["details"] == {"place": "porch"}
    assert 'data-change-status="pending"' in api.http.get(path).body.decode()

    listed = api.http.get("/v1/delivery-changes", headers=retailer.auth).json_body
    assert [item["change"]["id"] for item in listed["delivery_changes"]] == [change["id"]]
    conforms(listed, "DeliveryChangeList")

    drain(soon())
    calls = [r for r in providers.capture.of("retailer") if json.loads(r.body)["type"] == dc_event()]
    assert len(calls) == 1
    call = calls[0]
    payload = json.loads(call.body)
    stamp = int(call.headers["X-Porchlight-Signature"].split(",")[0].removeprefix("t="))
    assert call.headers["X-Porchlight-Signature"] == sign(secret, call.body, stamp)
    assert payload["data"]["change"]["id"] == change["id"] and payload["data"]["change"]["kind"] == "safe_place"
    assert "pat@example.com" not in call.body.decode() and "+1415" not in call.body.decode()
    conforms(payload, "DeliveryChangeRequestedEvent")

    answer = {"id": change["id"], "status": "confirmed", "note": "Porch it is"}
    tn, when = "1ZCHGPORCH", datetime.now(UTC).isoformat()
    for event_id in ("c-1", "c-1", "c-2"):  # a replayed event, then the same answer on a new event
        event = native_event(event_id, "shipped", when, tracking_number=tn, delivery_change=answer)
        assert api.native(retailer, {"events": [event]}).status_code == 200
    drain(soon())
    drain(soon())
    assert change_of(api, retailer, record["id"])["status"] == "confirmed"
    assert change_of(api, retailer, record["id"])["answered_by"] == "carrier"
    notices = [body for body in texts_to(providers, "+14155553001") if "confirmed" in body]
    assert len(notices) == 1
    assert 'data-change-status="confirmed"' in api.http.get(path).body.decode()
    assert api.http.get("/v1/delivery-changes", headers=retailer.auth).json_body["delivery_changes"] == []


def dc_event() -> str:
    return "shipment.delivery_change_requested"


def test_retailer_answers_replay_harmlessly_refuse_after_confirm_and_404_an_unknown_change(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    offer(api, retailer)
    record = parcel(api, retailer, "hold", "shipped")
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)
    assert shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=hold").status_code == 303
    change = change_of(api, retailer, record["id"])
    url = f"/v1/shipments/{record['id']}/delivery-changes/{change['id']}"

    def post(url: str, body: Any) -> Any:
        headers = {**retailer.auth, "Content-Type": "application/json"}
        return api.http.post(url, headers=headers, body=json.dumps(body))

    assert post(url, {"status": "maybe"}).status_code == 400
    first = post(url, {"status": "confirmed"})
    assert first.status_code == 200 and first.json_body["replayed"] is False
    again = post(url, {"status": "confirmed"})
    assert again.status_code == 200 and again.json_body["replayed"] is True
    late = post(url, {"status": "refused"})
    assert late.status_code == 409 and late.json_body["error"]["code"] == "already_answered"
    unknown = post(f"/v1/shipments/{record['id']}/delivery-changes/chg_nope", {"status": "confirmed"})
    assert unknown.status_code == 404 and unknown.json_body["error"]["code"] == "unknown_change"
    other = api.create_retailer("Other Shop")
    stranger = api.http.post(
        url, headers={**other.auth, "Content-Type": "application/json"}, body=json.dumps({"status": "refused"})
    )
    assert stranger.status_code == 404
    # The carrier's refusal after the confirmation is ignored, like its answer for a request nobody made.
    when = datetime.now(UTC).isoformat()
    for n, answer in enumerate(({"id": change["id"], "status": "refused"}, {"id": "chg_ghost", "status": "confirmed"})):
        event = native_event(f"late-{n}", "shipped", when, tracking_number="1ZCHGHOLD", delivery_change=answer)
        assert api.native(retailer, {"events": [event]}).status_code == 200
    assert change_of(api, retailer, record["id"])["status"] == "confirmed"
    drain(soon())
    drain(soon())
    assert len([b for b in texts_to(providers, "+14155553001") if "confirmed" in b]) == 1


def test_a_neighbour_waits_for_the_code_sent_to_the_phone_on_file_and_never_shown_on_the_page(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    offer(api, retailer, providers)
    record = parcel(api, retailer, "nbr", "shipped")
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)
    asked = shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=neighbour&neighbour=Ana+at+no.+5")
    assert asked.status_code == 303
    assert change_of(api, retailer, record["id"])["status"] == "awaiting_code"
    assert api.http.get("/v1/delivery-changes", headers=retailer.auth).json_body["delivery_changes"] == []
    code = code_in(providers, "+14155553001")
    page = api.http.get(path).body.decode()
    assert code not in page and "+14155553001" not in page and "4155553001" not in page
    assert 'name="code"' in page
    shipment_json = json.dumps(api.shipment(retailer, record["id"]).json_body)
    assert code not in shipment_json and "digest" not in shipment_json and "nonce" not in shipment_json
    assert not [r for r in providers.capture.of("retailer")]  # nothing goes on before the code
    entered = shopper.post(f"{path}/delivery-change/code", f"csrf={shopper.csrf}&code={code}")
    assert entered.status_code == 303, entered.body
    assert change_of(api, retailer, record["id"])["status"] == "pending"
    drain(soon())
    assert len(providers.capture.of("retailer")) == 1
    assert json.loads(providers.capture.of("retailer")[0].body)["data"]["change"]["details"]["neighbour"] == (
        "Ana at no. 5"
    )


def test_wrong_codes_are_limited_to_five_then_the_request_is_locked_and_codes_per_parcel_to_three(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    offer(api, retailer)
    record = parcel(api, retailer, "lock", "shipped")
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)
    assert shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=pickup_point&point=pp-1").status_code
    right = code_in(providers, "+14155553001")
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(dc.MAX_CODE_ATTEMPTS - 1):
        assert_page_says(
            shopper.post(f"{path}/delivery-change/code", f"csrf={shopper.csrf}&code={wrong}"),
            400,
            "error_wrong_code",
            "en",
        )
    assert_page_says(
        shopper.post(f"{path}/delivery-change/code", f"csrf={shopper.csrf}&code={wrong}"), 429, "change_locked", "en"
    )
    # Locked: even the right code does nothing now.
    assert_page_says(
        shopper.post(f"{path}/delivery-change/code", f"csrf={shopper.csrf}&code={right}"), 429, "change_locked", "en"
    )
    assert change_of(api, retailer, record["id"])["status"] == "locked"
    for _ in range(dc.MAX_CODES_PER_SHIPMENT - 1):
        assert (
            shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=pickup_point&point=pp-1").status_code
            == 303
        )
    too_many = shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=pickup_point&point=pp-1")
    assert_page_says(too_many, 429, "error_too_many_codes", "en")


def test_a_code_entered_after_ten_minutes_has_expired(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.api import tracking_api

    offer(api, retailer)
    record = parcel(api, retailer, "late", "shipped")
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)
    assert shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=neighbour&neighbour=Bo").status_code
    code = code_in(providers, "+14155553001")
    later = datetime.now(UTC) + dc.CODE_TTL + timedelta(seconds=1)
    monkeypatch.setattr(tracking_api, "utcnow", lambda: later)
    expired = shopper.post(f"{path}/delivery-change/code", f"csrf={shopper.csrf}&code={code}&lang=de")
    assert_page_says(expired, 400, "change_expired", "de")
    assert change_of(api, retailer, record["id"])["status"] == "expired"


@pytest.mark.parametrize("locale", ["en", "es", "fr", "de"])
def test_refusals_say_why_on_the_page_in_the_shoppers_language(api: Api, retailer: Retailer, locale: str) -> None:
    offer(api, retailer, ups=UPS_RULES, fedex={"kinds": []})
    lang = f"&lang={locale}"
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    cases = [
        (
            parcel(api, retailer, f"out{locale}", "shipped", "out_for_delivery"),
            "kind=hold",
            409,
            "error_out_for_delivery",
        ),
        (parcel(api, retailer, f"arr{locale}", "shipped", "delivered"), "kind=hold", 409, "error_finished"),
        (parcel(api, retailer, f"can{locale}", "shipped", "cancelled"), "kind=hold", 409, "error_finished"),
        (parcel(api, retailer, f"fx{locale}", "shipped", carrier="FEDEX"), "kind=hold", 409, "error_not_offered"),
        (
            parcel(api, retailer, f"cut{locale}", "shipped", promised_date=yesterday),
            "kind=hold",
            409,
            "error_past_cutoff",
        ),
        (parcel(api, retailer, f"bad{locale}", "shipped"), "kind=safe_place&place=roof", 400, "error_invalid_choice"),
        (parcel(api, retailer, f"tele{locale}", "shipped"), "kind=teleport", 400, "error_invalid_choice"),
        (
            parcel(api, retailer, f"day{locale}", "shipped"),
            "kind=reschedule&date=1999-01-01&window=08:00-12:00",
            400,
            "error_invalid_choice",
        ),
    ]
    for record, fields, status, key in cases:
        path = f"/t/{record['tracking_token']}"
        shopper = Shopper(api, path)
        answer = shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&{fields}{lang}")
        assert_page_says(answer, status, key, locale)
        assert change_of(api, retailer, record["id"]) is None
    pending = parcel(api, retailer, f"twice{locale}", "shipped")
    path = f"/t/{pending['tracking_token']}"
    shopper = Shopper(api, path)
    assert shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=hold{lang}").status_code == 303
    again = shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=hold{lang}")
    assert_page_says(again, 409, "error_change_pending", locale)
    nothing = shopper.post(f"{path}/delivery-change/code", f"csrf={shopper.csrf}&code=123456{lang}")
    assert_page_says(nothing, 409, "error_no_code_expected", locale)


def test_the_page_offers_only_what_is_allowed_now(api: Api, retailer: Retailer) -> None:
    offer(api, retailer, ups={**UPS_RULES, "kinds": ["safe_place", "hold"], "safe_places": ["garage"]})
    moving = parcel(api, retailer, "offer", "shipped")
    page = api.http.get(f"/t/{moving['tracking_token']}").body.decode()
    assert 'value="hold"' in page and 'value="garage"' in page
    assert 'value="neighbour"' not in page and 'value="porch"' not in page and 'value="reschedule"' not in page
    out = parcel(api, retailer, "offerout", "shipped", "out_for_delivery")
    page = api.http.get(f"/t/{out['tracking_token']}").body.decode()
    assert 'name="kind"' not in page
    public = api.http.get(f"/v1/tracking/{moving['tracking_token']}").json_body
    assert public["delivery_change"]["offered"] == ["safe_place", "hold"]


def test_windows_and_pickup_points_a_carrier_sends_are_offered_when_the_retailer_offers_the_kind(
    api: Api, retailer: Retailer
) -> None:
    offer(
        api,
        retailer,
        ups={
            "kinds": ["reschedule", "pickup_point"],
            "windows": ["08:00-12:00"],
            "pickup_points": [{"id": "pp-1", "name": "Corner Shop"}],
        },
    )
    record = parcel(api, retailer, "opts", "shipped")
    options = {"windows": ["18:00-21:00"], "pickup_points": [{"id": "lk-9", "name": "Station Locker"}]}
    event = native_event(
        "opt-1", "shipped", datetime.now(UTC).isoformat(), tracking_number="1ZCHGOPTS", delivery_options=options
    )
    assert api.native(retailer, {"events": [event]}).status_code == 200
    path = f"/t/{record['tracking_token']}"
    page = api.http.get(path).body.decode()
    assert 'value="18:00-21:00"' in page and 'value="08:00-12:00"' in page and "Station Locker" in page
    shopper = Shopper(api, path)
    day = re.search(r'<option value="(\d{4}-\d{2}-\d{2})">', page).group(1)
    asked = shopper.post(
        f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=reschedule&date={day}&window=18:00-21:00"
    )
    assert asked.status_code == 303, asked.body
    assert change_of(api, retailer, record["id"])["details"] == {"date": day, "window": "18:00-21:00"}


@pytest.mark.parametrize(
    "options",
    [
        {"windows": ["8-12"]},
        {"windows": "08:00-12:00"},
        {"pickup_points": [{"id": "bad id!", "name": "X"}]},
        {"pickup_points": [{"name": "no id"}]},
        {"pickup_points": ["lk-1"]},
    ],
)
def test_malformed_carrier_options_are_a_400_naming_the_field(api: Api, retailer: Retailer, options: dict) -> None:
    event = native_event("opt-bad", "shipped", datetime.now(UTC).isoformat(), delivery_options=options)
    answer = api.native(retailer, {"events": [event]})
    assert answer.status_code == 400, answer.body
    assert "delivery_options" in answer.json_body["error"]["message"]


@pytest.mark.parametrize("answer", [{"status": "confirmed"}, {"id": "chg_1", "status": "maybe"}, "confirmed"])
def test_a_malformed_carrier_answer_is_a_400(api: Api, retailer: Retailer, answer: Any) -> None:
    event = native_event("ans-bad", "shipped", datetime.now(UTC).isoformat(), delivery_change=answer)
    response = api.native(retailer, {"events": [event]})
    assert response.status_code == 400 and "delivery_change" in response.json_body["error"]["message"]


def test_the_page_says_the_same_whether_or_not_the_order_has_a_contact_to_send_the_code_to(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib.web.i18n import STRINGS

    offer(api, retailer)
    pages = []
    for name, customer in (("withc", {}), ("noc", {"phone": None, "email": None})):
        record = parcel(api, retailer, name, "shipped", customer=customer)
        path = f"/t/{record['tracking_token']}"
        shopper = Shopper(api, path)
        asked = shopper.post(f"{path}/delivery-change", f"csrf={shopper.csrf}&kind=neighbour&neighbour=Bo&lang=es")
        assert asked.status_code == 303
        page = api.http.get(f"{path}?lang=es").body.decode()
        section = page[page.index('id="change"') : page.index("</section>", page.index('id="change"'))]
        pages.append(re.sub(r'value="[^"]+"|/t/[^/"]+/', "", section))  # the token and csrf differ, nothing else
    assert pages[0] == pages[1]
    assert STRINGS["es"]["change_code_sent"] in pages[0].replace("&#39;", "'")
    drain(soon())
    codes = [body for body in texts_to(providers, "+14155553001") if "your code" in body]
    assert len(codes) == 1 and "C-withc" in codes[0]  # only the order with a phone got a code
