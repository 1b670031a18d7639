"""Carrier-written text reaches shoppers redacted (DESIGN 3.4) and retailers as the carrier wrote it; carriers are
named the same way on the page, in emails and on the analytics page; dates read as each language writes them."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.payloads import native_event

NY = "America/New_York"
CUSTOMER = {
    "name": "Maria Garcia-Lopez",
    "phone": "+14155550123",
    "email": "maria.private@example.com",
    "time_zone": NY,
    "sms_consent": True,
}
DESTINATION = {"line1": "742 Evergreen Terrace", "city": "Springfield", "postal_code": "97477", "country": "US"}
LEAKY = "Delivered to GARCIA, MARIA at 742 EVERGREEN TERRACE, tel 415-555-0123"
SECRETS = ("GARCIA", "Garcia", "Lopez", "EVERGREEN", "Evergreen", "742", "415-555-0123", "555", "maria.private")


def register(api: Api, retailer: Retailer, **overrides) -> dict:
    response = api.register(retailer, **{"customer": CUSTOMER, "destination": DESTINATION, **overrides})
    assert response.status_code == 201, response.body
    return response.json_body


def scan(api: Api, retailer: Retailer, event_id: str, status: str, when: str, **extra) -> None:
    response = api.native(retailer, {"events": [native_event(event_id, status, when, **extra)]})
    assert response.status_code == 200, response.body


def deliver_leaky(api: Api, retailer: Retailer, **parcel) -> None:
    scan(api, retailer, "c1", "out_for_delivery", "2026-11-20T13:00:00+00:00", description="Out for delivery", **parcel)
    scan(
        api,
        retailer,
        "c2",
        "delivered",
        "2026-11-20T16:00:00+00:00",
        description=LEAKY,
        location={"city": "Springfield", "region": "OR", "country": "US"},
        proof_of_delivery={
            "recipient_name": "GARCIA, MARIA",
            "note": "Left at front door. Customer phone (415) 555-0123, maria.private@example.com",
        },
        **parcel,
    )


def test_the_page_and_its_json_show_carrier_text_without_the_shoppers_name_phone_or_street(
    api: Api, retailer: Retailer
) -> None:
    shipment = register(api, retailer)
    deliver_leaky(api, retailer)
    token = shipment["tracking_token"]
    html = api.http.get(f"/t/{token}").body.decode()
    data = api.http.get(f"/v1/tracking/{token}").json_body
    raw = json.dumps(data)
    for text in (html, raw):
        for secret in SECRETS:
            assert secret not in text, secret
    descriptions = [event["description"] for event in data["events"]]
    assert descriptions == ["Delivered to G. M.", "Out for delivery"]  # the useful rest survives
    assert data["proof_of_delivery"]["note"] == "Left at front door."
    assert data["proof_of_delivery"]["recipient_name"] == "MARIA"  # the given name, never the family name first
    assert "Delivered to G. M." in html and "Left at front door" in html and "Springfield" in html


def test_the_retailer_api_keeps_what_the_carrier_wrote(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer)
    deliver_leaky(api, retailer)
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert LEAKY in [event["description"] for event in detail["events"]]


def test_the_delivered_email_quotes_the_drivers_note_redacted_and_names_the_carrier_as_the_page_does(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer, carrier="FEDEX", tracking_number="794644790138")
    deliver_leaky(api, retailer, carrier="fedex", tracking_number="794644790138")
    drain(local_time(NY, 15))
    [delivered] = [m.json for m in providers.capture.of("sendgrid") if m.json["subject"].startswith("Arrived")]
    text, html = (content["value"] for content in delivered["content"])
    assert 'The driver noted: "Left at front door".' in text
    for secret in ("555", "GARCIA", "maria.private@example.com"):
        assert secret not in text and secret not in html
    assert "FedEx 794644790138" in text and "FEDEX" not in text
    page = api.http.get(f"/t/{shipment['tracking_token']}").body.decode()
    assert "<dd>FedEx</dd>" in page


def test_the_analytics_page_names_carriers_as_shoppers_see_them(api: Api, retailer: Retailer) -> None:
    register(api, retailer, carrier="fedex", tracking_number="794644790138")
    scan(
        api,
        retailer,
        "a1",
        "attempt_failed",
        "2026-11-21T15:00:00+00:00",
        carrier="fedex",
        tracking_number="794644790138",
    )
    login = api.http.post(
        "/analytics/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"api_key": retailer.api_key}),
    )
    assert login.status_code == 303
    page = api.http.get("/analytics", headers={"Cookie": login.headers["Set-Cookie"].split(";")[0]}).body.decode()
    assert "FedEx · 794644790138" in page and "FEDEX" not in page


def test_dates_on_the_page_are_written_as_each_language_writes_them(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer, promised_date="2026-12-01")
    scan(api, retailer, "d1", "shipped", "2026-11-20T15:05:00+00:00", description="Departed FedEx location")
    token = shipment["tracking_token"]
    expected = {
        "en": ("Dec 1", "Nov 20, 10:05 AM"),
        "es": ("1 dic", "20 nov, 10:05"),
        "fr": ("1 déc.", "20 nov., 10:05"),
        "de": ("1. Dez.", "20. Nov., 10:05"),
    }
    for locale, (promised, moment) in expected.items():
        data = api.http.get(f"/v1/tracking/{token}?lang={locale}").json_body
        assert data["promised"] == promised, locale
        assert data["events"][0]["time"] == moment, locale
        assert promised in api.http.get(f"/t/{token}?lang={locale}").body.decode()


#: What a new-user probe saw on the page unchanged, and what the shopper sees now.
PROBED = {
    "Driver could not reach customer at 4155550123": "Driver could not reach customer",
    "Call driver on 07700 900123. Out for delivery": "Out for delivery",
    "Left with neighbor John Smith": "Left with neighbor J. S.",
    "Delivered to SMITH, J": "Delivered to S. J.",
    "Recipient: Jane Doe": "Recipient: J. D.",
    "Out for delivery to MARIA GARCIA LOPEZ": "Out for delivery to M. G. L.",
    "Out For Delivery Today - driver Klaus Becker 0151 9876543": "Out For Delivery Today - driver Klaus",
    "Departed facility; contact 415-555-0123 or Maria.Private@example.com": "Departed facility",
    "Left a card, called (415) 555 0123, email maria.private@example.com": "Left a card",
    "Attempted. Customer phone 415 555 0123 ext 7": "Attempted.",
}
PROBED_SECRETS = ("4155550123", "555 0123", "07700", "900123", "9876543", "John", "Smith", "SMITH", "Jane", "Doe")
PROBED_SECRETS += ("GARCIA", "LOPEZ", "Becker", "maria.private", "Maria.Private")


def test_the_probed_descriptions_reach_the_page_and_its_json_without_contacts_third_parties_or_surnames(
    api: Api, retailer: Retailer
) -> None:
    customer = {**CUSTOMER, "name": "Maria Garcia"}
    shipment = register(api, retailer, customer=customer)
    for n, text in enumerate(PROBED):
        scan(api, retailer, f"p{n}", "shipped", f"2026-11-20T{10 + n:02d}:00:00+00:00", description=text)
    token = shipment["tracking_token"]
    html = api.http.get(f"/t/{token}").body.decode()
    data = api.http.get(f"/v1/tracking/{token}").json_body
    assert [event["description"] for event in data["events"]] == list(reversed(PROBED.values()))
    for secret in PROBED_SECRETS:
        assert secret not in html and secret not in json.dumps(data), secret
    for shown in PROBED.values():
        assert shown in html


def test_the_instructions_the_shopper_typed_stay_on_their_page_and_off_the_cors_open_json(
    api: Api, retailer: Retailer
) -> None:
    shipment = register(api, retailer)
    token = shipment["tracking_token"]
    page = api.http.get(f"/t/{token}")
    cookie = page.headers["Set-Cookie"].split(";")[0]
    typed = "Gate code 4321, call 415 555 0123, side door of 742 Evergreen Terrace"
    saved = api.http.post(
        f"/t/{token}/preferences",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        body=urlencode({"csrf": cookie.split("=", 1)[1], "notify": "sms", "instructions": typed}),
    )
    assert saved.status_code == 303, saved.body
    data = api.http.get(f"/v1/tracking/{token}").json_body
    assert data["shopper"]["has_instructions"] is True and "instructions" not in data["shopper"]
    for secret in ("4321", "555", "Evergreen"):
        assert secret not in json.dumps(data)
    assert "Gate code 4321" in api.http.get(f"/t/{token}").body.decode()  # where the shopper edits them
