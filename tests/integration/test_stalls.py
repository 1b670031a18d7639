"""Problems before the shopper calls (D45): no first carrier scan, stuck at the same scan, a first failed attempt;
listed under "Needs attention" and posted once per shipment and reason as `shipment.stalled` (opt-in)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import jsonschema

from chalicelib.api.openapi import document
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain
from tests.integration.test_status_webhooks import posted, subscribe
from tests.payloads import native_event


def watch_stalls(api: Api, retailer: Retailer, first_scan_days: int = 2, stuck_days: int = 3) -> None:
    body = {"alerts": {"no_first_scan_days": first_scan_days, "stuck_days": stuck_days}}
    response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(body))
    assert response.status_code == 200 and response.json_body["alerts"] == body["alerts"], response.body


def scan(api: Api, retailer: Retailer, event_id: str, status: str, at: datetime) -> None:
    event = native_event(event_id, status, at.isoformat(timespec="seconds"))
    assert api.native(retailer, {"events": [event]}).status_code == 200


def stalled(api: Api, retailer: Retailer) -> list[dict]:
    return api.http.get("/v1/analytics", headers=retailer.auth).json_body["needs_attention"]["stalled"]


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def stalled_events(providers: Providers) -> list[dict]:
    return [event for event in posted(providers) if event["type"] == "shipment.stalled"]


def test_a_label_never_scanned_is_listed_and_posted_once(api: Api, retailer: Retailer, providers: Providers) -> None:
    watch_stalls(api, retailer)
    subscribe(api, retailer, providers, statuses=["stalled"])
    shipment = api.register(retailer, customer={"name": "Maria Garcia"}).json_body  # no contact: nothing to send
    assert drain(later(days=1))["deliveries"] == {}  # not due yet
    assert stalled(api, retailer) == []
    assert drain(later(days=2, hours=1))["deliveries"] == {"deferred": 1}  # found; the watch sleeps on
    assert drain(later(days=2, hours=1))["deliveries"] == {"sent": 1}  # the retailer's event
    [event] = stalled_events(providers)
    assert event["id"] == f"{shipment['id']}:stalled:no_first_scan"
    assert event["data"]["reason"] == "no_first_scan" and event["data"]["status"] == "pending"
    jsonschema.validate(
        event,
        document()["webhooks"]["shipment.stalled"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        | {"components": document()["components"]},
    )
    [listed] = stalled(api, retailer)
    assert (listed["shipment_id"], listed["reason"], listed["status"]) == (shipment["id"], "no_first_scan", "pending")
    export = api.http.get("/v1/analytics?format=csv", headers=retailer.auth).body.decode()
    cells = {(s, n, m): v for s, n, m, v in list(csv.reader(io.StringIO(export)))[1:]}
    assert cells[("stalled", shipment["id"], "reason")] == "no_first_scan"  # the spreadsheet lists it too
    assert drain(later(days=4))["deliveries"] == {}  # once per shipment and reason
    scan(api, retailer, "e1", "shipped", datetime.now(UTC))
    assert stalled(api, retailer) == []  # it moved: no longer listed
    assert len(stalled_events(providers)) == 1


def test_a_parcel_stuck_at_the_same_scan_is_found_after_the_retailers_days(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    watch_stalls(api, retailer, stuck_days=3)
    subscribe(api, retailer, providers, statuses=["stalled"])
    shipment = api.register(retailer, customer={"name": "Maria Garcia"}).json_body
    scan(api, retailer, "e1", "shipped", datetime.now(UTC) - timedelta(hours=1))
    assert drain(later(days=2, hours=1))["deliveries"] == {"deferred": 1}  # scanned: look again 3 days after it
    assert stalled(api, retailer) == []
    assert drain(later(days=3, hours=1))["deliveries"] == {"sent": 1}  # stuck: found, and nothing left to watch
    drain(later(days=3, hours=1))
    [event] = stalled_events(providers)
    assert event["data"]["reason"] == "stuck" and event["data"]["status"] == "shipped"
    assert [(s["shipment_id"], s["reason"]) for s in stalled(api, retailer)] == [(shipment["id"], "stuck")]
    assert drain(later(days=20))["deliveries"] == {}


def test_news_before_the_deadline_keeps_the_parcel_off_the_list(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    watch_stalls(api, retailer, stuck_days=3)
    api.register(retailer, customer={"name": "Maria Garcia"})
    scan(api, retailer, "e1", "shipped", datetime.now(UTC) - timedelta(hours=1))
    drain(later(days=2, hours=1))
    scan(api, retailer, "e2", "out_for_delivery", datetime.now(UTC))
    scan(api, retailer, "e3", "delivered", datetime.now(UTC))
    assert drain(later(days=3, hours=1))["deliveries"] == {"skipped": 1}  # arrived: the watch ends, nothing found
    assert stalled(api, retailer) == [] and posted(providers) == []


def test_a_first_failed_attempt_posts_once_beside_its_status_change(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    subscribe(api, retailer, providers, statuses=["stalled", "attempt_failed"])
    api.register(retailer, customer={"name": "Maria Garcia"})
    now = datetime.now(UTC)
    scan(api, retailer, "e1", "attempt_failed", now - timedelta(hours=3))
    scan(api, retailer, "e2", "out_for_delivery", now - timedelta(hours=2))
    scan(api, retailer, "e3", "attempt_failed", now - timedelta(hours=1))  # the second attempt: no second event
    drain(later(seconds=5))
    events = posted(providers)
    assert [e["data"]["reason"] for e in events if e["type"] == "shipment.stalled"] == ["first_attempt_failed"]
    assert len({e["id"] for e in events}) == len(events)  # its own id beside the status change of that version
    assert sum(e["type"] == "shipment.status_changed" for e in events) == 2


def test_unsubscribed_retailers_get_no_event_and_zero_days_switch_a_reason_off(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    watch_stalls(api, retailer, first_scan_days=0, stuck_days=3)
    api.register(retailer, customer={"name": "Maria Garcia"})
    assert drain(later(days=2, hours=1))["deliveries"] == {}  # no first-scan alert: the first look is at 3+0 days
    drain(later(days=3, hours=1))
    assert posted(providers) == [] and stalled(api, retailer) == []  # not scanned, and that reason is off
    bad = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"alerts": {"stuck_days": 31}}))
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "alerts.stuck_days"
    fresh = api.create_retailer("Defaults")
    assert api.http.get("/v1/settings", headers=fresh.auth).json_body["alerts"] == {
        "no_first_scan_days": 2,
        "stuck_days": 3,
    }
