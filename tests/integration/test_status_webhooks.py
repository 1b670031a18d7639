"""Status webhooks to the retailer's systems: every change once, signed, retried, only what it subscribed to."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema

from chalicelib.api.openapi import document
from chalicelib.carriers.native import TOLERANCE_SECONDS, sign
from chalicelib.simulator import daytime_zone
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain
from tests.integration.test_notifications import notes, register, ship
from tests.payloads import native_event


def subscribe(api: Api, retailer: Retailer, providers: Providers, **webhooks: object) -> dict:
    body = {"webhooks": {"url": f"{providers.capture.url}/hooks/status", **webhooks}}
    response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(body))
    assert response.status_code == 200, response.body
    return response.json_body


def soon() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=5)


def posted(providers: Providers) -> list[dict]:
    return [json.loads(request.body) for request in providers.capture.of("retailer")]


def test_each_status_change_is_posted_once_signed_and_ordered_by_version(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    settings = subscribe(api, retailer, providers)
    secret = settings["webhooks"]["secret"]
    assert api.http.get("/v1/settings", headers=retailer.auth).json_body["webhooks"] == {
        "enabled": True,
        "url": f"{providers.capture.url}/hooks/status",
        "statuses": [
            "processed",
            "shipped",
            "out_for_delivery",
            "delivered",
            "available_for_pickup",
            "attempt_failed",
            "exception",
            "returned",
            "cancelled",
        ],
        "secret_configured": True,
    }
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")  # a replay changes nothing
    ship(api, retailer, "shipped", "e2", "2026-11-20T12:00:00+00:00")  # a new scan, same status: no change
    ship(api, retailer, "out_for_delivery", "e3", "2026-11-21T08:00:00+00:00")
    ship(api, retailer, "delivered", "e4", "2026-11-21T15:00:00+00:00")
    drain(soon())
    drain(soon())

    requests = sorted(providers.capture.of("retailer"), key=lambda r: json.loads(r.body)["data"]["version"])
    payloads = [json.loads(request.body) for request in requests]
    assert [p["data"]["status"] for p in payloads] == ["shipped", "out_for_delivery", "delivered"]
    assert {p["type"] for p in payloads} == {"shipment.status_changed"}
    first = payloads[0]
    assert first["id"] == f"{shipment['id']}:{first['data']['version']}"
    assert first["data"]["shipment_id"] == shipment["id"] and first["data"]["order_id"] == "ORD-1001"
    assert first["data"]["current"]["status"] == "delivered"  # the shipment as it is when the call goes out
    assert first["data"]["tracking_url"] == shipment["tracking_url"]
    assert "phone" not in json.dumps(payloads) and "maria@example.com" not in json.dumps(payloads)
    for payload in payloads:  # what the published API description promises
        jsonschema.validate(payload, document()["components"]["schemas"]["StatusChangedEvent"])
    for request, payload in zip(requests, payloads, strict=True):
        header = request.headers["X-Porchlight-Signature"]
        stamp = int(header.split(",")[0].removeprefix("t="))
        assert abs(stamp - datetime.now(UTC).timestamp()) < TOLERANCE_SECONDS
        assert header == sign(secret, request.body, stamp)
        assert request.headers["X-Porchlight-Event-Id"] == payload["id"]
    hooks = {key: note for key, note in notes(api, retailer, shipment["id"]).items() if key[1] == "webhook"}
    assert len(hooks) == 3 and {note["status"] for note in hooks.values()} == {"sent"}


def test_a_backfilled_history_posts_only_where_the_shipment_is_now(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    subscribe(api, retailer, providers)
    register(api, retailer)
    history = [
        native_event("h1", "shipped", "2026-11-20T10:00:00+00:00"),
        native_event("h2", "out_for_delivery", "2026-11-21T08:00:00+00:00"),
        native_event("h3", "delivered", "2026-11-21T15:00:00+00:00"),
    ]
    assert api.native(retailer, {"events": list(reversed(history))}).status_code == 200
    drain(soon())
    assert [p["data"]["status"] for p in posted(providers)] == ["delivered"]


def test_only_subscribed_statuses_are_posted_and_turning_off_stops_them(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    subscribe(api, retailer, providers, statuses=["delivered", "exception", "delivered"])
    register(api, retailer)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    ship(api, retailer, "exception", "e2", "2026-11-20T12:00:00+00:00")
    drain(soon())
    assert [p["data"]["status"] for p in posted(providers)] == ["exception"]

    off = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"webhooks": {"enabled": False}}))
    assert off.json_body["webhooks"]["enabled"] is False
    ship(api, retailer, "delivered", "e3", "2026-11-21T15:00:00+00:00")
    drain(soon())
    assert len(posted(providers)) == 1


def test_scans_for_an_unregistered_shipment_post_nothing(api: Api, retailer: Retailer, providers: Providers) -> None:
    subscribe(api, retailer, providers)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(soon())
    assert posted(providers) == []


def test_a_failing_endpoint_is_retried_and_a_refusal_is_recorded(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    subscribe(api, retailer, providers, statuses=["shipped", "delivered"])
    shipment = register(api, retailer)
    providers.capture.fail_next("retailer", 503, {"error": "deploying"})
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    now = soon()
    drain(now)
    [retrying] = [n for k, n in notes(api, retailer, shipment["id"]).items() if k[1] == "webhook"]
    assert retrying["status"] == "retry" and "503" in retrying["reason"]
    drain(now + timedelta(minutes=2))
    first, second = providers.capture.of("retailer")
    assert first.body == second.body  # the same event, so the receiver can deduplicate on its id

    providers.capture.fail_next("retailer", 410, {"error": "gone"})
    ship(api, retailer, "delivered", "e2", "2026-11-21T15:00:00+00:00")
    drain(now + timedelta(minutes=3))
    outcomes = {
        n["kind"].split(":")[1]: n for k, n in notes(api, retailer, shipment["id"]).items() if k[1] == "webhook"
    }
    assert outcomes["shipped"]["status"] == "sent"
    assert outcomes["delivered"]["status"] == "failed" and "410" in outcomes["delivered"]["reason"]


def test_webhook_settings_are_validated(api: Api, retailer: Retailer, providers: Providers) -> None:
    cases = [
        ({"enabled": True}, "webhooks.url"),
        ({"url": "ftp://example.com/hooks"}, "webhooks.url"),
        ({"url": f"{providers.capture.url}/hooks", "statuses": ["pending"]}, "webhooks.statuses.0"),
        ({"url": f"{providers.capture.url}/hooks", "surprise": 1}, "webhooks.surprise"),
    ]
    for webhooks, field in cases:
        response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"webhooks": webhooks}))
        assert response.status_code == 400, (webhooks, response.body)
        assert response.json_body["error"]["field"] == field
    assert api.http.get("/v1/settings", headers=retailer.auth).json_body["webhooks"]["enabled"] is False

    first = subscribe(api, retailer, providers)
    again = subscribe(api, retailer, providers)
    assert "secret" in first["webhooks"] and "secret" not in again["webhooks"]  # shown once


def test_redirects_are_not_followed_and_the_url_is_checked_again_when_sending(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch
) -> None:
    from chalicelib.config import settings

    subscribe(api, retailer, providers, statuses=["shipped", "delivered"])
    shipment = register(api, retailer)
    elsewhere = f"{providers.capture.url}/hooks/internal-admin"
    providers.capture.fail_next("retailer", 302, {}, headers={"Location": elsewhere})
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(soon())
    assert [request.path for request in providers.capture.of("retailer")] == ["/hooks/status"]
    [refused] = [n for key, n in notes(api, retailer, shipment["id"]).items() if key[1] == "webhook"]
    assert (
        refused["status"] == "failed"
        and refused["reason"] == "retailer webhook answered 302; redirects are not followed"
    )

    # The URL was fine for the local runtime; on any deployed stage (a `dev` one too), plain http to a private
    # address is not.
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.delenv("ALLOW_PRIVATE_WEBHOOKS")
    settings.cache_clear()
    ship(api, retailer, "delivered", "e2", "2026-11-21T10:00:00+00:00")
    drain(soon())
    assert len(providers.capture.of("retailer")) == 1
    outcomes = {
        n["kind"].split(":")[1]: n for k, n in notes(api, retailer, shipment["id"]).items() if k[1] == "webhook"
    }
    assert outcomes["delivered"]["status"] == "failed"
    assert outcomes["delivered"]["reason"] == "retailer webhook refused: url must use https"


def test_a_test_event_checks_the_endpoint_before_status_webhooks_are_relied_on(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    def send_test() -> object:
        return api.http.post("/v1/settings/webhooks/test", headers=retailer.auth, body="")

    unset = send_test()
    assert unset.status_code == 409 and unset.json_body["error"]["code"] == "no_webhook_configured"

    secret = subscribe(api, retailer, providers, enabled=False)["webhooks"]["secret"]
    answer = send_test()
    assert answer.status_code == 200, answer.body
    assert answer.json_body["delivered"] is True and answer.json_body["status"] == 200
    [request] = providers.capture.of("retailer")
    payload = json.loads(request.body)
    assert payload["type"] == "webhook.test" and payload["id"] == answer.json_body["id"]
    assert request.headers["X-Porchlight-Event-Id"] == payload["id"]
    stamp = int(request.headers["X-Porchlight-Signature"].split(",")[0].removeprefix("t="))
    assert request.headers["X-Porchlight-Signature"] == sign(secret, request.body, stamp)
    jsonschema.validate(payload, document()["components"]["schemas"]["TestEvent"])

    providers.capture.fail_next("retailer", 401, {"error": "bad signature"})
    refused = send_test().json_body
    assert refused["delivered"] is False and refused["error"] == "retailer webhook answered 401"


def test_rotating_the_secret_co_signs_with_the_old_one_for_a_grace_period(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib.carriers.native import verify

    old_secret = subscribe(api, retailer, providers)["webhooks"]["secret"]
    rotated = api.http.post(
        "/v1/settings/webhooks/secret", headers=retailer.auth, body='{"keep_previous_for_hours": 2}'
    )
    assert rotated.status_code == 201, rotated.body
    new_secret = rotated.json_body["secret"]
    assert new_secret != old_secret
    until = datetime.fromisoformat(rotated.json_body["previous_valid_until"])
    assert timedelta(hours=1, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=2)
    shown = api.http.get("/v1/settings", headers=retailer.auth).json_body["webhooks"]
    assert shown["previous_secret_valid_until"] == rotated.json_body["previous_valid_until"]
    assert "secret" not in shown

    register(api, retailer)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(soon())
    ship(api, retailer, "delivered", "e2", "2026-11-21T10:00:00+00:00")
    drain(datetime.now(UTC) + timedelta(hours=3))  # sent after the grace period
    during, after = sorted(providers.capture.of("retailer"), key=lambda r: json.loads(r.body)["data"]["version"])

    def accepted_by(secret: str, request) -> bool:
        stamp = int(request.headers["X-Porchlight-Signature"].split(",")[0].removeprefix("t="))
        try:
            verify(request.body, request.headers, {}, secret, stamp)
        except Exception:
            return False
        return True

    assert during.headers["X-Porchlight-Signature"].count("v1=") == 2
    assert accepted_by(old_secret, during) and accepted_by(new_secret, during)
    assert after.headers["X-Porchlight-Signature"].count("v1=") == 1
    assert accepted_by(new_secret, after) and not accepted_by(old_secret, after)

    immediate = api.http.post(
        "/v1/settings/webhooks/secret", headers=retailer.auth, body='{"keep_previous_for_hours": 0}'
    )
    assert immediate.json_body["previous_valid_until"] is None
    assert (
        "previous_secret_valid_until" not in api.http.get("/v1/settings", headers=retailer.auth).json_body["webhooks"]
    )
    bad = api.http.post("/v1/settings/webhooks/secret", headers=retailer.auth, body='{"keep_previous_for_hours": 200}')
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "keep_previous_for_hours"


def test_a_late_parcel_is_posted_once_as_shipment_delayed_to_those_who_ask(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    subscribe(api, retailer, providers, statuses=["delayed", "delivered"])
    # a shopper where it is daytime now: the drains below run at the real clock, and quiet hours have a legal floor
    shipment = register(api, retailer, time_zone=daytime_zone())
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    ship(api, retailer, "shipped", "e2", "2026-11-20T18:00:00+00:00", description="Weather delay", delayed=True)
    ship(api, retailer, "shipped", "e3", "2026-11-21T08:00:00+00:00", description="Still delayed", delayed=True)
    drain(soon())
    drain(soon())
    [event] = posted(providers)  # not `shipped` (not asked for), and the delay once
    assert event["type"] == "shipment.delayed" and event["data"]["reason"] == "carrier_delay"
    assert event["data"]["shipment_id"] == shipment["id"] and event["data"]["status"] == "shipped"
    jsonschema.validate(event, document()["components"]["schemas"]["DelayedEvent"])
    assert notes(api, retailer, shipment["id"])[("delayed", "sms")]["status"] == "sent"  # the shopper heard too


def test_a_promise_that_passes_is_posted_even_with_nobody_to_text(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from tests.integration.conftest import local_time

    subscribe(api, retailer, providers, statuses=["delayed"])
    promised = datetime.now(UTC).date().isoformat()
    body = {"order_id": "ORD-7", "carrier": "ups", "tracking_number": "1ZLATE0001", "customer": {"name": "No Contact"}}
    created = api.http.post(
        "/v1/shipments", headers=retailer.auth, body=json.dumps({**body, "promised_date": promised})
    )
    assert created.status_code == 201
    later = local_time("America/New_York", 15, days_ahead=3)
    drain(later)
    drain(later)
    [event] = posted(providers)
    assert event["type"] == "shipment.delayed" and event["data"]["reason"] == "promise_passed"
    assert event["data"]["promised_date"] == promised and event["data"]["order_id"] == "ORD-7"
    drain(later + timedelta(days=1))
    assert len(posted(providers)) == 1


def test_webhook_calls_that_failed_are_counted_by_channel_as_the_list_of_those_that_did_not_arrive_shows(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    subscribe(api, retailer, providers, statuses=["shipped", "delivered"])
    register(api, retailer)
    providers.capture.fail_next("retailer", 410, {"error": "gone"})
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(soon())
    ship(api, retailer, "delivered", "e2", "2026-11-21T15:00:00+00:00")
    drain(soon())

    failed = api.http.get("/v1/notifications/failed", headers=retailer.auth).json_body["notifications"]
    assert [n["channel"] for n in failed] == ["webhook"], failed
    today = datetime.now(UTC).date()
    period = f"?from={today.isoformat()}&to={(today + timedelta(days=1)).isoformat()}"
    report = api.http.get(f"/v1/analytics{period}", headers=retailer.auth).json_body
    assert report["notifications"]["webhook"] == {"failed": 1, "sent": 1}
    csv = api.http.get(f"/v1/analytics{period}&format=csv", headers=retailer.auth).body.decode()
    assert "notifications,webhook,failed,1" in csv.replace("\r", "")
