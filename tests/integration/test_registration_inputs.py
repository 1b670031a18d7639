"""Phone numbers checked per country and written E.164; unsupported locales said so (issue 20.8, D32)."""

from __future__ import annotations

import json

from tests.conftest import Api, Retailer

CUSTOMER = {"name": "Maria Garcia", "email": "maria@example.com"}


def test_a_number_too_short_for_its_country_is_refused_naming_customer_phone(api: Api, retailer: Retailer) -> None:
    response = api.register(retailer, customer={**CUSTOMER, "phone": "+1415555012"})
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "customer.phone"
    assert "not a valid number in US" in response.json_body["error"]["message"]


def test_a_national_number_is_read_in_the_destination_country_and_stored_e164(api: Api, retailer: Retailer) -> None:
    response = api.register(
        retailer, customer={**CUSTOMER, "phone": "06 12 34 56 78"}, destination={"city": "Lyon", "country": "FR"}
    )
    assert response.status_code == 201, response.body
    detail = api.shipment(retailer, response.json_body["id"]).json_body
    assert detail["customer"]["phone"] == "+33612345678"
    formatted = api.register(
        retailer, tracking_number="1ZFORMATTED1", customer={**CUSTOMER, "phone": "+1 (415) 555-0123"}
    )
    assert api.shipment(retailer, formatted.json_body["id"]).json_body["customer"]["phone"] == "+14155550123"


def test_a_national_number_without_a_country_is_refused_asking_for_plus_country(api: Api, retailer: Retailer) -> None:
    response = api.register(retailer, customer={**CUSTOMER, "phone": "(415) 555-0123"})
    assert response.status_code == 400 and response.json_body["error"]["field"] == "customer.phone"
    assert "+country format" in response.json_body["error"]["message"]


def test_patch_and_batch_check_phone_numbers_the_same_way(api: Api, retailer: Retailer) -> None:
    created = api.register(retailer, customer={**CUSTOMER, "phone": "+14155550123"})
    path = f"/v1/shipments/{created.json_body['id']}"
    patched = api.http.patch(path, headers=retailer.auth, body=json.dumps({"customer": {"phone": "+1415555012"}}))
    assert patched.status_code == 400 and patched.json_body["error"]["field"] == "customer.phone"
    fixed = api.http.patch(path, headers=retailer.auth, body=json.dumps({"customer": {"phone": "+49 30 901820"}}))
    assert fixed.status_code == 200, fixed.body
    assert api.shipment(retailer, created.json_body["id"]).json_body["customer"]["phone"] == "+4930901820"
    entries = [
        {
            "order_id": "B1",
            "carrier": "UPS",
            "tracking_number": "1ZB1",
            "customer": {**CUSTOMER, "phone": "+1415555012"},
        },
        {
            "order_id": "B2",
            "carrier": "UPS",
            "tracking_number": "1ZB2",
            "customer": {**CUSTOMER, "phone": "+14155550124"},
        },
    ]
    batch = api.http.post("/v1/shipments/batch", headers=retailer.auth, body=json.dumps({"shipments": entries}))
    results = batch.json_body["results"]
    assert [r["status"] for r in results] == [400, 201]
    assert results[0]["error"]["field"] == "customer.phone"


def test_an_unsupported_locale_registers_with_a_warning_instead_of_silently(api: Api, retailer: Retailer) -> None:
    response = api.register(retailer, customer={**CUSTOMER, "phone": "+14155550123", "locale": "it-IT"})
    assert response.status_code == 201
    assert response.json_body["warnings"] == [
        "customer.locale 'it-IT' has no messages: the retailer's default language is used (supported: en, es, fr, de)"
    ]
    quiet = api.register(retailer, tracking_number="1ZQUIET", customer={**CUSTOMER, "locale": "es-MX"})
    assert "warnings" not in quiet.json_body
    entry = {"order_id": "B3", "carrier": "UPS", "tracking_number": "1ZB3", "customer": {**CUSTOMER, "locale": "pt"}}
    batch = api.http.post("/v1/shipments/batch", headers=retailer.auth, body=json.dumps({"shipments": [entry]}))
    assert batch.json_body["results"][0]["warnings"][0].startswith("customer.locale 'pt'")


def test_an_order_id_or_name_with_a_control_character_is_a_400_naming_it(api: Api, retailer: Retailer) -> None:
    for body, field in (
        ({"order_id": "A-1\u0000"}, "order_id"),
        ({"order_id": "A-1\nB"}, "order_id"),
        ({"customer": {"name": "Maria\u0007 Garcia", "phone": "+14155550123"}}, "customer.name"),
    ):
        response = api.register(retailer, **body)
        assert response.status_code == 400 and response.json_body["error"]["field"] == field, response.body
    assert api.register(retailer, order_id="#SHOP-2026/00 1 é").status_code == 201  # anything printable is fine
