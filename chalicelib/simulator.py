"""Drive a demo shipment through its whole journey against a running local Porchlight.

    python -m chalicelib.simulator [--base-url http://127.0.0.1:8000] [--delay 1.5]

It reads the demo retailer written by the devserver (.porchlight-demo.json), registers a shipment through the
retailer API, then posts signed native webhooks for each milestone and prints what the API reports after each.
While the parcel is out for delivery it drives the driver along a route with signed position pings
(`POST /v1/webhooks/native/{retailer_id}/positions`), stops counting down, so the tracking page's map moves;
`--pings 0` skips that.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .carriers.native import sign

JOURNEY = [
    ("processed", "Label created, shipment information received", "Portland", "OR"),
    ("shipped", "Departed origin facility", "Portland", "OR"),
    ("shipped", "Arrived at regional hub", "Sacramento", "CA"),
    ("out_for_delivery", "Out for delivery", "Oakland", "CA"),
    ("delivered", "Delivered, left at front door", "Oakland", "CA"),
]


def call(method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - operator-supplied local URL
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{method} {url} -> {exc.code}: {exc.read().decode(errors='replace')}") from exc


def post_native(base_url: str, retailer_id: str, secret: str, events: list[dict[str, Any]]) -> Any:
    raw = json.dumps({"events": events}).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/v1/webhooks/native/{retailer_id}", data=raw, method="POST"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Porchlight-Signature", sign(secret, raw, int(time.time())))
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


#: The driver's route through Oakland to the demo address (the last point is the destination area's centre).
ROUTE = [
    (37.8044, -122.2712),
    (37.8079, -122.2661),
    (37.8110, -122.2601),
    (37.8152, -122.2544),
    (37.8191, -122.2479),
    (37.8226, -122.2411),
    (37.8270, -122.2330),
]
#: Pings are dated this far apart (the store keeps one position per 30 s of recorded time: domain.live).
PING_SPACING = timedelta(seconds=30)


def along(route: list[tuple[float, float]], fraction: float) -> tuple[float, float]:
    """The point `fraction` (0..1) of the way along the route, by legs."""
    legs = len(route) - 1
    where = min(max(fraction, 0.0), 1.0) * legs
    index = min(int(where), legs - 1)
    part = where - index
    (lat1, lng1), (lat2, lng2) = route[index], route[index + 1]
    return round(lat1 + (lat2 - lat1) * part, 6), round(lng1 + (lng2 - lng1) * part, 6)


def post_positions(base_url: str, retailer_id: str, secret: str, positions: list[dict[str, Any]]) -> Any:
    raw = json.dumps({"positions": positions}).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base_url}/v1/webhooks/native/{retailer_id}/positions", data=raw, method="POST"
    )
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Porchlight-Signature", sign(secret, raw, int(time.time())))
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def drive(
    base_url: str, retailer_id: str, secret: str, tracking_number: str, pings: int, interval: float, stops: int = 6
) -> None:
    """The driver along ROUTE in `pings` pings, `interval` seconds apart, each dated PING_SPACING after the last
    (the newest at the moment it is sent), with stops before this parcel's counting down and an ETA."""
    for index in range(pings):
        fraction = index / max(pings - 1, 1)
        lat, lng = along(ROUTE, fraction)
        now = datetime.now(UTC)
        left = round(stops * (1 - fraction))
        recorded = now - PING_SPACING * (pings - 1 - index)
        # a window around the stops still to come: the delivery, dated when the last ping is sent, falls inside it
        eta = {
            "start": (now + timedelta(minutes=left * 4 - 5)).isoformat(),
            "end": (now + timedelta(minutes=left * 4 + 10)).isoformat(),
        }
        position = {
            "tracking_number": tracking_number,
            "carrier": "ups",
            "lat": lat,
            "lng": lng,
            "recorded_at": recorded.isoformat(),
            "stops_before": left,
            "eta": eta,
        }
        result = post_positions(base_url, retailer_id, secret, [position])
        stops_text = "next stop is yours" if left == 0 else f"{left} stop{'s' if left != 1 else ''} before yours"
        print(f"    driver at {lat:.4f},{lng:.4f}, {stops_text} -> accepted={result['accepted']}")
        time.sleep(interval)


DAYTIME_ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
)


def daytime_zone(now: datetime | None = None) -> str:
    """A shopper time zone where it is daytime now, so the demo's texts are not held for quiet hours."""
    from zoneinfo import ZoneInfo

    moment = now or datetime.now(UTC)
    for name in DAYTIME_ZONES:
        if 10 <= moment.astimezone(ZoneInfo(name)).hour < 19:
            return name
    return DAYTIME_ZONES[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=None, help="defaults to the URL in the demo file")
    parser.add_argument("--demo-file", type=Path, default=Path(".porchlight-demo.json"))
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between scans")
    parser.add_argument("--time-zone", default=None, help="the shopper's zone (default: one where it is daytime)")
    parser.add_argument("--pings", type=int, default=8, help="driver positions while out for delivery (0: none)")
    parser.add_argument("--ping-interval", type=float, default=2.0, help="seconds between driver positions")
    args = parser.parse_args(argv)
    if not args.demo_file.exists():
        print(f"{args.demo_file} not found: start the local server first (make run)", file=sys.stderr)
        return 2
    demo = json.loads(args.demo_file.read_text())
    base_url = (args.base_url or demo["base_url"]).rstrip("/")
    auth = {"Authorization": f"Bearer {demo['api_key']}"}
    tracking_number = "SIM" + secrets.token_hex(5).upper()
    shipment = call(
        "POST",
        f"{base_url}/v1/shipments",
        {
            "order_id": f"DEMO-{tracking_number[-4:]}",
            "carrier": "ups",
            "tracking_number": tracking_number,
            "customer": {
                "name": "Dana Demo",
                "phone": "+14155550100",
                "email": "dana@example.com",
                "sms_consent": True,
                "time_zone": args.time_zone or daytime_zone(),
            },
            "items": [{"name": "Trail running shoes", "quantity": 1}],
            "destination": {
                "city": "Oakland",
                "region": "CA",
                "country": "US",
                "lat": ROUTE[-1][0],
                "lng": ROUTE[-1][1],
            },
        },
        auth,
    )
    print(
        f"registered order {shipment['order_id']} as {shipment['id']} (UPS {tracking_number}); "
        f"shopper page: {shipment['tracking_url']}"
    )
    start = datetime.now(UTC) - timedelta(hours=len(JOURNEY))
    secret = demo["integrations"]["native"]["secret"]
    driven = False
    for step, (status, description, city, region) in enumerate(JOURNEY):
        event = {
            "event_id": f"{tracking_number}-{step}",
            "tracking_number": tracking_number,
            "carrier": "ups",
            "status": status,
            # after the driver's run, the arrival is now (the pings were sent now); the journey before it is history
            "occurred_at": (start + timedelta(hours=step) if not driven else datetime.now(UTC)).isoformat(),
            "description": description,
            "location": {"city": city, "region": region, "country": "US"},
        }
        if status == "out_for_delivery":
            event["driver"] = {"name": "Sam", "phone": "+14155550199"}
        result = post_native(base_url, demo["retailer_id"], secret, [event])
        state = call("GET", f"{base_url}/v1/shipments/{shipment['id']}", headers=auth)
        print(f"  {description:<48} -> {state['status_label']:<18} accepted={result['accepted']}")
        if status == "out_for_delivery" and args.pings > 0:
            drive(base_url, demo["retailer_id"], secret, tracking_number, args.pings, args.ping_interval)
            driven = True
        time.sleep(args.delay)
    state = call("GET", f"{base_url}/v1/shipments/{shipment['id']}", headers=auth)
    for note in state["notifications"]:
        why = f" ({note['reason']})" if note.get("reason") else ""
        print(f"  notification {note['kind']:<17} {note['channel']:<5} {note['status']}{why}")
    print(f"messages: {base_url}/dev/outbox")
    print("done: the shipment has arrived.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
