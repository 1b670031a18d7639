"""Retailer API through chalice.test.Client with moto: bootstrap, registration, lookup, integrations, isolation."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from tests.conftest import ADMIN, Api, Retailer
from tests.payloads import native_event


def scan_table() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="porchlight-test")["Items"]


def test_admin_creates_retailer_and_stores_only_the_key_hash(api: Api) -> None:
    response = api.http.post(
        "/v1/admin/retailers", headers={**ADMIN, "Content-Type": "application/json"}, body='{"name": "Acme"}'
    )
    assert response.status_code == 201
    key = response.json_body["api_key"]
    assert key.startswith("pl_") and len(key) > 40
    dump = json.dumps(scan_table())
    assert key not in dump
    assert hashlib.sha256(key.encode()).hexdigest() in dump


def test_admin_route_rejects_missing_or_wrong_admin_key(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic adm_test_0123456789abcdef"}):
        response = api.http.post(
            "/v1/admin/retailers", headers={**headers, "Content-Type": "application/json"}, body='{"name": "X"}'
        )
        assert response.status_code == 401
        assert response.json_body["error"]["code"] == "unauthorized"
    assert scan_table() == []


def test_admin_route_names_the_missing_field(api: Api) -> None:
    response = api.http.post("/v1/admin/retailers", headers={**ADMIN, "Content-Type": "application/json"}, body="{}")
    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "name"


def test_register_shipment_returns_token_and_url_then_is_idempotent(api: Api, retailer: Retailer) -> None:
    first = api.register(retailer)
    assert first.status_code == 201
    body = first.json_body
    assert body["status"] == "pending"
    assert body["tracking_url"] == f"https://track.example.test/t/{body['tracking_token']}"
    assert len(body["tracking_token"]) >= 22  # at least 128 random bits, url-safe
    again = api.register(retailer, tracking_number="1z999aa1 0123456784", carrier="ups")
    assert again.status_code == 200
    assert again.json_body["id"] == body["id"]
    assert again.json_body["tracking_token"] == body["tracking_token"]


def test_tracking_tokens_are_random_not_sequential(api: Api, retailer: Retailer) -> None:
    tokens = {api.register(retailer, tracking_number=f"TN{i}").json_body["tracking_token"] for i in range(5)}
    assert len(tokens) == 5
    assert len({token[:8] for token in tokens}) == 5


def test_register_rejects_bad_input_naming_the_field(api: Api, retailer: Retailer) -> None:
    cases = [
        ({"customer": {"name": "Ann", "phone": "555-0100"}}, "customer.phone"),
        ({"customer": {"name": "Ann", "email": "not-an-email"}}, "customer.email"),
        ({"customer": {"name": "Ann", "time_zone": "Mars/Olympus"}}, "customer.time_zone"),
        ({"customer": {"name": "Ann"}, "order_id": 12}, "order_id"),
        ({"customer": None}, "customer"),
        ({"tracking_number": ""}, "tracking_number"),
        ({"items": [{"name": "Shoe", "quantity": 0}]}, "items.0.quantity"),
        ({"surprise": True}, "surprise"),
        ({"promised_date": "next week"}, "promised_date"),
    ]
    for overrides, field in cases:
        response = api.register(retailer, **overrides)
        assert response.status_code == 400, (overrides, response.body)
        assert response.json_body["error"]["field"] == field
    assert api.find(retailer, "1Z999AA10123456784").json_body["shipments"] == []


def test_register_rejects_malformed_json_and_oversized_bodies(api: Api, retailer: Retailer) -> None:
    bad = api.http.post("/v1/shipments", headers=retailer.auth, body="{not json")
    assert bad.status_code == 400
    assert bad.json_body["error"]["field"] == "body"
    huge = api.http.post("/v1/shipments", headers=retailer.auth, body=json.dumps({"x": "a" * (1024 * 1024)}))
    assert huge.status_code == 413
    assert huge.json_body["error"]["code"] == "payload_too_large"


def test_retailer_api_requires_a_valid_key(api: Api, retailer: Retailer) -> None:
    for headers in ({}, {"Authorization": "Bearer pl_not-a-real-key"}):
        response = api.http.get("/v1/shipments?tracking_number=X", headers=headers)
        assert response.status_code == 401
        assert response.json_body["error"]["code"] == "unauthorized"


def test_get_shipment_and_lookup_by_tracking_number(api: Api, retailer: Retailer) -> None:
    created = api.register(retailer, items=[{"name": "Tent", "quantity": 1}]).json_body
    detail = api.shipment(retailer, created["id"]).json_body
    assert detail["order_id"] == "ORD-1001"
    assert detail["customer"]["phone"] == "+14155550123"
    assert detail["items"] == [{"name": "Tent", "quantity": 1}]
    assert detail["events"] == [] and detail["notifications"] == []
    found = api.find(retailer, "1z999aa10123456784").json_body["shipments"]
    assert [s["id"] for s in found] == [created["id"]]
    missing = api.http.get("/v1/shipments", headers=retailer.auth)
    assert missing.status_code == 400 and missing.json_body["error"]["field"] == "tracking_number"


def test_unknown_shipment_is_404(api: Api, retailer: Retailer) -> None:
    response = api.shipment(retailer, "shp_000000000000000000000000")
    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "not_found"


def test_one_retailer_cannot_read_or_claim_anothers_shipment(api: Api) -> None:
    alice, bob = api.create_retailer("Alice"), api.create_retailer("Bob")
    shipment = api.register(alice).json_body
    assert api.shipment(bob, shipment["id"]).status_code == 404
    assert api.find(bob, "1Z999AA10123456784").json_body["shipments"] == []
    # Bob registering the same carrier + tracking number gets his own shipment; Alice's is untouched.
    bobs = api.register(bob, order_id="BOB-1", customer={"name": "Eve", "phone": "+14155550999"})
    assert bobs.status_code == 201 and bobs.json_body["id"] != shipment["id"]
    alices = api.shipment(alice, shipment["id"]).json_body
    assert alices["order_id"] == "ORD-1001" and alices["customer"]["phone"] == "+14155550123"


def test_one_retailer_cannot_post_scans_into_anothers_webhook(api: Api) -> None:
    alice, bob = api.create_retailer("Alice"), api.create_retailer("Bob")
    shipment = api.register(alice).json_body
    event = native_event("e1", "delivered", "2026-11-23T10:00:00+00:00")
    response = api.native(alice, {"events": [event]}, secret=bob.secrets["native"])
    assert response.status_code == 401
    assert api.shipment(alice, shipment["id"]).json_body["status"] == "pending"


def test_put_integration_returns_webhook_url_and_can_generate_a_secret(api: Api, retailer: Retailer) -> None:
    response = api.http.put("/v1/integrations/shippo", headers=retailer.auth, body="")
    assert response.status_code == 200
    secret = response.json_body["secret"]
    assert len(secret) >= 32
    assert response.json_body["webhook_url"] == (
        f"https://track.example.test/v1/webhooks/shippo/{retailer.id}?token={secret}"
    )
    native = api.http.put("/v1/integrations/native", headers=retailer.auth, body='{"secret": "short"}')
    assert native.status_code == 400 and native.json_body["error"]["field"] == "secret"
    unknown = api.http.put("/v1/integrations/fedex", headers=retailer.auth, body='{"secret": "x' + "y" * 20 + '"}')
    assert unknown.status_code == 404 and unknown.json_body["error"]["code"] == "unknown_source"


def test_openapi_document_is_served_with_this_deployments_url(api: Api) -> None:
    response = api.http.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.json_body["servers"] == [{"url": "https://track.example.test"}]
    assert "/v1/shipments" in response.json_body["paths"]


def test_the_openapi_document_is_built_once_not_per_request(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anyone may fetch it, unauthenticated; building it costs 0.1 s of CPU, so a loop of requests was cheap load."""
    from chalicelib.api import openapi, retailer_api

    built = []
    real = openapi.document
    monkeypatch.setattr(openapi, "document", lambda *args: built.append(args) or real(*args))
    monkeypatch.setattr(retailer_api, "_published", {})
    answers = [api.http.get("/v1/openapi.json") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json_body == answers[2].json_body
    assert len(built) == 1


def test_errors_chalice_answers_itself_have_the_documented_shape(api: Api, retailer: Retailer) -> None:
    wrong_type = api.http.post(
        "/v1/shipments", headers={**retailer.auth, "Content-Type": "text/xml"}, body="<shipment/>"
    )
    assert wrong_type.status_code == 415
    assert wrong_type.json_body["error"]["code"] == "unsupported_media_type"
    assert "text/xml" in wrong_type.json_body["error"]["message"]
    wrong_method = api.http.request("PATCH", "/v1/settings", headers=retailer.auth, body="{}")
    assert wrong_method.status_code == 405
    assert wrong_method.json_body == {"error": {"code": "method_not_allowed", "message": "Unsupported method: PATCH"}}


def test_batch_registration_gives_each_entry_its_own_outcome_and_is_idempotent(api: Api, retailer: Retailer) -> None:
    existing = api.register(retailer, tracking_number="1ZBATCH0").json_body
    entries = [
        {"order_id": "B-0", "carrier": "ups", "tracking_number": "1zbatch0", "customer": {"name": "Ann"}},
        {"order_id": "B-1", "carrier": "fedex", "tracking_number": "7946001", "customer": {"name": "Bo"}},
        {
            "order_id": "B-2",
            "carrier": "ups",
            "tracking_number": "1ZBATCH2",
            "customer": {"name": "Cy", "phone": "555"},
        },
        {"order_id": "B-3", "carrier": "ups", "tracking_number": "1ZBATCH3"},
        "not an object",
    ]
    response = api.http.post("/v1/shipments/batch", headers=retailer.auth, body=json.dumps({"shipments": entries}))
    assert response.status_code == 200, response.body
    body = response.json_body
    assert (body["created"], body["existing"], body["failed"]) == (1, 1, 3)
    results = body["results"]
    assert [r["status"] for r in results] == [200, 201, 400, 400, 400]
    assert results[0]["shipment"]["id"] == existing["id"]
    assert results[1]["shipment"]["tracking_number"] == "7946001"
    assert results[2]["error"]["field"] == "customer.phone"
    assert results[3]["error"]["field"] == "customer"
    assert results[4]["error"] == {
        "code": "invalid_request",
        "message": "an entry must be a JSON object",
        "field": "body",
    }
    assert len(api.find(retailer, "7946001").json_body["shipments"]) == 1

    again = api.http.post("/v1/shipments/batch", headers=retailer.auth, body=json.dumps({"shipments": entries[:2]}))
    assert [r["status"] for r in again.json_body["results"]] == [200, 200]
    other = api.create_retailer("Other Store")
    theirs = api.http.post("/v1/shipments/batch", headers=other.auth, body=json.dumps({"shipments": entries[1:2]}))
    assert theirs.json_body["results"][0]["status"] == 201  # keyed per retailer: another store's own shipment


def test_a_batch_must_hold_one_to_a_hundred_entries(api: Api, retailer: Retailer) -> None:
    entry = {"order_id": "B", "carrier": "ups", "tracking_number": "1Z", "customer": {"name": "Ann"}}
    for body, field in (
        ({"shipments": []}, "shipments"),
        ({"shipments": [entry] * 101}, "shipments"),
        ({"shipments": entry}, "shipments"),
        ({}, "shipments"),
    ):
        response = api.http.post("/v1/shipments/batch", headers=retailer.auth, body=json.dumps(body))
        assert response.status_code == 400 and response.json_body["error"]["field"] == field, body
    assert api.find(retailer, "1Z").json_body["shipments"] == []
