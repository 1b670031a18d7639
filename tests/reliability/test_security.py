"""Security regressions through the public interface: tenants, tokens, replays, oversized bodies."""

from __future__ import annotations

import json
import secrets
import time

from chalicelib.carriers.native import sign
from tests.conftest import Api, Retailer
from tests.payloads import native_event


def test_cross_tenant_access_is_404_everywhere(api: Api) -> None:
    alice, mallory = api.create_retailer("Alice"), api.create_retailer("Mallory")
    shipment = api.register(alice).json_body
    for method, path in (
        ("GET", f"/v1/shipments/{shipment['id']}"),
        ("GET", f"/v1/shipments/{shipment['id']}/chat"),
        ("DELETE", f"/v1/shipments/{shipment['id']}"),
        ("PUT", f"/v1/shipments/{shipment['id']}/driver"),
    ):
        response = api.http.request(
            method, path, headers=mallory.auth, body=json.dumps({"name": "X", "phone": "+14155550100"})
        )
        assert response.status_code == 404, (method, path)
    assert api.shipment(alice, shipment["id"]).status_code == 200


def test_tracking_tokens_cannot_be_enumerated(api: Api, retailer: Retailer) -> None:
    real = api.register(retailer).json_body["tracking_token"]
    assert len(real) == 22
    for _ in range(50):
        guess = secrets.token_urlsafe(16)
        assert api.http.get(f"/v1/tracking/{guess}").status_code == 404
    near = real[:-1] + ("A" if real[-1] != "A" else "B")
    assert api.http.get(f"/v1/tracking/{near}").status_code == 404


def test_replayed_signed_webhook_is_stale_after_five_minutes(api: Api, retailer: Retailer) -> None:
    raw = json.dumps({"events": [native_event("r1", "shipped", "2026-11-20T10:00:00+00:00")]}).encode()
    old = sign(retailer.secrets["native"], raw, int(time.time()) - 301)
    response = api.http.post(f"/v1/webhooks/native/{retailer.id}", headers={"X-Porchlight-Signature": old}, body=raw)
    assert response.status_code == 401
    fresh = sign(retailer.secrets["native"], raw, int(time.time()))
    headers = {"X-Porchlight-Signature": fresh}
    assert api.http.post(f"/v1/webhooks/native/{retailer.id}", headers=headers, body=raw).json_body == {
        "accepted": 1,
        "duplicates": 0,
    }
    assert api.http.post(f"/v1/webhooks/native/{retailer.id}", headers=headers, body=raw).json_body == {
        "accepted": 0,
        "duplicates": 1,
    }


def test_oversized_bodies_are_refused_everywhere(api: Api, retailer: Retailer) -> None:
    big = "x" * (1024 * 1024 + 1)
    assert api.http.post(f"/v1/webhooks/native/{retailer.id}", headers={}, body=big).status_code == 413
    assert api.http.post("/v1/shipments", headers=retailer.auth, body=big).status_code == 413
    assert api.http.put("/v1/settings", headers=retailer.auth, body=big).status_code == 413
