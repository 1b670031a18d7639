"""A shopper without the tracking link finds the order by number plus the e-mail or phone it was placed with."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from tests.conftest import Api, Retailer

EMAIL = "maria@example.com"
PHONE = "+14155550123"


def lookup(
    api: Api, retailer_id: str, order_id: str, contact: str, headers: dict[str, str] | None = None, **extra: Any
) -> Any:
    body = json.dumps({"order_id": order_id, "contact": contact, **extra})
    sent = {"Content-Type": "application/json", **(headers or {})}
    return api.http.post(f"/v1/track/{retailer_id}", headers=sent, body=body)


def from_address(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    """Requests from now on arrive from `address`, as API Gateway's requestContext.identity.sourceIp says."""
    from chalice.local import LambdaEventConverter

    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", address)


def form(api: Api, retailer_id: str, **fields: str) -> Any:
    return api.http.post(
        f"/track/{retailer_id}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://shop.example"},
        body=urlencode(fields),
    )


def scan_all() -> list[dict[str, Any]]:
    return list(boto3.client("dynamodb").scan(TableName="porchlight-test")["Items"])


def order_items() -> list[dict[str, Any]]:
    return [item for item in scan_all() if item["pk"]["S"].startswith("ORDER#")]


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


def test_forty_order_numbers_tried_with_one_email_are_throttled_from_any_address(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib import observability

    observability.emitted.clear()
    api.register(retailer, order_id="ORD-1001", customer={"name": "Lee Chen", "email": "lee@example.com"})
    answers = []
    for n in range(40):  # a scanner rotating addresses: each tries one number with the victim's e-mail
        from_address(monkeypatch, f"198.51.100.{n + 1}")
        answers.append(lookup(api, retailer.id, f"ORD-{2000 + n}", EMAIL))
    assert [a.status_code for a in answers] == [404] * 10 + [429] * 30
    refused = answers[-1]
    assert refused.json_body["error"] == {
        "code": "too_many_attempts",
        "message": "too many attempts; try again later, or use the link in your text or e-mail",
        "field": "contact",
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    page = form(api, retailer.id, order_id="ORD-2050", contact=EMAIL, lang="de")
    assert page.status_code == 429 and page.headers["Content-Type"].startswith("text/html")
    minutes = -(-int(page.headers["Retry-After"]) // 60)
    assert f"Zu viele Versuche. Versuchen Sie es in {minutes} Min. erneut" in page.body.decode()
    assert lookup(api, retailer.id, "ORD-1001", "lee@example.com").status_code == 200  # other shoppers unaffected
    counted = {key: value for key, value in observability.emitted.items() if key.startswith("OrderLookups")}
    assert counted == {
        "OrderLookups|outcome=not_found": 10,
        "OrderLookups|outcome=throttled,scope=contact": 31,
        "OrderLookups|outcome=found": 1,
    }


def test_strangers_guessing_the_contact_of_an_order_never_lock_its_shopper_out(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipment = api.register(retailer, order_id="ORD-1001").json_body
    for n in range(40):
        from_address(monkeypatch, f"203.0.113.{n + 1}")
        assert lookup(api, retailer.id, "ORD-1001", f"guess{n}@example.com").status_code == 404
        assert lookup(api, retailer.id, "#ord 1001", f"+1 415 555 {1000 + n}").status_code == 404
    from_address(monkeypatch, "192.0.2.44")  # the shopper, at home
    [parcel] = lookup(api, retailer.id, "ORD-1001", EMAIL).json_body["shipments"]
    assert parcel["tracking_token"] == shipment["tracking_token"]
    answer = form(api, retailer.id, order_id="ORD-1001", contact=PHONE)
    assert answer.status_code == 303 and shipment["tracking_token"] in answer.headers["Location"]


def test_one_address_is_throttled_after_twenty_misses_even_for_the_right_pair(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.register(retailer, order_id="ORD-1001")
    from_address(monkeypatch, "198.51.100.7")
    for n in range(20):
        assert lookup(api, retailer.id, f"ORD-{3000 + n}", f"guess{n}@example.com").status_code == 404
    refused = lookup(api, retailer.id, "ORD-1001", EMAIL)  # right or wrong, the answer teaches nothing now
    assert refused.status_code == 429 and refused.json_body["error"]["code"] == "too_many_attempts"
    assert "field" not in refused.json_body["error"] and int(refused.headers["Retry-After"]) >= 1
    page = form(api, retailer.id, order_id="ORD-1001", contact=EMAIL)
    assert page.status_code == 429 and "Too many attempts. Try again in" in page.body.decode()
    assert int(page.headers["Retry-After"]) >= 1 and "Content-Security-Policy" in page.headers
    from_address(monkeypatch, "198.51.100.8")  # the next address along is someone else
    assert lookup(api, retailer.id, "ORD-1001", EMAIL).status_code == 200
    from_address(monkeypatch, "2001:db8:1:2::10")
    for n in range(20):
        lookup(api, retailer.id, f"ORD-{4000 + n}", f"v6guess{n}@example.com")
    from_address(monkeypatch, "2001:db8:1:2::beef")  # the same /64: the same subscriber
    assert lookup(api, retailer.id, "ORD-1001", EMAIL).status_code == 429


def test_a_forwarded_header_counts_only_when_a_trusted_proxy_is_configured(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import settings

    api.register(retailer, order_id="ORD-1001")
    from_address(monkeypatch, "198.51.100.7")
    for n in range(20):  # a sender inventing a new X-Forwarded-For each time is still one address
        spoofed = {"X-Forwarded-For": f"10.0.{n}.1"}
        assert lookup(api, retailer.id, f"ORD-{3000 + n}", f"g{n}@example.com", headers=spoofed).status_code == 404
    assert lookup(api, retailer.id, "ORD-1001", EMAIL, headers={"X-Forwarded-For": "10.9.9.9"}).status_code == 429

    # Behind a proxy that appends the address it was reached from, every request has the proxy's source IP.
    monkeypatch.setenv("TRUSTED_CLIENT_IP_HEADER", "X-Forwarded-For")
    settings.cache_clear()
    from_address(monkeypatch, "192.0.2.1")  # the proxy
    for n in range(20):  # what the sender wrote on the left is ignored: the proxy's entry names it
        hops = {"X-Forwarded-For": f"10.0.{n}.1, 203.0.113.9"}
        assert lookup(api, retailer.id, f"ORD-{5000 + n}", f"h{n}@example.com", headers=hops).status_code == 404
    assert lookup(api, retailer.id, "ORD-1001", EMAIL, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    assert lookup(api, retailer.id, "ORD-1001", EMAIL, headers={"X-Forwarded-For": "203.0.113.10"}).status_code == 200


def test_a_store_under_a_distributed_guess_keeps_first_tries_working_and_slows_repeat_guessers(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.domain import lookup as rules

    monkeypatch.setattr(rules, "LIMITS", rules.LookupLimits(per_retailer=30, per_client_while_retailer_busy=3))
    api.register(retailer, order_id="ORD-1001")
    for n in range(10):  # ten addresses, three misses each: the store's hour is over its limit
        from_address(monkeypatch, f"198.51.100.{n + 1}")
        for m in range(3):
            assert lookup(api, retailer.id, f"ORD-{6000 + 3 * n + m}", f"a{n}{m}@example.com").status_code == 404
    from_address(monkeypatch, "198.51.100.1")
    assert lookup(api, retailer.id, "ORD-1001", EMAIL).status_code == 429  # a repeat guesser waits
    from_address(monkeypatch, "192.0.2.44")  # a shopper's first tries still go through
    assert lookup(api, retailer.id, "ORD-1001", "typo@example.com").status_code == 404
    assert lookup(api, retailer.id, "ORD-1001", EMAIL).status_code == 200
    other = api.create_retailer("Other Store")
    api.register(other, order_id="ORD-1001", customer={"name": "Lee Chen", "email": "lee@example.com"})
    from_address(monkeypatch, "198.51.100.1")
    assert lookup(api, other.id, "ORD-1001", "lee@example.com").status_code == 200  # other stores unaffected


def test_a_lookup_takes_an_attempt_first_and_a_right_one_gives_it_back(api: Api, retailer: Retailer) -> None:
    from chalicelib.store import table

    api.register(retailer, order_id="ORD-1001")
    table.usage.clear()
    assert lookup(api, retailer.id, "ORD-1001", EMAIL).status_code == 200
    calls = {k: v for k, v in table.usage.items() if k.startswith("calls.")}
    # Three counters taken, the order's query, its states, the three given back (profile from the process cache).
    assert calls == {"calls.UpdateItem": 6, "calls.Query": 1, "calls.BatchGetItem": 1}
    counters = [item for item in scan_all() if item["pk"]["S"].startswith("LIMIT#")]
    assert len(counters) == 3 and all(c["count"]["N"] == "0" for c in counters)  # a hit is no miss
    table.usage.clear()
    assert lookup(api, retailer.id, "ORD-1001", "nobody@example.com").status_code == 404
    calls = {k: v for k, v in table.usage.items() if k.startswith("calls.")}
    assert calls == {"calls.UpdateItem": 3, "calls.Query": 1}  # no parcel matches: nothing to batch-read
    counters = [item for item in scan_all() if item["pk"]["S"].startswith("LIMIT#") and item["count"]["N"] == "1"]
    assert len(counters) == 3 and all(int(c["expires_at"]["N"]) > time.time() for c in counters)
    assert not any("nobody" in json.dumps(c) or "127.0.0.1" in json.dumps(c) for c in counters)  # digests only


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
