"""The live last mile in a real Chromium (issue 17): the driver moves on the map after new pings and a driver's
chat reply appears, with no reload; axe finds nothing at 390 and 1280 px; without JavaScript the page still states
the stops and the arrival time."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.capture import CaptureServer
from tests.e2e.conftest import LocalServer, post_native, wait_for
from tests.e2e.test_relay_e2e import DRIVERS, register_out_for_delivery, session_number, text
from tests.e2e.test_tracking_browser import ARTIFACTS, DESKTOP, PHONE, open_page
from tests.payloads import native_event

pytestmark = pytest.mark.e2e


def post_positions(server: LocalServer, positions: list[dict]) -> requests.Response:
    from chalicelib.carriers import native

    raw = json.dumps({"positions": positions}).encode()
    signature = native.sign(server.demo["integrations"]["native"]["secret"], raw, int(time.time()))
    return requests.post(
        f"{server.base_url}/v1/webhooks/native/{server.demo['retailer_id']}/positions",
        data=raw,
        headers={"Content-Type": "application/json", "X-Porchlight-Signature": signature},
        timeout=30,
    )


def ping(tn: str, lat: float, lng: float, stops: int, seconds_ago: float, eta_minutes: int) -> dict:
    now = datetime.now(UTC)
    return {
        "tracking_number": tn,
        "carrier": "ups",
        "lat": lat,
        "lng": lng,
        "recorded_at": (now - timedelta(seconds=seconds_ago)).isoformat(),
        "stops_before": stops,
        "eta": {"start": (now + timedelta(minutes=eta_minutes)).isoformat()},
    }


def all_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [f"{v['id']}: {v['help']}" for v in Axe().run(page).response["violations"]]


def out_for_delivery_with_driver(server: LocalServer, tn: str) -> dict:
    created = requests.post(
        f"{server.base_url}/v1/shipments",
        headers=server.auth,
        json={
            "order_id": f"L-{tn[-4:]}",
            "carrier": "ups",
            "tracking_number": tn,
            "customer": {"name": "Robin Example", "email": "robin@example.com", "time_zone": "Europe/Berlin"},
            "destination": {"city": "Berlin", "country": "DE", "lat": 52.5219, "lng": 13.4132},
        },
        timeout=10,
    ).json()
    event = native_event(f"{tn}-ofd", "out_for_delivery", "2026-11-20T09:00:00+00:00", tracking_number=tn)
    assert post_native(server, [event]).status_code == 200
    assert post_positions(server, [ping(tn, 52.5002, 13.3700, 3, 90, 25)]).json()["accepted"] == 1
    time.sleep(1.0)  # the page reads an eventually consistent index
    return created


def test_the_driver_moves_on_the_open_page_without_a_reload(browser, local_server: LocalServer) -> None:
    tn = "1ZLIVEMOVE01"
    created = out_for_delivery_with_driver(local_server, tn)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page, problems = open_page(browser, created["tracking_url"], viewport)
        assert page.locator("#live-summary").inner_text().startswith("3 stops before yours, arriving about ")
        assert page.locator("#live-map").is_visible() and page.locator("#live-area").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"tracking-live-{name}.png"), full_page=True)
        assert all_violations(page) == []
        assert problems == []
        context.close()

    context, page, problems = open_page(browser, created["tracking_url"], PHONE)
    page.evaluate("window.__same_document = true")
    before = page.locator("#live-driver").get_attribute("transform")
    sent = time.monotonic()
    assert post_positions(local_server, [ping(tn, 52.5150, 13.4000, 1, 0, 6)]).json()["accepted"] == 1

    def moved() -> str | None:
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # poll now, not in 10 s
        page.wait_for_timeout(250)
        after = page.locator("#live-driver").get_attribute("transform")
        return after if after != before else None

    wait_for(moved, timeout=15)
    latency = time.monotonic() - sent
    assert page.locator("#live-summary").inner_text().startswith("1 stop before yours")
    assert page.evaluate("window.__same_document") is True  # updated in place, not reloaded
    assert latency < 10
    assert problems == []
    context.close()


def test_without_javascript_the_page_states_stops_and_arrival(browser, local_server: LocalServer) -> None:
    created = out_for_delivery_with_driver(local_server, "1ZLIVENOJS01")
    context, page, _ = open_page(browser, created["tracking_url"], PHONE, java_script_enabled=False)
    summary = page.locator("#live-summary").inner_text()
    assert summary.startswith("3 stops before yours, arriving about ") and summary[-2:] in ("AM", "PM")
    assert page.locator("#live-map").is_visible()
    context.close()


def test_a_drivers_chat_reply_appears_on_the_open_page(
    wired_server: LocalServer, capture: CaptureServer, browser
) -> None:
    shipment = register_out_for_delivery(wired_server, "ann", "d1", "LIVE1")
    number = session_number(wired_server, shipment)
    context, page, problems = open_page(browser, shipment["tracking_url"], PHONE)
    page.evaluate("window.__same_document = true")
    text(wired_server, DRIVERS["d1"][1], number, "Five minutes out, Ann")

    def shown() -> bool:
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        page.wait_for_timeout(250)
        return "Five minutes out, Ann" in (page.locator("#chat-messages").inner_text() or "")

    wait_for(shown, timeout=15)
    assert page.evaluate("window.__same_document") is True
    assert problems == []
    context.close()
