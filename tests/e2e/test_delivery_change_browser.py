"""A shopper changes a delivery on the tracking page in a real Chromium (D47): asks to leave the parcel with a
neighbour, enters the code texted to the phone on file (read from the local runtime's outbox), sees the request
pending, then confirmed once the carrier answers; axe finds nothing at phone and desktop widths."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests

from chalicelib.simulator import daytime_zone
from tests.e2e.conftest import LocalServer, post_native, wait_for
from tests.payloads import native_event

pytestmark = pytest.mark.e2e
TN = "1ZBROWSERCHANGE"


def violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [v["id"] for v in Axe().run(page).response["violations"]]


def test_a_neighbour_request_with_its_code_goes_pending_then_confirmed_and_passes_axe(
    browser, local_server: LocalServer
) -> None:
    base = local_server.base_url
    rules = {"ups": {"kinds": ["safe_place", "neighbour"], "cutoff": {"not_once_out": True}}}
    offered = requests.put(
        f"{base}/v1/settings", headers=local_server.auth, json={"delivery_changes": {"carriers": rules}}, timeout=10
    )
    assert offered.ok, offered.text
    created = requests.post(
        f"{base}/v1/shipments",
        headers=local_server.auth,
        timeout=10,
        json={
            "order_id": "DC-1",
            "carrier": "ups",
            "tracking_number": TN,
            "customer": {
                "name": "Jo Example",
                "phone": "+14155550177",
                "sms_consent": True,
                "time_zone": daytime_zone(),
            },
        },
    ).json()
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert post_native(local_server, [native_event("dc-1", "shipped", when, tracking_number=TN)]).ok

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(created["tracking_url"])
    section = page.get_by_role("region", name="Change your delivery")
    section.get_by_label("Leave it with a neighbour").check()
    section.get_by_label("Neighbour's name and house number").fill("Ana at no. 5")
    section.get_by_role("button", name="Ask for this change").click()
    page.wait_for_load_state()
    code_box = page.get_by_label("Code")
    assert code_box.is_visible()
    assert violations(page) == [], "390 px, code entry"

    def texted_code() -> str | None:
        outbox = requests.get(f"{base}/dev/outbox", timeout=10).text
        found = re.search(r"(\d{6}) is your code to change the delivery of order DC-1", outbox)
        return found.group(1) if found else None

    code = wait_for(texted_code, timeout=30)
    assert code not in page.content()
    code_box.fill(code)
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_load_state()
    assert page.locator('[data-change-status="pending"]').is_visible()
    assert violations(page) == [], "390 px, pending"

    change = requests.get(f"{base}/v1/shipments/{created['id']}", headers=local_server.auth, timeout=10).json()
    answer = {"id": change["delivery_change"]["id"], "status": "confirmed", "note": "Ana has it"}
    later = datetime.now(UTC).isoformat()
    assert post_native(
        local_server, [native_event("dc-2", "shipped", later, tracking_number=TN, delivery_change=answer)]
    ).ok
    page.reload()
    assert page.locator('[data-change-status="confirmed"]').is_visible()
    assert violations(page) == [], "390 px, confirmed"
    context.close()

    wide = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = wide.new_page()
    desk.goto(created["tracking_url"])
    assert "Your change is confirmed." in desk.locator('[data-change-status="confirmed"]').inner_text()
    assert violations(desk) == [], "1280 px, confirmed"
    wide.close()
