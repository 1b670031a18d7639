"""Relay end to end: texts signed with the Twilio SDK's validator into the running devserver, relayed by the real
SDK to the capture server; two drivers, three shoppers, overlapping sessions, a closed one, STOP, and page chat."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
import requests

from chalicelib.simulator import daytime_zone
from tests.capture import CaptureServer
from tests.e2e.conftest import RELAY_NUMBERS, TWILIO_TOKEN, LocalServer, post_native, wait_for
from tests.payloads import native_event

pytestmark = pytest.mark.e2e
DRIVERS = {"d1": ("Sam Rivera", "+14155553001"), "d2": ("Lee Chen", "+14155553002")}
SHOPPERS = {"ann": "+14155554001", "bob": "+14155554002", "cat": "+14155554003"}


def register_out_for_delivery(server: LocalServer, shopper: str, driver: str, order: str) -> dict:
    tn = f"1ZE2ERELAY{order}"
    created = requests.post(
        f"{server.base_url}/v1/shipments",
        headers=server.auth,
        timeout=10,
        json={
            "order_id": order,
            "carrier": "ups",
            "tracking_number": tn,
            "customer": {
                "name": f"{shopper.title()} E2E",
                "phone": SHOPPERS[shopper],
                "sms_consent": True,
                "time_zone": daytime_zone(),
            },
        },
    ).json()
    name, phone = DRIVERS[driver]
    scan(server, tn, f"{order}-ofd", "out_for_delivery", driver={"name": name, "phone": phone})
    return created


def scan(server: LocalServer, tn: str, event_id: str, status: str, **extra: object) -> None:
    event = native_event(event_id, status, "2026-11-20T10:00:00+00:00", tracking_number=tn, **extra)
    assert post_native(server, [event]).status_code == 200


def text(server: LocalServer, sender: str, to: str, body: str) -> str:
    from twilio.request_validator import RequestValidator

    params = {
        "MessageSid": "SM" + str(time.time_ns()),
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
        "SomethingTwilioAddsLater": "1",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{server.base_url}/v1/twilio/inbound", params)
    response = requests.post(
        f"{server.base_url}/v1/twilio/inbound",
        data=urlencode(params),
        timeout=10,
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    return response.text


def session_number(server: LocalServer, shipment: dict) -> str:
    def number() -> str | None:
        body = requests.get(
            f"{server.base_url}/v1/shipments/{shipment['id']}/chat", headers=server.auth, timeout=10
        ).json()
        return body["session"]["relay_number"] if body["session"] else None

    return wait_for(number)


def received(capture: CaptureServer, phone: str, contains: str) -> dict:
    return wait_for(
        lambda: next(
            (r.form for r in capture.of("twilio") if r.form["To"] == phone and contains in r.form["Body"]), None
        )
    )


def test_two_drivers_three_shoppers(wired_server: LocalServer, capture: CaptureServer, browser) -> None:
    server = wired_server
    ann1 = register_out_for_delivery(server, "ann", "d1", "A1")
    bob1 = register_out_for_delivery(server, "bob", "d1", "B1")
    cat1 = register_out_for_delivery(server, "cat", "d2", "C1")
    ann2 = register_out_for_delivery(server, "ann", "d2", "A2")
    numbers = {
        name: session_number(server, s) for name, s in (("ann1", ann1), ("bob1", bob1), ("cat1", cat1), ("ann2", ann2))
    }
    assert set(numbers.values()) <= set(RELAY_NUMBERS)
    assert numbers["ann1"] != numbers["bob1"]  # driver 1 is unambiguous on each number
    assert numbers["ann1"] != numbers["ann2"]  # and so is Ann
    intro = received(capture, SHOPPERS["ann"], "is bringing order A1")
    assert intro["From"] == numbers["ann1"]

    text(server, DRIVERS["d1"][1], numbers["ann1"], "Which door, Ann?")
    assert received(capture, SHOPPERS["ann"], "Which door")["Body"] == "Sam: Which door, Ann?"
    text(server, SHOPPERS["cat"], numbers["cat1"], "Leave it with reception")
    to_d2 = received(capture, DRIVERS["d2"][1], "reception")
    assert to_d2["Body"] == "[C1] Customer: Leave it with reception" and to_d2["From"] == numbers["cat1"]
    assert SHOPPERS["cat"] not in to_d2["Body"]

    # Bob stops relay texts; the driver's next message is kept but not relayed.
    assert "won't get more messages" in text(server, SHOPPERS["bob"], numbers["bob1"], "STOP")
    text(server, DRIVERS["d1"][1], numbers["bob1"], "Bob are you home?")

    def settled() -> dict | None:
        body = requests.get(f"{server.base_url}/v1/shipments/{bob1['id']}/chat", headers=server.auth, timeout=10).json()
        return body if body["messages"] and body["messages"][-1]["status"] not in ("pending", "sending") else None

    transcript = wait_for(settled)
    assert transcript["messages"][-1]["reason"] == "recipient_opted_out"

    # Ann's first parcel arrives (grace 0): that chat closes, her other one stays open.
    scan(server, "1ZE2ERELAYA1", "A1-del", "delivered")
    time.sleep(0.3)
    assert "chat has ended" in text(server, SHOPPERS["ann"], numbers["ann1"], "thanks!")
    text(server, SHOPPERS["ann"], numbers["ann2"], "Second parcel to the porch please")
    assert received(capture, DRIVERS["d2"][1], "porch")["Body"] == "[A2] Customer: Second parcel to the porch please"

    # Cat writes from the tracking page in a real browser.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(cat1["tracking_url"])
    page.get_by_role("textbox", name="Message", exact=True).fill("I'm in a meeting, ring the bell")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert page.get_by_text("Sent to your driver.").is_visible()
    assert received(capture, DRIVERS["d2"][1], "meeting")["Body"] == "[C1] Customer: I'm in a meeting, ring the bell"
    page.reload()
    assert page.locator(".chat li.mine").last.inner_text().endswith("I'm in a meeting, ring the bell")
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []
    context.close()
