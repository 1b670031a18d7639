"""Concurrent webhooks for one shipment lose no update: threads against a real moto server over HTTP."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.events import TrackingEvent, fingerprint
from chalicelib.services import ingest, shipments
from chalicelib.store import shipments as shipment_store
from chalicelib.store.table import create_table
from tests.conftest import reset_process_state


@pytest.fixture
def moto_server() -> Iterator[None]:
    from chalicelib.localdb import EmbeddedDynamoDB

    server = EmbeddedDynamoDB()
    endpoint = server.start()
    # moto keeps its data in-process: start from an empty backend whatever ran before.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    reset_process_state()
    create_table()
    try:
        yield
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        reset_process_state()
        server.stop()


def scan(n: int, status: str) -> TrackingEvent:
    return TrackingEvent(
        source="native",
        carrier="ups",
        tracking_number="1ZRACE",
        status=status,
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=n),
        fingerprint=fingerprint("native", f"race-{n}"),
    )


def test_thirty_two_concurrent_webhooks_for_one_shipment_all_land(moto_server: None) -> None:
    now = datetime.now(UTC)
    registration = shipments.register(
        "rt_race",
        {
            "order_id": "R1",
            "carrier": "ups",
            "tracking_number": "1ZRACE",
            "customer": {"name": "A", "phone": "+14155550123"},
        },
        now,
    )
    statuses = ["shipped"] * 31 + ["out_for_delivery"]
    events = [scan(n, status) for n, status in enumerate(statuses)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda e: ingest.ingest_events("rt_race", [e], now), events))
    assert sum(r.accepted for r in results) == 32
    record, stored_events, outbox = shipment_store.get_with_history(registration.record.id)
    assert record is not None
    assert len(stored_events) == 32 and record.event_count == 32
    assert record.version == 1 + 32  # every webhook wrote exactly once, none overwrote another
    assert record.progress.status == "out_for_delivery"
    assert len(record.progress.seen) == 32
    # Whatever the interleaving, each kind is in the outbox at most once per channel.
    assert len({(o.kind, o.channel) for o in outbox}) == len(outbox)
    assert ("out_for_delivery", "sms") in {(o.kind, o.channel) for o in outbox}


def test_concurrent_first_scans_create_one_unclaimed_shipment(moto_server: None) -> None:
    now = datetime.now(UTC)
    events = [scan(n, "shipped") for n in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda e: ingest.ingest_events("rt_race", [e, e], now), events))
    assert sum(r.accepted for r in results) == 12 and sum(r.duplicates for r in results) == 12
    found = shipment_store.find_by_tracking_number("rt_race", "1ZRACE")
    assert len(found) == 1 and found[0].claimed is False and found[0].event_count == 12


def test_a_backlog_delivered_with_sends_in_flight_goes_out_once_each(moto_server: None) -> None:
    """The scheduled Lambda's mode (8 workers, small batches) over real HTTP to DynamoDB: no send twice, none lost."""
    from collections import Counter

    from msgspec.structs import replace

    from chalicelib.channels import local_outbox
    from chalicelib.services.retailers import create_retailer
    from chalicelib.simulator import daytime_zone
    from chalicelib.workers.scheduler import LAMBDA_WORKERS, run_scheduled_work

    now = datetime.now(UTC)
    retailer_id = create_retailer("In Flight", now).retailer.id
    for n in range(40):
        tracking_number = f"1ZFLIGHT{n:03d}"
        customer = {"name": "B", "phone": f"+1415555{n:04d}", "sms_consent": True, "time_zone": daytime_zone()}
        body = {"order_id": f"B{n}", "carrier": "ups", "tracking_number": tracking_number, "customer": customer}
        shipments.register(retailer_id, body, now)
        ingest.ingest_events(retailer_id, [replace(scan(n, "shipped"), tracking_number=tracking_number)], now)
    soon = now + timedelta(seconds=5)
    first = run_scheduled_work(soon, workers=LAMBDA_WORKERS)
    again = run_scheduled_work(soon, workers=LAMBDA_WORKERS)
    assert first == {"deliveries": {"sent": 40}} and again == {"deliveries": {}}
    texts = Counter(message["to"] for message in local_outbox.recent(100) if message["kind"] == "sms")
    assert len(texts) == 40 and set(texts.values()) == {1}


def test_thirty_concurrent_wrong_lookups_for_one_contact_let_at_most_the_limit_through(moto_server: None) -> None:
    from chalicelib.domain.lookup import LIMITS
    from chalicelib.errors import NotFound, TooManyRequests
    from chalicelib.services.order_lookup import find_order
    from chalicelib.services.retailers import create_retailer

    now = datetime.now(UTC)
    retailer_id = create_retailer("Parallel Guesses", now).retailer.id
    customer = {"name": "C", "email": "maria@example.com"}
    shipments.register(
        retailer_id, {"order_id": "P1", "carrier": "ups", "tracking_number": "1ZGUESS", "customer": customer}, now
    )

    def guess(n: int) -> str:
        try:
            find_order(retailer_id, f"P{n + 100}", "maria@example.com", f"198.51.100.{n}", now)
        except NotFound:
            return "404"
        except TooManyRequests:
            return "429"
        return "200"

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(guess, range(30)))
    assert answers.count("404") <= LIMITS.per_contact and answers.count("404") + answers.count("429") == 30
    # The shopper's own right lookup is refused too this hour (a hit over the limit teaches nothing), and the
    # refusals gave their attempts back: the contact's counter holds the misses only.
    assert guess(-99) == "429"
    with pytest.raises(TooManyRequests):
        find_order(retailer_id, "P1", "maria@example.com", "203.0.113.9", now)


def test_concurrent_guesses_at_a_one_time_code_get_five_tries_between_them(moto_server: None) -> None:
    """The pickup code's one-time code (D48): 20 wrong guesses at once are judged on 5 tries, the rest refused as
    used up, and the right code is refused after them; 10 concurrent sends issue one code."""
    import re

    from msgspec.structs import replace

    from chalicelib.channels import local_outbox
    from chalicelib.errors import TooManyRequests, ValidationError
    from chalicelib.services import pickup
    from chalicelib.services.retailers import create_retailer

    now = datetime.now(UTC)
    retailer_id = create_retailer("Parallel Codes", now).retailer.id
    customer = {"name": "C", "phone": "+14155550123"}
    registered = shipments.register(
        retailer_id, {"order_id": "C1", "carrier": "ups", "tracking_number": "1ZRACE", "customer": customer}, now
    ).record
    waiting = replace(scan(1, "available_for_pickup"), occurred_at=now, pickup={"name": "Locker", "code": "918273"})
    ingest.ingest_events(retailer_id, [waiting], now)

    def send(_: int) -> str:
        try:
            pickup.send_code(registered.tracking_token, now)
        except TooManyRequests:
            return "429"
        return "sent"

    with ThreadPoolExecutor(max_workers=10) as pool:
        sends = list(pool.map(send, range(10)))
    assert sends.count("sent") == 1 and sends.count("429") == 9
    [code] = re.findall(r"(\d{6}) is your code", " ".join(str(m) for m in local_outbox.recent(20)))
    wrong = "000000" if code != "000000" else "111111"

    def guess(_: int) -> str:
        try:
            pickup.reveal(registered.tracking_token, wrong, now)
        except ValidationError as error:
            return error.code
        except TooManyRequests as error:
            return error.code
        return "shown"

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(guess, range(20)))
    assert answers.count("otp_wrong") == 5 and answers.count("otp_spent") == 15
    with pytest.raises(TooManyRequests):
        pickup.reveal(registered.tracking_token, code, now)


def test_concurrent_answers_to_one_delivery_change_apply_once_and_tell_the_shopper_once(moto_server: None) -> None:
    """Retailer confirmations and refusals and carrier answers at once: exactly one wins, the rest are replays or
    conflicts, one notice is planned, and the open-request entry is gone."""
    from msgspec.structs import replace

    from chalicelib.errors import Conflict
    from chalicelib.services import configuration, delivery_changes
    from chalicelib.services.retailers import create_retailer
    from chalicelib.store import notifications as outbox

    now = datetime.now(UTC)
    retailer_id = create_retailer("Answers", now).retailer.id
    configuration.update_settings(retailer_id, {"delivery_changes": {"carriers": {"ups": {"kinds": ["hold"]}}}})
    customer = {"name": "A", "phone": "+14155550123", "sms_consent": True}
    registration = shipments.register(
        retailer_id, {"order_id": "A1", "carrier": "ups", "tracking_number": "1ZRACE", "customer": customer}, now
    )
    ingest.ingest_events(retailer_id, [scan(0, "shipped")], now)
    token = registration.record.tracking_token
    change_id = delivery_changes.request_from_page(token, "hold", {"kind": "hold"}, now)["id"]

    def retailer_answer(status: str) -> str:
        try:
            answered = delivery_changes.answer(retailer_id, registration.record.id, change_id, status, None, now)
        except Conflict:
            return "conflict"
        return "replayed" if answered["replayed"] else "applied"

    def carrier_answer(n: int) -> str:
        event = replace(scan(100 + n, "shipped"), extra={"delivery_change": {"id": change_id, "status": "refused"}})
        ingest.ingest_events(retailer_id, [event], now)
        return "carrier"

    with ThreadPoolExecutor(max_workers=12) as pool:
        jobs = [pool.submit(retailer_answer, "confirmed") for _ in range(5)]
        jobs += [pool.submit(retailer_answer, "refused") for _ in range(3)]
        jobs += [pool.submit(carrier_answer, n) for n in range(4)]
        outcomes = [job.result() for job in jobs]
    record = shipment_store.get(registration.record.id)
    assert record is not None and record.event_count == 5  # every carrier scan landed
    final = record.delivery_changes[-1]
    assert final["status"] in ("confirmed", "refused")
    assert outcomes.count("applied") <= 1
    notices = [key for key in outbox.due(now + timedelta(minutes=5), 100) if key.kind.endswith(":outcome")]
    assert len(notices) == 1
    assert shipment_store.list_open_changes(retailer_id, None, 10)[0] == []


def test_concurrent_wrong_codes_are_all_counted_and_lock_the_request(moto_server: None) -> None:
    from chalicelib.domain import delivery_changes as dc
    from chalicelib.errors import TooManyRequests, ValidationError
    from chalicelib.services import configuration, delivery_changes
    from chalicelib.services.retailers import create_retailer

    now = datetime.now(UTC)
    retailer_id = create_retailer("Guesses", now).retailer.id
    rules = {"ups": {"kinds": ["neighbour"]}}
    configuration.update_settings(retailer_id, {"delivery_changes": {"carriers": rules}})
    customer = {"name": "A", "phone": "+14155550123", "sms_consent": True}
    registration = shipments.register(
        retailer_id, {"order_id": "G1", "carrier": "ups", "tracking_number": "1ZRACE", "customer": customer}, now
    )
    ingest.ingest_events(retailer_id, [scan(0, "shipped")], now)
    token = registration.record.tracking_token
    delivery_changes.request_from_page(token, "neighbour", {"neighbour": "Bo"}, now)

    def guess(n: int) -> str:
        try:
            delivery_changes.enter_code(token, f"{n:06d}", now)
        except ValidationError:
            return "wrong"
        except TooManyRequests:
            return "locked"
        return "ok"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(guess, range(900000, 900012)))
    record = shipment_store.get(registration.record.id)
    assert record is not None and record.delivery_changes[-1]["status"] == dc.LOCKED
    # Twelve guesses of a million codes (1 in 80,000 that one is right): four wrong, then locked, none lost.
    assert (outcomes.count("wrong"), outcomes.count("locked")) == (dc.MAX_CODE_ATTEMPTS - 1, 12 - 4)
