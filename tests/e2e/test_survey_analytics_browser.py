"""The survey on the tracking page and the retailer's analytics page, in a real Chromium."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.e2e.conftest import ROOT, LocalServer, post_native
from tests.payloads import native_event

pytestmark = pytest.mark.e2e


def serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]


def delivered(server: LocalServer, tn: str) -> dict:
    created = requests.post(
        f"{server.base_url}/v1/shipments",
        headers=server.auth,
        timeout=10,
        json={
            "order_id": f"SV-{tn[-3:]}",
            "carrier": "fedex",
            "tracking_number": tn,
            "customer": {"name": "Jo Example"},
        },
    ).json()
    now = datetime.now(UTC)
    events = [
        native_event(
            f"{tn}-s", "shipped", (now - timedelta(hours=30)).isoformat(), tracking_number=tn, carrier="fedex"
        ),
        native_event(
            f"{tn}-o",
            "out_for_delivery",
            (now - timedelta(hours=5)).isoformat(),
            tracking_number=tn,
            carrier="fedex",
            driver={"name": "Robin Driver", "phone": "+14155558888"},
        ),
        native_event(
            f"{tn}-d", "delivered", (now - timedelta(hours=2)).isoformat(), tracking_number=tn, carrier="fedex"
        ),
    ]
    assert post_native(server, events).status_code == 200
    return created


def refusing_endpoint() -> ThreadingHTTPServer:
    """A retailer endpoint that answers every call 410 Gone (a permanent refusal), on a free local port."""

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(410)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


def wait_for_failed_notification(server: LocalServer, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        listed = requests.get(f"{server.base_url}/v1/notifications/failed", headers=server.auth, timeout=10).json()
        if listed["notifications"]:
            return listed["notifications"][0]
        time.sleep(0.25)
    raise AssertionError("no failed notification was listed")


def test_survey_form_on_the_tracking_page(browser, local_server: LocalServer) -> None:
    shipment = delivered(local_server, "1ZBROWSERSURVEY")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(shipment["tracking_url"])
    assert page.get_by_role("heading", name="How was your delivery?").is_visible()
    assert serious(page) == []
    page.get_by_role("button", name="4 / 5").click()
    page.wait_for_load_state()
    assert "Thank you for rating your delivery!" in page.get_by_role("status").inner_text()
    page.get_by_label("Friendly driver", exact=True).check()
    page.get_by_label("Comment (optional)").fill("Very careful with the parcel")
    page.get_by_role("button", name="Send feedback").click()
    page.wait_for_load_state()
    assert page.get_by_text("we've passed your feedback on").is_visible()
    assert serious(page) == []
    page.screenshot(path=str(ROOT / "artifacts" / "screenshots" / "survey-phone.png"), full_page=True)
    context.close()
    listed = requests.get(f"{local_server.base_url}/v1/surveys", headers=local_server.auth, timeout=10).json()[
        "surveys"
    ]
    mine = next(s for s in listed if s["shipment_id"] == shipment["id"])
    assert (
        mine["score"] == 4
        and mine["reasons"] == ["friendly_driver"]
        and mine["comment"] == "Very careful with the parcel"
    )


def test_analytics_page_shows_charts_and_downloads_csv(browser, local_server: LocalServer) -> None:
    delivered(local_server, "1ZBROWSERANALYTICS")
    # A shopper rates a delivery 1 with a comment on the page: a low score that needs attention.
    unhappy = delivered(local_server, "1ZBROWSERLOW")
    rater = browser.new_context(viewport={"width": 390, "height": 844})
    shopper = rater.new_page()
    shopper.goto(unhappy["tracking_url"])
    shopper.get_by_role("button", name="1 / 5").click()
    shopper.wait_for_load_state()
    shopper.get_by_label("Comment (optional)").fill("Left in the rain, box soaked")
    shopper.get_by_role("button", name="Send feedback").click()
    shopper.wait_for_load_state()
    rater.close()
    missed = requests.post(
        f"{local_server.base_url}/v1/shipments",
        headers=local_server.auth,
        timeout=10,
        json={
            "order_id": "SV-MISSED",
            "carrier": "fedex",
            "tracking_number": "1ZBROWSERMISSED",
            "customer": {"name": "Jo"},
        },
    ).json()
    # The retailer's own endpoint refuses the status webhook for good: it is listed among what did not arrive.
    refusing = refusing_endpoint()
    hooks = {"webhooks": {"url": f"http://127.0.0.1:{refusing.server_port}/hooks", "statuses": ["attempt_failed"]}}
    settings = requests.put(f"{local_server.base_url}/v1/settings", headers=local_server.auth, json=hooks, timeout=10)
    assert settings.status_code == 200, settings.text
    when = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    event = native_event("missed-1", "attempt_failed", when, tracking_number="1ZBROWSERMISSED", carrier="fedex")
    assert post_native(local_server, [event]).status_code == 200
    failed = wait_for_failed_notification(local_server)
    assert failed["channel"] == "webhook" and "410" in failed["reason"]
    refusing.shutdown()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{local_server.base_url}/analytics")
    page.get_by_label("Retailer API key").fill("pl_not-the-key")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "That API key is not valid."
    page.get_by_label("Retailer API key").fill(local_server.demo["api_key"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Delivery analytics · Demo Outfitters").is_visible()
    assert page.locator("svg").count() == 10
    assert page.locator("svg rect.bar").count() >= 2
    attention = page.get_by_role("region", name="Needs attention now")
    assert "SV-MISSED" in attention.inner_text()
    link = attention.get_by_role("link", name="Tracking page for order SV-MISSED")
    assert link.get_attribute("href") == missed["tracking_url"]
    assert "Low survey scores" in attention.inner_text() and "Left in the rain, box soaked" in attention.inner_text()
    low_link = attention.get_by_role("link", name="Tracking page for order SV-LOW")
    assert low_link.get_attribute("href") == unhappy["tracking_url"]
    undelivered = page.get_by_role("region", name="Notifications that did not arrive").inner_text()
    assert "SV-MISSED" in undelivered and "attempt failed · webhook" in undelivered and "410" in undelivered
    assert serious(page) == []
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    path = download.path()
    with open(path, encoding="utf-8") as handle:
        content = handle.read()
    assert download.suggested_filename.startswith("porchlight-analytics-") and content.startswith(
        "section,name,metric,value"
    )
    assert "carrier,fedex,delivered" in content
    page.screenshot(path=str(ROOT / "artifacts" / "screenshots" / "analytics-desktop.png"), full_page=True)
    context.close()
