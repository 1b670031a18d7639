"""Aggregators' own tracking-level status is a scan, and a webhook that yields nothing says so (DESIGN 3.1).

Every body here is one the aggregator published (tests/fixtures/aggregators/SOURCES.md says where from).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Api, Retailer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aggregators"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def milestone_kinds(detail: dict) -> set[str]:
    return {n["kind"] for n in detail["notifications"] if n["kind"] != "survey"}


def test_aftership_tracking_with_no_checkpoints_but_a_delivered_tag_lands_delivered(
    api: Api, retailer: Retailer
) -> None:
    body = fixture("aftership_sdk_delivered_no_checkpoints.json")
    first = api.aftership(retailer, body)
    assert first.status_code == 200
    assert first.json_body == {"accepted": 1, "duplicates": 0}
    # Nobody registered it yet: the scan is kept on an unclaimed shipment, in the tag's milestone.
    found = api.find(retailer, "111111111111").json_body["shipments"]
    assert len(found) == 1 and found[0]["claimed"] is False and found[0]["status"] == "delivered"
    detail = api.shipment(retailer, found[0]["id"]).json_body
    (event,) = detail["events"]
    assert event["status"] == "delivered" and event["carrier_status"] == "Delivered_001"
    assert event["occurred_at"] == "2018-08-17T05:10:46+00:00"  # the tracking's own updated_at
    assert detail["proof_of_delivery"] == {"recipient_name": "..KOSUTOKO"}  # signed_by joins the delivered scan
    # A replay is the same scan, and claiming it plans the delivered notice.
    assert api.aftership(retailer, body).json_body == {"accepted": 0, "duplicates": 1}
    registered = api.register(retailer, carrier="fedex", tracking_number="111111111111")
    assert registered.status_code == 201 and registered.json_body["status"] == "delivered"
    detail = api.shipment(retailer, found[0]["id"]).json_body
    assert {(n["kind"], n["channel"]) for n in detail["notifications"] if n["kind"] != "survey"} == {
        ("delivered", "sms"),
        ("delivered", "email"),
    }


def test_aftership_registered_shipment_is_told_when_only_the_tag_says_delivered(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer, carrier="fedex", tracking_number="111111111111").json_body
    assert api.aftership(retailer, fixture("aftership_sdk_delivered_no_checkpoints.json")).json_body["accepted"] == 1
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["status"] == "delivered"
    assert milestone_kinds(detail) == {"delivered"}


def test_aftership_history_that_agrees_with_its_tag_gets_no_extra_scan(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer, carrier="fedex", tracking_number="111111111111").json_body
    assert api.aftership(retailer, fixture("aftership_sdk_delivered.json")).json_body == {
        "accepted": 14,
        "duplicates": 0,
    }
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["status"] == "delivered" and len(detail["events"]) == 14
    assert detail["events"][-1]["occurred_at"] == "2018-07-25T01:10:00+00:00"  # the courier's own delivery scan


def test_easypost_docs_tracker_delivered_with_an_older_looking_history_ends_delivered(
    api: Api, retailer: Retailer
) -> None:
    # EasyPost's reference example: status delivered, its one detail a pre_transit scan dated after updated_at.
    body = fixture("easypost_docs_tracker_delivered.json")
    shipment = api.register(retailer, carrier="UPS", tracking_number="EZ4000000004").json_body
    assert api.easypost(retailer, body).json_body == {"accepted": 2, "duplicates": 0}
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["status"] == "delivered"
    assert [(e["status"], e["occurred_at"]) for e in detail["events"]] == [
        ("processed", "2014-11-21T14:24:00+00:00"),
        ("delivered", "2014-11-21T14:24:00+00:00"),  # never before the newest scan it summarises
    ]
    assert detail["proof_of_delivery"]["recipient_name"] == "John Tester"
    assert milestone_kinds(detail) == {"delivered"}
    assert api.easypost(retailer, body).json_body == {"accepted": 0, "duplicates": 2}


def test_shippo_dashboard_test_webhook_with_a_null_data_carrier_is_accepted(api: Api, retailer: Retailer) -> None:
    response = api.shippo(retailer, fixture("shippo_dashboard_test_webhook.json"))
    assert response.status_code == 200, response.json_body
    # Four history entries; tracking_status repeats the delivered one (a copy with its own object_id) and adds nothing.
    assert response.json_body == {"accepted": 4, "duplicates": 0}
    (found,) = api.find(retailer, "SHIPPO_DELIVERED").json_body["shipments"]
    assert found["carrier"] == "shippo" and found["status"] == "delivered"
    detail = api.shipment(retailer, found["id"]).json_body
    assert [e["status"] for e in detail["events"]] == ["unknown", "shipped", "exception", "delivered"]


def test_accepted_webhooks_that_yield_nothing_say_why_and_are_listed_for_the_retailer(
    api: Api, retailer: Retailer
) -> None:
    from chalicelib import observability

    observability.emitted.clear()
    batch = api.easypost(retailer, fixture("easypost_docs_batch_created.json"))
    assert batch.status_code == 200
    assert observability.emitted["WebhooksIgnored|source=easypost"] == 1
    assert batch.json_body == {
        "accepted": 0,
        "duplicates": 0,
        "ignored": 1,
        "ignored_reasons": [{"reason": "not_a_tracking_event", "detail": "batch.created"}],
    }
    pending = api.aftership(retailer, fixture("aftership_sdk_pending.json"))
    assert pending.status_code == 200
    assert pending.json_body["accepted"] == 0 and pending.json_body["ignored"] == 1
    assert pending.json_body["ignored_reasons"] == [
        {"reason": "no_scans", "detail": "tag Pending", "carrier": "fedex", "tracking_number": "1111111111111"}
    ]
    assert api.find(retailer, "1111111111111").json_body["shipments"] == []  # nothing stored as a shipment

    listed = api.http.get("/v1/webhooks/ignored", headers=retailer.auth)
    assert listed.status_code == 200
    entries = listed.json_body["ignored"]
    assert [(e["source"], e["reasons"][0]["reason"]) for e in entries] == [
        ("aftership", "no_scans"),  # newest first
        ("easypost", "not_a_tracking_event"),
    ]
    assert all(e["received_at"] and len(e["body_sha256"]) == 16 for e in entries)
    assert listed.json_body["next_cursor"] is None

    first = api.http.get("/v1/webhooks/ignored?limit=1", headers=retailer.auth).json_body
    assert [e["source"] for e in first["ignored"]] == ["aftership"] and first["next_cursor"]
    rest = api.http.get(f"/v1/webhooks/ignored?limit=1&cursor={first['next_cursor']}", headers=retailer.auth)
    assert [e["source"] for e in rest.json_body["ignored"]] == ["easypost"]


def test_ignored_webhooks_are_private_to_their_retailer(api: Api, retailer: Retailer) -> None:
    api.easypost(retailer, fixture("easypost_docs_batch_created.json"))
    other = api.create_retailer("Other")
    assert api.http.get("/v1/webhooks/ignored", headers=other.auth).json_body == {"ignored": [], "next_cursor": None}
    # Another retailer's cursor is refused, not followed.
    api.easypost(retailer, fixture("easypost_docs_batch_created.json"))
    mine = api.http.get("/v1/webhooks/ignored?limit=1", headers=retailer.auth).json_body
    stolen = api.http.get(f"/v1/webhooks/ignored?cursor={mine['next_cursor']}", headers=other.auth)
    assert stolen.status_code == 400 and stolen.json_body["error"]["field"] == "cursor"
    assert api.http.get("/v1/webhooks/ignored").status_code == 401
    assert api.http.get("/v1/webhooks/ignored?limit=0", headers=retailer.auth).status_code == 400


def test_a_webhook_with_scans_writes_nothing_to_the_ignored_listing(api: Api, retailer: Retailer) -> None:
    api.aftership(retailer, fixture("aftership_sdk_delivered.json"))
    assert api.http.get("/v1/webhooks/ignored", headers=retailer.auth).json_body["ignored"] == []


def test_a_lagging_aftership_tag_never_holds_back_the_delivered_notice_whatever_the_order(
    api: Api, retailer: Retailer
) -> None:
    from tests.payloads import aftership_tracking_update

    in_transit = ("InTransit", "InTransit_002", "2026-11-22T10:00:00+00:00", "In transit", "OAKLAND")
    delivered = ("Delivered", "Delivered_001", "2026-11-22T11:00:00+00:00", "Delivered", "BERKELEY")
    # The tag lags behind: "out for delivery" updated at 12:00 over a 10:00 in-transit checkpoint.
    lagging = aftership_tracking_update([in_transit])
    lagging["msg"].update(tag="OutForDelivery", subtag="OutForDelivery_001", updated_at="2026-11-22T12:00:00+00:00")
    current = aftership_tracking_update([in_transit, delivered])
    for number, order in (("794644790132", [lagging, current]), ("794644790133", [current, lagging])):
        shipment = api.register(retailer, carrier="fedex", tracking_number=number).json_body
        for body in order:
            body = json.loads(json.dumps(body))
            body["msg"]["tracking_number"] = number
            assert api.aftership(retailer, body).status_code == 200
        detail = api.shipment(retailer, shipment["id"]).json_body
        assert detail["status"] == "delivered", order
        assert "delivered" in milestone_kinds(detail)
