"""Hostile input gets a precise 4xx, never a 500 (issue 15, item 3): each case here was a cheap 500 once, some
without any secret. tests/reliability/test_hostile_fuzz.py drives every route with such values."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.carriers import native
from tests.conftest import Api, Retailer
from tests.payloads import native_event

#: 50,000 levels of nesting: Python's JSON parser gives up with a RecursionError, not a ValueError.
DEEP = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"events": ' + DEEP + b"}"


def signed(retailer: Retailer, raw: bytes, stamp: str) -> dict[str, str]:
    digest = native.hmac_sha256(retailer.secrets["native"].encode(), stamp.encode() + b"." + raw).hex()
    return {"Content-Type": "application/json", "X-Porchlight-Signature": f"t={stamp},v1={digest}"}


@pytest.mark.parametrize("stamp", ["²", "1" * 400, "١٧٠٠٠٠٠٠٠٠", "-1", ""])
def test_a_signature_timestamp_that_is_not_plain_ascii_seconds_is_a_401(
    api: Api, retailer: Retailer, stamp: str
) -> None:
    raw = json.dumps({"events": [native_event("e1", "shipped", "2026-11-20T10:00:00+00:00")]}).encode()
    response = api.http.post(f"/v1/webhooks/native/{retailer.id}", headers=signed(retailer, raw, stamp), body=raw)
    assert response.status_code == 401, response.body
    assert response.json_body["error"]["code"] == "invalid_signature"


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_on_the_signed_webhook_is_a_400(api: Api, retailer: Retailer, body: bytes) -> None:
    response = api.native(retailer, body)
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["field"] == "body"


@pytest.mark.parametrize("source", ["easypost", "aftership", "shippo"])
def test_deeply_nested_json_on_the_aggregator_webhooks_is_a_400(api: Api, retailer: Retailer, source: str) -> None:
    from chalicelib.carriers import aftership, easypost

    headers = {"Content-Type": "application/json"}
    path = f"/v1/webhooks/{source}/{retailer.id}"
    if source == "easypost":
        headers["X-Hmac-Signature"] = easypost.sign(retailer.secrets["easypost"], DEEP)
    elif source == "aftership":
        headers["aftership-hmac-sha256"] = aftership.sign(retailer.secrets["aftership"], DEEP)
    else:
        path += f"?token={retailer.secrets['shippo']}"
    response = api.http.post(path, headers=headers, body=DEEP)
    assert response.status_code == 400, response.body


def test_deeply_nested_json_on_the_retailer_api_is_a_400(api: Api, retailer: Retailer) -> None:
    response = api.http.post("/v1/shipments", headers=retailer.auth, body=DEEP)
    assert response.status_code == 400 and response.json_body["error"]["field"] == "body"


def test_a_number_of_thousands_of_digits_is_a_400_that_says_so_not_pythons_advice(api: Api, retailer: Retailer) -> None:
    body = b'{"order_id": "A-1", "quantity": ' + b"9" * 5000 + b"}"
    response = api.http.post("/v1/shipments", headers=retailer.auth, body=body)
    assert response.status_code == 400 and response.json_body["error"]["field"] == "body"
    message = response.json_body["error"]["message"]
    assert "too many digits" in message and "sys." not in message and "int_max_str_digits" not in message


def test_deeply_nested_json_on_the_public_order_lookup_is_a_400(api: Api, retailer: Retailer) -> None:
    headers = {"Content-Type": "application/json"}
    response = api.http.post(f"/v1/track/{retailer.id}", headers=headers, body=DEEP)
    assert response.status_code == 400 and response.json_body["error"]["field"] == "body"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A3", "0x10", "1e3", "9" * 400])
def test_a_page_size_that_is_not_ascii_digits_in_range_is_a_400(api: Api, retailer: Retailer, limit: str) -> None:
    response = api.http.get(f"/v1/shipments?status=shipped&limit={limit}", headers=retailer.auth)
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["field"] == "limit"


@pytest.mark.parametrize("promised", ["9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01", "1000-06-01"])
def test_a_promised_date_outside_any_plausible_delivery_is_a_400(api: Api, retailer: Retailer, promised: str) -> None:
    response = api.register(retailer, promised_date=promised)
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["field"] == "promised_date"


def test_a_promised_date_change_outside_any_plausible_delivery_is_a_400(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    response = api.http.patch(
        f"/v1/shipments/{shipment['id']}", headers=retailer.auth, body=json.dumps({"promised_date": "9999-12-31"})
    )
    assert response.status_code == 400 and response.json_body["error"]["field"] == "promised_date"


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00%2B14:00"])
def test_a_change_feed_start_that_overflows_utc_is_a_400(api: Api, retailer: Retailer, moment: str) -> None:
    response = api.http.get(f"/v1/shipments?changed_since={moment}", headers=retailer.auth)
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["field"] == "changed_since"


def test_a_valid_request_still_works_after_all_that(api: Api, retailer: Retailer) -> None:
    assert api.register(retailer, promised_date="2026-12-24").status_code == 201
    now = int(time.time())
    raw = json.dumps({"events": [native_event("e1", "shipped", "2026-11-20T10:00:00+00:00")]}).encode()
    response = api.http.post(f"/v1/webhooks/native/{retailer.id}", headers=signed(retailer, raw, str(now)), body=raw)
    assert response.status_code == 200 and response.json_body["accepted"] == 1


LONE = "a\ud800b"  # json.dumps writes it as the escape a\ud800b, which Python's parser turns back into a lone half


@pytest.mark.parametrize("field", ["description", "tracking_number", "event_id"])
def test_an_unpaired_surrogate_in_a_scan_is_a_400_naming_the_body_and_stores_nothing(
    api: Api, retailer: Retailer, field: str
) -> None:
    event = native_event("s1", "shipped", "2026-11-20T10:00:00+00:00", tracking_number="1ZSURR0001")
    event[field] = LONE if field != "tracking_number" else "1ZSURR\udfff"
    response = api.native(retailer, {"events": [event]})
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["field"] == "body" and "surrogate" in response.json_body["error"]["message"]
    listed = api.http.get("/v1/shipments?status=shipped", headers=retailer.auth).json_body["shipments"]
    assert listed == []


def test_an_emoji_written_as_a_surrogate_pair_is_one_character_and_is_kept(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer, tracking_number="1ZSURR0002").json_body
    event = native_event("s2", "shipped", "2026-11-20T10:00:00+00:00", tracking_number="1ZSURR0002")
    event["description"] = "Left at door \U0001f4e6"
    raw = json.dumps({"events": [event]}).encode()  # ASCII only: the emoji travels as \ud83d\udce6
    assert b"\\ud83d\\udce6" in raw
    assert api.native(retailer, raw).status_code == 200
    page = api.http.get(f"/t/{shipment['tracking_token']}")
    assert page.status_code == 200 and "Left at door \U0001f4e6" in page.body.decode()


def test_an_unpaired_surrogate_in_an_api_body_is_a_400(api: Api, retailer: Retailer) -> None:
    body = json.dumps(
        {"order_id": "ORD-S", "carrier": "ups", "tracking_number": "1ZSURR0003", "customer": {"name": LONE}}
    )
    response = api.http.post("/v1/shipments", headers=retailer.auth, body=body)
    assert response.status_code == 400 and response.json_body["error"]["field"] == "body"


def test_a_404_for_a_huge_id_does_not_repeat_it_whole(api: Api, retailer: Retailer) -> None:
    response = api.http.get(f"/v1/shipments/shp_{'x' * 9000}", headers=retailer.auth)
    assert 400 <= response.status_code < 500
    assert len(response.json_body["error"]["message"]) <= 500
