"""The tracking page in a real headless Chromium: every milestone, language switch, forms, live refresh, axe-core."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.conftest import ROOT, LocalServer, post_native
from tests.payloads import native_event

pytestmark = pytest.mark.e2e
ARTIFACTS = ROOT / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shipment_at(server: LocalServer, tracking_number: str, statuses: list[str], **last: object) -> dict:
    created = requests.post(
        f"{server.base_url}/v1/shipments",
        headers=server.auth,
        json={
            "order_id": f"B-{tracking_number[-4:]}",
            "carrier": "ups",
            "tracking_number": tracking_number,
            "customer": {
                "name": "Robin Example",
                "email": "robin@example.com",
                "phone": "+14155550142",
                "time_zone": "Europe/Berlin",
            },
            "items": [{"name": "Rain jacket", "quantity": 1}],
        },
        timeout=10,
    ).json()
    for n, status in enumerate(statuses):
        post_scan(
            server,
            tracking_number,
            f"{tracking_number}-{n}",
            status,
            f"2026-11-2{n}T09:00:00+00:00",
            **(last if n == len(statuses) - 1 else {}),
        )
    return created


def post_scan(
    server: LocalServer, tracking_number: str, event_id: str, status: str, when: str, **extra: object
) -> None:
    event = native_event(
        event_id, status, when, tracking_number=tracking_number, location={"city": "Berlin", "country": "DE"}, **extra
    )
    assert post_native(server, [event]).status_code == 200


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def open_page(browser, url: str, viewport: dict, **options):
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(url)
    return context, page, problems


@pytest.mark.parametrize(
    ("statuses", "heading", "current"),
    [
        (["processed"], "Processed", "Processed"),
        (["processed", "shipped"], "Shipped", "Shipped"),
        (["processed", "shipped", "out_for_delivery"], "Out for delivery", "Out for delivery"),
        (["processed", "shipped", "out_for_delivery", "delivered"], "Arrived", None),
        (["processed", "shipped", "attempt_failed"], "Delivery attempted", "Out for delivery"),
    ],
)
def test_page_renders_every_milestone_accessibly(
    browser, local_server: LocalServer, statuses: list[str], heading: str, current: str | None
) -> None:
    last = (
        {"proof_of_delivery": {"recipient_name": "Robin", "note": "Left with neighbour"}}
        if statuses[-1] == "delivered"
        else {}
    )
    created = shipment_at(local_server, f"1ZBROWSER{len(statuses)}{statuses[-1][:3].upper()}", statuses, **last)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page, problems = open_page(browser, created["tracking_url"], viewport)
        assert page.locator("h1").inner_text() == heading
        if current:
            assert page.locator("ol.steps li[aria-current=step]").inner_text() == current
        assert page.locator("ol.timeline li").count() == len(statuses)
        page.screenshot(path=str(ARTIFACTS / f"tracking-{statuses[-1]}-{name}.png"), full_page=True)
        assert serious_violations(page) == []
        assert problems == []  # no CSP violations, no script errors
        context.close()


def test_language_switch_and_preferences_form_work(browser, local_server: LocalServer) -> None:
    created = shipment_at(local_server, "1ZBROWSERFORM", ["processed", "shipped"])
    context, page, problems = open_page(browser, created["tracking_url"], PHONE)
    page.get_by_role("link", name="Español").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Enviado"
    page.get_by_label("Correo electrónico").check()
    page.get_by_label("Instrucciones de entrega").fill("Dejar con el vecino del 2B")
    page.get_by_role("button", name="Guardar").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Guardado. ¡Gracias!"
    assert page.get_by_label("Correo electrónico").is_checked()
    assert page.get_by_label("Instrucciones de entrega").input_value() == "Dejar con el vecino del 2B"
    detail = requests.get(
        f"{local_server.base_url}/v1/shipments/{created['id']}", headers=local_server.auth, timeout=10
    ).json()
    assert detail["shopper"]["notify"] == "email" and detail["shopper"]["instructions"] == "Dejar con el vecino del 2B"
    assert serious_violations(page) == []
    assert problems == []
    context.close()


def test_page_works_without_javascript(browser, local_server: LocalServer) -> None:
    created = shipment_at(local_server, "1ZBROWSERNOJS", ["processed"])
    context, page, _ = open_page(browser, created["tracking_url"], PHONE, java_script_enabled=False)
    assert page.locator("h1").inner_text() == "Processed"
    page.get_by_label("No notifications").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "Saved. Thank you!"
    context.close()


def test_active_delivery_refreshes_itself_when_the_shopper_returns(browser, local_server: LocalServer) -> None:
    created = shipment_at(local_server, "1ZBROWSERLIVE", ["processed", "shipped"])
    context, page, problems = open_page(browser, created["tracking_url"], PHONE)
    assert page.locator("h1").inner_text() == "Shipped"
    post_scan(local_server, "1ZBROWSERLIVE", "live-ofd", "out_for_delivery", "2026-11-25T09:00:00+00:00")
    time.sleep(1.2)  # the JSON twin reads an eventually consistent index
    with page.expect_navigation():
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    assert page.locator("h1").inner_text() == "Out for delivery"
    assert problems == []
    context.close()


def test_shopper_without_the_link_finds_the_order_on_the_lookup_page(browser, local_server: LocalServer) -> None:
    created = shipment_at(local_server, "1ZBROWSERLOOK", ["processed", "shipped"])
    lookup_url = f"{local_server.base_url}/track/{local_server.demo['retailer_id']}"
    context, page, problems = open_page(browser, lookup_url, PHONE)
    assert page.locator("h1").inner_text() == "Find your order"
    assert serious_violations(page) == []
    page.get_by_label("Order number").fill("b-look")  # as a shopper types it, but with a mistyped e-mail
    page.get_by_label("E-mail or phone number").fill("robin@example.org")
    page.get_by_role("button", name="Track my order").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text().startswith("We couldn't find an order")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "order-lookup-phone.png"), full_page=True)
    assert [problem for problem in problems if "404" not in problem] == []  # the answer itself is a 404
    problems.clear()

    page.get_by_label("Order number").fill(created["order_id"].lower())
    page.get_by_label("E-mail or phone number").fill("(415) 555-0142")
    page.get_by_role("button", name="Track my order").click()
    page.wait_for_load_state()
    assert page.url.startswith(created["tracking_url"])
    assert page.locator("h1").inner_text() == "Shipped"
    assert problems == []
    context.close()
