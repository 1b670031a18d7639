"""Load: a burst of concurrent webhooks with duplicates and out-of-order histories against the real local server.

Default: 600 webhooks over 60 shipments from 4 concurrent senders; RELIABILITY_FULL=1 runs the heavier 2,000 over
200 from 16.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from chalicelib.carriers import native
from chalicelib.domain.events import TrackingEvent, fingerprint
from chalicelib.domain.shipment import Progress, fold
from tests.e2e.conftest import LocalServer

pytestmark = pytest.mark.e2e
FULL = os.environ.get("RELIABILITY_FULL") == "1"
SHIPMENTS = 200 if FULL else 60
WEBHOOKS = 2000 if FULL else 600
WORKERS = int(os.environ.get("RELIABILITY_WORKERS", "16" if FULL else "4"))
JOURNEY = ["processed", "shipped", "shipped", "out_for_delivery", "delivered"]


def test_burst_of_webhooks_loses_nothing_and_notifies_once(local_server: LocalServer) -> None:
    rng = random.Random(20261123)
    base, demo = local_server.base_url, local_server.demo
    session = requests.Session()
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)

    def register(session: requests.Session, n: int, tn: str) -> None:
        session.post(
            f"{base}/v1/shipments",
            headers=local_server.auth,
            timeout=120,
            json={
                "order_id": f"L{n}",
                "carrier": "ups",
                "tracking_number": tn,
                "customer": {"name": "Load", "email": f"l{n}@example.com"},
            },
        )

    scans: dict[str, list[dict]] = {}
    for n in range(SHIPMENTS):
        tn = f"1ZLOAD{n:05d}"
        if n % 2 == 0:  # half registered first, half claimed after their scans
            register(session, n, tn)
        scans[tn] = [
            {
                "event_id": f"{tn}-{i}",
                "tracking_number": tn,
                "carrier": "ups",
                "status": status,
                "occurred_at": (start + timedelta(hours=i * 3 + n % 5)).isoformat(),
            }
            for i, status in enumerate(JOURNEY)
        ]
    # Webhooks: single scans, duplicates and whole histories in random order, shuffled across shipments.
    bodies = []
    while len(bodies) < WEBHOOKS:
        tn = rng.choice(list(scans))
        history = scans[tn]
        shape = rng.random()
        if shape < 0.5:
            events = [rng.choice(history)]
        elif shape < 0.8:
            events = rng.sample(history, k=rng.randint(2, len(history)))
        else:
            events = list(reversed(history))
        bodies.append(json.dumps({"events": events}).encode())
    secret = demo["integrations"]["native"]["secret"]
    url = f"{base}/v1/webhooks/native/{demo['retailer_id']}"

    def post(raw: bytes) -> int:
        with requests.Session() as s:
            return s.post(
                url,
                data=raw,
                timeout=120,
                headers={"X-Porchlight-Signature": native.sign(secret, raw, int(time.time()))},
            ).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        codes = Counter(pool.map(post, bodies))
    elapsed = time.monotonic() - started
    assert set(codes) == {200}, codes
    # Scans that were never posted are not expected in the state: compute what each shipment received.
    received: dict[str, set[str]] = {tn: set() for tn in scans}
    for raw in bodies:
        for event in json.loads(raw)["events"]:
            received[event["tracking_number"]].add(event["event_id"])
    session = requests.Session()  # a new pool: the first one sat idle through the burst
    for n, (tn, history) in enumerate(scans.items()):
        if n % 2:
            register(session, n, tn)
        found = session.get(f"{base}/v1/shipments?tracking_number={tn}", headers=local_server.auth, timeout=120).json()[
            "shipments"
        ]
        if not received[tn]:
            continue
        detail = session.get(f"{base}/v1/shipments/{found[0]['id']}", headers=local_server.auth, timeout=120).json()
        expected = fold(
            Progress(),
            [
                TrackingEvent(
                    source="native",
                    carrier="ups",
                    tracking_number=tn,
                    status=e["status"],
                    occurred_at=datetime.fromisoformat(e["occurred_at"]),
                    fingerprint=fingerprint("native", e["event_id"]),
                )
                for e in history
                if e["event_id"] in received[tn]
            ],
        )
        assert detail["status"] == expected.status, tn
        assert len(detail["events"]) == len(received[tn]), tn
        kinds = [(note["kind"], note["channel"]) for note in detail["notifications"]]
        assert len(kinds) == len(set(kinds)), (tn, kinds)  # each milestone notified at most once
    print(f"\n{WEBHOOKS} webhooks over {SHIPMENTS} shipments in {elapsed:.1f} s ({WEBHOOKS / elapsed:.0f}/s), all 200")
