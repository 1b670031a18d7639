"""8. DynamoDB units for one shipment's whole life, as an on-demand cost per million shipments."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from .common import Report, item_size, post_webhook, register_shipment, setup_in_memory

NAME = "lifecycle"

# DynamoDB on-demand prices, us-east-1, per million request units, as listed on the AWS pricing page after the
# November 2024 price reduction (aws.amazon.com/dynamodb/pricing/on-demand/). Check them before budgeting.
PRICE_PER_MILLION_WRU = 0.625
PRICE_PER_MILLION_RRU = 0.125


def _size(item: dict[str, Any]) -> int:
    return item_size(item)


def run(report: Report) -> None:
    """Register + 6 scans + 4 notifications + a survey answer: read/write units, and the cost per million shipments."""
    import math

    from moto import mock_aws

    from chalicelib.store import table
    from chalicelib.workers.scheduler import run_scheduled_work

    #: `log_index`: entries written to the keys-only `by_log` index (one standard write unit each, D44); the other
    #: indexes' writes are not in the figure.
    units = {"read": 0.0, "write": 0.0, "log_index": 0.0}

    def account(params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name == "PutItem" and params["Item"]["pk"]["S"] != "DEVOUTBOX":  # the local outbox is not in AWS
            units["write"] += math.ceil(_size(params["Item"]) / 1024)
            units["log_index"] += 1 if "log_index" in params["Item"] else 0
        elif name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                item = entry.get("Put", {}).get("Item")
                units["write"] += 2 * (math.ceil(_size(item) / 1024) if item else 1)
                units["log_index"] += 1 if item and "log_index" in item else 0
        elif name in ("UpdateItem", "DeleteItem"):
            units["write"] += 1  # every update here touches an item under 1 KB except the day counters (≤ 4 KB)

    def account_reads(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetItem":
            units["read"] += math.ceil(max(_size(parsed.get("Item") or {}), 1) / 4096)
        elif model.name == "Query":
            size = sum(_size(item) for item in parsed.get("Items", []))
            units["read"] += max(math.ceil(size / 4096), 1) * 0.5  # most queries are eventually consistent or GSI

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        ddb = table.client()
        ddb.meta.events.register("before-parameter-build.dynamodb", account)
        ddb.meta.events.register("after-call.dynamodb", account_reads)
        table.usage.clear()
        units.update(read=0.0, write=0.0, log_index=0.0)
        auth = {"Authorization": f"Bearer {ids['api_key']}", "Content-Type": "application/json"}
        customer = {
            "name": "Life Cycle",
            "phone": "+14155550123",
            "email": "life@example.com",
            "sms_consent": True,
            "time_zone": "UTC",
        }
        # LIFECYCLE_PROMISE=1 registers it with a promised date, destination, service and origin (D44's variants)
        promise = {
            "promised_date": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
            "service": "ground",
            "origin": {"country": "US", "region": "CA"},
            "destination": {"country": "US", "region": "NY"},
        }
        extra = promise if os.environ.get("LIFECYCLE_PROMISE") == "1" else None
        created = register_shipment(client, auth, "LIFE-1", "1ZLIFE", customer, extra=extra)
        now = datetime.now(UTC)
        statuses = ["processed", "shipped", "shipped", "shipped", "out_for_delivery", "delivered"]
        for n, status in enumerate(statuses):
            event = {
                "event_id": f"life-{n}",
                "tracking_number": "1ZLIFE",
                "carrier": "ups",
                "status": status,
                "occurred_at": (now - timedelta(hours=8 - n)).isoformat(),
            }
            post_webhook(client, ids, json.dumps({"events": [event]}).encode())
            if status in ("shipped", "out_for_delivery", "delivered") and n != 2 and n != 3:
                run_scheduled_work(now.replace(hour=12) + timedelta(days=1))
        run_scheduled_work(now.replace(hour=12) + timedelta(days=1))
        from chalicelib.services import surveys
        from chalicelib.store import shipments as shipment_store

        record = shipment_store.get(created["id"])
        assert record is not None
        surveys.answer(record, 5, "sms", now)
        calls = sum(v for k, v in table.usage.items() if k.startswith("calls."))
        counters = max(
            _size(raw) for raw in ddb.scan(TableName=table.table_name())["Items"] if raw["pk"]["S"].startswith("STATS#")
        )
    units["write"] += units["log_index"]
    per_million = units["write"] * PRICE_PER_MILLION_WRU + units["read"] * PRICE_PER_MILLION_RRU
    print("8. One shipment's life: register + 6 scans + notifications (SMS + email per milestone) + survey answer")
    print(
        f"   {calls:.0f} DynamoDB requests, ~{units['write']:.0f} write units (of them {units['log_index']:.0f} by_log "
        f"index entries), ~{units['read']:.1f} read units; largest day-counter item {counters} bytes"
    )
    print(
        f"   on-demand cost per million shipments: ${per_million:,.2f} (${PRICE_PER_MILLION_WRU}/M WRU, "
        f"${PRICE_PER_MILLION_RRU}/M RRU, us-east-1, storage and streams extra)"
    )
    report.add(
        "lifecycle.cost_per_million",
        "One shipment's life (register, 6 scans, SMS + e-mail per milestone, survey), per million shipments",
        per_million,
        "USD",
        detail=f"~{units['write']:.0f} WRU + {units['read']:.1f} RRU, on-demand, us-east-1",
    )
