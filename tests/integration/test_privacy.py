"""Data retention by TTL and complete erasure of a shopper's data on the retailer's request."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import boto3

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time, reset_channels
from tests.integration.test_relay import DRIVER_1, SHOPPERS, out_for_delivery, text
from tests.payloads import native_event


def everything() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="porchlight-test")["Items"]


def test_every_shipment_item_expires_after_the_retention_period(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    api.native(retailer, {"events": [native_event("e1", "shipped", "2026-11-20T10:00:00+00:00")]})
    items = [i for i in everything() if i["pk"]["S"] == f"SHIP#{shipment['id']}"]
    assert {i["sk"]["S"].split("#")[0] for i in items} == {"STATE", "EVENT", "OUTBOX", "LISTING", "CHANGES"}
    items += [i for i in everything() if i["sk"]["S"] == f"SHIP#{shipment['id']}"]  # the order-number lookup entry
    assert {i["pk"]["S"].split("#")[0] for i in items} == {"SHIP", "ORDER"}
    now = datetime.now(UTC).timestamp()
    for item in items:
        expires = int(item["expires_at"]["N"])
        assert 179 * 86400 < expires - now < 181 * 86400, item["sk"]


def test_erasing_a_shipment_removes_everything_the_shopper_left(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    os.environ["TWILIO_RELAY_NUMBERS"] = "+15005550101"
    reset_channels()
    try:
        shipment = out_for_delivery(api, retailer, "ann", DRIVER_1)
        drain(datetime.now(UTC) + timedelta(seconds=2))
        number = api.http.get(f"/v1/shipments/{shipment['id']}/chat", headers=retailer.auth).json_body["session"][
            "relay_number"
        ]
        text(api, SHOPPERS["ann"], number, "Side door please, Ann Example at 12 Elm St")
        text(api, SHOPPERS["ann"], "+15005550006", "HELP")
        api.native(
            retailer,
            {
                "events": [
                    native_event(
                        "d1",
                        "delivered",
                        (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
                        tracking_number="1ZRELAYANN01",
                    )
                ]
            },
        )
        drain(datetime.now(UTC) + timedelta(seconds=2))
        other = api.register(
            retailer, tracking_number="1ZOTHER", customer={"name": "Zed", "phone": "+14155550999"}
        ).json_body
        before = json.dumps(everything())
        assert SHOPPERS["ann"] in before and "12 Elm St" in before

        other_retailer = api.create_retailer("Other")
        assert api.http.delete(f"/v1/shipments/{shipment['id']}", headers=other_retailer.auth).status_code == 404
        erased = api.http.delete(f"/v1/shipments/{shipment['id']}", headers=retailer.auth)
        assert erased.status_code == 200 and erased.json_body["deleted"]["shipment_items"] > 5

        assert api.shipment(retailer, shipment["id"]).status_code == 404
        assert api.http.get(f"/t/{shipment['tracking_token']}").status_code == 404
        remaining = everything()
        dump = json.dumps(remaining)
        assert "12 Elm St" not in dump and "Ann Example" not in dump and shipment["id"] not in dump
        # Only the consent record (a STOP must keep being honoured) may still name the phone; there is none here.
        assert SHOPPERS["ann"] not in dump
        assert api.shipment(retailer, other["id"]).status_code == 200  # nothing else touched
        assert api.http.delete(f"/v1/shipments/{shipment['id']}", headers=retailer.auth).status_code == 404
    finally:
        os.environ.pop("TWILIO_RELAY_NUMBERS", None)
        reset_channels()


def test_erasure_finds_every_unsubscribe_link_even_of_emails_that_never_arrived(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from tests.integration.test_notifications import NY, register, ship
    from tests.integration.test_surveys import delivered_shipment

    email = "erase.me@example.com"
    shipment = register(api, retailer, phone=None, email=email)
    noon = local_time(NY, 12)
    providers.capture.fail_next("sendgrid", 503, {"errors": [{"message": "unavailable"}]})
    ship(api, retailer, "shipped", "e1")
    assert drain(noon)["deliveries"] == {"retry": 1}
    assert drain(noon + timedelta(minutes=2))["deliveries"] == {"sent": 1}
    providers.capture.fail_next("sendgrid", 400, {"errors": [{"message": "does not contain a valid address"}]})
    ship(api, retailer, "out_for_delivery", "e2", "2026-11-20T11:00:00+00:00")
    assert drain(noon + timedelta(minutes=3))["deliveries"] == {"failed": 1}
    mails = providers.capture.of("sendgrid")
    links = {m.json["headers"]["List-Unsubscribe"] for m in mails}
    assert len(mails) == 3 and len(links) == 2  # a retry carries the link of its first attempt
    surveyed = delivered_shipment(api, retailer, 7, phone=None, email=email)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    assert any(m.json["subject"].startswith("How was your delivery?") for m in providers.capture.of("sendgrid"))

    for erased in (shipment, surveyed):
        assert api.http.delete(f"/v1/shipments/{erased['id']}", headers=retailer.auth).status_code == 200
    assert email not in json.dumps(everything())
