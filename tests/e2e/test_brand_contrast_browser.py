"""Brand colours under axe in a real Chromium: the tracking page and the analytics page stay WCAG 2.1 AA for any
brand (white, yellow, red, mid grey, black...), and the analytics page fits a 390 px phone."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import LocalServer
from tests.e2e.test_tracking_browser import DESKTOP, PHONE, shipment_at

pytestmark = pytest.mark.e2e
#: (primary, accent): the five named in issue 14 and others that fail one surface or another.
BRANDS = [
    ("#ffffff", "#f2a900"),
    ("#ffeb3b", "#0d47a1"),
    ("#ff0000", "#ffeb3b"),
    ("#777777", "#777777"),
    ("#000000", "#ffffff"),
    ("#00ff00", "#ff00ff"),
    ("#0000ff", "#ffff00"),
    ("#f2a900", "#000000"),
    ("#1f4b99", "#f2a900"),
]


def violations(page) -> list[str]:
    """Every axe violation, whatever its impact."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


def brand(server: LocalServer, primary: str, accent: str) -> dict:
    answer = requests.put(
        f"{server.base_url}/v1/branding",
        headers=server.auth,
        json={"primary_color": primary, "accent_color": accent},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def signed_in(browser, server: LocalServer, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{server.base_url}/analytics")
    page.get_by_label("Retailer API key").fill(server.demo["api_key"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def test_axe_finds_no_violations_on_the_tracking_and_analytics_pages_for_every_brand(
    browser, local_server: LocalServer
) -> None:
    late = shipment_at(local_server, "1ZBRANDCONTRAST01", ["processed", "shipped", "attempt_failed"])
    analytics_context, analytics = signed_in(browser, local_server, DESKTOP)
    tracking_context = browser.new_context(viewport=PHONE)
    tracking = tracking_context.new_page()
    found: dict[str, list[str]] = {}
    for primary, accent in BRANDS:
        answer = brand(local_server, primary, accent)
        tracking.goto(late["tracking_url"])
        assert tracking.locator(".steps li.done").count() >= 1 and tracking.locator(".banner").count() == 1
        analytics.goto(f"{local_server.base_url}/analytics")
        for name, page in (("tracking", tracking), ("analytics", analytics)):
            problems = violations(page)
            if problems:
                found[f"{primary}/{accent} {name}"] = problems
        if primary in ("#ffffff", "#ffeb3b", "#777777"):
            assert answer["warnings"], primary  # what was adjusted is said
    tracking_context.close()
    analytics_context.close()
    assert found == {}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_the_analytics_page_fits_a_phone_and_passes_axe(browser, local_server: LocalServer, viewport: dict) -> None:
    shipment_at(local_server, "1ZBRANDNARROW0001", ["processed", "shipped", "attempt_failed"])
    brand(local_server, "#1f4b99", "#f2a900")
    context, page = signed_in(browser, local_server, viewport)
    assert page.locator("table").count() >= 2
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], width
    for table in page.locator(".scroll").all():  # a wide table scrolls inside its own box, reachable by keyboard
        assert table.get_attribute("tabindex") == "0"
    assert violations(page) == []
    context.close()
