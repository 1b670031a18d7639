"""The "driver is close" text (issue 17): once per shipment under replays and concurrent pings, under the shopper
policy (consent, opt-out), dropped rather than deferred in quiet hours, in the shopper's language."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.live import Position
from chalicelib.shared.live import record_positions
from chalicelib.simulator import daytime_zone
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain
from tests.integration.test_live_positions import TN, ping, positions
from tests.payloads import native_event

ZONES = ("Pacific/Auckland", "Asia/Tokyo", "Asia/Kolkata", "Europe/Paris", "America/New_York", "America/Los_Angeles")


def night_zone() -> str:
    now = datetime.now(UTC)
    return next(zone for zone in ZONES if not 7 <= now.astimezone(ZoneInfo(zone)).hour < 22)


def setup(api: Api, retailer: Retailer, zone: str, locale: str = "en") -> dict[str, Any]:
    customer = {
        "name": "Maria Garcia",
        "phone": "+14155550123",
        "sms_consent": True,
        "time_zone": zone,
        "locale": locale,
    }
    shipment = api.register(retailer, customer=customer).json_body
    started = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    api.native(retailer, {"events": [native_event("ofd", "out_for_delivery", started)]})
    return shipment


def close_notes(api: Api, retailer: Retailer, shipment_id: str) -> list[dict[str, Any]]:
    detail = api.shipment(retailer, shipment_id).json_body
    return [n for n in detail["notifications"] if n["kind"] == "driver_close"]


def test_the_driver_close_text_goes_out_once_under_replays_and_concurrent_pings(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = setup(api, retailer, daytime_zone())
    drain(datetime.now(UTC))  # the out-for-delivery text
    sent_before = len(providers.capture.of("twilio"))
    for stops in (6, 5, 4, 3):
        positions(api, retailer, {"positions": [ping(40 - stops, stops_before=stops)]})
    assert close_notes(api, retailer, shipment["id"]) == []  # not close yet (threshold: 2 stops)
    now = datetime.now(UTC)
    close = [Position("ups", TN, 52.37, 4.89, now - timedelta(seconds=s), stops_before=2) for s in range(8, 0, -1)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: record_positions(retailer.id, [p], now), close))
    for _ in range(3):  # replays of the same batch, and the driver getting closer still
        positions(api, retailer, {"positions": [ping(1, stops_before=2), ping(0, stops_before=1)]})
    assert len(close_notes(api, retailer, shipment["id"])) == 1
    drain(datetime.now(UTC))
    texts = providers.capture.of("twilio")[sent_before:]
    assert len(texts) == 1
    assert "your driver is 2 stops away with order ORD-1001" in texts[0].form["Body"]
    assert close_notes(api, retailer, shipment["id"])[0]["status"] == "sent"
    # it counts in engagement like every message about the parcel, and the log's filter offers it
    engagement = api.http.get("/v1/analytics", headers=retailer.auth).json_body["engagement"]
    [row] = [r for r in engagement if (r["kind"], r["channel"]) == ("driver_close", "sms")]
    assert row["sent"] == 1


def test_the_driver_close_text_is_dropped_in_quiet_hours_not_deferred(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = setup(api, retailer, night_zone())
    eta = {"start": (datetime.now(UTC) + timedelta(minutes=8)).isoformat()}
    positions(api, retailer, {"positions": [ping(2, eta=eta)]})  # 8 minutes away: within the 10-minute threshold
    drain(datetime.now(UTC))
    [note] = close_notes(api, retailer, shipment["id"])
    assert note["status"] == "skipped" and note["reason"] == "quiet_hours"
    assert all("driver" not in text.form["Body"] for text in providers.capture.of("twilio"))


def test_the_driver_close_text_follows_the_threshold_setting_and_the_shoppers_language(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    api.http.put(
        "/v1/settings",
        headers=retailer.auth,
        body=json.dumps({"tracking_page": {"driver_close_stops": 0, "driver_close_minutes": 15}}),
    )
    shipment = setup(api, retailer, daytime_zone(), locale="es")
    positions(api, retailer, {"positions": [ping(3, stops_before=1)]})  # stops are switched off
    assert close_notes(api, retailer, shipment["id"]) == []
    eta = {"start": (datetime.now(UTC) + timedelta(minutes=12)).isoformat()}
    positions(api, retailer, {"positions": [ping(1, eta=eta, stops_before=1)]})
    drain(datetime.now(UTC))
    bodies = [text.form["Body"] for text in providers.capture.of("twilio")]
    assert any("tu repartidor esta a 1 parada con tu pedido" in body for body in bodies), bodies


def test_a_day_only_or_already_started_window_never_says_the_driver_is_close(api: Api, retailer: Retailer) -> None:
    shipment = setup(api, retailer, daytime_zone())
    now = datetime.now(UTC)
    today = {"start": f"{now.date().isoformat()}T00:00:00Z"}  # EasyPost's "delivered today": a day, not midnight
    started = {"start": (now - timedelta(minutes=20)).isoformat(), "end": (now + timedelta(hours=3)).isoformat()}
    for eta in (today, started):
        positions(api, retailer, {"positions": [ping(1, eta=eta)]})  # no stops counted: only the time could decide
    positions(
        api, retailer, {"positions": [ping(0, stops_before=6, eta={"start": (now + timedelta(minutes=4)).isoformat()})]}
    )
    assert close_notes(api, retailer, shipment["id"]) == []  # 6 stops counted: 4 minutes is a guess, not the route
