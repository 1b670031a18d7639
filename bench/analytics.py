"""7. Analytics request cost for a retailer with 100,000 shipments against one with 1,000 (target: the same)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from .common import Report, item_size

NAME = "analytics"


def run(report: Report, small: int = 1_000, large: int = 100_000) -> None:
    """Analytics for a retailer with 1,000 and with 100,000 delivered shipments: same requests, same capacity.

    The counters are written by the same code the webhooks use (shared.stats.progress_changed and the survey
    counters, domain.promise for promise accuracy), once per synthetic shipment spread over 180 days (the view's
    90 and the 90 before them, which the comparison reads), so the day items hold what that many would leave.
    """
    from moto import mock_aws

    from chalicelib.domain import promise
    from chalicelib.services import analytics
    from chalicelib.shared import stats
    from chalicelib.store import table

    sizes: list[int] = []
    billed: list[float] = []

    def measured(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            sizes.append(sum(item_size(item) for item in parsed.get("Items", [])))

    def seed_and_measure(shipments: int) -> tuple[dict[str, float], float]:
        with mock_aws():
            table.reset_client()
            table.client().meta.events.register("after-call.dynamodb", measured)
            from chalicelib.store.table import create_table

            create_table()
            today = datetime(2026, 11, 23, tzinfo=UTC)
            per_day: dict[str, dict[str, float]] = {}
            for n in range(shipments):  # aggregate in memory first: 100,000 UpdateItems on moto take minutes
                day = (today - timedelta(days=n % 180)).date().isoformat()
                carrier = ("ups", "fedex", "usps")[n % 3]
                service = ("ground", "express", None)[n % 3 // 2 + n % 2]
                lane = promise.lane_label({"country": "US", "region": ("CA", "NJ")[n % 2]}, {"country": "US"})
                kept = promise.PromiseOutcome(days_late=n % 7 - 3, window=promise.INSIDE if n % 4 else promise.LATE)
                deltas = per_day.setdefault(day, {})
                for name, value in {
                    "delivered": 1,
                    f"carrier:{carrier}:delivered": 1,
                    "answered": n % 2,
                    "score_sum": (n % 5 + 1) * (n % 2),
                    f"dur:shipped:b{stats.bucket(600 + n % 3000)}": 1,
                    **promise.deltas(carrier, service, lane, kept),
                }.items():
                    deltas[name] = deltas.get(name, 0) + value
            for day, deltas in per_day.items():
                stats.count("rt_bench", day, deltas)
            table.usage.clear()
            sizes.clear()
            data = analytics.report("rt_bench", (today - timedelta(days=89)).date(), today.date())
            in_view = sum(1 for n in range(shipments) if n % 180 < 90)
            assert data["shipments"]["delivered"] == in_view == data["promise"]["overall"]["delivered"]
            compared = {figure["figure"]: figure for figure in data["comparison"]["figures"]}
            assert compared["shipments.delivered"]["previous"] == shipments - in_view
            usage = dict(table.usage)
        # read units as DynamoDB bills them: each query's returned bytes in 4 KB steps, eventually consistent
        billed.append(sum(max(math.ceil(size / 4096), 1) * 0.5 for size in sizes))
        return {k: v for k, v in usage.items() if k.startswith("calls.")}, usage.get("capacity.Query", 0.0)

    small_calls, small_units = seed_and_measure(small)
    large_calls, large_units = seed_and_measure(large)
    small_total, large_total = sum(small_calls.values()), sum(large_calls.values())
    print(
        f"7. Analytics view over 90 days and the 90 before them, {small:,} vs {large:,} delivered shipments "
        "(in-memory moto)"
    )
    print(
        f"   requests {small_total:.0f} vs {large_total:.0f} {large_calls}   read capacity {small_units:g} vs "
        f"{large_units:g} RCU (moto)   ratio {large_total / max(small_total, 1):.2f}x\n"
        f"   billed from the bytes returned: {billed[0]:g} vs {billed[1]:g} RCU (more counter names occur per day "
        "until every carrier, service, lane and bucket has appeared; bounded by those, not by shipments)"
    )
    report.add(
        "analytics.requests_ratio",
        f"Analytics view, requests at {large:,} against {small:,} shipments",
        large_total,
        "requests",
        baseline=small_total,
        ratio=large_total / max(small_total, 1),
        at_most=1.0,
        on="ratio",
        detail=f"read capacity {small_units:g} vs {large_units:g} RCU; by bytes {billed[0]:g} vs {billed[1]:g}",
    )
    report.add(
        "analytics.capacity_ratio",
        f"Analytics view, read units at {large:,} against {small:,} shipments",
        large_units,
        "RCU",
        baseline=small_units,
        ratio=large_units / small_units if small_units else 1.0,
        at_most=1.0,
        on="ratio",
    )
