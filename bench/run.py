"""Porchlight benchmarks: every figure is measured next to a baseline in the same run, and some have budgets.

    python -m bench.run [--only NAME[,NAME]] [--json PATH]     (make bench; `python -m bench` is the same)

One module per figure, run in this order (`--only` takes these names):

 1. webhook_cost          DynamoDB requests and capacity per webhook for a known shipment.
 2. throughput            Webhooks/s through chalice.test.Client with in-memory moto, against the bare moto calls.
 3. cold_start            Each Lambda entry point in a fresh interpreter against a bare Chalice app of its kind.
 4. notification_cost     DynamoDB requests per notification delivered.
 5. notification_latency  Webhook accepted -> Twilio request in the local runtime, against the SDK call alone.
 6. tracking_page         Tracking page render, bytes and queries per view; order lookup cost.
 7. analytics             Analytics cost at 100,000 shipments against 1,000.
 8. lifecycle             DynamoDB units for one shipment's life, as a cost per million shipments.
 9. package               The deployment zip: size and cold imports with its bytecode against sources only.
10. embedded_runtime      The local runtime as its table grows to 10,000 shipments.
11. templates             Hostile retailer templates stopped by the sandbox: worst time and memory.
12. scale_model           Sustained webhooks/s one retailer can send before a partition key reaches DynamoDB's limits.
13. burst                 2,000 webhooks (duplicates, shuffled histories, 16 senders) against the local runtime with
                          10,000 shipments: 5xx, final states against a serial fold, each milestone sent once.

`--json PATH` writes every figure (name, label, value, unit, baseline, ratio, budget, ok, detail); `python -m
bench.readme_table PATH` rewrites the README's table from it. The run exits 1 when a budget is broken (docs D35).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from .common import TEST_ENV, Report

MODULES = (
    "webhook_cost",
    "throughput",
    "cold_start",
    "notification_cost",
    "notification_latency",
    "tracking_page",
    "analytics",
    "lifecycle",
    "package",
    "embedded_runtime",
    "templates",
    "scale_model",
    "burst",
    "live_position",
    "pickup_code",
    "delivery_changes",
)


def parse_only(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in MODULES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown bench {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=parse_only, default=MODULES, metavar="NAME[,NAME]", help="run only these")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    os.environ.update(TEST_ENV)
    report = Report()
    for name in MODULES:  # always in the documented order, whatever order --only named them in
        if name in args.only:
            importlib.import_module(f"bench.{name}").run(report)
            sys.stdout.flush()
    if args.json:
        report.write(args.json)
    broken = report.broken()
    budgeted = [figure for figure in report.figures if figure.ok is not None]
    print(f"\nbudgets: {len(budgeted) - len(broken)} of {len(budgeted)} met")
    for figure in broken:
        measured = figure.ratio if figure.budget and figure.budget.startswith("ratio") else figure.value
        print(f"   BROKEN {figure.name}: {measured:.2f} (budget {figure.budget})")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
