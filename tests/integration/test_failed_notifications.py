"""Failed notifications across shipments, and sending one again once support has fixed what made it fail."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import jsonschema

from chalicelib.api.openapi import document
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_notifications import CUSTOMER, NY, notes, register, sendgrid_post, ship, status_callback

INVALID_NUMBER = {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
SMS_ONLY = {"channels": {"shipped": ["sms"], "out_for_delivery": ["sms"]}, "email_fallback": False}


def as_published(body: dict, schema: str) -> dict:
    """The body, once checked against the schema the OpenAPI document publishes for it."""
    jsonschema.validate(body, {"components": document()["components"], "$ref": f"#/components/schemas/{schema}"})
    return body


def failed(api: Api, retailer: Retailer, query: str = "") -> dict:
    response = api.http.get(f"/v1/notifications/failed{query}", headers=retailer.auth)
    assert response.status_code == 200, response.body
    return as_published(response.json_body, "FailedNotificationList")


def retry(api: Api, retailer: Retailer, shipment_id: str, kind: str, channel: str):
    return api.http.post(f"/v1/shipments/{shipment_id}/notifications/{kind}/{channel}/retry", headers=retailer.auth)


def analytics_page(api: Api, retailer: Retailer, query: str = "") -> str:
    login = api.http.post(
        "/analytics/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"api_key": retailer.api_key}),
    )
    cookie = login.headers["Set-Cookie"].split(";")[0]
    return api.http.get(f"/analytics{query}", headers={"Cookie": cookie}).body.decode()


def sms_only(api: Api, retailer: Retailer) -> None:
    assert api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(SMS_ONLY)).status_code == 200


def test_a_text_to_a_wrong_number_is_listed_and_sent_again_after_the_phone_is_corrected(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    sms_only(api, retailer)
    shipment = register(api, retailer, phone="+14155550000")
    providers.capture.fail_next("twilio", 400, INVALID_NUMBER)
    ship(api, retailer, "shipped", "e1")
    noon = local_time(NY, 12)
    assert drain(noon)["deliveries"] == {"failed": 1}

    [listed] = failed(api, retailer)["notifications"]
    assert (listed["kind"], listed["channel"], listed["status"]) == ("shipped", "sms", "failed")
    assert "21211" in listed["reason"] and listed["failed_at"] and listed["manual_retries"] == 0
    assert listed["shipment"]["id"] == shipment["id"] and listed["shipment"]["order_id"] == "ORD-1001"
    assert "customer" not in listed["shipment"]  # the listing names the order, not the shopper
    page = analytics_page(api, retailer)
    assert "Notifications that did not arrive" in page and "ORD-1001" in page and "shipped · sms" in page
    assert "21211" in page and "+14155550000" not in page

    fixed = api.http.patch(
        f"/v1/shipments/{shipment['id']}",
        headers=retailer.auth,
        body=json.dumps({"customer": {"phone": "+14155550123", "sms_consent": True}}),
    )
    assert fixed.status_code == 200
    again = retry(api, retailer, shipment["id"], "shipped", "sms")
    assert again.status_code == 202, again.body
    as_published(again.json_body, "Notification")
    assert again.json_body["status"] == "pending" and again.json_body["manual_retries"] == 1
    assert again.json_body["provider_message_id"] is None
    assert failed(api, retailer)["notifications"] == []  # off the list at once

    assert drain(noon + timedelta(minutes=1))["deliveries"] == {"sent": 1}
    first, second = providers.capture.of("twilio")
    assert first.form["To"] == "+14155550000" and second.form["To"] == "+14155550123"
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["status"] == "sent"
    assert drain(noon + timedelta(minutes=2))["deliveries"] == {}  # sent once, not twice
    assert "Every notification arrived" in analytics_page(api, retailer)
    repeated = retry(api, retailer, shipment["id"], "shipped", "sms")
    assert repeated.status_code == 409 and repeated.json_body["error"]["code"] == "not_failed"


def test_undelivered_texts_and_bounced_emails_are_listed_and_a_late_callback_leaves_the_retry_alone(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer, sms_consent=True, time_zone=NY)
    ship(api, retailer, "shipped", "e1")
    noon = local_time(NY, 12)
    assert drain(noon)["deliveries"] == {"sent": 2}
    sid = notes(api, retailer, shipment["id"])[("shipped", "sms")]["provider_message_id"]
    assert status_callback(api, sid, "undelivered", ErrorCode="30003").status_code == 200
    tags = {"pl_shipment": shipment["id"], "pl_kind": "shipped", "pl_retailer": retailer.id}
    bounce = {"email": "maria@example.com", "event": "bounce", "sg_event_id": "b1", "reason": "550 no such user"}
    assert sendgrid_post(api, providers, [{**bounce, "timestamp": 1795000000, **tags}]).status_code == 200

    listing = failed(api, retailer)["notifications"]
    assert {(n["channel"], n["status"]) for n in listing} == {("sms", "failed"), ("email", "bounced")}
    assert failed(api, retailer, "?channel=email")["notifications"][0]["reason"] == "550 no such user"

    bounced = retry(api, retailer, shipment["id"], "shipped", "email")
    assert bounced.status_code == 409 and bounced.json_body["error"]["code"] == "suppressed"
    assert "PATCH" in bounced.json_body["error"]["message"]
    api.http.patch(
        f"/v1/shipments/{shipment['id']}", headers=retailer.auth, body=json.dumps({"customer": {"email": "m@ok.test"}})
    )
    assert retry(api, retailer, shipment["id"], "shipped", "email").status_code == 202
    assert retry(api, retailer, shipment["id"], "shipped", "sms").status_code == 202
    # Twilio repeats its callback about the first text: it names a message this notification no longer has.
    assert status_callback(api, sid, "undelivered", ErrorCode="30003").status_code == 404
    assert drain(noon + timedelta(minutes=1))["deliveries"] == {"sent": 2}
    assert providers.capture.of("sendgrid")[-1].json["personalizations"][0]["to"] == [{"email": "m@ok.test"}]
    assert failed(api, retailer)["notifications"] == []


def test_a_retry_that_cannot_help_is_refused_with_the_reason(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    sms_only(api, retailer)
    shipment = register(api, retailer, sms_consent=True)
    noon = local_time(NY, 12)
    providers.capture.fail_next("twilio", 400, INVALID_NUMBER, times=4)
    ship(api, retailer, "shipped", "e1")
    drain(noon)
    for attempt in range(3):
        assert retry(api, retailer, shipment["id"], "shipped", "sms").status_code == 202
        assert drain(noon + timedelta(minutes=attempt + 1))["deliveries"] == {"failed": 1}
    spent = retry(api, retailer, shipment["id"], "shipped", "sms")
    assert spent.status_code == 409 and spent.json_body["error"]["code"] == "retry_limit_reached"
    assert failed(api, retailer)["notifications"][0]["manual_retries"] == 3

    stale = api.register(retailer, tracking_number="1ZSTALE", customer={**CUSTOMER, "phone": "+14155550188"})
    stale_id = stale.json_body["id"]
    providers.capture.fail_next("twilio", 400, INVALID_NUMBER)
    ship(api, retailer, "shipped", "s1", tracking_number="1ZSTALE")
    drain(noon + timedelta(minutes=5))
    ship(api, retailer, "out_for_delivery", "s2", "2026-11-20T12:00:00+00:00", tracking_number="1ZSTALE")
    superseded = retry(api, retailer, stale_id, "shipped", "sms")
    assert superseded.status_code == 409 and superseded.json_body["error"]["code"] == "superseded"

    missing = retry(api, retailer, shipment["id"], "delivered", "sms")
    assert missing.status_code == 404 and missing.json_body["error"]["field"] == "kind"
    stranger = api.create_retailer("Other")
    assert retry(api, stranger, shipment["id"], "shipped", "sms").status_code == 404
    assert failed(api, stranger)["notifications"] == []
    assert api.http.post(f"/v1/shipments/{shipment['id']}/notifications/shipped/sms/retry").status_code == 401


def test_the_failed_listing_pages_filters_by_time_and_checks_its_input(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    sms_only(api, retailer)
    noon = local_time(NY, 12)
    for n in range(3):
        api.register(retailer, tracking_number=f"1ZPAGE{n}", customer={**CUSTOMER, "phone": f"+1415555020{n}"})
        providers.capture.fail_next("twilio", 400, INVALID_NUMBER)
        ship(api, retailer, "shipped", f"p{n}", tracking_number=f"1ZPAGE{n}")
        drain(noon + timedelta(minutes=n))
    first = failed(api, retailer, "?limit=2")
    assert [n["shipment"]["tracking_number"] for n in first["notifications"]] == ["1ZPAGE2", "1ZPAGE1"]
    rest = failed(api, retailer, f"?limit=2&cursor={first['next_cursor']}")
    assert [n["shipment"]["tracking_number"] for n in rest["notifications"]] == ["1ZPAGE0"]
    since = (noon + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert len(failed(api, retailer, f"?since={since}")["notifications"]) == 2
    assert failed(api, retailer, "?channel=email")["notifications"] == []

    for query, field in (
        ("?channel=pigeon", "channel"),
        ("?since=yesterday", "since"),
        ("?limit=0", "limit"),
        ("?cursor=bm9wZQ", "cursor"),
    ):
        bad = api.http.get(f"/v1/notifications/failed{query}", headers=retailer.auth)
        assert bad.status_code == 400 and bad.json_body["error"]["field"] == field, query
    stranger = api.create_retailer("Other")
    foreign = api.http.get(f"/v1/notifications/failed?cursor={first['next_cursor']}", headers=stranger.auth)
    assert foreign.status_code == 400  # a cursor from another retailer's listing is refused


def test_a_text_skipped_for_want_of_consent_goes_out_once_the_shopper_gave_it(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    sms_only(api, retailer)
    shipment = register(api, retailer, sms_consent=False)
    ship(api, retailer, "shipped", "e1")
    noon = local_time(NY, 12)
    assert drain(noon)["deliveries"] == {"skipped": 1}
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["reason"] == "no_sms_consent"
    assert failed(api, retailer)["notifications"] == []  # skipped by policy is not a failure
    refused = retry(api, retailer, shipment["id"], "shipped", "sms")
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "no_sms_consent"

    consent = {"customer": {"sms_consent": True}}
    api.http.patch(f"/v1/shipments/{shipment['id']}", headers=retailer.auth, body=json.dumps(consent))
    assert retry(api, retailer, shipment["id"], "shipped", "sms").status_code == 202
    assert drain(noon + timedelta(minutes=1))["deliveries"] == {"sent": 1}
    assert len(providers.capture.of("twilio")) == 1
