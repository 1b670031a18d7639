"""Promise accuracy and the period comparison, from a small known history checked figure by figure by hand."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import jsonschema

from chalicelib.api.openapi import document
from tests.conftest import Api, Retailer
from tests.integration.test_analytics_sessions import session_cookie
from tests.payloads import native_event

ZONE = "America/New_York"  # UTC-5 in November: 03:30 UTC on the 6th is 22:30 on the 5th there
# (order, carrier, service, origin, destination, promised, eta shown, delivered at UTC, eta on the delivery scan)
HISTORY: list[tuple[Any, ...]] = [
    ("P1", "ups", "ground", ("US", "CA"), ("US", "NY"), "2026-11-05", ("2026-11-05T14:00:00Z", "2026-11-05T18:00:00Z"),
     "2026-11-05T16:00:00Z", None),
    ("P2", "ups", "Ground", ("US", "CA"), ("US", "NY"), "2026-11-05", ("2026-11-05T14:00:00Z", "2026-11-05T18:00:00Z"),
     "2026-11-06T03:30:00Z", None),
    ("P3", "ups", "express", ("US", "CA"), ("US", "TX"), "2026-11-06", None, "2026-11-04T15:00:00Z", None),
    ("P4", "fedex", None, None, ("US", "NY"), "2026-11-03", ("2026-11-07T00:00:00Z", "2026-11-07T00:00:00Z"),
     "2026-11-07T15:00:00Z", None),
    ("P5", "fedex", None, None, ("US", "NY"), None, ("2026-11-10T12:00:00Z", "2026-11-10T16:00:00Z"),
     "2026-11-10T20:00:00Z", ("2026-11-10T19:00:00Z", "2026-11-10T21:00:00Z")),
    ("P6", "usps", "priority", ("US", "CA"), ("CA", "ON"), "2026-11-09", None, "2026-11-20T15:00:00Z", None),
    # the previous period (2026-10-02 .. 2026-10-31): one parcel, two days late
    ("P7", "ups", "ground", ("US", "CA"), ("US", "NY"), "2026-10-20", None, "2026-10-22T15:00:00Z", None),
]  # fmt: skip


def _seed(api: Api, retailer: Retailer) -> None:
    for n, (order, carrier, service, origin, destination, promised, eta, delivered, late_eta) in enumerate(HISTORY):
        tn = f"1ZPROMISE{n:04d}"
        body: dict[str, Any] = {
            "order_id": order,
            "carrier": carrier,
            "tracking_number": tn,
            "customer": {"name": "Pat Example", "time_zone": ZONE},
            "destination": {"country": destination[0], "region": destination[1]},
        }
        if service:
            body["service"] = service
        if origin:
            body["origin"] = {"country": origin[0], "region": origin[1]}
        if promised:
            body["promised_date"] = promised
        assert api.register(retailer, **body).status_code == 201
        day = delivered[:10]
        ofd: dict[str, Any] = {"tracking_number": tn, "carrier": carrier}
        if eta:
            ofd["eta"] = {"start": eta[0], "end": eta[1]}
        scans = [
            native_event(f"{tn}-s", "shipped", f"{day}T01:00:00+00:00", tracking_number=tn, carrier=carrier),
            native_event(f"{tn}-o", "out_for_delivery", f"{day}T02:00:00+00:00", **ofd),
        ]
        assert api.native(retailer, {"events": scans}).status_code == 200
        arrival: dict[str, Any] = {"tracking_number": tn, "carrier": carrier}
        if late_eta:  # an ETA on the delivery scan itself was never shown to anyone
            arrival["eta"] = {"start": late_eta[0], "end": late_eta[1]}
        assert (
            api.native(retailer, {"events": [native_event(f"{tn}-d", "delivered", delivered, **arrival)]}).status_code
            == 200
        )


def test_promise_accuracy_by_carrier_service_lane_and_week_match_the_known_history(
    api: Api, retailer: Retailer
) -> None:
    _seed(api, retailer)
    response = api.http.get("/v1/analytics?from=2026-11-01&to=2026-11-30", headers=retailer.auth)
    assert response.status_code == 200
    data = response.json_body
    jsonschema.validate(
        data, {**document()["components"]["schemas"]["Analytics"], "components": document()["components"]}
    )
    accuracy = data["promise"]
    # P1 on the day, inside; P2 on the day in New York (late by the UTC date), after the window; P3 two days early;
    # P4 four days late, inside its day-only window; P5 no promise, outside (the delivery scan's own ETA ignored);
    # P6 eleven days late, counted at +7.
    assert accuracy["overall"] == {
        "delivered": 6,
        "with_promise": 5,
        "by_promised_date": 3,
        "by_promised_date_rate": 60.0,
        "early": 1,
        "on_the_day": 2,
        "late": 2,
        "median_days_late": 0,
        "days_late": [
            {"days": -2, "count": 1},
            {"days": 0, "count": 2},
            {"days": 4, "count": 1},
            {"days": 7, "count": 1},
        ],
        "with_window": 4,
        "inside_window": 2,
        "inside_window_rate": 50.0,
    }
    services = {(row["carrier"], row["service"]): row for row in accuracy["by_carrier_service"]}
    assert set(services) == {("fedex", None), ("ups", "express"), ("ups", "ground"), ("usps", "priority")}
    ground = services[("ups", "ground")]
    assert (ground["delivered"], ground["by_promised_date_rate"], ground["inside_window"], ground["with_window"]) == (
        2, 100.0, 1, 2,
    )  # fmt: skip
    assert ground["days_late"] == [{"days": 0, "count": 2}]
    express = services[("ups", "express")]
    assert (express["early"], express["median_days_late"], express["inside_window_rate"]) == (1, -2, None)
    fedex = services[("fedex", None)]
    assert (fedex["delivered"], fedex["with_promise"], fedex["late"], fedex["by_promised_date_rate"]) == (2, 1, 1, 0.0)
    assert (fedex["inside_window"], fedex["with_window"], fedex["median_days_late"]) == (1, 2, 4)
    assert services[("usps", "priority")]["days_late"] == [{"days": 7, "count": 1}]
    lanes = {(row["origin"], row["destination"]): row for row in accuracy["by_lane"]}
    assert {lane: row["delivered"] for lane, row in lanes.items()} == {
        ("US-CA", "US-NY"): 2,
        ("US-CA", "US-TX"): 1,
        ("?", "US-NY"): 2,
        ("US-CA", "CA-ON"): 1,
    }
    assert lanes[("US-CA", "US-NY")]["by_promised_date_rate"] == 100.0
    assert lanes[("?", "US-NY")]["inside_window_rate"] == 50.0
    assert lanes[("US-CA", "CA-ON")]["late"] == 1
    weeks = {row["week"]: row for row in accuracy["by_week"]}
    assert {week: row["delivered"] for week, row in weeks.items()} == {
        "2026-11-02": 4,  # P3 (4th), P1 (5th), P2 (6th UTC), P4 (7th)
        "2026-11-09": 1,  # P5
        "2026-11-16": 1,  # P6
    }
    assert weeks["2026-11-02"]["by_promised_date_rate"] == 75.0 and weeks["2026-11-16"]["by_promised_date_rate"] == 0.0
    # the older on-time figure now agrees: by the shopper's day, 3 of 5 promised parcels arrived by the date
    assert data["on_time"] == {"on_time": 3, "late": 2, "rate": 60.0}

    # the previous period of the same length: P7 alone, late, no window
    comparison = data["comparison"]
    assert (comparison["previous_from"], comparison["previous_to"]) == ("2026-10-02", "2026-10-31")
    figures = {row["figure"]: row for row in comparison["figures"]}
    assert figures["on_time.rate"] | {} == {
        "figure": "on_time.rate", "label": "On time vs promised date", "unit": "%", "current": 60.0, "previous": 0.0,
        "change": 60.0,
    }  # fmt: skip
    assert (figures["shipments.delivered"]["current"], figures["shipments.delivered"]["previous"]) == (6, 1)
    assert figures["shipments.delivered"]["change"] == 5
    assert figures["promise.overall.inside_window_rate"]["previous"] is None
    assert figures["promise.overall.inside_window_rate"]["change"] is None

    # the spreadsheet carries the same numbers
    rows = list(csv.reader(io.StringIO(api.http.get(
        "/v1/analytics?from=2026-11-01&to=2026-11-30&format=csv", headers=retailer.auth
    ).body.decode())))  # fmt: skip
    cells = {(section, name, metric): value for section, name, metric, value in rows[1:]}
    assert cells[("promise_overall", "all", "by_promised_date_rate")] == "60.0"
    assert cells[("promise_overall", "all", "days_late_-2")] == "1"
    assert cells[("promise_carrier_service", "UPS / ground", "inside_window")] == "1"
    assert cells[("promise_carrier_service", "FedEx / no service given", "with_promise")] == "1"
    assert cells[("promise_lane", "US-CA > CA-ON", "days_late_7")] == "1"
    assert cells[("promise_week", "2026-11-02", "delivered")] == "4"
    assert cells[("compared_with_previous", "on_time.rate", "previous")] == "0.0"
    assert cells[("compared_with_previous", "shipments.delivered", "change")] == "5"


def test_service_and_origin_are_kept_corrected_and_validated(api: Api, retailer: Retailer) -> None:
    created = api.register(
        retailer, service="next_day", origin={"country": "US", "region": "CA"}, tracking_number="1ZSERVICE1"
    ).json_body
    shipment = api.http.get(f"/v1/shipments/{created['id']}", headers=retailer.auth).json_body
    assert shipment["service"] == "next_day" and shipment["origin"] == {"country": "US", "region": "CA"}
    patched = api.http.patch(
        f"/v1/shipments/{created['id']}",
        headers=retailer.auth,
        body='{"service": "ground", "origin": {"region": "NV"}}',
    )
    assert patched.status_code == 200
    assert patched.json_body["service"] == "ground" and patched.json_body["origin"] == {"region": "NV"}
    for bad, field in (
        ({"service": ""}, "service"),
        ({"service": "a" * 41}, "service"),
        ({"origin": {"country": "USA"}}, "origin"),
    ):
        answer = api.register(retailer, tracking_number="1ZSERVICE2", **bad)
        assert answer.status_code == 400 and answer.json_body["error"]["field"].startswith(field), bad


def _table_rows(page: str, label: str) -> list[list[str]]:
    """The cells of the page's table named `label`, tags stripped, one list per body row."""
    table = page.split(f'aria-label="{label} (table)"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_analytics_page_shows_promise_accuracy_and_the_comparison_with_the_csv_numbers(
    api: Api, retailer: Retailer
) -> None:
    _seed(api, retailer)
    cookie = session_cookie(api, retailer.api_key)
    page = api.http.get("/analytics?from=2026-11-01&to=2026-11-30", headers={"Cookie": cookie}).body.decode()
    assert "3 of 5 parcels with a promised date arrived by it (60.0%)" in page
    assert "2 of 4 arrived inside the ETA window the shopper was shown (50.0%)" in page
    services = {row[0]: row[1:] for row in _table_rows(page, "Promise accuracy by carrier and service")}
    assert services["UPS / ground"] == ["2", "2", "2 (100.0%)", "0 · 2 · 0", "0", "1 of 2 (50.0%)"]
    assert services["FedEx / no service given"] == ["2", "1", "0 (0.0%)", "0 · 0 · 1", "4", "1 of 2 (50.0%)"]
    lanes = {row[0]: row[1:] for row in _table_rows(page, "Promise accuracy by lane")}
    assert lanes["US-CA > CA-ON"][:4] == ["1", "1", "0 (0.0%)", "0 · 0 · 1"]
    spread = dict(_table_rows(page, "Days early or late"))  # type: ignore[arg-type]
    assert spread == {"2 days early": "1", "on the day": "2", "4 days late": "1", "7 or more days late": "1"}
    compared = {row[0]: row[1:] for row in _table_rows(page, "Headline figures against the previous period")}
    assert compared["On time vs promised date"] == ["60.0%", "0.0%", "+60.0 pts"]
    assert compared["Delivered"] == ["6", "1", "+5"]
    assert compared["Inside the ETA window shown"] == ["50.0%", "–", "–"]
    assert "+60.0 pts vs previous period" in page
    # the download from the page holds the same numbers the page shows
    export = api.http.get("/analytics/export.csv?from=2026-11-01&to=2026-11-30", headers={"Cookie": cookie})
    cells = {(s, n, m): v for s, n, m, v in list(csv.reader(io.StringIO(export.body.decode())))[1:]}
    ground = ("promise_carrier_service", "UPS / ground")
    assert [cells[(*ground, metric)] for metric in ("delivered", "with_promise", "by_promised_date")] == ["2", "2", "2"]
    assert cells[(*ground, "by_promised_date_rate")] + "%" == "100.0%" == services["UPS / ground"][2].split("(")[1][:-1]
    assert cells[("promise_overall", "all", "inside_window_rate")] == "50.0"
    assert cells[("compared_with_previous", "on_time.rate", "change")] == "60.0"
