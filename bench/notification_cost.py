"""4. DynamoDB requests per notification delivered."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from .common import Report, native_body, post_webhook, register_shipment, setup_in_memory

NAME = "notification_cost"


def run(report: Report, shipments: int = 30) -> None:
    """DynamoDB requests per notification delivered (local outbox channel, in-memory moto)."""
    from moto import mock_aws

    from chalicelib.store import table
    from chalicelib.workers.scheduler import run_scheduled_work

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        auth = {"Authorization": f"Bearer {ids['api_key']}", "Content-Type": "application/json"}
        for n in range(shipments):
            customer = {
                "name": "B",
                "phone": "+14155550123",
                "email": "b@example.com",
                "sms_consent": True,
                "time_zone": "UTC",
            }
            register_shipment(client, auth, f"N{n}", f"1ZNOTE{n}", customer)
            post_webhook(client, ids, native_body(1, tracking_number=f"1ZNOTE{n}"))
        noon = datetime.now(UTC).replace(hour=12, minute=0) + timedelta(days=1)
        table.usage.clear()
        started = time.perf_counter()
        outcome = run_scheduled_work(noon)["deliveries"]
        elapsed = time.perf_counter() - started
        usage = dict(table.usage)
    sent = outcome.get("sent", 0)
    calls = {k.removeprefix("calls."): v / max(sent, 1) for k, v in usage.items() if k.startswith("calls.")}
    print(f"4. Delivery cost, {sent} notifications (SMS + email) drained in one pass, in-memory moto")
    for op, count in sorted(calls.items()):
        print(f"   {op:<22} {count:.2f} per notification")
    print(f"   total                  {sum(calls.values()):.2f} DynamoDB requests per notification")
    print(f"   drain rate             {sent / elapsed:.0f} notifications/s (includes template rendering)")
    report.add(
        "notification_cost.requests",
        "DynamoDB requests per notification delivered",
        sum(calls.values()),
        "requests",
    )
    report.add("notification_cost.drain_rate", "Notifications drained per second, in-memory moto", sent / elapsed, "/s")
