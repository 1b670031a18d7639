"""Driver positions (DESIGN 3.8): the signed batch, what is refused with nothing stored, what is kept and shown."""

from __future__ import annotations

import csv
import io
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from chalicelib.carriers import native
from chalicelib.store import live as live_store
from tests.conftest import Api, Retailer
from tests.integration.test_analytics_sessions import session_cookie
from tests.payloads import native_event

TN = "1Z999AA10123456784"


def positions(api: Api, retailer: Retailer, body: dict[str, Any] | bytes, *, secret: str | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Porchlight-Signature": native.sign(secret or retailer.secrets["native"], raw, int(time.time())),
    }
    return api.http.post(f"/v1/webhooks/native/{retailer.id}/positions", headers=headers, body=raw)


def ping(seconds_ago: float, lat: float = 52.3702, lng: float = 4.8952, **extra: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return {"tracking_number": TN, "carrier": "ups", "lat": lat, "lng": lng, "recorded_at": at.isoformat(), **extra}


def out_for_delivery(api: Api, retailer: Retailer, **register: Any) -> dict[str, Any]:
    shipment = api.register(retailer, **register).json_body
    now = datetime.now(UTC)
    api.native(retailer, {"events": [native_event("ofd", "out_for_delivery", (now - timedelta(hours=1)).isoformat())]})
    return shipment


def live_items() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName="porchlight-test")["Items"]
    return [item for item in items if item["sk"]["S"] == "LIVE"]


def tracking(api: Api, token: str, **headers: str) -> Any:
    return api.http.get(f"/v1/tracking/{token}", headers=headers)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"lat": 91}, "positions[1].lat"),
        ({"lng": -180.5}, "positions[1].lat"),
        ({"lat": "52.1"}, "positions[1].lat"),
        ({"lat": True}, "positions[1].lat"),
        ({"recorded_at": None}, "positions[1].recorded_at"),
        ({"recorded_at": "2026-12-01T10:00:00"}, "positions[1].recorded_at"),
        ({"tracking_number": None}, "positions[1].tracking_number"),
        ({"carrier": ""}, "positions[1].carrier"),
        ({"stops_before": -1}, "positions[1].stops_before"),
        ({"stops_before": 2.5}, "positions[1].stops_before"),
        ({"eta": {"start": "soon"}}, "positions[1].eta.start"),
        ({"eta": {"start": "2026-12-02T15:00:00+00:00", "end": "2026-12-02T14:00:00+00:00"}}, "positions[1].eta.end"),
    ],
)
def test_a_batch_with_one_bad_position_is_refused_and_nothing_is_stored(
    api: Api, retailer: Retailer, item: dict[str, Any], field: str
) -> None:
    out_for_delivery(api, retailer)
    bad = {**ping(5), **item}
    response = positions(api, retailer, {"positions": [ping(10), bad]})
    assert response.status_code == 400, response.body
    assert response.json_body["error"]["field"] == field
    assert live_items() == []


def test_a_position_dated_beyond_the_clock_skew_is_refused(api: Api, retailer: Retailer) -> None:
    out_for_delivery(api, retailer)
    response = positions(api, retailer, {"positions": [ping(-120)]})
    assert response.status_code == 400 and response.json_body["error"]["field"] == "positions[0].recorded_at"
    assert live_items() == []
    assert positions(api, retailer, {"positions": [ping(-20)]}).status_code == 200  # within the 60 s skew


def test_more_than_500_positions_wrong_signature_or_no_body_are_refused(api: Api, retailer: Retailer) -> None:
    out_for_delivery(api, retailer)
    over = positions(api, retailer, {"positions": [ping(i) for i in range(501)]})
    assert over.status_code == 400 and over.json_body["error"]["field"] == "positions"
    forged = positions(api, retailer, {"positions": [ping(1)]}, secret="not-the-secret-0123456789")
    assert forged.status_code == 401
    empty = positions(api, retailer, {"positions": []})
    assert empty.status_code == 400
    garbage = positions(api, retailer, b"{not json")
    assert garbage.status_code == 400
    unknown = api.http.post(
        "/v1/webhooks/native/rt_nobody/positions",
        headers={"X-Porchlight-Signature": native.sign("x", b"{}", int(time.time()))},
        body=b"{}",
    )
    assert unknown.status_code == 401
    assert live_items() == []


def test_a_shuffled_duplicated_stream_ends_at_the_newest_position(api: Api, retailer: Retailer) -> None:
    shipment = out_for_delivery(api, retailer)
    stream = [ping(300 - 40 * i, lat=52.30 + i / 100, stops_before=10 - i) for i in range(8)]
    shuffled = stream * 3
    random.Random(17).shuffle(shuffled)
    totals = {"accepted": 0, "stale": 0}
    for start in range(0, len(shuffled), 4):
        answer = positions(api, retailer, {"positions": shuffled[start : start + 4]}).json_body
        totals["accepted"] += answer["accepted"]
        totals["stale"] += answer["stale"]
        assert answer["unmatched"] == 0
    assert totals["accepted"] + totals["stale"] == len(shuffled)
    kept = live_store.get(shipment["id"])
    assert kept is not None and kept.lat == pytest.approx(52.37) and kept.stops_before == 3
    newest = datetime.fromisoformat(stream[-1]["recorded_at"])
    assert abs((kept.recorded_at - newest).total_seconds()) < 0.001
    # the history is untouched: positions never become scans
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert [event["status"] for event in detail["events"]] == ["out_for_delivery"]


def test_pings_every_5_seconds_are_written_once_per_30_seconds(api: Api, retailer: Retailer) -> None:
    from chalicelib.store.table import usage

    shipment = out_for_delivery(api, retailer)
    before = dict(usage)
    for i in range(12):  # one minute of pings, 5 s apart, same stops
        answer = positions(api, retailer, {"positions": [ping(60 - 5 * i, lat=52.3 + i / 1000, stops_before=4)]})
        assert answer.json_body == {"accepted": 1, "stale": 0, "unmatched": 0}
    puts = usage.get("calls.PutItem", 0) - before.get("calls.PutItem", 0)
    assert puts == 2  # the first, and the one 30 s later; the others are coalesced
    kept = live_store.get(shipment["id"])
    assert kept is not None and kept.lat == pytest.approx(52.306)
    # a change of stops is written at once
    positions(api, retailer, {"positions": [ping(0, stops_before=3)]})
    assert usage.get("calls.PutItem", 0) - before.get("calls.PutItem", 0) == 3
    assert live_store.get(shipment["id"]).stops_before == 3  # type: ignore[union-attr]


def test_positions_for_unknown_parcels_are_counted_and_not_kept(api: Api, retailer: Retailer) -> None:
    out_for_delivery(api, retailer)
    answer = positions(api, retailer, {"positions": [{**ping(1), "tracking_number": "NOSUCH1"}, ping(2)]})
    assert answer.json_body == {"accepted": 1, "stale": 0, "unmatched": 1}
    assert len(live_items()) == 1


def test_a_native_scan_may_carry_the_position_and_stops(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer).json_body
    now = datetime.now(UTC)
    event = native_event(
        "ofd-pos",
        "out_for_delivery",
        (now - timedelta(minutes=1)).isoformat(),
        position={"lat": 40.7128, "lng": -74.006, "recorded_at": (now - timedelta(seconds=30)).isoformat()},
        stops_before=6,
    )
    assert api.native(retailer, {"events": [event]}).json_body == {"accepted": 1, "duplicates": 0}
    kept = live_store.get(shipment["id"])
    assert kept is not None and kept.stops_before == 6 and kept.lat == 40.7128
    live = tracking(api, shipment["tracking_token"]).json_body["live"]
    assert live["stops_before"] == 6 and live["position"]["lat"] == 40.71 and live["position"]["lng"] == -74.01
    bad = {**event, "event_id": "x2", "position": {"lat": 200, "lng": 0, "recorded_at": now.isoformat()}}
    assert api.native(retailer, {"events": [bad]}).status_code == 400


def test_the_tracking_json_shows_the_live_block_only_while_out_for_delivery(api: Api, retailer: Retailer) -> None:
    shipment = api.register(retailer, destination={"city": "Amsterdam", "lat": 52.37403, "lng": 4.88969}).json_body
    token = shipment["tracking_token"]
    assert tracking(api, token).json_body["live"] is None  # not out yet
    now = datetime.now(UTC)
    api.native(retailer, {"events": [native_event("s", "shipped", (now - timedelta(hours=3)).isoformat())]})
    positions(api, retailer, {"positions": [ping(5, lat=52.36123, lng=4.90456, stops_before=3)]})
    assert tracking(api, token).json_body["live"] is None  # a position before out-for-delivery is never shown
    api.native(retailer, {"events": [native_event("o", "out_for_delivery", (now - timedelta(hours=1)).isoformat())]})
    eta = {"start": (now + timedelta(minutes=25)).isoformat(), "end": (now + timedelta(minutes=40)).isoformat()}
    positions(api, retailer, {"positions": [ping(2, lat=52.36123, lng=4.90456, stops_before=3, eta=eta)]})
    live = tracking(api, token).json_body["live"]
    assert live["position"]["lat"] == 52.36 and live["position"]["lng"] == 4.9 and live["position"]["age_seconds"] < 60
    assert live["stops_before"] == 3 and live["destination_area"] == {"lat": 52.37, "lng": 4.89}
    assert live["summary"].startswith("3 stops before yours, arriving about ")
    assert "Oderweg" not in json.dumps(live)
    es = api.http.get(f"/v1/tracking/{token}?lang=es").json_body["live"]["summary"]
    assert es.startswith("3 paradas antes de la tuya")
    # exact, then off
    api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"tracking_page": {"live_position": "exact"}}))
    assert tracking(api, token).json_body["live"]["position"]["lat"] == 52.36123
    api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"tracking_page": {"live_position": "off"}}))
    off = tracking(api, token).json_body["live"]
    assert off["position"] is None and off["stops_before"] == 3
    # delivered: nothing live at all
    api.native(retailer, {"events": [native_event("d", "delivered", now.isoformat())]})
    assert tracking(api, token).json_body["live"] is None


def test_a_position_older_than_5_minutes_is_hidden_and_said_to_be_not_current(api: Api, retailer: Retailer) -> None:
    shipment = out_for_delivery(api, retailer)
    positions(api, retailer, {"positions": [ping(301, stops_before=4)]})
    live = tracking(api, shipment["tracking_token"]).json_body["live"]
    assert live["position"] is None and live["position_outdated"] is True and live["stops_before"] is None
    page = api.http.get(f"/t/{shipment['tracking_token']}").body.decode()
    assert "The driver&#39;s position is not current." in page or "The driver's position is not current." in page


def test_live_position_setting_is_validated(api: Api, retailer: Retailer) -> None:
    bad = api.http.put(
        "/v1/settings", headers=retailer.auth, body=json.dumps({"tracking_page": {"live_position": "street"}})
    )
    assert bad.status_code == 400
    negative = api.http.put(
        "/v1/settings", headers=retailer.auth, body=json.dumps({"tracking_page": {"driver_close_stops": -1}})
    )
    assert negative.status_code == 400
    settings = api.http.get("/v1/settings", headers=retailer.auth).json_body["tracking_page"]
    assert settings == {"live_position": "area", "driver_close_stops": 2, "driver_close_minutes": 10}


def test_the_tracking_json_answers_304_while_nothing_changed(api: Api, retailer: Retailer) -> None:
    from chalicelib.store.table import usage

    shipment = out_for_delivery(api, retailer)
    token = shipment["tracking_token"]
    positions(api, retailer, {"positions": [ping(90, stops_before=5)]})
    first = tracking(api, token)
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and first.headers["Cache-Control"] == "no-cache"
    before = dict(usage)
    again = tracking(api, token, **{"If-None-Match": tag})
    assert again.status_code == 304 and again.body == b"" and again.headers["ETag"] == tag
    assert usage.get("calls.Query", 0) - before.get("calls.Query", 0) == 1  # the one by_token query, as a 200
    positions(api, retailer, {"positions": [ping(1, lat=52.4, stops_before=4)]})
    moved = tracking(api, token, **{"If-None-Match": tag})
    assert moved.status_code == 200 and moved.json_body["live"]["stops_before"] == 4
    assert moved.headers["ETag"] != tag
    preflight = api.http.request("OPTIONS", f"/v1/tracking/{token}", headers={})
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


def deliver_out_for_delivery(
    api: Api, retailer: Retailer, tn: str, delivered: datetime, eta: dict[str, str] | None, *, started: datetime
) -> None:
    api.register(retailer, tracking_number=tn, order_id=f"O-{tn}")
    api.native(
        retailer, {"events": [native_event(f"{tn}-o", "out_for_delivery", started.isoformat(), tracking_number=tn)]}
    )
    if eta is not None:
        sent = (datetime.now(UTC) - (started + timedelta(minutes=5))).total_seconds()
        position = {**ping(sent), "tracking_number": tn, "eta": eta, "stops_before": 4}
        assert positions(api, retailer, {"positions": [position]}).json_body["accepted"] == 1
    event = native_event(f"{tn}-d", "delivered", delivered.isoformat(), tracking_number=tn)
    api.native(retailer, {"events": [event]})


def analytics(api: Api, retailer: Retailer, now: datetime) -> dict[str, Any]:
    first, last = (now - timedelta(days=1)).date().isoformat(), now.date().isoformat()  # near midnight too
    return api.http.get(f"/v1/analytics?from={first}&to={last}", headers=retailer.auth).json_body


def test_analytics_judge_the_driver_by_the_same_window_rule_as_the_promise(api: Api, retailer: Retailer) -> None:
    now = datetime.now(UTC)
    started = now - timedelta(hours=1)
    window = {"start": (now - timedelta(minutes=50)).isoformat(), "end": (now - timedelta(minutes=20)).isoformat()}
    for tn, delivered_minutes_ago in (("1ZKEPT", 25), ("1ZEARLY", 52), ("1ZLATE", 15), ("1ZLATER", 2)):
        deliver_out_for_delivery(
            api, retailer, tn, now - timedelta(minutes=delivered_minutes_ago), window, started=started
        )
    # a parcel never shown a window is not counted either way
    api.register(retailer, tracking_number="1ZNOWINDOW", order_id="O-NW")
    api.native(retailer, {"events": [native_event("nw", "delivered", now.isoformat(), tracking_number="1ZNOWINDOW")]})
    report = analytics(api, retailer, now)
    assert report["driver_eta"] == {"kept": 1, "early": 1, "late": 2, "missed": 3, "rate": 25.0}
    # the promise's "inside the window shown" read the same window (the driver's) by the same rule
    overall = report["promise"]["overall"]
    assert (overall["inside_window"], overall["with_window"]) == (1, 4)
    figures = {figure["figure"]: figure for figure in report["comparison"]["figures"]}
    assert figures["driver_eta.rate"]["current"] == 25.0 and figures["driver_eta.rate"]["previous"] is None
    # the page and its download say the same
    first, last = report["from"], report["to"]
    cookie = session_cookie(api, retailer.api_key)
    page = api.http.get(f"/analytics?from={first}&to={last}", headers={"Cookie": cookie}).body.decode()
    assert "1 of 4 drivers arrived inside the window the shopper was shown (25.0%); 1 early, 2 late." in page
    assert "1 inside · 1 early · 2 late" in page
    export = api.http.get(f"/analytics/export.csv?from={first}&to={last}", headers={"Cookie": cookie}).body.decode()
    cells = {(s, n, m): v for s, n, m, v in list(csv.reader(io.StringIO(export)))[1:]}
    assert [cells[("driver_eta", "all", m)] for m in ("kept", "early", "late", "rate")] == ["1", "1", "2", "25.0"]
    assert cells[("compared_with_previous", "driver_eta.rate", "current")] == "25.0"


def test_a_driver_eta_from_an_earlier_failed_run_is_not_the_window_shown(api: Api, retailer: Retailer) -> None:
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    api.register(retailer, order_id="O-AGAIN")
    api.native(
        retailer, {"events": [native_event("o1", "out_for_delivery", (yesterday - timedelta(hours=2)).isoformat())]}
    )
    old_window = {"start": (yesterday - timedelta(hours=1)).isoformat(), "end": yesterday.isoformat()}
    stale = {**ping((now - (yesterday - timedelta(hours=1, minutes=30))).total_seconds()), "eta": old_window}
    positions(api, retailer, {"positions": [stale]})
    api.native(
        retailer, {"events": [native_event("f1", "attempt_failed", (yesterday - timedelta(minutes=30)).isoformat())]}
    )
    carrier_window = {"start": (now - timedelta(hours=2)).isoformat(), "end": now.isoformat()}
    again = native_event("o2", "out_for_delivery", (now - timedelta(hours=3)).isoformat(), eta=carrier_window)
    api.native(retailer, {"events": [again]})
    api.native(retailer, {"events": [native_event("d2", "delivered", (now - timedelta(hours=1)).isoformat())]})
    # yesterday's driver window would say "late"; the window shown today was the carrier's, which it kept
    assert analytics(api, retailer, now)["driver_eta"]["kept"] == 1


def test_with_a_tile_url_the_map_draws_tiles_from_that_host_only(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import settings

    shipment = out_for_delivery(api, retailer, destination={"city": "Amsterdam", "lat": 52.374, "lng": 4.889})
    positions(api, retailer, {"positions": [ping(5, stops_before=2)]})
    page = api.http.get(f"/t/{shipment['tracking_token']}")
    csp = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp and "https:" not in csp.split("img-src")[1].split(";")[0]
    assert b'id="live-map"' in page.body and b"<image " not in page.body  # self-drawn
    monkeypatch.setenv("MAP_TILE_URL", "https://tiles.example.test/{z}/{x}/{y}.png")
    settings.cache_clear()
    try:
        tiled = api.http.get(f"/t/{shipment['tracking_token']}")
    finally:
        monkeypatch.delenv("MAP_TILE_URL")
        settings.cache_clear()
    images = tiled.headers["Content-Security-Policy"].split("img-src")[1].split(";")[0]
    assert images.split() == ["'self'", "data:", "https://tiles.example.test"]
    assert b'<image href="https://tiles.example.test/' in tiled.body


def test_a_day_only_carrier_eta_is_never_shown_as_a_clock_time(api: Api, retailer: Retailer) -> None:
    customer = {"name": "Maria Garcia", "phone": "+14155550123", "time_zone": "America/Los_Angeles"}
    shipment = api.register(retailer, customer=customer).json_body
    out_at = datetime.now(UTC) - timedelta(hours=1)
    # the carrier names the shopper's own day of the scan (UTC's date differs from 00:00 to 08:00 UTC: stale then)
    day = out_at.astimezone(ZoneInfo("America/Los_Angeles")).date().isoformat()
    today = {"start": f"{day}T00:00:00Z", "end": f"{day}T00:00:00Z"}
    event = native_event("o", "out_for_delivery", out_at.isoformat(), eta=today)
    api.native(retailer, {"events": [event]})
    positions(api, retailer, {"positions": [ping(5, stops_before=3)]})
    live = tracking(api, shipment["tracking_token"]).json_body["live"]
    # midnight UTC is 4 PM the evening before in Los Angeles: a day, not a time
    assert live["summary"] == "3 stops before yours" and "clock" not in live["eta"]
    page = api.http.get(f"/t/{shipment['tracking_token']}").body.decode()
    assert "3 stops before yours" in page and "arriving about" not in page


def test_an_arrival_time_already_past_is_not_shown_as_arriving(api: Api, retailer: Retailer) -> None:
    shipment = out_for_delivery(api, retailer)
    passed = {"start": (datetime.now(UTC) - timedelta(hours=2)).isoformat()}
    positions(api, retailer, {"positions": [ping(5, stops_before=6, eta=passed)]})
    live = tracking(api, shipment["tracking_token"]).json_body["live"]
    assert live["summary"] == "6 stops before yours" and "clock" not in live["eta"]
