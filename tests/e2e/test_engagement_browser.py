"""The analytics page's engagement table and chart and its stalled parcels (D45) in a real Chromium: axe finds
nothing at phone and desktop widths, and the chart's figures are in the table beside it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e.conftest import LocalServer, post_native
from tests.payloads import native_event

pytestmark = pytest.mark.e2e


def violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [v["id"] for v in Axe().run(page).response["violations"]]


def test_engagement_and_stalled_parcels_pass_axe_at_390_and_1280(browser, local_server: LocalServer) -> None:
    created = requests.post(
        f"{local_server.base_url}/v1/shipments",
        headers=local_server.auth,
        timeout=10,
        json={
            "order_id": "EN-1",
            "carrier": "ups",
            "tracking_number": "1ZBROWSERENGAGE",
            "customer": {"name": "Jo Example", "email": "jo@example.com"},
        },
    ).json()
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert post_native(local_server, [native_event("en-1", "shipped", when, tracking_number="1ZBROWSERENGAGE")]).ok
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the drainer sends the e-mail to the local outbox
        detail = requests.get(
            f"{local_server.base_url}/v1/shipments/{created['id']}", headers=local_server.auth, timeout=10
        )
        if any(n["kind"] == "shipped" and n["status"] == "sent" for n in detail.json()["notifications"]):
            break
        time.sleep(0.25)
    else:
        raise AssertionError("the shipped e-mail was not sent")
    assert requests.get(f"{created['tracking_url']}?m=shipped", timeout=10).status_code == 200
    # A parcel the carrier last scanned four days ago, registered now: stuck (the demo keeps the default 3 days)
    old = (datetime.now(UTC) - timedelta(days=4)).isoformat()
    assert post_native(local_server, [native_event("st-1", "shipped", old, tracking_number="1ZBROWSERSTUCK")]).ok
    stuck = {"order_id": "EN-STUCK", "carrier": "ups", "tracking_number": "1ZBROWSERSTUCK", "customer": {"name": "Al"}}
    assert requests.post(f"{local_server.base_url}/v1/shipments", headers=local_server.auth, json=stuck, timeout=10).ok
    while time.monotonic() < deadline + 20:  # the drainer runs the stall watch, due at once
        report = requests.get(f"{local_server.base_url}/v1/analytics", headers=local_server.auth, timeout=10).json()
        if report["needs_attention"]["stalled"]:
            break
        time.sleep(0.25)
    assert [s["order_id"] for s in report["needs_attention"]["stalled"]] == ["EN-STUCK"]
    for width, height in ((390, 844), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{local_server.base_url}/analytics")
        page.get_by_label("Retailer API key").fill(local_server.demo["api_key"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        table = page.get_by_role("region", name="Engagement by message (table)")
        row = table.get_by_role("row", name="shipped · e-mail")
        assert row.is_visible() or width == 390  # inside a scrolling region on a phone
        cells = row.get_by_role("cell").all_inner_texts()
        assert cells[0] == "1" and cells[5].startswith("1 (100.0%)"), cells  # sent, visited page
        assert page.get_by_role("img", name="Messages followed by a tracking-page visit").is_visible()
        problems = page.get_by_role("region", name="Stalled before the shopper calls")
        assert "Stuck at the same scan" in problems.inner_text() and "EN-STUCK" in problems.inner_text()
        assert violations(page) == [], width
        context.close()
