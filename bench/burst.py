"""13. A burst against the local runtime with 10,000 shipments in its table (issue 15, Measured): 2,000 webhooks over
200 registered shipments from 16 concurrent senders, with duplicates and shuffled histories built as
tests/reliability/test_load.py builds them. Figures: 5xx and other non-200 answers, webhooks/s and p95 over HTTP,
final states against a serial in-order fold of each shipment's scans, and each milestone notification sent once
(the shipments' notifications and the local outbox, after the drainer has finished).

Sizes for a quick check: BENCH_BURST_SEEDED, BENCH_BURST_WEBHOOKS, BENCH_BURST_SHIPMENTS, BENCH_BURST_SENDERS."""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import Report, burst_bodies, burst_histories, burst_received, serial_fold
from .embedded_runtime import seed_shipments, start_devserver

NAME = "burst"

#: The drainer sends every milestone of the burst within this long after the last answer, or it counts as missing.
DRAIN_TIMEOUT_SECONDS = 300.0


def local_outbox_counts(endpoint: str) -> Counter[tuple[str, str]]:
    """Messages the local channel kept (what a shopper would have received): (shipment id, kind) -> how many."""
    import boto3

    ddb = boto3.session.Session().client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    counts: Counter[tuple[str, str]] = Counter()
    for page in ddb.get_paginator("query").paginate(
        TableName="porchlight-local",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "DEVOUTBOX"}},
    ):
        for item in page["Items"]:
            tags = json.loads(item["doc"]["S"]).get("tags") or {}
            counts[(tags.get("pl_shipment", ""), tags.get("pl_kind", ""))] += 1
    return counts


def milestones_of(detail: dict[str, Any]) -> list[dict[str, Any]]:
    from chalicelib.domain import milestones as ms

    return [note for note in detail["notifications"] if note["kind"] in ms.NOTIFYING]


def burst_run(seeded: int, shipments: int, webhooks: int, senders: int) -> dict[str, Any]:
    import requests

    from chalicelib.carriers.native import sign
    from chalicelib.domain import milestones as ms
    from chalicelib.store import notifications as outbox

    unfinished = {outbox.PENDING, outbox.DEFERRED, outbox.RETRY, outbox.SENDING}
    rng = random.Random(20261123)
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    scans = burst_histories(shipments, start)
    bodies = burst_bodies(scans, webhooks, rng)
    received = burst_received(scans, bodies)
    with tempfile.TemporaryDirectory() as tmp:
        process, base, demo, endpoint = start_devserver(Path(tmp), "--ephemeral")
        try:
            seed_shipments(endpoint, demo["retailer_id"], seeded)
            auth = {"Authorization": f"Bearer {demo['api_key']}"}

            def register(session: requests.Session, n: int, tn: str) -> None:
                body = {
                    "order_id": f"L{n}",
                    "carrier": "ups",
                    "tracking_number": tn,
                    "customer": {"name": "Load", "email": f"l{n}@example.com"},
                }
                response = session.post(f"{base}/v1/shipments", headers=auth, timeout=120, json=body)
                assert response.status_code in (200, 201), response.text

            session = requests.Session()
            for n, tn in enumerate(scans):
                if n % 2 == 0:  # half registered first, half claimed after their scans (as the test does)
                    register(session, n, tn)
            secret = demo["integrations"]["native"]["secret"]
            url = f"{base}/v1/webhooks/native/{demo['retailer_id']}"

            def post(raw: bytes) -> tuple[int, float]:
                headers = {"X-Porchlight-Signature": sign(secret, raw, int(time.time()))}
                began = time.perf_counter()
                try:
                    with requests.Session() as sender:
                        code = sender.post(url, data=raw, headers=headers, timeout=120).status_code
                except requests.RequestException:
                    code = 0  # no answer at all: counted with the non-200s
                return code, time.perf_counter() - began

            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=senders) as pool:
                answers = list(pool.map(post, bodies))
            elapsed = time.perf_counter() - began

            session = requests.Session()  # a new pool: the first one sat idle through the burst
            ids: dict[str, str] = {}
            for n, tn in enumerate(scans):
                if n % 2:
                    register(session, n, tn)
                found = session.get(f"{base}/v1/shipments?tracking_number={tn}", headers=auth, timeout=120).json()
                ids[tn] = found["shipments"][0]["id"]

            details: dict[str, dict[str, Any]] = {}
            waiting = list(scans)
            deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
            while waiting:  # until the drainer has sent (or skipped) every milestone planned
                for tn in waiting:
                    response = session.get(f"{base}/v1/shipments/{ids[tn]}", headers=auth, timeout=120)
                    details[tn] = response.json()
                waiting = [
                    tn for tn in waiting if any(note["status"] in unfinished for note in milestones_of(details[tn]))
                ]
                if not waiting or time.monotonic() > deadline:
                    break
                time.sleep(1.0)
            drained = time.perf_counter() - began - elapsed
            kept = local_outbox_counts(endpoint)
        finally:
            process.send_signal(2)
            process.wait(timeout=60)

    mismatched, duplicates, missing = [], 0, 0
    for tn, history in scans.items():
        detail, sid = details[tn], ids[tn]
        expected = serial_fold(tn, history, received[tn])
        if not received[tn]:
            expected_status = None  # never scanned: nothing to compare but that it stayed unscanned
            if detail["events"]:
                mismatched.append(tn)
        else:
            expected_status = expected.status
            if detail["status"] != expected.status or len(detail["events"]) != len(received[tn]):
                mismatched.append(tn)
        notes = milestones_of(detail)
        planned = Counter((note["kind"], note["channel"]) for note in notes)
        duplicates += sum(times - 1 for times in planned.values())
        sent_kinds = {note["kind"] for note in notes if note["status"] in (outbox.SENT, outbox.DELIVERED)}
        for kind in {note["kind"] for note in notes}:
            duplicates += max(0, kept[(sid, kind)] - 1)  # one e-mail per shopper: a second message is a duplicate
        never_sent = {
            note["kind"]
            for note in notes
            if note["status"] in unfinished | {outbox.FAILED, outbox.BOUNCED}  # planned, never sent
            or (note["kind"] in sent_kinds and not kept[(sid, note["kind"])])  # "sent", yet no message kept
        }
        # The milestone the shipment ends in is the one the shopper must have been told, once.
        if expected_status in ms.NOTIFYING and expected_status not in sent_kinds:
            never_sent.add(expected_status)
        missing += len(never_sent)
    codes = Counter(code for code, _ in answers)
    latencies = sorted(seconds for _, seconds in answers)
    return {
        "codes": codes,
        "server_errors": sum(times for code, times in codes.items() if code >= 500),
        "not_ok": sum(times for code, times in codes.items() if code != 200),
        "rate": webhooks / elapsed,
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "mismatched": mismatched,
        "duplicates": duplicates,
        "missing": missing,
        "sent": sum(kept.values()),
        "drained": drained,
        "outcomes": Counter(
            f"{note['kind']} {note['status']}" for detail in details.values() for note in milestones_of(detail)
        ),
    }


def run(report: Report, seeded: int = 10_000, shipments: int = 200, webhooks: int = 2_000, senders: int = 16) -> None:
    seeded = int(os.environ.get("BENCH_BURST_SEEDED", seeded))
    shipments = int(os.environ.get("BENCH_BURST_SHIPMENTS", shipments))
    webhooks = int(os.environ.get("BENCH_BURST_WEBHOOKS", webhooks))
    senders = int(os.environ.get("BENCH_BURST_SENDERS", senders))
    measured = burst_run(seeded, shipments, webhooks, senders)
    at = f"{seeded:,} shipments"
    shape = f"{webhooks:,} webhooks over {shipments} shipments from {senders} senders"
    print(f"13. Burst against the local runtime with {at}: {shape}, duplicates and shuffled histories")
    print(
        f"   answers {dict(sorted(measured['codes'].items()))}   {measured['rate']:.1f} webhooks/s   "
        f"p95 {measured['p95'] * 1000:.0f} ms"
    )
    print(
        f"   final state against a serial in-order fold: {len(measured['mismatched'])} of {shipments} differ"
        + (f" ({', '.join(measured['mismatched'][:5])})" if measured["mismatched"] else "")
    )
    print(
        f"   milestones: {measured['sent']} sent ({measured['drained']:.1f} s to claim the rest and drain), "
        f"{measured['duplicates']} duplicated, {measured['missing']} missing"
    )
    print("   planned: " + ", ".join(f"{times} {outcome}" for outcome, times in sorted(measured["outcomes"].items())))
    figures = (
        report.add(
            "burst.server_errors",
            f"Burst with {at}, 5xx answers",
            measured["server_errors"],
            "answers",
            at_most=0,
            detail=shape,
        ),
        report.add(
            "burst.not_ok", f"Burst with {at}, answers other than 200", measured["not_ok"], "answers", at_most=0
        ),
        report.add(
            "burst.webhooks_per_second", f"Burst with {at}, webhooks/s over HTTP", measured["rate"], "webhooks/s"
        ),
        report.add("burst.p95", f"Burst with {at}, webhook p95", measured["p95"] * 1000, "ms"),
        report.add(
            "burst.state_mismatches",
            f"Burst with {at}, final states unlike a serial in-order fold",
            len(measured["mismatched"]),
            "shipments",
            at_most=0,
        ),
        report.add(
            "burst.duplicate_notifications",
            f"Burst with {at}, milestone notifications sent twice",
            measured["duplicates"],
            "notifications",
            at_most=0,
        ),
        report.add(
            "burst.missing_notifications",
            f"Burst with {at}, milestone notifications never sent",
            measured["missing"],
            "notifications",
            at_most=0,
        ),
    )
    broken = [f"{f.name} (budget {f.budget})" for f in figures if f.ok is False]
    print(f"   budgets at {at}: " + ("all met" if not broken else "BROKEN: " + "; ".join(broken)))
