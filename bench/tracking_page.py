"""6. Tracking page render time (p50, p95) against a bare Jinja2 template of the same size; bytes and queries per
view; DynamoDB calls per order lookup, found and missed."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from .common import Report, native_body, post_webhook, setup_in_memory

NAME = "tracking_page"
#: The server-side render (view + template, data already read): 0.88 ms p50 on the shared 2-core machine when the
#: budget was set (D35), so about 2.3x headroom for its noise; a regression that triples the render fails. The page
#: view itself stays one query.
MAX_RENDER_P50_MS = 2.0
MAX_QUERIES_PER_VIEW = 1.0


def render_view(page: Any, record: Any, events: Any, retailer: Any) -> None:
    """What a page view does once the one query has read the shipment: build the view and template it, as the
    route does."""
    from chalicelib.shared import tracking_view
    from chalicelib.web.i18n import LANGUAGE_NAMES, strings

    page.render(
        v=tracking_view.build_view(record, events, retailer),
        t=strings("en"),
        base="https://x",
        csrf="c",
        saved=False,
        chat_sent=False,
        error=None,
        languages=LANGUAGE_NAMES,
        nonce="n",
    )


def run(report: Report, views: int = 200) -> None:
    """Server-side render of the shopper page, against rendering a bare Jinja2 template of the same size."""
    from jinja2 import Environment
    from moto import mock_aws

    from chalicelib.store import retailers as retailer_store
    from chalicelib.store import shipments as shipment_store
    from chalicelib.store import table
    from chalicelib.web.templating import builtin_environment

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[int(q * (len(ordered) - 1))]

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        for n in range(2, 14):
            post_webhook(client, ids, native_body(n))
        auth = {"Authorization": f"Bearer {ids['api_key']}"}
        token = client.http.get(f"/v1/shipments/{ids['shipment_id']}", headers=auth).json_body["tracking_token"]
        client.http.get(f"/t/{token}")  # warm: retailer profile cache, template compilation
        table.usage.clear()
        requests_timed, sizes = [], []
        for _ in range(views):
            started = time.perf_counter()
            response = client.http.get(f"/t/{token}")
            requests_timed.append(time.perf_counter() - started)
            sizes.append(len(response.body) + sum(len(k) + len(v) + 4 for k, v in response.headers.items()))
        queries = table.usage.get("calls.Query", 0) / views
        writes = table.usage.get("calls.UpdateItem", 0) / views
        html = response.body.decode()
        lookup_calls, lookup_times = lookup_cost(client, ids["retailer_id"], views)
        # The render alone: building the view and templating it, with the data already read.
        tracked = shipment_store.find_by_token(token)
        record, events = tracked.record, tracked.events
        retailer = retailer_store.get(ids["retailer_id"])
        assert record is not None and retailer is not None
        page = builtin_environment().get_template("pages/tracking.html.j2")
        renders = []
        for _ in range(views):
            started = time.perf_counter()
            render_view(page, record, events, retailer)
            renders.append(time.perf_counter() - started)
        redaction_cost = redaction_ratio(record, events, retailer, page, views)
    # Baseline: a template of the same size with one variable.
    bare = Environment(autoescape=True).from_string(html.replace("{", "(").replace("}", ")") + "{{ x }}")
    baseline = []
    for _ in range(views):
        started = time.perf_counter()
        bare.render(x="y")
        baseline.append(time.perf_counter() - started)
    render50, render95, bare50, bare95 = pct(renders, 0.5), pct(renders, 0.95), pct(baseline, 0.5), pct(baseline, 0.95)
    print(f"6. Tracking page, {views} views of a 13-scan shipment (in-memory moto)")
    print(
        f"   server-side render p50 {render50 * 1000:.2f} ms  p95 {render95 * 1000:.2f} ms   bare Jinja2 template of "
        f"the same size p50 {bare50 * 1000:.3f} ms: ratio p50 {render50 / bare50:.0f}x, p95 {render95 / bare95:.0f}x"
    )
    print(
        f"   whole request through chalice.test.Client p50 {pct(requests_timed, 0.5) * 1000:.1f} ms  "
        f"p95 {pct(requests_timed, 0.95) * 1000:.1f} ms"
    )
    print(
        f"   bytes on the wire {statistics.median(sizes) / 1024:.1f} KB (body + headers, uncompressed)   "
        f"DynamoDB per view: {queries:.2f} query (target 1) + {writes:.2f} page-view counter update"
    )
    print(
        f"   carrier-text redaction (names, street, phones, e-mails): render p50 with / without = "
        f"{redaction_cost:.2f}x (no DynamoDB call: it works on the state the one query read)"
    )
    found, missed = lookup_calls
    print(
        f"   order lookup (POST /v1/track): found {found}, missed {missed} per lookup; request p50 "
        f"{pct(lookup_times, 0.5) * 1000:.1f} ms = {pct(lookup_times, 0.5) / pct(requests_timed, 0.5):.2f}x a page view"
    )

    report.add(
        "tracking_page.render_p50",
        "Tracking page server-side render, p50",
        render50 * 1000,
        "ms",
        baseline=bare50 * 1000,
        ratio=render50 / bare50,
        at_most=MAX_RENDER_P50_MS,
        detail=f"p95 {render95 * 1000:.2f} ms; {statistics.median(sizes) / 1024:.1f} KB; baseline: a bare template "
        "of the same size",
    )
    report.add(
        "tracking_page.queries",
        "DynamoDB queries per tracking page view",
        queries,
        "queries",
        at_most=MAX_QUERIES_PER_VIEW,
        detail=f"+ {writes:.2f} page-view counter update",
    )
    report.add(
        "tracking_page.lookup_p50",
        "Order lookup (POST /v1/track), request p50",
        pct(lookup_times, 0.5) * 1000,
        "ms",
        baseline=pct(requests_timed, 0.5) * 1000,
        ratio=pct(lookup_times, 0.5) / pct(requests_timed, 0.5),
        detail=f"found: {found}; baseline: a page view",
    )


def redaction_ratio(record: Any, events: Any, retailer: Any, page: Any, views: int) -> float:
    """The tracking page render (view + template) with the real redactor, over the same render with carrier text
    passed through untouched; alternated per view so both see the same machine state."""
    from msgspec.structs import replace

    from chalicelib.shared import tracking_view

    class PassThrough:
        def text(self, value: str | None) -> str:
            return value or ""

        def place(self, value: str | None) -> str:
            return value or ""

    # A shopper with a full name and a street line, as registrations carry them (the bench shipment has neither).
    record = replace(
        record,
        customer={**record.customer, "name": "Maria Garcia-Lopez"},
        destination={"line1": "742 Evergreen Terrace"},
    )
    real = tracking_view.shopper_redactor
    timings: dict[bool, list[float]] = {True: [], False: []}
    try:
        for n in range(views * 2):
            redacting = n % 2 == 0
            tracking_view.shopper_redactor = real if redacting else lambda *_: PassThrough()  # type: ignore[assignment]
            started = time.perf_counter()
            render_view(page, record, events, retailer)
            timings[redacting].append(time.perf_counter() - started)
    finally:
        tracking_view.shopper_redactor = real
    return statistics.median(timings[True]) / statistics.median(timings[False])


def lookup_cost(client: Any, retailer_id: str, lookups: int) -> tuple[tuple[str, str], list[float]]:
    """DynamoDB calls per order lookup that finds the order and per one that misses, and the found lookups' times."""
    from chalicelib.store import table

    def calls_per(contact: str, order_id: str, rounds: int) -> tuple[str, list[float]]:
        body = json.dumps({"order_id": order_id, "contact": contact})
        headers = {"Content-Type": "application/json"}
        table.usage.clear()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            client.http.post(f"/v1/track/{retailer_id}", headers=headers, body=body)
            times.append(time.perf_counter() - started)
        counted = {k.removeprefix("calls."): v / rounds for k, v in table.usage.items() if k.startswith("calls.")}
        return " + ".join(f"{v:.2f} {k}" for k, v in sorted(counted.items())), times

    found, times = calls_per("+1 (415) 555-0123", "b1", lookups)
    missed, _ = calls_per("nobody@example.com", f"B{lookups}", 5)  # 5 misses: under every limit (D25)
    return (found, missed), times
