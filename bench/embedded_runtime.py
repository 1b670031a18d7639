"""10. The local runtime as its table grows (0, 1,000 and 10,000 shipments): webhooks/s, p95 and resident memory
over HTTP against the empty table, with budgets that fail the bench when broken (issue 15.7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .common import ROOT, Report

NAME = "embedded_runtime"

#: Budgets for section 10 (issue 15.7): the bench fails when one is broken.
EMBEDDED_MIN_WEBHOOKS_PER_SECOND = 20.0  # with 10,000 shipments in the table
EMBEDDED_MAX_P95_RATIO = 3.0  # p95 at 10,000 shipments against the empty table
EMBEDDED_MIN_RATE_RATIO = 0.5  # webhooks/s at 10,000 shipments against the empty table
EMBEDDED_MAX_RSS_MB = 1024.0  # resident memory of the local runtime with 10,000 shipments, after the burst


def start_devserver(tmp: Path, *extra: str) -> tuple[subprocess.Popen[str], str, dict[str, Any], str]:
    """`python -m chalicelib.devserver` as a child process: (process, base URL, demo credentials, DynamoDB endpoint)."""
    import threading

    from chalicelib.devserver import free_port

    port = free_port()
    demo_file = tmp / "demo.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TWILIO_", "SENDGRID_"))}
    env.update(STAGE="local", TABLE_NAME="porchlight-local", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    command = [sys.executable, "-m", "chalicelib.devserver", "--port", str(port), "--demo-file", str(demo_file)]
    process = subprocess.Popen(
        [*command, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    endpoint = ""
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("devserver exited before it started")
        if "embedded DynamoDB:" in line:
            endpoint = line.split("embedded DynamoDB:")[1].split()[0]
        if "Press Ctrl-C" in line:
            break
    # keep draining the server's log so it never blocks writing to a full pipe
    threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
    return process, f"http://127.0.0.1:{port}", json.loads(demo_file.read_text()), endpoint


def resident_mb(pid: int) -> float:
    """The process's resident set size now (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seed_shipments(endpoint: str, retailer_id: str, count: int) -> None:
    """`count` registered shipments with two scans each, as the store writes them (state, status listing, change
    feed, order lookup, scans), put straight into the embedded table with BatchWriteItem: 10,000 registrations
    over HTTP would measure seeding, not the runtime."""
    import boto3

    from chalicelib.domain.events import TrackingEvent, fingerprint
    from chalicelib.domain.shipment import Progress, fold
    from chalicelib.shared.links import new_tracking_token
    from chalicelib.shared.planning import shipment_id_for
    from chalicelib.store import shipments as shipment_store

    items: list[dict[str, Any]] = []
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    # The items `save` would write in its transaction, built by the store itself.
    for n in range(count):
        tracking_number = f"1ZSEED{n:06d}"
        events = [
            TrackingEvent(
                "native",
                "ups",
                tracking_number,
                status,
                start + timedelta(hours=h),
                fingerprint("native", f"s{n}-{h}"),
            )
            for h, status in ((0, "processed"), (5, "shipped"))
        ]
        stamp = (start + timedelta(hours=6)).isoformat().replace("+00:00", "Z")
        record = shipment_store.ShipmentRecord(
            id=shipment_id_for(retailer_id, "ups", tracking_number),
            retailer_id=retailer_id,
            carrier="ups",
            tracking_number=tracking_number,
            tracking_token=new_tracking_token(),
            created_at=stamp,
            updated_at=stamp,
            claimed=True,
            version=1,
            order_id=f"SEED-{n}",
            customer={"name": "Seed Shopper", "email": f"seed{n}@example.com", "phone": "+14155550100"},
            progress=fold(Progress(), events),
            notified=frozenset({"processed", "shipped"}),
            event_count=len(events),
        )
        items += [write["Put"]["Item"] for write in shipment_store.transaction_items(None, record, events, now=stamp)]
    ddb = boto3.session.Session().client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    for offset in range(0, len(items), 25):
        requests_ = [{"PutRequest": {"Item": item}} for item in items[offset : offset + 25]]
        pending: dict[str, Any] = {"porchlight-local": requests_}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def embedded_run(seeded: int, webhooks: int, senders: int) -> dict[str, float]:
    """The local runtime with `seeded` shipments in its table: `webhooks` signed scans over HTTP from `senders`
    threads, each a new scan for one of 50 shipments registered over HTTP."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from chalicelib.carriers.native import sign

    with tempfile.TemporaryDirectory() as tmp:
        process, base, demo, endpoint = start_devserver(Path(tmp), "--ephemeral")
        try:
            seed_shipments(endpoint, demo["retailer_id"], seeded)
            auth = {"Authorization": f"Bearer {demo['api_key']}"}
            session = requests.Session()
            for n in range(50):
                body = {"order_id": f"W{n}", "carrier": "ups", "tracking_number": f"1ZWEB{n:04d}"}
                response = session.post(
                    f"{base}/v1/shipments", headers=auth, timeout=120, json={**body, "customer": {"name": "W"}}
                )
                assert response.status_code == 201, response.text
            secret = demo["integrations"]["native"]["secret"]
            url = f"{base}/v1/webhooks/native/{demo['retailer_id']}"
            start = datetime(2026, 11, 21, 8, tzinfo=UTC)

            def post(n: int) -> float:
                event = {
                    "event_id": f"web-{n}",
                    "tracking_number": f"1ZWEB{n % 50:04d}",
                    "carrier": "ups",
                    "status": "shipped",
                    "occurred_at": (start + timedelta(minutes=n)).isoformat(),
                }
                raw = json.dumps({"events": [event]}).encode()
                headers = {"X-Porchlight-Signature": sign(secret, raw, int(time.time()))}
                began = time.perf_counter()
                with requests.Session() as sender:
                    response = sender.post(url, data=raw, headers=headers, timeout=120)
                assert response.status_code == 200, response.text
                return time.perf_counter() - began

            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=senders) as pool:
                latencies = sorted(pool.map(post, range(webhooks)))
            elapsed = time.perf_counter() - began
            rss = resident_mb(process.pid)
        finally:
            process.send_signal(2)
            process.wait(timeout=60)
    return {
        "rate": webhooks / elapsed,
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "rss": rss,
    }


def run(report: Report, sizes: tuple[int, ...] = (0, 1_000, 10_000), webhooks: int = 200, senders: int = 4) -> None:
    """The local runtime as the table grows; its budgets are checked at the largest size."""
    sizes = tuple(int(s) for s in os.environ.get("BENCH_EMBEDDED_SIZES", ",".join(map(str, sizes))).split(","))
    webhooks = int(os.environ.get("BENCH_EMBEDDED_WEBHOOKS", webhooks))
    runs = {size: embedded_run(size, webhooks, senders) for size in sizes}
    base = runs[sizes[0]]
    print(f"10. Local runtime (embedded DynamoDB) as the table grows: {webhooks} webhooks from {senders} senders")
    for size, measured in runs.items():
        print(
            f"   {size:>6,} shipments: {measured['rate']:6.1f} webhooks/s ({measured['rate'] / base['rate']:.2f}x)   "
            f"p95 {measured['p95'] * 1000:6.0f} ms ({measured['p95'] / base['p95']:.2f}x)   "
            f"resident {measured['rss']:6.0f} MB ({measured['rss'] / base['rss']:.2f}x)"
        )
    largest = runs[sizes[-1]]
    at = f"{sizes[-1]:,} shipments"
    figures = (
        report.add(
            "embedded_runtime.webhooks_per_second",
            f"Local runtime with {at}, webhooks/s ({webhooks} from {senders} senders over HTTP)",
            largest["rate"],
            "webhooks/s",
            baseline=base["rate"],
            ratio=largest["rate"] / base["rate"],
            at_least=EMBEDDED_MIN_WEBHOOKS_PER_SECOND,
            detail=f"baseline: the empty table; ratio budget >= {EMBEDDED_MIN_RATE_RATIO:g}",
        ),
        report.add(
            "embedded_runtime.webhooks_per_second_ratio",
            f"Local runtime with {at}, webhooks/s against the empty table",
            largest["rate"],
            "webhooks/s",
            baseline=base["rate"],
            ratio=largest["rate"] / base["rate"],
            at_least=EMBEDDED_MIN_RATE_RATIO,
            on="ratio",
        ),
        report.add(
            "embedded_runtime.p95",
            f"Local runtime with {at}, webhook p95",
            largest["p95"] * 1000,
            "ms",
            baseline=base["p95"] * 1000,
            ratio=largest["p95"] / base["p95"],
            at_most=EMBEDDED_MAX_P95_RATIO,
            on="ratio",
        ),
        report.add(
            "embedded_runtime.resident",
            f"Local runtime with {at}, resident memory after the burst",
            largest["rss"],
            "MB",
            baseline=base["rss"],
            ratio=largest["rss"] / base["rss"],
            at_most=EMBEDDED_MAX_RSS_MB,
        ),
    )
    broken = [f"{f.name} (budget {f.budget})" for f in figures if f.ok is False]
    print(f"   budgets at {at}: " + ("all met" if not broken else "BROKEN: " + "; ".join(broken)))
