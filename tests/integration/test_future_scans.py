"""A scan dated far ahead cannot freeze a shipment (issue 15, item 6): beyond FUTURE_TOLERANCE past its receipt it is
recorded at its receipt time and flagged with the time the carrier gave; a later real scan still moves the parcel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.domain.events import iso
from tests.conftest import Api, Retailer
from tests.payloads import native_event


def test_an_exception_dated_a_year_ahead_no_longer_outranks_the_real_scans_after_it(
    api: Api, retailer: Retailer
) -> None:
    shipment = api.register(retailer).json_body
    year_ahead = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)
    before = datetime.now(UTC).replace(microsecond=0)
    first = api.native(retailer, {"events": [native_event("bogus", "exception", year_ahead.isoformat())]})
    after = datetime.now(UTC)
    assert first.status_code == 200 and first.json_body == {"accepted": 1, "duplicates": 0}
    [event] = api.shipment(retailer, shipment["id"]).json_body["events"]
    assert event["status"] == "exception" and event["reported_at"] == iso(year_ahead)
    assert before <= datetime.fromisoformat(event["occurred_at"]) <= after  # recorded when it arrived

    replay = api.native(retailer, {"events": [native_event("bogus", "exception", year_ahead.isoformat())]})
    assert replay.json_body == {"accepted": 0, "duplicates": 1}  # still recognised as the same scan

    real = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert api.native(retailer, {"events": [native_event("real", "delivered", real)]}).status_code == 200
    body = api.shipment(retailer, shipment["id"]).json_body
    assert body["status"] == "delivered"
    assert [e["reported_at"] for e in body["events"]] == [iso(year_ahead), None]


def test_a_scan_a_little_ahead_of_our_clock_keeps_its_time(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    skewed = (datetime.now(UTC) + timedelta(minutes=14)).replace(microsecond=0)  # inside the 15 minutes
    assert api.native(retailer, {"events": [native_event("e1", "shipped", skewed.isoformat())]}).status_code == 200
    [event] = api.shipment(retailer, shipment["id"]).json_body["events"]
    assert event["occurred_at"] == iso(skewed) and event["reported_at"] is None
