"""A shopper without the tracking link finds the order by number plus the e-mail or phone it was placed with."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import boto3

from tests.conftest import Api, Retailer

EMAIL = "maria@example.com"
PHONE = "+14155550123"


def lookup(api: Api, retailer_id: str, order_id: str, contact: str, **extra: Any) -> Any:
    body = json.dumps({"order_id": order_id, "contact": contact, **extra})
    return api.http.post(f"/v1/track/{retailer_id}", headers={"Content-Type": "application/json"}, body=body)


def form(api: Api, retailer_id: str, **fields: str) -> Any:
    return api.http.post(
        f"/track/{retailer_id}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://shop.example"},
        body=urlencode(fields),
    )


def order_items() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName="porchlight-test")["Items"]
    return [item for item in items if item["pk"]["S"].startswith("ORDER#")]


def test_the_order_is_found_however_the_shopper_types_its_number_and_contact(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer, order_id="ORD-1001").json_body
    for order_id, contact in [
        ("ORD-1001", EMAIL),
        ("ord-1001", " Maria@Example.COM "),
        ("#ORD 1001", "(415) 555-0123"),
        ("ORD-1001", "+1 415 555 0123"),
    ]:
        found = lookup(api, retailer.id, order_id, contact)
        assert found.status_code == 200, (order_id, contact, found.body)
        assert found.headers["Access-Control-Allow-Origin"] == "*"
        [parcel] = found.json_body["shipments"]
        assert parcel["tracking_token"] == shipment["tracking_token"]
        assert parcel["tracking_url"].endswith(f"/t/{shipment['tracking_token']}")
        assert parcel["status"] == "pending" and parcel["carrier_name"] == "UPS"
    assert lookup(api, retailer.id, "ORD-1001", EMAIL, locale="es").json_body["shipments"][0]["status_label"] == (
        "Pedido recibido"
    )
    preflight = api.http.request("OPTIONS", f"/v1/track/{retailer.id}", headers={"Origin": "https://shop.example"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_a_wrong_contact_an_unknown_order_and_another_stores_order_answer_alike(api: Api, retailer: Retailer) -> None:
    api.register(retailer, order_id="ORD-1001")
    other = api.create_retailer("Other Store")
    api.register(other, order_id="ORD-2002", customer={"name": "Lee Chen", "email": "lee@example.com"})

    wrong = lookup(api, retailer.id, "ORD-1001", "someone@example.com")
    unknown = lookup(api, retailer.id, "ORD-9999", EMAIL)
    elsewhere = lookup(api, retailer.id, "ORD-2002", "lee@example.com")
    for answer in (wrong, unknown, elsewhere):
        assert answer.status_code == 404 and answer.json_body == wrong.json_body
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert wrong.json_body["error"]["code"] == "order_not_found"
    assert lookup(api, "rt_nope", "ORD-1001", EMAIL).json_body["error"]["code"] == "unknown_retailer"
    assert lookup(api, retailer.id, "ORD-1001", "555").status_code == 404  # too short to be a phone number


def test_ten_wrong_guesses_lock_that_order_number_for_the_hour(api: Api, retailer: Retailer) -> None:
    from chalicelib import observability

    observability.emitted.clear()
    api.register(retailer, order_id="ORD-1001")
    api.register(retailer, order_id="ORD-1002", tracking_number="1Z999AA10123456799")
    for n in range(10):
        assert lookup(api, retailer.id, "ORD-1001", f"guess{n}@example.com").status_code == 404
    locked = lookup(api, retailer.id, "ORD-1001", EMAIL)
    assert locked.status_code == 429 and locked.json_body["error"]["code"] == "too_many_attempts"
    assert lookup(api, retailer.id, "ORD-1002", EMAIL).status_code == 200  # other orders are unaffected
    counted = {key: value for key, value in observability.emitted.items() if key.startswith("OrderLookups")}
    assert counted == {
        "OrderLookups|outcome=not_found": 10,
        "OrderLookups|outcome=locked": 1,
        "OrderLookups|outcome=found": 1,
    }


def test_bad_lookup_bodies_get_400_naming_the_field(api: Api, retailer: Retailer) -> None:
    for body, field in [
        ({"order_id": "ORD-1"}, "contact"),
        ({"order_id": "", "contact": EMAIL}, "order_id"),
        ({"order_id": "x" * 201, "contact": EMAIL}, "order_id"),
        ({"order_id": "ORD-1", "contact": EMAIL, "locale": "english"}, "locale"),
        ({"order_id": "ORD-1", "contact": EMAIL, "extra": 1}, "extra"),
    ]:
        answer = api.http.post(
            f"/v1/track/{retailer.id}", headers={"Content-Type": "application/json"}, body=json.dumps(body)
        )
        assert answer.status_code == 400 and answer.json_body["error"]["field"] == field, (body, answer.body)
    broken = api.http.post(f"/v1/track/{retailer.id}", headers={"Content-Type": "application/json"}, body="{")
    assert broken.status_code == 400 and broken.headers["Access-Control-Allow-Origin"] == "*"


def test_the_lookup_page_sends_the_shopper_to_the_parcel_or_lets_them_choose(api: Api, retailer: Retailer) -> None:
    page = api.http.get(f"/track/{retailer.id}?lang=fr")
    assert page.status_code == 200 and "Retrouver votre commande" in page.body.decode()
    assert "Acme Outdoor" in page.body.decode()
    assert "Content-Security-Policy" in page.headers
    assert api.http.get("/track/rt_nope").status_code == 404

    first = api.register(retailer, order_id="ORD-1001").json_body
    answer = form(api, retailer.id, order_id="ord-1001", contact=EMAIL, lang="fr")  # a form on the store's own site
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/t/{first['tracking_token']}?lang=fr")

    second = api.register(retailer, order_id="ORD-1001", tracking_number="1Z999AA10123456799").json_body
    several = form(api, retailer.id, order_id="ORD-1001", contact=PHONE)
    html = several.body.decode()
    assert several.status_code == 200
    assert f"/t/{first['tracking_token']}" in html and f"/t/{second['tracking_token']}" in html
    assert EMAIL not in html and PHONE not in html and "Garcia" not in html

    missing = form(api, retailer.id, order_id="ORD-1001", contact="")
    assert missing.status_code == 400 and "Enter both" in missing.body.decode()
    wrong = form(api, retailer.id, order_id="<script>alert(1)</script>", contact=EMAIL)
    body = wrong.body.decode()
    assert wrong.status_code == 404 and "couldn&#39;t find an order" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body


def test_corrections_move_the_lookup_and_erasure_removes_it(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer, order_id="ORD-1001").json_body
    patch = {"order_id": "ORD-1001-B", "customer": {"phone": "+14155550999"}}
    changed = api.http.patch(f"/v1/shipments/{shipment['id']}", headers=retailer.auth, body=json.dumps(patch))
    assert changed.status_code == 200
    assert lookup(api, retailer.id, "ORD-1001", EMAIL).status_code == 404
    assert lookup(api, retailer.id, "ORD-1001-B", PHONE).status_code == 404  # the old phone no longer opens it
    assert lookup(api, retailer.id, "ORD-1001-B", "+14155550999").status_code == 200
    assert lookup(api, retailer.id, "ORD-1001-B", EMAIL).status_code == 200

    stored = json.dumps([item for item in order_items() if item["sk"]["S"] == f"SHIP#{shipment['id']}"])
    assert "maria" not in stored.lower() and "5550999" not in stored  # digests only, nothing personal

    assert api.http.delete(f"/v1/shipments/{shipment['id']}", headers=retailer.auth).status_code == 200
    assert lookup(api, retailer.id, "ORD-1001-B", EMAIL).status_code == 404
    assert not [item for item in order_items() if item["sk"]["S"] == f"SHIP#{shipment['id']}"]


def test_the_retailer_finds_every_parcel_of_an_order(api: Api, retailer: Retailer) -> None:
    first = api.register(retailer, order_id="ORD-1001").json_body
    second = api.register(retailer, order_id="ORD-1001", tracking_number="1Z999AA10123456799").json_body
    api.register(retailer, order_id="ORD-1002", tracking_number="1Z999AA10123456800")
    other = api.create_retailer("Other Store")
    api.register(other, order_id="ORD-1001", tracking_number="1Z999AA10123456811")

    found = api.http.get("/v1/shipments?order_id=ORD-1001", headers=retailer.auth).json_body
    assert {s["id"] for s in found["shipments"]} == {first["id"], second["id"]} and found["next_cursor"] is None
    assert api.http.get("/v1/shipments?order_id=ord%201001", headers=retailer.auth).json_body == found
    narrowed = api.http.get("/v1/shipments?order_id=ORD-1001&status=shipped", headers=retailer.auth).json_body
    assert narrowed["shipments"] == []
    assert api.http.get("/v1/shipments?order_id=ORD-404", headers=retailer.auth).json_body["shipments"] == []
    both = api.http.get("/v1/shipments?order_id=ORD-1001&tracking_number=1Z", headers=retailer.auth)
    assert both.status_code == 400 and both.json_body["error"]["field"] == "order_id"
