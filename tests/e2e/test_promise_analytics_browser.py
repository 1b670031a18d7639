"""Promise accuracy and the period comparison on the analytics page, in a real Chromium: axe finds nothing at a
phone's and a desktop's width, every chart has its table, and the downloaded CSV holds the numbers the page shows."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.e2e.conftest import ROOT, LocalServer, post_native
from tests.e2e.test_brand_contrast_browser import signed_in, violations
from tests.e2e.test_tracking_browser import DESKTOP, PHONE
from tests.integration.test_promise_accuracy import HISTORY, ZONE
from tests.payloads import native_event

pytestmark = pytest.mark.e2e
RANGE = "from=2026-11-01&to=2026-11-30"


def seed(server: LocalServer) -> None:
    for n, (order, carrier, service, origin, destination, promised, eta, delivered, _) in enumerate(HISTORY):
        tn = f"1ZPROMISEWEB{n:03d}"
        body = {
            "order_id": f"WEB-{order}",
            "carrier": carrier,
            "tracking_number": tn,
            "customer": {"name": "Pat Example", "time_zone": ZONE},
            "destination": {"country": destination[0], "region": destination[1]},
            **({"service": service} if service else {}),
            **({"origin": {"country": origin[0], "region": origin[1]}} if origin else {}),
            **({"promised_date": promised} if promised else {}),
        }
        created = requests.post(f"{server.base_url}/v1/shipments", headers=server.auth, json=body, timeout=10)
        assert created.status_code == 201, created.text
        day = delivered[:10]
        ofd = {"tracking_number": tn, "carrier": carrier, **({"eta": {"start": eta[0], "end": eta[1]}} if eta else {})}
        scans = [
            native_event(f"{tn}-s", "shipped", f"{day}T01:00:00+00:00", tracking_number=tn, carrier=carrier),
            native_event(f"{tn}-o", "out_for_delivery", f"{day}T02:00:00+00:00", **ofd),
        ]
        assert post_native(server, scans).status_code == 200
        arrival = native_event(f"{tn}-d", "delivered", delivered, tracking_number=tn, carrier=carrier)
        assert post_native(server, [arrival]).status_code == 200


def table(page, label: str) -> dict[str, list[str]]:
    rows = page.get_by_role("region", name=f"{label} (table)").locator("tbody tr").all()
    cells = [[cell.inner_text().strip() for cell in row.locator("th, td").all()] for row in rows]
    return {row[0]: row[1:] for row in cells}


def test_promise_accuracy_on_the_page_passes_axe_at_390_and_1280_px_and_matches_the_csv(
    browser, local_server: LocalServer
) -> None:
    seed(local_server)
    for viewport in (PHONE, DESKTOP):
        context, page = signed_in(browser, local_server, viewport)
        page.goto(f"{local_server.base_url}/analytics?{RANGE}")
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Promise accuracy").is_visible()
        for chart in ("by carrier and service", "by lane", "per week", "Parcels by days after"):
            assert page.locator("svg[role=img] title", has_text=chart).count() == 1, chart
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], width
        assert violations(page) == [], viewport
        shot = ROOT / "artifacts" / "screenshots" / f"analytics-promise-{viewport['width']}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.locator("section", has=page.get_by_role("heading", name="Promise accuracy")).screenshot(path=str(shot))
        context.close()

    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{local_server.base_url}/analytics")
    page.get_by_label("Retailer API key").fill(local_server.demo["api_key"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.goto(f"{local_server.base_url}/analytics?{RANGE}")
    lanes = table(page, "Promise accuracy by lane")
    assert lanes["US-CA > CA-ON"][:4] == ["1", "1", "0 (0.0%)", "0 · 0 · 1"]
    services = table(page, "Promise accuracy by carrier and service")
    compared = table(page, "Headline figures against the previous period")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        cells = {(s, n, m): v for s, n, m, v in list(csv.reader(io.StringIO(handle.read())))[1:]}
    context.close()
    # every carrier/service row of the page, number for number, in the spreadsheet
    csv_services = {name for section, name, _ in cells if section == "promise_carrier_service"}
    assert len(csv_services) == len(services)
    for name in csv_services:
        figures = {
            metric: cells[("promise_carrier_service", name, metric)]
            for metric in ("delivered", "with_promise", "by_promised_date", "by_promised_date_rate")
        }
        rate = figures["by_promised_date_rate"]
        shown = f"{figures['by_promised_date']} ({rate + '%' if rate else '–'})"
        assert services[name][:3] == [figures["delivered"], figures["with_promise"], shown], name
        inside = [cells[("promise_carrier_service", name, metric)] for metric in ("inside_window", "with_window")]
        assert services[name][5].startswith(f"{inside[0]} of {inside[1]}"), name
    on_time = compared["On time vs promised date"]
    previous = cells[("compared_with_previous", "on_time.rate", "previous")]
    assert on_time[1] == (previous + "%" if previous else "–")
