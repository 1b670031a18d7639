"""5. Webhook accepted -> provider request in the local runtime, against the same Twilio SDK call made directly."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, Report

NAME = "notification_latency"


def run(report: Report, webhooks: int = 20) -> None:
    """Webhook accepted -> provider request, through the real local runtime and the real SDKs."""
    import requests

    from chalicelib.carriers.native import sign
    from chalicelib.devserver import free_port
    from chalicelib.simulator import daytime_zone
    from tests.capture import CaptureServer

    capture = CaptureServer().start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        demo_file = Path(tmp) / "demo.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TWILIO_", "SENDGRID_"))}
        env.update(
            TWILIO_ACCOUNT_SID="AC" + "2" * 32,
            TWILIO_AUTH_TOKEN="bench-token",
            TWILIO_FROM_NUMBER="+15005550006",
            TWILIO_API_BASE_URL=capture.url,
            STAGE="local",
            TABLE_NAME="porchlight-local",
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chalicelib.devserver",
                "--port",
                str(port),
                "--demo-file",
                str(demo_file),
                "--ephemeral",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        while "Press Ctrl-C" not in process.stdout.readline():
            pass
        import threading

        # keep draining the server's log so it never blocks writing to a full pipe
        threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
        demo = json.loads(demo_file.read_text())
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {demo['api_key']}"}
        zone = daytime_zone()
        latencies = []
        session = requests.Session()
        for n in range(webhooks):
            session.post(
                f"{base}/v1/shipments",
                headers=auth,
                timeout=10,
                json={
                    "order_id": f"L{n}",
                    "carrier": "ups",
                    "tracking_number": f"1ZLAT{n}",
                    "customer": {"name": "B", "phone": "+14155550123", "sms_consent": True, "time_zone": zone},
                },
            )
            raw = json.dumps(
                {
                    "events": [
                        {
                            "event_id": f"lat-{n}",
                            "tracking_number": f"1ZLAT{n}",
                            "carrier": "ups",
                            "status": "out_for_delivery",
                            "occurred_at": "2026-11-20T10:00:00+00:00",
                        }
                    ]
                }
            ).encode()
            before = len(capture.of("twilio"))
            session.post(
                f"{base}/v1/webhooks/native/{demo['retailer_id']}",
                data=raw,
                timeout=10,
                headers={
                    "X-Porchlight-Signature": sign(demo["integrations"]["native"]["secret"], raw, int(time.time()))
                },
            )
            accepted = time.perf_counter()
            while len(capture.of("twilio")) == before and time.perf_counter() - accepted < 10:
                time.sleep(0.005)
            latencies.append(time.perf_counter() - accepted)
        process.send_signal(2)
        process.wait(timeout=20)
    # Baseline: the same SDK request made directly, no Porchlight in between.
    from twilio.rest import Client

    direct = Client("AC" + "2" * 32, "bench-token")
    direct.api.base_url = capture.url
    baseline = []
    for _ in range(webhooks):
        started = time.perf_counter()
        direct.messages.create(to="+14155550123", from_="+15005550006", body="baseline")
        baseline.append(time.perf_counter() - started)
    capture.stop()
    latencies.sort()
    p50, p95 = statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
    b50 = statistics.median(baseline)
    print(f"5. Webhook accepted -> Twilio request, {webhooks} webhooks, local runtime (drainer polls every 0.25 s)")
    print(
        f"   p50 {p50 * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   (target p95 <= 1000 ms)   "
        f"direct SDK call {b50 * 1000:.0f} ms: ratio p50 {p50 / b50:.0f}x"
    )
    report.add(
        "notification_latency.p95",
        "Webhook accepted to Twilio request (local runtime), p95",
        p95 * 1000,
        "ms",
        baseline=b50 * 1000,
        ratio=p95 / b50,
        detail=f"p50 {p50 * 1000:.0f} ms; target p95 1 s; baseline: the SDK call made directly",
    )
