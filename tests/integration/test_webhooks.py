"""Carrier webhooks through chalice.test.Client with moto: verification, normalisation, idempotency, bad input."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import boto3

from tests.conftest import Api, Retailer
from tests.payloads import aftership_tracking_update, easypost_tracker_event, native_event, shippo_track_updated

JOURNEY = [
    native_event("e1", "processed", "2026-11-20T09:00:00+00:00"),
    native_event("e2", "shipped", "2026-11-20T18:30:00-05:00"),
    native_event("e3", "unknown", "2026-11-21T12:00:00+00:00", description="Scan at sort facility"),
    native_event("e4", "out_for_delivery", "2026-11-22T08:10:00+01:00", driver={"name": "Sam", "phone": "+15550001"}),
    native_event(
        "e5",
        "delivered",
        "2026-11-22T15:45:00+00:00",
        proof_of_delivery={"photo_url": "https://pod.example/p.jpg", "recipient_name": "M. Garcia"},
    ),
]


def milestone_kinds(detail: dict) -> set[str]:
    """Notification kinds other than the post-delivery survey (which depends on how long ago delivery was)."""
    return {n["kind"] for n in detail["notifications"] if n["kind"] != "survey"}


def partition(shipment_id: str) -> list[dict]:
    items = boto3.client("dynamodb").query(
        TableName="porchlight-test",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"SHIP#{shipment_id}"}},
    )["Items"]
    return sorted(items, key=lambda item: item["sk"]["S"])


def stored(api: Api, retailer: Retailer, shipment_id: str) -> tuple[dict, list]:
    detail = api.shipment(retailer, shipment_id).json_body
    for volatile in ("updated_at",):
        detail.pop(volatile)
    return detail, [item["sk"]["S"] for item in partition(shipment_id)]


def test_native_webhook_moves_shipment_and_writes_events_and_outbox(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    response = api.native(retailer, {"events": JOURNEY[:2]})
    assert response.status_code == 200
    assert response.json_body == {"accepted": 2, "duplicates": 0}
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["status"] == "shipped" and detail["status_label"] == "Shipped"
    assert [e["status"] for e in detail["events"]] == ["processed", "shipped"]
    assert detail["events"][1]["occurred_at"] == "2026-11-20T23:30:00+00:00"  # offsets become UTC
    assert {(n["kind"], n["channel"]) for n in detail["notifications"]} == {("shipped", "sms"), ("shipped", "email")}


def test_replaying_a_webhook_three_times_stores_the_same_state(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    first = api.native(retailer, {"events": JOURNEY})
    assert first.json_body == {"accepted": 5, "duplicates": 0}
    once = stored(api, retailer, shipment["id"])
    for _ in range(3):
        again = api.native(retailer, {"events": JOURNEY})
        assert again.status_code == 200 and again.json_body == {"accepted": 0, "duplicates": 5}
    assert stored(api, retailer, shipment["id"]) == once


def test_out_of_order_history_gives_the_same_state_as_in_order(api: Api) -> None:
    in_order, shuffled = api.create_retailer("A"), api.create_retailer("B")
    first = api.register(in_order).json_body
    second = api.register(shuffled).json_body
    for event in JOURNEY:
        api.native(in_order, {"events": [event]})
    for index in (4, 1, 3, 0, 2):
        api.native(shuffled, {"events": [JOURNEY[index]]})
    a = api.shipment(in_order, first["id"]).json_body
    b = api.shipment(shuffled, second["id"]).json_body
    for key in ("status", "events", "driver", "proof_of_delivery", "eta"):
        assert a[key] == b[key], key
    assert a["status"] == "delivered"
    assert a["proof_of_delivery"]["recipient_name"] == "M. Garcia"
    # In order, each milestone was the current one when it arrived; shuffled, only delivered ever was.
    assert milestone_kinds(b) == {"delivered"}


def test_out_for_delivery_arriving_after_delivered_never_notifies(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    api.native(retailer, {"events": [JOURNEY[4]]})
    late = api.native(retailer, {"events": [JOURNEY[3]]})
    assert late.json_body == {"accepted": 1, "duplicates": 0}
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["status"] == "delivered"
    assert milestone_kinds(detail) == {"delivered"}
    assert detail["driver"] == {"name": "Sam", "phone": "+15550001"}  # facts still fold in


def test_backfilled_history_notifies_only_the_current_milestone(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    api.native(retailer, {"events": JOURNEY[:4]})
    kinds = {n["kind"] for n in api.shipment(retailer, shipment["id"]).json_body["notifications"]}
    assert kinds == {"out_for_delivery"}


def test_unknown_scan_never_overwrites_a_known_milestone(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    api.native(retailer, {"events": [JOURNEY[1]]})
    api.native(retailer, {"events": [native_event("late-unknown", "unknown", "2026-11-23T00:00:00+00:00")]})
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["status"] == "shipped"
    assert [e["status"] for e in detail["events"]] == ["shipped", "unknown"]


def test_scan_before_registration_is_kept_and_claimed_later(api: Api, retailer: Retailer) -> None:
    assert api.native(retailer, {"events": JOURNEY[:4]}).json_body == {"accepted": 4, "duplicates": 0}
    found = api.find(retailer, "1Z999AA10123456784").json_body["shipments"]
    assert len(found) == 1 and found[0]["claimed"] is False and found[0]["status"] == "out_for_delivery"
    assert api.shipment(retailer, found[0]["id"]).json_body["notifications"] == []  # nobody to tell yet
    registered = api.register(retailer)
    assert registered.status_code == 201
    assert registered.json_body["id"] == found[0]["id"]
    assert registered.json_body["status"] == "out_for_delivery"
    detail = api.shipment(retailer, found[0]["id"]).json_body
    assert detail["claimed"] is True and len(detail["events"]) == 4
    assert {(n["kind"], n["channel"]) for n in detail["notifications"]} == {
        ("out_for_delivery", "sms"),
        ("out_for_delivery", "email"),
    }
    assert api.register(retailer).status_code == 200  # claiming twice is a plain lookup


def test_bad_signatures_get_401_and_change_nothing(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    before = stored(api, retailer, shipment["id"])
    raw = json.dumps({"events": JOURNEY}).encode()
    url = f"/v1/webhooks/native/{retailer.id}"
    from chalicelib.carriers.native import sign

    # Each header is signed just before its request: under a loaded CI the earlier requests take seconds, and a
    # signature dated 301 s ahead would drift back inside the tolerance. The future case keeps a margin for the
    # clock moving during the request; the exact 300 s bounds are unit-tested with a fixed clock (test_adapters).
    attempts: list[Callable[[int], dict[str, str]]] = [
        lambda now: {},
        lambda now: {"X-Porchlight-Signature": "garbage"},
        lambda now: {"X-Porchlight-Signature": sign("wrong-secret-0123456789", raw, now)},
        lambda now: {"X-Porchlight-Signature": sign(retailer.secrets["native"], raw, now - 301)},  # stale
        lambda now: {"X-Porchlight-Signature": sign(retailer.secrets["native"], raw, now + 310)},  # from the future
        lambda now: {"X-Porchlight-Signature": sign(retailer.secrets["native"], raw + b" ", now)},  # body changed
    ]
    for signed in attempts:
        headers = signed(int(time.time()))
        response = api.http.post(url, headers={"Content-Type": "application/json", **headers}, body=raw)
        assert response.status_code == 401, headers
        assert response.json_body["error"]["code"] == "invalid_signature"
    assert stored(api, retailer, shipment["id"]) == before


def test_signature_header_name_is_case_insensitive_and_checked_on_raw_bytes(api: Api, retailer: Retailer) -> None:
    from chalicelib.carriers.native import sign

    raw = b'{ "events" :[' + json.dumps(JOURNEY[0]).encode() + b"]}\r\n"  # odd spacing survives untouched
    header = sign(retailer.secrets["native"], raw, int(time.time()))
    response = api.http.post(
        f"/v1/webhooks/native/{retailer.id}",
        headers={"content-type": "application/json", "x-porchlight-signature": header},
        body=raw,
    )
    assert response.status_code == 200 and response.json_body["accepted"] == 1


def test_unknown_retailer_gets_the_same_401_as_a_bad_signature(api: Api, retailer: Retailer) -> None:
    raw = json.dumps({"events": JOURNEY}).encode()
    from chalicelib.carriers.native import sign

    headers = {"Content-Type": "application/json", "X-Porchlight-Signature": sign("x" * 20, raw, int(time.time()))}
    unknown = api.http.post("/v1/webhooks/native/rt_doesnotexist", headers=headers, body=raw)
    bad = api.http.post(f"/v1/webhooks/native/{retailer.id}", headers=headers, body=raw)
    assert unknown.status_code == bad.status_code == 401
    assert unknown.json_body["error"]["code"] == bad.json_body["error"]["code"] == "invalid_signature"
    assert unknown.json_body == bad.json_body  # the words too: a mismatch either way
    # a stale timestamp and a missing header read the same whether the retailer exists or not
    stale = {**headers, "X-Porchlight-Signature": sign("x" * 20, raw, int(time.time()) - 3600)}
    for sent in (stale, {"Content-Type": "application/json"}):
        unknown = api.http.post("/v1/webhooks/native/rt_doesnotexist", headers=sent, body=raw)
        known = api.http.post(f"/v1/webhooks/native/{retailer.id}", headers=sent, body=raw)
        assert unknown.status_code == known.status_code == 401 and unknown.json_body == known.json_body


def test_unknown_source_is_404_naming_the_source(api: Api, retailer: Retailer) -> None:
    response = api.http.post(
        f"/v1/webhooks/fedex/{retailer.id}", headers={"Content-Type": "application/json"}, body="{}"
    )
    assert response.status_code == 404
    assert response.json_body["error"] == {
        "code": "unknown_source",
        "message": "unknown webhook source 'fedex'",
        "field": "source",
    }


def test_body_over_one_megabyte_is_413(api: Api, retailer: Retailer) -> None:
    big = {"events": [native_event("e1", "shipped", "2026-11-20T09:00:00+00:00", description="x" * (1024 * 1024))]}
    response = api.native(retailer, big)
    assert response.status_code == 413
    assert response.json_body["error"]["code"] == "payload_too_large"


def test_malformed_bodies_get_400_naming_the_field_and_store_nothing(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    api.native(retailer, {"events": JOURNEY[:1]})
    before = stored(api, retailer, shipment["id"])
    good = native_event("ok", "shipped", "2026-11-20T10:00:00+00:00")
    cases = [
        (b"{not json", "body"),
        (b"[1, 2]", "body"),
        ({"events": []}, "events"),
        ({"events": "nope"}, "events"),
        ({"events": [good, {**good, "event_id": "x", "status": "teleported"}]}, "events[1].status"),
        ({"events": [{**good, "occurred_at": "yesterday"}]}, "events[0].occurred_at"),
        ({"events": [{**good, "occurred_at": "2026-11-20T10:00:00"}]}, "events[0].occurred_at"),
        ({"events": [{k: v for k, v in good.items() if k != "tracking_number"}]}, "events[0].tracking_number"),
        ({"events": [{**good, "carrier": 7}]}, "events[0].carrier"),
        ({"events": [{**good, "location": "Oakland"}]}, "events[0].location"),
    ]
    for body, field in cases:
        response = api.native(retailer, body)
        assert response.status_code == 400, (body, response.body)
        assert response.json_body["error"]["field"] == field
        assert response.json_body["error"]["code"] == "invalid_payload"
    assert stored(api, retailer, shipment["id"]) == before


def test_easypost_tracker_history_is_normalised(api: Api, retailer: Retailer) -> None:
    body = easypost_tracker_event(
        [
            ("pre_transit", "label_created", "2026-11-20T08:00:00Z", "Shipping label created", ""),
            ("in_transit", "arrived_at_facility", "2026-11-20T20:00:00Z", "Arrived at USPS facility", "OAKLAND"),
            ("in_transit", "delayed", "2026-11-21T06:00:00Z", "Delayed by weather", "OAKLAND"),
            ("out_for_delivery", "out_for_delivery", "2026-11-22T07:30:00", "Out for delivery", "BERKELEY"),
        ]
    )
    shipment = api.register(retailer, carrier="usps", tracking_number="9400110898825022579493").json_body
    response = api.easypost(retailer, body)
    assert response.json_body == {"accepted": 4, "duplicates": 0}
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert [e["status"] for e in detail["events"]] == ["processed", "shipped", "shipped", "out_for_delivery"]
    assert detail["events"][2]["delayed"] is True
    assert detail["events"][3]["time_zone_unknown"] is True  # no offset given: read as UTC and flagged
    assert detail["eta"] == {"end": "2026-11-25T00:00:00+00:00"}
    assert api.easypost(retailer, body).json_body == {"accepted": 0, "duplicates": 4}


def test_easypost_signature_uses_nfkd_secret_and_rejects_tampering(api: Api, retailer: Retailer) -> None:
    import hashlib
    import hmac
    import unicodedata

    secret = "se\u0301cret-with-accents-ok"  # decomposed é: EasyPost normalises with NFKD before signing
    api.http.put(
        "/v1/integrations/easypost", headers=retailer.auth, body=json.dumps({"secret": "sécret-with-accents-ok"})
    )
    raw = json.dumps(
        easypost_tracker_event([("in_transit", "in_transit", "2026-11-20T20:00:00Z", "Moving", "")])
    ).encode()
    digest = hmac.new(unicodedata.normalize("NFKD", secret).encode(), raw, hashlib.sha256).hexdigest()
    url = f"/v1/webhooks/easypost/{retailer.id}"
    ok = api.http.post(url, headers={"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}, body=raw)
    assert ok.status_code == 200 and ok.json_body["accepted"] == 1
    tampered = api.http.post(url, headers={"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}, body=raw[:-1] + b" }")
    assert tampered.status_code == 401


def test_easypost_non_tracker_events_are_acknowledged_without_scans_and_say_so(api: Api, retailer: Retailer) -> None:
    body = easypost_tracker_event([], description="batch.created")
    assert api.easypost(retailer, body).json_body == {
        "accepted": 0,
        "duplicates": 0,
        "ignored": 1,
        "ignored_reasons": [{"reason": "not_a_tracking_event", "detail": "batch.created"}],
    }


def test_aftership_checkpoints_with_and_without_offsets(api: Api, retailer: Retailer) -> None:
    body = aftership_tracking_update(
        [
            ("InfoReceived", "InfoReceived_001", "2026-11-20T08:00:00", "Shipment information sent to FedEx", ""),
            ("InTransit", "InTransit_002", "2026-11-20T19:27:00-08:00", "Picked up", "OAKLAND"),
            ("Exception", "Exception_005", "2026-11-21T09:00:00-08:00", "Delay: weather", "SACRAMENTO"),
            ("AttemptFail", "AttemptFail_001", "2026-11-22T16:00:00-08:00", "Customer not available", "BERKELEY"),
        ],
        signed_by=None,
    )
    shipment = api.register(retailer, carrier="FedEx", tracking_number="794644790132").json_body
    assert api.aftership(retailer, body).json_body == {"accepted": 4, "duplicates": 0}
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["status"] == "attempt_failed"
    statuses = [(e["status"], e["delayed"], e["time_zone_unknown"]) for e in detail["events"]]
    assert statuses == [
        ("processed", False, True),
        ("shipped", False, False),
        ("unknown", True, False),
        ("attempt_failed", False, False),
    ]
    assert detail["events"][1]["occurred_at"] == "2026-11-21T03:27:00+00:00"
    assert detail["eta"] == {"end": "2026-11-25T00:00:00+00:00"}


def test_aftership_return_to_sender_and_delay_notifications(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer, carrier="fedex", tracking_number="794644790132").json_body
    delayed = aftership_tracking_update(
        [
            ("InTransit", "InTransit_002", "2026-11-20T19:27:00-08:00", "Picked up", "OAKLAND"),
            ("Exception", "Exception_005", "2026-11-21T09:00:00-08:00", "Delay: weather", "SACRAMENTO"),
        ]
    )
    api.aftership(retailer, delayed)
    kinds = {n["kind"] for n in api.shipment(retailer, shipment["id"]).json_body["notifications"]}
    assert kinds == {"shipped"}  # one delivery that brings a new milestone and a delay tells the milestone (D30)
    assert any(e["delayed"] for e in api.shipment(retailer, shipment["id"]).json_body["events"])
    returned = aftership_tracking_update(
        [("Delivered", "Delivered_001", "2026-11-28T10:00:00-08:00", "Delivered to sender", "LAS VEGAS")],
        return_to_sender=True,
    )
    api.aftership(retailer, returned)
    assert api.shipment(retailer, shipment["id"]).json_body["status"] == "returned"


def test_aftership_signature_is_base64_hmac(api: Api, retailer: Retailer) -> None:
    raw = json.dumps(aftership_tracking_update([])).encode()
    url = f"/v1/webhooks/aftership/{retailer.id}"
    from chalicelib.carriers.aftership import sign

    assert (
        api.http.post(url, headers={"aftership-hmac-sha256": sign("wrong-secret-0000", raw)}, body=raw).status_code
        == 401
    )
    good = api.http.post(url, headers={"AfterShip-HMAC-SHA256": sign(retailer.secrets["aftership"], raw)}, body=raw)
    assert good.status_code == 200


def test_shippo_history_with_repeated_current_status_is_deduplicated(api: Api, retailer: Retailer) -> None:
    body = shippo_track_updated(
        [
            ("PRE_TRANSIT", "information_received", "2026-11-20T08:00:00Z", "Label created", ""),
            ("TRANSIT", "package_accepted", "2026-11-20T20:00:00Z", "Accepted at USPS origin", "LAS VEGAS"),
            ("TRANSIT", "out_for_delivery", "2026-11-22T07:00:00Z", "Out for delivery", "SAN FRANCISCO"),
            ("DELIVERED", "delivered", "2026-11-22T13:05:00Z", "Delivered, in mailbox", "SAN FRANCISCO"),
        ]
    )
    shipment = api.register(retailer, carrier="usps", tracking_number="92055901755477000271990251").json_body
    assert api.shippo(retailer, body).json_body == {"accepted": 4, "duplicates": 1}
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert [e["status"] for e in detail["events"]] == ["processed", "shipped", "out_for_delivery", "delivered"]


def test_shippo_token_must_match(api: Api, retailer: Retailer) -> None:
    raw = json.dumps(shippo_track_updated([("TRANSIT", "", "2026-11-20T20:00:00Z", "Moving", "")])).encode()
    for query in ("", "?token=", "?token=wrong-token-value-123"):
        response = api.http.post(f"/v1/webhooks/shippo/{retailer.id}{query}", headers={}, body=raw)
        assert response.status_code == 401, query


def test_webhook_outcomes_are_counted_as_metrics(api: Api, retailer: Retailer) -> None:
    from chalicelib import observability

    observability.emitted.clear()
    api.native(retailer, {"events": [native_event("m1", "shipped", "2026-11-20T10:00:00+00:00")]})
    api.native(retailer, {"events": JOURNEY[:1]}, secret="wrong-secret-0123456789")
    api.http.post(f"/v1/webhooks/fedex/{retailer.id}", headers={"Content-Type": "application/json"}, body="{}")
    assert observability.emitted["WebhooksAccepted|source=native"] == 1
    assert observability.emitted["ScansAccepted|source=native"] == 1
    assert observability.emitted["WebhooksRejected|reason=invalid_signature,source=native"] == 1
    assert observability.emitted["WebhooksRejected|reason=unknown_source,source=unknown"] == 1
