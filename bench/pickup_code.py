"""15. Pickup points (issue 18, D48): DynamoDB requests for the scan that makes a parcel available for pickup (with
its reminders) beside an ordinary scan, and per one-time code sent and per pickup code revealed."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from .common import Report, post_webhook, setup_in_memory

NAME = "pickup_code"
#: A code sent: the page's by_token query, the code item read and written; a reveal: the query, the guess (one
#: conditional ADD), the spend (one conditional delete) and the page drawn again (its by_token query). The retailer
#: profile is cached per container.
MAX_SEND_REQUESTS = 3
MAX_REVEAL_REQUESTS = 4


def _calls(usage: dict[str, float]) -> dict[str, float]:
    return {k.removeprefix("calls."): v for k, v in usage.items() if k.startswith("calls.")}


def _scan(event_id: str, status: str, **extra: Any) -> bytes:
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    event = {"event_id": event_id, "tracking_number": "1ZBENCH", "carrier": "ups", "status": status}
    return json.dumps({"events": [{**event, "occurred_at": when, **extra}]}).encode()


def run(report: Report) -> None:
    from moto import mock_aws

    from chalicelib.channels import local_outbox
    from chalicelib.store import table

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        auth = {"Authorization": f"Bearer {ids['api_key']}"}
        token = client.http.get(f"/v1/shipments/{ids['shipment_id']}", headers=auth).json_body["tracking_token"]
        post_webhook(client, ids, _scan("b0", "processed"))
        table.usage.clear()  # the baseline: another scan that moves the parcel on (a milestone, its counters)
        post_webhook(client, ids, _scan("b1", "shipped", description="Arrived at facility"))
        ordinary = _calls(dict(table.usage))
        pickup = {"name": "Locker 9", "area": "Oakland", "code": "552211"}
        table.usage.clear()
        post_webhook(client, ids, _scan("b2", "available_for_pickup", pickup=pickup))
        at_pickup = _calls(dict(table.usage))
        page = client.http.get(f"/t/{token}")
        cookie = page.headers["Set-Cookie"].split(";")[0]
        form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        csrf = cookie.split("=", 1)[1]
        table.usage.clear()
        sent = client.http.post(f"/t/{token}/pickup/send", headers=form, body=f"csrf={csrf}")
        assert sent.status_code == 303, sent.body
        send_calls = _calls(dict(table.usage))
        send_calls.pop("PutItem", None)  # the local outbox keeps the text in the table: a provider's job in AWS
        send_requests = sum(send_calls.values()) + 1  # ...and the code item's own PutItem
        code = re.findall(r"(\d{6}) is your code", json.dumps(local_outbox.recent(5)))[0]
        table.usage.clear()
        started = time.perf_counter()
        shown = client.http.post(f"/t/{token}/pickup/reveal", headers=form, body=f"csrf={csrf}&code={code}")
        reveal_ms = (time.perf_counter() - started) * 1000
        assert shown.status_code == 200 and b"552211" in shown.body
        reveal_calls = _calls(dict(table.usage))
        reveal_page = sum(reveal_calls.values())
    ordinary_total, pickup_total = sum(ordinary.values()), sum(at_pickup.values())
    print("15. Pickup points: an ordinary scan against the scan that makes a parcel available for pickup")
    print(f"   a scan that moves the parcel on (shipped): {ordinary} ({ordinary_total:.0f} requests)")
    print(f"   available for pickup (ready text + 2 reminders planned in the same transaction): {at_pickup}")
    print(f"   one-time code sent: {send_calls} + 1 PutItem for the code = {send_requests:.0f} requests")
    print(
        f"   pickup code revealed: {reveal_calls} = {reveal_page:.0f} requests (page drawn again), {reveal_ms:.0f} ms"
    )
    report.add(
        "pickup_code.scan_requests",
        "DynamoDB requests for the scan that makes a parcel available for pickup",
        pickup_total,
        "requests",
        baseline=ordinary_total,
        ratio=pickup_total / ordinary_total,
        at_most=ordinary_total,
        detail="reminders ride in the scan's one transaction",
    )
    report.add(
        "pickup_code.send_requests",
        "DynamoDB requests per one-time code sent",
        send_requests,
        "requests",
        at_most=MAX_SEND_REQUESTS,
    )
    report.add(
        "pickup_code.reveal_requests",
        "DynamoDB requests per pickup code revealed (with the page)",
        reveal_page,
        "requests",
        at_most=MAX_REVEAL_REQUESTS,
    )
