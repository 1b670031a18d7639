"""A locker pickup page in a real headless Chromium (issue 18, D48): where, until when and opening hours, the pickup
code hidden until the one-time code from the shopper's own phone is entered, and axe-core at 390 and 1280 px."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e.conftest import LocalServer, post_native
from tests.e2e.test_tracking_browser import ARTIFACTS, DESKTOP, PHONE, open_page
from tests.payloads import native_event

pytestmark = pytest.mark.e2e
LOCKER_CODE = "735104"


def all_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in Axe().run(page).response["violations"]]


def locker_shipment(server: LocalServer, tracking_number: str) -> dict:
    created = requests.post(
        f"{server.base_url}/v1/shipments",
        headers=server.auth,
        json={
            "order_id": "L-2041",
            "carrier": "ups",
            "tracking_number": tracking_number,
            "customer": {"name": "Robin Example", "phone": "+14155550142", "time_zone": "Europe/Berlin"},
        },
        timeout=10,
    ).json()
    when = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    pickup = {
        "name": "Paketstation 114",
        "area": "Kreuzberg, Berlin",
        "opening_hours": "Open 24 hours",
        "deadline": (datetime.now(UTC) + timedelta(days=6)).isoformat(),
        "code": LOCKER_CODE,
    }
    event = native_event(f"{tracking_number}-1", "available_for_pickup", when, tracking_number=tracking_number)
    assert post_native(server, [{**event, "pickup": pickup}]).status_code == 200
    return created


def one_time_code(server: LocalServer, phone_tail: str = "0142") -> str:
    outbox = requests.get(f"{server.base_url}/dev/outbox", timeout=10).text
    codes = re.findall(r"(\d{6}) is your code to see the pickup code", outbox)
    assert codes, outbox[:2000]
    return codes[0]  # newest first


def test_a_locker_pickup_page_is_accessible_and_shows_the_code_only_after_the_one_time_code(
    browser, local_server: LocalServer
) -> None:
    created = locker_shipment(local_server, "1ZBROWSERLOCKER1")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page, problems = open_page(browser, created["tracking_url"], viewport)
        section = page.locator("section#pickup")
        assert "Paketstation 114" in section.inner_text() and "Open 24 hours" in section.inner_text()
        assert LOCKER_CODE not in page.content()
        page.screenshot(path=str(ARTIFACTS / f"pickup-locker-{name}.png"), full_page=True)
        assert all_violations(page) == []
        assert problems == []
        context.close()

    context, page, problems = open_page(browser, created["tracking_url"], PHONE)
    page.get_by_role("button", name="Send me a one-time code").click()
    page.wait_for_load_state()
    assert "We sent a one-time code" in page.locator("section#pickup").inner_text()
    page.get_by_label("One-time code").fill(one_time_code(local_server))
    page.get_by_role("button", name="Show my pickup code").click()
    page.wait_for_load_state()
    assert page.locator("#pickup-code").inner_text() == LOCKER_CODE
    page.screenshot(path=str(ARTIFACTS / "pickup-locker-code-phone.png"), full_page=True)
    assert all_violations(page) == []
    page.set_viewport_size(DESKTOP)
    assert all_violations(page) == []
    assert problems == []
    context.close()
