"""Write conflicts never reach carriers as errors they may not retry (issue 15, item 5).

A lost version race or DynamoDB's TransactionConflict is retried with jittered backoff inside the request's write
budget; when that is spent the answer is 503 with Retry-After, which senders retry (a 409 many treat as final).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.carriers import native
from chalicelib.errors import Busy, PorchlightError
from chalicelib.services import ingest, shipments
from chalicelib.services.ingest import Webhook
from chalicelib.services.retailers import create_retailer
from chalicelib.shared import retries
from chalicelib.store import retailers as retailer_store
from chalicelib.store import shipments as shipment_store
from chalicelib.store.table import client
from tests.conftest import Api, Retailer
from tests.integration.test_concurrency import moto_server  # noqa: F401 - the fixture
from tests.payloads import native_event

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


def canceled(*codes: str) -> Exception:
    ddb = client()
    return ddb.exceptions.TransactionCanceledException(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


def failing_transactions(monkeypatch: pytest.MonkeyPatch, failure: Callable[[], Exception | None]) -> None:
    """Each TransactWriteItems the store sends first asks `failure` whether DynamoDB cancels it (the store's
    transactions go through PynamoDB, which calls the botocore client's `_make_api_call`)."""
    ddb = client()
    real = ddb._make_api_call

    def make_api_call(operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems" and (error := failure()) is not None:
            raise error
        return real(operation, params)

    monkeypatch.setattr(ddb, "_make_api_call", make_api_call)


@pytest.mark.usefixtures("moto_server")
def test_forty_eight_concurrent_signed_scans_on_one_parcel_all_land_with_no_4xx() -> None:
    now = datetime.now(UTC)
    retailer = create_retailer("Busy Shop", now).retailer
    secret = "native-secret-busy-0123456789"
    retailer_store.set_integration_secret(retailer.id, "native", secret)
    customer = {"name": "A", "phone": "+14155550123", "email": "a@example.com"}
    registered = shipments.register(
        retailer.id, {"order_id": "R1", "carrier": "ups", "tracking_number": "1ZBUSY", "customer": customer}, now
    ).record
    statuses = ["shipped"] * 47 + ["out_for_delivery"]

    busy: list[int] = []

    def send(n: int) -> int:
        """As a carrier sends: a 503 (the write budget spent: only when the machine is starved, as under a parallel
        test suite on 2 cores) is sent again after its Retry-After; any other answer is final."""
        event = native_event(
            f"busy-{n}", statuses[n], (START + timedelta(minutes=n)).isoformat(), tracking_number="1ZBUSY"
        )
        raw = json.dumps({"events": [event]}).encode()
        for _ in range(3):
            headers = {native.SIGNATURE_HEADER: native.sign(secret, raw, int(time.time()))}
            try:
                result = ingest.handle_webhook(Webhook("native", retailer.id, raw, headers, {}), datetime.now(UTC))
            except Busy as error:
                busy.append(n)
                time.sleep(error.retry_after)
                continue
            except PorchlightError as error:
                return error.status
            return 200 if result.accepted == 1 else 299
        return 503

    with ThreadPoolExecutor(max_workers=48) as pool:
        answers = list(pool.map(send, range(48)))
    assert answers == [200] * 48, answers
    assert len(busy) <= 8, busy  # a starved machine may spend a few budgets; never most of them
    record, events, outbox = shipment_store.get_with_history(registered.id)
    assert record is not None and len(events) == 48 and record.event_count == 48
    assert record.version == registered.version + 48  # each scan wrote once; none overwrote another
    assert record.progress.status == "out_for_delivery"
    assert len({(item.kind, item.channel) for item in outbox}) == len(outbox)


def scan_body() -> dict[str, Any]:
    return {"events": [native_event("c1", "shipped", START.isoformat())]}


def test_a_transaction_conflict_is_retried_and_the_scan_lands_once(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipment = api.register(retailer).json_body
    failures = iter([canceled("None", "TransactionConflict"), canceled("TransactionConflict")])
    failing_transactions(monkeypatch, lambda: next(failures, None))
    response = api.native(retailer, scan_body())
    assert response.status_code == 200, response.body
    assert response.json_body == {"accepted": 1, "duplicates": 0}
    body = api.shipment(retailer, shipment["id"]).json_body
    assert body["status"] == "shipped" and len(body["events"]) == 1


def test_when_the_write_budget_is_spent_the_answer_is_503_with_retry_after(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.register(retailer)
    failing_transactions(monkeypatch, lambda: canceled("ConditionalCheckFailed"))
    monkeypatch.setattr(retries, "WRITE_BUDGET_SECONDS", 0.3)
    began = time.monotonic()
    response = api.native(retailer, scan_body())
    assert time.monotonic() - began < 3
    assert response.status_code == 503, response.body
    assert response.headers["Retry-After"] == "2"
    assert response.json_body["error"]["code"] == "write_conflict"
    monkeypatch.undo()
    assert api.native(retailer, scan_body()).json_body == {"accepted": 1, "duplicates": 0}  # the retry lands


def test_the_published_document_lists_503_with_retry_after() -> None:
    from chalicelib.api.openapi import document

    operation = document()["paths"]["/v1/webhooks/{source}/{retailer_id}"]["post"]
    busy = operation["responses"]["503"]
    assert "Retry-After" in busy["headers"]
