"""The scheduler tells the shopper when the promised date passes with the parcel still on its way (DESIGN 1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_notifications import CUSTOMER, NY
from tests.payloads import native_event


def days_from_today(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def register(api: Api, retailer: Retailer, promised_date: str) -> dict:
    response = api.register(retailer, customer=CUSTOMER, promised_date=promised_date)
    assert response.status_code == 201, response.body
    return response.json_body


def scan(api: Api, retailer: Retailer, event_id: str, status: str, hours_ago: int = 72, **extra: object) -> None:
    when = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(timespec="seconds")
    assert api.native(retailer, {"events": [native_event(event_id, status, when, **extra)]}).status_code == 200


def watch_silence(api: Api, retailer: Retailer, days: int = 5) -> None:
    response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"silent_after_days": days}))
    assert response.status_code == 200 and response.json_body["silent_after_days"] == days


def kinds(api: Api, retailer: Retailer, shipment_id: str) -> dict[tuple[str, str], str]:
    detail = api.shipment(retailer, shipment_id).json_body
    return {(n["kind"], n["channel"]): n["status"] for n in detail["notifications"]}


def test_a_parcel_still_moving_after_the_promised_date_gets_one_delayed_notice(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib import observability

    observability.emitted.clear()
    shipment = register(api, retailer, days_from_today(0))
    scan(api, retailer, "e1", "shipped")
    afternoon = local_time(NY, 15, days_ahead=3)
    drain(afternoon)  # sends "shipped" and runs the overdue check, which plans the delay notice
    drain(afternoon)
    assert kinds(api, retailer, shipment["id"]) == {
        ("shipped", "sms"): "sent",
        ("shipped", "email"): "sent",
        ("delayed", "sms"): "sent",
        ("delayed", "email"): "sent",
    }
    texts = [request.form["Body"] for request in providers.capture.of("twilio")]
    assert len(texts) == 2 and "ORD-1001 is delayed" in texts[1]
    assert len(providers.capture.of("sendgrid")) == 2

    # The carrier admits it later: a newer scan with a delay.
    scan(api, retailer, "e2", "shipped", hours_ago=1, description="Weather delay", delayed=True)
    drain(afternoon)
    assert len(providers.capture.of("twilio")) == 2  # told once, whoever noticed first
    assert observability.emitted["LateShipments|carrier=ups"] == 1
    view = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert view["banner"]["kind"] == "delayed"


def test_a_parcel_that_arrived_in_time_gets_no_delay_notice(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer, days_from_today(0))
    scan(api, retailer, "e1", "delivered")
    drain(local_time(NY, 15, days_ahead=3))
    drain(local_time(NY, 15, days_ahead=3))
    assert ("delayed", "sms") not in kinds(api, retailer, shipment["id"])
    assert all("delayed" not in request.form["Body"] for request in providers.capture.of("twilio"))
    assert api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body["banner"] is None


def test_moving_the_promised_date_moves_the_check(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer, days_from_today(0))
    later = days_from_today(5)
    moved = api.http.patch(
        f"/v1/shipments/{shipment['id']}", headers=retailer.auth, body=json.dumps({"promised_date": later})
    )
    assert moved.status_code == 200
    drain(local_time(NY, 15, days_ahead=3))  # the old date's check runs and stays quiet: the promise changed
    drain(local_time(NY, 15, days_ahead=3))
    assert ("delayed", "sms") not in kinds(api, retailer, shipment["id"])
    assert api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body["banner"] is None

    after_new_date = local_time(NY, 15, days_ahead=7)
    drain(after_new_date)
    drain(after_new_date)
    assert kinds(api, retailer, shipment["id"])[("delayed", "sms")] == "sent"


def test_a_backfilled_order_whose_promise_passed_long_ago_is_never_called_late(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer, days_from_today(-20))
    drain(local_time(NY, 15))
    drain(local_time(NY, 15))
    assert kinds(api, retailer, shipment["id"]) == {}
    assert providers.capture.of("twilio") == []
    # The page still tells the truth to whoever opens it: the promised date has passed.
    assert api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body["banner"]["kind"] == "delayed"


def test_checks_are_internal_and_not_listed_as_notifications(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer, days_from_today(3))
    assert api.shipment(retailer, shipment["id"]).json_body["notifications"] == []


def test_a_parcel_the_carrier_went_quiet_about_gets_one_delayed_notice(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib import observability
    from tests.integration.test_status_webhooks import posted, subscribe

    observability.emitted.clear()
    watch_silence(api, retailer)
    subscribe(api, retailer, providers, statuses=["delayed"])
    shipment = api.register(retailer, customer=CUSTOMER).json_body  # no promised date: silence is the only signal
    scan(api, retailer, "e1", "shipped", hours_ago=1)
    assert drain(local_time(NY, 12))["deliveries"] == {"sent": 2}  # the shipped text and email
    assert drain(local_time(NY, 12, days_ahead=4))["deliveries"] == {}  # not silent long enough yet
    assert api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body["banner"] is None

    week_later = local_time(NY, 12, days_ahead=7)
    assert drain(week_later)["deliveries"] == {"sent": 1}  # the check, which plans the notices
    assert drain(week_later)["deliveries"] == {"sent": 3}  # text, email, webhook
    assert kinds(api, retailer, shipment["id"])[("delayed", "sms")] == "sent"
    mail = providers.capture.of("sendgrid")[-1].json
    text = next(c["value"] for c in mail["content"] if c["type"] == "text/plain")
    assert "has not sent an update on order ORD-1001" in text
    [event] = posted(providers)
    assert event["type"] == "shipment.delayed" and event["data"]["reason"] == "no_news"
    assert observability.emitted["SilentShipments|carrier=ups"] == 1
    assert drain(local_time(NY, 12, days_ahead=20))["deliveries"] == {}  # told once: the watch has ended


def test_news_from_the_carrier_moves_the_silence_deadline(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch
) -> None:
    from chalicelib.api import webhooks

    watch_silence(api, retailer)
    shipment = api.register(retailer, customer=CUSTOMER).json_body
    scan(api, retailer, "e1", "shipped", hours_ago=1)
    # A scan 3 days on, received then (a scan dated that far ahead of its receipt would be clamped to it).
    later = datetime.now(UTC) + timedelta(hours=72)
    monkeypatch.setattr(webhooks, "utcnow", lambda: later)
    event = native_event("e2", "shipped", later.isoformat(timespec="seconds"), description="Arrived at facility")
    assert api.native(retailer, {"events": [event]}, timestamp=int(later.timestamp())).status_code == 200
    monkeypatch.undo()
    drain(local_time(NY, 12))
    first_deadline = local_time(NY, 12, days_ahead=6)
    assert drain(first_deadline)["deliveries"] == {"skipped": 1}  # news since: re-armed, nobody told
    assert ("delayed", "sms") not in kinds(api, retailer, shipment["id"])
    assert drain(local_time(NY, 12, days_ahead=9))["deliveries"] == {"sent": 1}  # silent 5 days after the news
    drain(local_time(NY, 12, days_ahead=9))
    assert kinds(api, retailer, shipment["id"])[("delayed", "sms")] == "sent"


def test_the_silence_watch_respects_the_retailers_setting_and_the_page_shows_it(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    fresh = api.create_retailer("Fresh")
    assert api.http.get("/v1/settings", headers=fresh.auth).json_body["silent_after_days"] == 5  # on by default
    watch_silence(api, retailer, 0)
    api.register(retailer, customer=CUSTOMER)
    scan(api, retailer, "e1", "shipped", hours_ago=1)
    drain(local_time(NY, 12))
    assert drain(local_time(NY, 12, days_ahead=30))["deliveries"] == {}  # never armed

    bad = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"silent_after_days": 31}))
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "silent_after_days"
    watch_silence(api, retailer, 3)
    quiet = api.register(retailer, tracking_number="1ZQUIET", customer=CUSTOMER).json_body
    scan(api, retailer, "q1", "shipped", hours_ago=24 * 4, tracking_number="1ZQUIET")
    view = api.http.get(f"/v1/tracking/{quiet['tracking_token']}").json_body
    assert view["banner"]["kind"] == "delayed"  # four days without news, three allowed
    # That silence began before we heard of the parcel (a backfill): the page says so, nobody is texted.
    assert drain(local_time(NY, 12, days_ahead=30))["deliveries"] == {"sent": 2}  # only its shipped text and email


def test_analytics_count_each_late_parcel_once_by_what_showed_it(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    watch_silence(api, retailer)
    parcels = {"1ZDELAYED": None, "1ZPROMISED": days_from_today(0), "1ZSILENT": None, "1ZONTIME": None}
    for tn, promised in parcels.items():
        extra = {"promised_date": promised} if promised else {}
        assert api.register(retailer, tracking_number=tn, customer=CUSTOMER, **extra).status_code == 201
    scan(api, retailer, "d1", "shipped", hours_ago=5, tracking_number="1ZDELAYED", delayed=True)
    scan(api, retailer, "d2", "shipped", hours_ago=2, tracking_number="1ZDELAYED", delayed=True)  # said twice
    scan(api, retailer, "p1", "shipped", tracking_number="1ZPROMISED")
    scan(api, retailer, "s1", "shipped", hours_ago=1, tracking_number="1ZSILENT")
    scan(api, retailer, "o1", "shipped", hours_ago=1, tracking_number="1ZONTIME")
    scan(api, retailer, "o2", "delivered", hours_ago=0, tracking_number="1ZONTIME")
    week_later = local_time(NY, 12, days_ahead=7)
    drain(week_later)
    drain(week_later)
    drain(local_time(NY, 12, days_ahead=8))

    period = f"?from={days_from_today(0)}&to={days_from_today(9)}"
    report = api.http.get(f"/v1/analytics{period}", headers=retailer.auth).json_body
    assert report["delays"] == {
        "flagged": 3,
        "by_reason": {"carrier_delay": 1, "eta_after_promise": 0, "promise_passed": 1, "no_news": 1},
    }
    assert next(row for row in report["by_carrier"] if row["carrier"] == "ups")["flagged_late"] == 3
    csv = api.http.get(f"/v1/analytics{period}&format=csv", headers=retailer.auth).body.decode()
    assert "late_reason,no_news,flagged_late,1" in csv and "overall,all,flagged_late,3" in csv
    from tests.integration.test_failed_notifications import analytics_page

    page = analytics_page(api, retailer, period)
    assert "Parcels found late" in page and "no news from the carrier" in page and "promised date passed" in page


def test_a_parcel_whose_eta_is_after_the_promise_shows_the_delay_banner_as_analytics_count_it_late(
    api: Api, retailer: Retailer
) -> None:
    shipment = register(api, retailer, days_from_today(1))
    eta = {"start": days_from_today(3), "end": days_from_today(3)}
    scan(api, retailer, "e1", "shipped", hours_ago=2, eta=eta)  # the very first ETA is already two days late
    view = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert view["banner"] is not None and view["banner"]["kind"] == "delayed"
    report = api.http.get("/v1/analytics", headers=retailer.auth).json_body
    assert report["delays"]["by_reason"]["eta_after_promise"] == 1
