"""15. DynamoDB requests per delivery-change request and per confirmation (D47), and an ordinary scan's cost on a
parcel whose retailer offers changes and that has had one: still one read and one transaction."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from .common import Report, native_body, post_webhook, register_shipment, setup_in_memory

NAME = "delivery_changes"
#: A request from the page: the by-token query and one transaction (the retailer's profile is cached per process).
MAX_REQUESTS_PER_CHANGE = 2.0
#: A carrier's confirmation rides on a scan: the webhook's own read and transaction, nothing more.
MAX_REQUESTS_PER_CARRIER_CONFIRMATION = 2.0
#: The retailer's answer: the API key's lookup (cached per process after the first), the read, the transaction.
MAX_REQUESTS_PER_RETAILER_CONFIRMATION = 3.0
#: webhook_cost's budget: an ordinary scan costs no more when changes are offered.
MAX_RATIO_TO_PLAIN_SCAN = 1.0
RULES = {"ups": {"kinds": ["hold", "neighbour"], "cutoff": {"not_once_out": False}}}


def _counted(work: Any) -> dict[str, float]:
    from chalicelib.store import table

    table.usage.clear()
    work()
    return {k.removeprefix("calls."): float(v) for k, v in table.usage.items() if k.startswith("calls.")}


def _scans(client: Any, ids: dict[str, str], start: int, count: int, tracking_number: str) -> dict[str, float]:
    def work() -> None:
        for n in range(start, start + count):
            post_webhook(client, ids, native_body(n, tracking_number))

    return {op: calls / count for op, calls in _counted(work).items()}


def _form_post(client: Any, path: str, fields: str) -> Any:
    page = client.http.get(path)
    cookie = page.headers["Set-Cookie"].split(";")[0]
    csrf = cookie.split("=", 1)[1]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    return client.http.post(path + fields[0], headers=headers, body=f"csrf={csrf}&{fields[1]}")


def _record(into: list[Any], call: Any, *args: Any) -> None:
    into.append(call(*args))


def run(report: Report, webhooks: int = 40, changes: int = 10) -> None:
    from moto import mock_aws

    from chalicelib.store import table

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        auth = {"Authorization": f"Bearer {ids['api_key']}", "Content-Type": "application/json"}
        post_webhook(client, ids, native_body(0))  # warm: the retailer profile is cached per process
        plain = _scans(client, ids, 1, webhooks, "1ZBENCH")
        body = json.dumps({"delivery_changes": {"carriers": RULES}})
        assert client.http.put("/v1/settings", headers=auth, body=body).status_code == 200
        post_webhook(client, ids, native_body(webhooks + 1))  # the profile read again after the change

        per_request: list[dict[str, float]] = []
        per_carrier: list[dict[str, float]] = []
        per_retailer: list[dict[str, float]] = []
        for n in range(changes):
            tn = f"1ZCHANGE{n}"
            shipment = register_shipment(client, auth, f"C{n}", tn, {"name": "B", "phone": "+14155550123"})
            post_webhook(client, ids, native_body(1000 + n, tn))
            path = f"/t/{shipment['tracking_token']}"
            answer: list[Any] = []
            ask = partial(_record, answer, _form_post, client, path, ("/delivery-change", "kind=hold"))
            per_request.append(_counted(ask))
            assert answer[-1].status_code == 303, answer[-1].body
            detail = client.http.get(f"/v1/shipments/{shipment['id']}", headers=auth).json_body
            change_id = detail["delivery_change"]["id"]
            if n % 2:
                event = json.loads(native_body(2000 + n, tn))
                event["events"][0]["delivery_change"] = {"id": change_id, "status": "confirmed"}
                raw = json.dumps(event).encode()
                per_carrier.append(_counted(partial(post_webhook, client, ids, raw)))
            else:
                url = f"/v1/shipments/{shipment['id']}/delivery-changes/{change_id}"
                confirm = json.dumps({"status": "confirmed"})
                post = partial(client.http.post, headers=auth, body=confirm)
                per_retailer.append(_counted(partial(_record, answer, post, url)))
                assert answer[-1].status_code == 200, answer[-1].body
        # The page's own GET (for its form) is counted in `_form_post`; subtract one page view per request.
        view = _counted(lambda: client.http.get(path))
        after = _scans(client, {**ids}, 3000, webhooks, "1ZCHANGE1")

    def mean(samples: list[dict[str, float]]) -> float:
        return sum(sum(sample.values()) for sample in samples) / len(samples)

    page_view = sum(view.values())
    request_cost = mean(per_request) - page_view
    carrier_cost = mean(per_carrier)
    retailer_cost = mean(per_retailer)
    plain_total, after_total = sum(plain.values()), sum(after.values())
    print("15. Delivery changes: DynamoDB requests (in-process moto)")
    print(f"   a request from the page  {request_cost:.2f} calls (the page view before it: {page_view:.0f} more)")
    print(f"   a carrier confirmation   {carrier_cost:.2f} calls (the scan it rides on included)")
    print(f"   a retailer confirmation  {retailer_cost:.2f} calls")
    print(
        f"   an ordinary scan         {after_total:.2f} calls on a parcel with an answered change, changes offered "
        f"(baseline: {plain_total:.2f} before any were; ratio {after_total / plain_total:.2f}x)"
    )
    report.add(
        "delivery_changes.request",
        "DynamoDB requests per delivery-change request (page form)",
        request_cost,
        "requests",
        at_most=MAX_REQUESTS_PER_CHANGE,
    )
    report.add(
        "delivery_changes.carrier_confirmation",
        "DynamoDB requests per carrier confirmation (native event)",
        carrier_cost,
        "requests",
        at_most=MAX_REQUESTS_PER_CARRIER_CONFIRMATION,
    )
    report.add(
        "delivery_changes.retailer_confirmation",
        "DynamoDB requests per retailer confirmation (API)",
        retailer_cost,
        "requests",
        at_most=MAX_REQUESTS_PER_RETAILER_CONFIRMATION,
    )
    report.add(
        "delivery_changes.scan",
        "DynamoDB requests per ordinary scan, changes offered",
        after_total,
        "requests",
        baseline=plain_total,
        ratio=after_total / plain_total,
        at_most=MAX_RATIO_TO_PLAIN_SCAN,
        on="ratio",
        detail=" + ".join(f"{count:.2f} {op}" for op, count in sorted(after.items())),
    )
