"""Driver chat relay through the public routes: sessions, routing on a number pool, limits, STOP, page chat."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.simulator import daytime_zone
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, reset_channels, twilio_headers
from tests.payloads import native_event

RELAY_A, RELAY_B = "+15005550101", "+15005550102"
DRIVER_1, DRIVER_2 = "+14155551001", "+14155551002"
SHOPPERS = {"ann": "+14155552001", "bob": "+14155552002", "cat": "+14155552003"}


@pytest.fixture
def relay(providers: Providers) -> Providers:
    os.environ["TWILIO_RELAY_NUMBERS"] = f"{RELAY_A},{RELAY_B}"
    reset_channels()
    yield providers
    os.environ.pop("TWILIO_RELAY_NUMBERS", None)
    os.environ.pop("RELAY_GRACE_MINUTES", None)
    reset_channels()


def soon() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=2)


def out_for_delivery(
    api: Api, retailer: Retailer, shopper: str, driver: str, driver_name: str = "Sam Rivera", order: str = ""
) -> dict:
    tn = f"1ZRELAY{shopper.upper()}{driver[-2:]}"
    created = api.register(
        retailer,
        order_id=order or f"ORD-{shopper.upper()}{driver[-2:]}",
        tracking_number=tn,
        customer={
            "name": f"{shopper.title()} Example",
            "phone": SHOPPERS[shopper],
            "sms_consent": True,
            "time_zone": daytime_zone(),
        },
    ).json_body
    event = native_event(
        f"ofd-{tn}",
        "out_for_delivery",
        "2026-11-20T10:00:00+00:00",
        tracking_number=tn,
        driver={"name": driver_name, "phone": driver},
    )
    assert api.native(retailer, {"events": [event]}).status_code == 200
    return created


def text(api: Api, sender: str, to: str, body: str, **extra: str):
    params = {
        "MessageSid": "SM" + os.urandom(16).hex(),
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    return api.http.post(
        "/v1/twilio/inbound", headers=twilio_headers("/v1/twilio/inbound", params), body=urlencode(params)
    )


def sent_to(providers: Providers, phone: str) -> list[dict]:
    return [r.form for r in providers.capture.of("twilio") if r.form["To"] == phone]


def chat(api: Api, retailer: Retailer, shipment_id: str) -> dict:
    return api.http.get(f"/v1/shipments/{shipment_id}/chat", headers=retailer.auth).json_body


def test_session_opens_and_messages_flow_both_ways_without_numbers(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    shipment = out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    [intro] = sent_to(relay, SHOPPERS["ann"])[-1:]
    number = intro["From"]
    assert number in (RELAY_A, RELAY_B) and "Sam is bringing order" in intro["Body"]
    assert text(api, SHOPPERS["ann"], number, "I'm at the back door").status_code == 200
    drain(soon())
    notice, to_driver = sent_to(relay, DRIVER_1)
    assert notice["From"] == number and "a customer chat opened for order ORD-ANN01" in notice["Body"]
    assert to_driver["From"] == number and to_driver["Body"] == "[ORD-ANN01] Customer: I'm at the back door"
    assert SHOPPERS["ann"] not in to_driver["Body"]
    text(api, DRIVER_1, number, "Coming round now")
    drain(soon())
    reply = sent_to(relay, SHOPPERS["ann"])[-1]
    assert reply["From"] == number and reply["Body"] == "Sam: Coming round now" and DRIVER_1 not in reply["Body"]
    transcript = chat(api, retailer, shipment["id"])
    assert transcript["session"]["relay_number"] == number and transcript["session"]["open"] is True
    assert [(m["from"], m["body"], m["status"]) for m in transcript["messages"]] == [
        ("shopper", "I'm at the back door", "sent"),
        ("driver", "Coming round now", "sent"),
    ]
    page = api.http.get(f"/t/{shipment['tracking_token']}").body.decode()
    assert "I&#39;m at the back door" in page and "Coming round now" in page and DRIVER_1 not in page
    assert api.shipment(retailer, shipment["id"]).json_body["chat_messages"] == 2


def test_pool_keeps_pairs_unique_and_asks_when_it_cannot(api: Api, retailer: Retailer, relay: Providers) -> None:
    ann = out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    bob = out_for_delivery(api, retailer, "bob", DRIVER_1)
    drain(soon())
    number_ann = chat(api, retailer, ann["id"])["session"]["relay_number"]
    number_bob = chat(api, retailer, bob["id"])["session"]["relay_number"]
    assert {number_ann, number_bob} == {RELAY_A, RELAY_B}  # driver 1 has one session per number
    # Driver 2 also delivers to Ann: Ann is busy on her first number, so she gets the other one.
    ann2 = out_for_delivery(api, retailer, "ann", DRIVER_2, driver_name="Lee Chen", order="ORD-ANN-2")
    drain(soon())
    number_ann2 = chat(api, retailer, ann2["id"])["session"]["relay_number"]
    assert number_ann2 != number_ann
    text(api, DRIVER_1, number_ann, "Ann, gate code?")
    text(api, DRIVER_1, number_bob, "Bob, are you home?")
    text(api, SHOPPERS["ann"], number_ann2, "For the second parcel: porch please")
    drain(soon())
    assert [m["body"] for m in chat(api, retailer, ann["id"])["messages"]] == ["Ann, gate code?"]
    assert [m["body"] for m in chat(api, retailer, bob["id"])["messages"]] == ["Bob, are you home?"]
    assert [m["body"] for m in chat(api, retailer, ann2["id"])["messages"]] == ["For the second parcel: porch please"]
    assert sent_to(relay, DRIVER_2)[-1]["Body"] == "[ORD-ANN-2] Customer: For the second parcel: porch please"
    # Cat with driver 1: both numbers are taken by driver 1, so one number now carries two of his sessions.
    cat = out_for_delivery(api, retailer, "cat", DRIVER_1, order="ORD-CAT")
    drain(soon())
    shared = chat(api, retailer, cat["id"])["session"]["relay_number"]
    other = ann if shared == number_ann else bob
    question = text(api, DRIVER_1, shared, "Running 5 minutes late").body.decode()
    assert "more than one delivery in progress" in question and "ORD-CAT" in question
    drain(soon())
    assert chat(api, retailer, cat["id"])["messages"] == [] or all(
        m["body"] != "Running 5 minutes late" for m in chat(api, retailer, cat["id"])["messages"]
    )
    assert text(api, DRIVER_1, shared, "ORD-CAT: running 5 minutes late").status_code == 200
    drain(soon())
    assert [m["body"] for m in chat(api, retailer, cat["id"])["messages"]] == ["running 5 minutes late"]
    assert "running 5 minutes late" not in json.dumps(chat(api, retailer, other["id"]))
    assert sent_to(relay, SHOPPERS["cat"])[-1]["Body"] == "Sam: running 5 minutes late"


def test_closed_session_gets_a_polite_reply_and_keeps_the_message(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    os.environ["RELAY_GRACE_MINUTES"] = "0"
    reset_channels()
    api.http.put("/v1/branding", headers=retailer.auth, body=json.dumps({"support_email": "help@acme.example"}))
    shipment = out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    number = chat(api, retailer, shipment["id"])["session"]["relay_number"]
    api.native(
        retailer,
        {"events": [native_event("del", "delivered", "2026-11-20T12:00:00+00:00", tracking_number="1ZRELAYANN01")]},
    )
    reply = text(api, SHOPPERS["ann"], number, "Thanks!").body.decode()
    assert "chat has ended" in reply and "help@acme.example" in reply
    [message] = chat(api, retailer, shipment["id"])["messages"]
    assert message["status"] == "not_relayed" and message["reason"] == "session_closed"
    assert chat(api, retailer, shipment["id"])["session"]["open"] is False
    page = api.http.get(f"/t/{shipment['tracking_token']}").body.decode()
    assert "This chat has ended." in page and '/chat">' not in page


def test_stop_on_a_relay_number_ends_relay_traffic_only(api: Api, retailer: Retailer, relay: Providers) -> None:
    shipment = out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    number = chat(api, retailer, shipment["id"])["session"]["relay_number"]
    assert "won't get more messages" in text(api, SHOPPERS["ann"], number, " stop ").body.decode()
    assert "<Message>" not in text(api, SHOPPERS["ann"], number, "STOP").body.decode()
    text(api, DRIVER_1, number, "Are you there?")
    drain(soon())
    [message] = chat(api, retailer, shipment["id"])["messages"]
    assert message["status"] == "not_relayed" and message["reason"] == "recipient_opted_out"
    # milestone texts from the main number still reach Ann
    api.native(
        retailer,
        {"events": [native_event("del", "delivered", "2026-11-20T12:00:00+00:00", tracking_number="1ZRELAYANN01")]},
    )
    drain(soon())
    arrived = [m for m in sent_to(relay, SHOPPERS["ann"]) if "has arrived" in m["Body"]]
    assert [m["From"] for m in arrived] == ["+15005550006"]
    assert "relays messages" in text(api, SHOPPERS["ann"], number, "help").body.decode()
    assert "back on" in text(api, SHOPPERS["ann"], number, "START").body.decode()


def test_limits_media_and_failed_relays(api: Api, retailer: Retailer, relay: Providers) -> None:
    shipment = out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    number = chat(api, retailer, shipment["id"])["session"]["relay_number"]
    assert "under 600 characters" in text(api, SHOPPERS["ann"], number, "x" * 601).body.decode()
    text(
        api,
        SHOPPERS["ann"],
        number,
        "",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/media/ME1.jpg",
        MediaContentType0="image/jpeg",
    )
    # Both texts to the driver fail once: the notice that a chat opened, then the picture.
    relay.capture.fail_next("twilio", 500, {"code": 20500, "message": "Internal Server Error", "status": 500}, times=2)
    drain(soon())
    messages = chat(api, retailer, shipment["id"])["messages"]
    assert [m["status"] for m in messages] == ["not_relayed", "retry"]
    assert messages[0]["reason"] == "too_long" and "twilio 500" in messages[1]["reason"]
    drain(soon() + timedelta(minutes=2))
    assert "[ORD-ANN01] Customer: https://api.twilio.com/media/ME1.jpg" in [m["Body"] for m in sent_to(relay, DRIVER_1)]
    assert chat(api, retailer, shipment["id"])["messages"][1]["status"] == "sent"
    for n in range(10):
        text(api, SHOPPERS["ann"], number, f"message {n}")
    assert "too many messages" in text(api, SHOPPERS["ann"], number, "one more").body.decode()
    assert chat(api, retailer, shipment["id"])["messages"][-1]["reason"] == "rate_limited"


def test_a_signed_text_whose_num_media_is_not_an_ascii_number_is_still_relayed_with_its_picture(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    shipment = out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    number = chat(api, retailer, shipment["id"])["session"]["relay_number"]
    picture = "https://api.twilio.com/media/ME2.jpg"
    for num_media in ("\u00b2", "1000000000"):  # "²".isdigit() is True and int() raises; a billion is no count
        answer = text(api, SHOPPERS["ann"], number, "look", NumMedia=num_media, MediaUrl0=picture)
        assert answer.status_code == 200, answer.body
    drain(soon())
    assert f"[ORD-ANN01] Customer: look {picture}" in [m["Body"] for m in sent_to(relay, DRIVER_1)]


def test_retailer_assigned_driver_opens_a_session(api: Api, retailer: Retailer, relay: Providers) -> None:
    shipment = api.register(retailer, customer={"name": "Ann", "phone": SHOPPERS["ann"], "sms_consent": True}).json_body
    api.native(retailer, {"events": [native_event("o1", "out_for_delivery", "2026-11-20T10:00:00+00:00")]})
    assert chat(api, retailer, shipment["id"])["session"] is None
    bad = api.http.put(
        f"/v1/shipments/{shipment['id']}/driver", headers=retailer.auth, body=json.dumps({"name": "Sam", "phone": "12"})
    )
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "phone"
    other = api.create_retailer("Other")
    assert (
        api.http.put(
            f"/v1/shipments/{shipment['id']}/driver",
            headers=other.auth,
            body=json.dumps({"name": "Sam", "phone": DRIVER_1}),
        ).status_code
        == 404
    )
    ok = api.http.put(
        f"/v1/shipments/{shipment['id']}/driver",
        headers=retailer.auth,
        body=json.dumps({"name": "Sam Lee", "phone": DRIVER_1}),
    )
    assert ok.status_code == 200 and ok.json_body["driver"] == {"name": "Sam Lee", "phone": DRIVER_1}
    drain(soon())
    assert chat(api, retailer, shipment["id"])["session"]["driver_name"] == "Sam"


def test_page_chat_reaches_the_driver(api: Api, retailer: Retailer, relay: Providers) -> None:
    shipment = out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    token = shipment["tracking_token"]
    first = api.http.get(f"/t/{token}")
    cookie = first.headers["Set-Cookie"].split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', first.body.decode()).group(1)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    posted = api.http.post(f"/t/{token}/chat", headers=headers, body=f"csrf={csrf}&message=Please+ring+twice")
    assert posted.status_code == 303 and "sent=1" in posted.headers["Location"]
    assert (
        api.http.post(
            f"/t/{token}/chat",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=f"csrf={csrf}&message=forged",
        ).status_code
        == 403
    )
    drain(soon())
    assert sent_to(relay, DRIVER_1)[-1]["Body"] == "[ORD-ANN01] Customer: Please ring twice"
    assert chat(api, retailer, shipment["id"])["messages"][0]["via"] == "page"
    empty = api.http.post(f"/t/{token}/chat", headers=headers, body=f"csrf={csrf}&message=+")
    assert empty.status_code == 400 and "Write a message first." in empty.body.decode()


def test_relay_inbound_signature_is_checked(api: Api, relay: Providers) -> None:
    params = {"MessageSid": "SM1", "From": DRIVER_1, "To": RELAY_A, "Body": "hello"}
    forged = twilio_headers("/v1/twilio/inbound", params, token="not-the-token-0000000000")
    assert api.http.post("/v1/twilio/inbound", headers=forged, body=urlencode(params)).status_code == 403
    assert "only relays messages" in text(api, DRIVER_1, RELAY_A, "hello").body.decode()


def test_a_driver_assignment_changes_the_driver_not_the_shoppers_history(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    shipment = api.register(retailer, customer={"name": "Ann", "phone": SHOPPERS["ann"], "sms_consent": True}).json_body
    api.native(retailer, {"events": [native_event("o1", "out_for_delivery", "2026-11-20T10:00:00+00:00")]})
    assigned = api.http.put(
        f"/v1/shipments/{shipment['id']}/driver",
        headers=retailer.auth,
        body=json.dumps({"name": "Sam Lee", "phone": DRIVER_1}),
    )
    assert assigned.status_code == 200
    token = shipment["tracking_token"]
    tracking = api.http.get(f"/v1/tracking/{token}").json_body
    assert [(e["status"], e["description"]) for e in tracking["events"]] == [("out_for_delivery", "Out For Delivery")]
    assert tracking["driver"] == {"name": "Sam"}
    page = api.http.get(f"/t/{token}").body.decode()
    assert "Driver assigned" not in page and "Sam" in page
    # The retailer's own view keeps the record of who assigned whom, and when.
    assert "Driver assigned" in [e["description"] for e in api.shipment(retailer, shipment["id"]).json_body["events"]]


def test_the_driver_is_told_once_from_the_relay_number_when_the_shopper_opens_the_chat(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    out_for_delivery(api, retailer, "ann", DRIVER_1)
    drain(soon())
    number = sent_to(relay, SHOPPERS["ann"])[-1]["From"]
    assert sent_to(relay, DRIVER_1) == []  # nothing until the shopper writes
    assert text(api, SHOPPERS["ann"], number, "Leave it with the neighbour").status_code == 200
    drain(soon())
    assert text(api, SHOPPERS["ann"], number, "Number 12").status_code == 200
    text(api, DRIVER_1, number, "OK")
    drain(soon())
    bodies = [(m["From"], m["Body"]) for m in sent_to(relay, DRIVER_1)]
    assert bodies == [
        (
            number,
            "Acme Outdoor: a customer chat opened for order ORD-ANN01. Texts from this number are the customer; "
            "reply here. Neither sees the other's number.",
        ),
        (number, "[ORD-ANN01] Customer: Leave it with the neighbour"),
        (number, "[ORD-ANN01] Customer: Number 12"),
    ]
    assert len(bodies[0][1]) <= 160 and SHOPPERS["ann"] not in bodies[0][1]


def night_out_for_delivery(api: Api, retailer: Retailer, consent: bool, zone: str = "America/New_York") -> dict:
    created = api.register(
        retailer,
        order_id="ORD-NIGHT1",
        tracking_number="1ZRELAYNIGHT1",
        customer={"name": "Ann Example", "phone": SHOPPERS["ann"], "sms_consent": consent, "time_zone": zone},
    ).json_body
    event = native_event(
        "ofd-night",
        "out_for_delivery",
        "2026-11-20T10:00:00+00:00",
        tracking_number="1ZRELAYNIGHT1",
        driver={"name": "Sam Rivera", "phone": DRIVER_1},
    )
    assert api.native(retailer, {"events": [event]}).status_code == 200
    return created


def intros(providers: Providers) -> list[dict]:
    return [form for form in sent_to(providers, SHOPPERS["ann"]) if "is bringing order" in form["Body"]]


def test_without_sms_consent_the_chat_introduction_is_not_texted(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    from tests.integration.conftest import local_time

    shipment = night_out_for_delivery(api, retailer, consent=False)
    drain(local_time("America/New_York", 12))
    texts = sent_to(relay, SHOPPERS["ann"])
    assert len(texts) == 1 and "out for delivery" in texts[0]["Body"]  # only the exempt milestone text
    assert intros(relay) == []
    session = chat(api, retailer, shipment["id"])["session"]
    assert session is not None and session["open"] is True  # the page chat still works
    detail = api.shipment(retailer, shipment["id"]).json_body
    [opened] = [n for n in detail["notifications"] if n["kind"] == "relay_open"]
    assert (opened["status"], opened["reason"]) == ("shown", "no_sms_consent")
    # the driver's messages are kept for the page, not texted
    text(api, DRIVER_1, session["relay_number"], "At your gate")
    drain(local_time("America/New_York", 12, 5))
    assert len(sent_to(relay, SHOPPERS["ann"])) == 1
    [message] = chat(api, retailer, shipment["id"])["messages"]
    assert (message["status"], message["reason"]) == ("shown", "no_sms_consent")


def test_in_quiet_hours_the_chat_introduction_and_relayed_texts_wait_for_morning(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    from tests.integration.conftest import local_time

    shipment = night_out_for_delivery(api, retailer, consent=True)
    three_am = local_time("America/New_York", 3)
    drain(three_am)
    assert sent_to(relay, SHOPPERS["ann"]) == []
    number = chat(api, retailer, shipment["id"])["session"]["relay_number"]
    text(api, DRIVER_1, number, "Leaving it at the door")
    drain(local_time("America/New_York", 3, 5))
    assert sent_to(relay, SHOPPERS["ann"]) == []
    [message] = chat(api, retailer, shipment["id"])["messages"]
    assert (message["status"], message["reason"]) == ("deferred", "quiet_hours")
    drain(local_time("America/New_York", 8))
    bodies = [form["Body"] for form in sent_to(relay, SHOPPERS["ann"])]
    assert any("out for delivery" in body for body in bodies)
    assert any("Sam is bringing order" in body for body in bodies)
    assert "Sam: Leaving it at the door" in bodies and len(bodies) == 3


def test_after_stop_to_the_milestone_number_no_chat_text_reaches_the_shopper(
    api: Api, retailer: Retailer, relay: Providers
) -> None:
    from tests.integration.conftest import local_time

    noon = local_time("America/New_York", 12)
    api.register(
        retailer,
        order_id="ORD-FIRST",
        tracking_number="1ZFIRST",
        customer={"name": "Ann Example", "phone": SHOPPERS["ann"], "sms_consent": True},
    )
    assert (
        api.native(
            retailer,
            {"events": [native_event("s1", "shipped", "2026-11-20T09:00:00+00:00", tracking_number="1ZFIRST")]},
        ).status_code
        == 200
    )
    drain(noon)
    assert "unsubscribed" in text(api, SHOPPERS["ann"], "+15005550006", "STOP").body.decode()
    shipment = night_out_for_delivery(api, retailer, consent=True)
    drain(local_time("America/New_York", 12, 1))
    assert intros(relay) == []
    detail = api.shipment(retailer, shipment["id"]).json_body
    [opened] = [n for n in detail["notifications"] if n["kind"] == "relay_open"]
    assert (opened["status"], opened["reason"]) == ("not_relayed", "recipient_opted_out")
