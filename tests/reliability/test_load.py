"""Load: a burst of concurrent webhooks with duplicates and out-of-order histories against the real local server.

Default: 600 webhooks over 60 shipments from 4 concurrent senders; RELIABILITY_FULL=1 runs the heavier 2,000 over
200 from 16.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests

from bench.common import burst_bodies, burst_histories, burst_received, serial_fold
from chalicelib.carriers import native
from tests.e2e.conftest import LocalServer

pytestmark = pytest.mark.e2e
FULL = os.environ.get("RELIABILITY_FULL") == "1"
SHIPMENTS = 200 if FULL else 60
WEBHOOKS = 2000 if FULL else 600
WORKERS = int(os.environ.get("RELIABILITY_WORKERS", "16" if FULL else "4"))


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

    scans = burst_histories(SHIPMENTS, start)
    for n, tn in enumerate(scans):
        if n % 2 == 0:  # half registered first, half claimed after their scans
            register(session, n, tn)
    # Webhooks: single scans, duplicates and whole histories in random order, shuffled across shipments.
    bodies = burst_bodies(scans, WEBHOOKS, rng)
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
    received = burst_received(scans, bodies)
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
        expected = serial_fold(tn, history, received[tn])
        assert detail["status"] == expected.status, tn
        assert len(detail["events"]) == len(received[tn]), tn
        kinds = [(note["kind"], note["channel"]) for note in detail["notifications"]]
        assert len(kinds) == len(set(kinds)), (tn, kinds)  # each milestone notified at most once
    print(f"\n{WEBHOOKS} webhooks over {SHIPMENTS} shipments in {elapsed:.1f} s ({WEBHOOKS / elapsed:.0f}/s), all 200")
