"""Sharded `by_retailer` listings and more `by_due` shards (D42): pages merge every shard in order, each entry once;
entries and cursors from before the shards still work; the scheduler finds due work in every shard."""

from __future__ import annotations

import base64
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.shared.planning import shipment_id_for
from chalicelib.store import listings, table
from chalicelib.store import shipments as shipment_store
from chalicelib.store.notifications import DUE_SHARDS, due_shard
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, local_time
from tests.integration.test_concurrency import moto_server  # noqa: F401 - the fixture, used by name below
from tests.integration.test_notifications import CUSTOMER, NY
from tests.payloads import native_event

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PARCELS = 24


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The moment the webhook and registration routes see, moved by the test."""
    now = [T0]
    for module in ("chalicelib.api.webhooks", "chalicelib.api.retailer_api"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now[0])
    return now


def register(api: Api, retailer: Retailer, clock: list[datetime], count: int) -> list[str]:
    """`count` shipments registered a minute apart, oldest first."""
    ids = []
    for n in range(count):
        clock[0] = T0 + timedelta(minutes=n)
        created = api.register(retailer, order_id=f"O-{n}", tracking_number=f"1ZSHARD{n:04d}")
        assert created.status_code == 201, created.body
        ids.append(created.json_body["id"])
    return ids


def scan(api: Api, retailer: Retailer, clock: list[datetime], n: int, status: str) -> None:
    event = native_event(f"e{n}-{status}", status, "2026-11-22T10:00:00+00:00", tracking_number=f"1ZSHARD{n:04d}")
    assert api.native(retailer, {"events": [event]}, timestamp=int(clock[0].timestamp())).status_code == 200


def pages(api: Api, retailer: Retailer, query: str, limit: int) -> tuple[list[str], int]:
    """Every shipment id a listing gives, page after page of `limit`, and how many pages it took."""
    ids: list[str] = []
    cursor, count = "", 0
    while True:
        url = f"/v1/shipments?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = api.http.get(url, headers=retailer.auth)
        assert answer.status_code == 200, answer.body
        count += 1
        ids += [shipment["id"] for shipment in answer.json_body["shipments"]]
        cursor = answer.json_body["next_cursor"]
        if not cursor:
            return ids, count


def entry(shipment_id: str, sk: str) -> dict[str, Any]:
    raw = table.client().get_item(
        TableName=table.table_name(), Key=table.to_item({"pk": f"SHIP#{shipment_id}", "sk": sk}), ConsistentRead=True
    )
    return table.from_item(raw["Item"])


FEED = "changed_since=2026-11-23T00:00:00Z"


def test_the_change_feed_pages_every_shipment_once_in_order_across_its_shards(
    api: Api, retailer: Retailer, clock: list[datetime]
) -> None:
    ids = register(api, retailer, clock, PARCELS)
    indexes = {entry(shipment_id, "CHANGES")["retailer_index"] for shipment_id in ids}
    changes = shipment_store.changes_listing(retailer.id)
    assert indexes == {listings.shard_key(changes, shipment_id) for shipment_id in ids}
    assert len(indexes) > 1  # the feed's entries really are spread over several partitions

    for limit in (1, 5, 7, 100):
        listed, count = pages(api, retailer, FEED, limit)
        assert listed == ids, limit  # registration order is change order: each once, none lost
        assert count in (-(-PARCELS // limit), -(-PARCELS // limit) + 1)  # at most one empty last page, as before

    # A status change moves the shipment to the end of the feed, in its own shard still: rewritten, not doubled.
    clock[0] = T0 + timedelta(hours=1)
    scan(api, retailer, clock, 3, "shipped")
    assert entry(ids[3], "CHANGES")["retailer_index"] == listings.shard_key(changes, ids[3])
    listed, _ = pages(api, retailer, FEED, 5)
    assert listed == ids[:3] + ids[4:] + [ids[3]]
    since = (T0 + timedelta(minutes=20)).isoformat().replace("+00:00", "Z")
    assert pages(api, retailer, f"changed_since={since}", 2)[0] == [*ids[20:], ids[3]]


def test_a_status_listing_pages_newest_first_across_shards_and_follows_status_changes(
    api: Api, retailer: Retailer, clock: list[datetime]
) -> None:
    ids = register(api, retailer, clock, PARCELS)
    assert pages(api, retailer, "status=pending", 5)[0] == ids[::-1]
    clock[0] = T0 + timedelta(hours=1)
    moved = [2, 9, 17]
    for n in moved:
        scan(api, retailer, clock, n, "shipped")
    assert pages(api, retailer, "status=pending", 4)[0] == [i for n, i in enumerate(ids) if n not in moved][::-1]
    assert sorted(pages(api, retailer, "status=shipped", 1)[0]) == sorted(ids[n] for n in moved)
    listing = shipment_store.listing(retailer.id, "shipped")
    assert entry(ids[9], "LISTING")["retailer_index"] == listings.shard_key(listing, ids[9])


def write_unsharded(shipment_id: str, sk: str, listing: str) -> None:
    """The shipment's listing entry as it was written before the shards (its listing's one key)."""
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.to_item({"pk": f"SHIP#{shipment_id}", "sk": sk}),
        UpdateExpression="SET retailer_index = :index",
        ExpressionAttributeValues=table.to_item({":index": listing}),
    )


def test_entries_written_before_the_shards_are_still_listed_once_in_order_and_move_to_a_shard_when_rewritten(
    api: Api, retailer: Retailer, clock: list[datetime]
) -> None:
    ids = register(api, retailer, clock, 8)
    old = ids[::2]
    for shipment_id in old:
        write_unsharded(shipment_id, "CHANGES", shipment_store.changes_listing(retailer.id))
        write_unsharded(shipment_id, "LISTING", shipment_store.listing(retailer.id, "pending"))
    for limit in (1, 3, 50):
        assert pages(api, retailer, FEED, limit)[0] == ids
        assert pages(api, retailer, "status=pending", limit)[0] == ids[::-1]

    clock[0] = T0 + timedelta(hours=1)
    scan(api, retailer, clock, 0, "shipped")
    changes = shipment_store.changes_listing(retailer.id)
    assert entry(ids[0], "CHANGES")["retailer_index"] == listings.shard_key(changes, ids[0])
    assert pages(api, retailer, FEED, 3)[0] == [*ids[1:], ids[0]]
    assert pages(api, retailer, "status=pending", 3)[0] == ids[1:][::-1]
    assert pages(api, retailer, "status=shipped", 3)[0] == [ids[0]]


def test_a_cursor_issued_before_the_shards_resumes_where_it_left_off(
    api: Api, retailer: Retailer, clock: list[datetime]
) -> None:
    ids = register(api, retailer, clock, 6)
    second = entry(ids[1], "CHANGES")
    start = {name: {"S": second[name]} for name in ("pk", "sk", "retailer_sort")}
    start["retailer_index"] = {"S": shipment_store.changes_listing(retailer.id)}  # the start key DynamoDB gave
    cursor = base64.urlsafe_b64encode(json.dumps(start).encode()).decode()
    answer = api.http.get(f"/v1/shipments?{FEED}&limit=50&cursor={cursor}", headers=retailer.auth)
    assert answer.status_code == 200, answer.body
    assert [shipment["id"] for shipment in answer.json_body["shipments"]] == ids[2:]


@pytest.mark.parametrize(
    "start",
    [
        {"after": 5},
        {"after": ""},
        {"after": "x" * 600},
        {"retailer_sort": {"N": "1"}},
        {},
    ],
)
def test_a_cursor_that_was_not_issued_is_refused(api: Api, retailer: Retailer, start: dict[str, Any]) -> None:
    forged = {"retailer_index": {"S": shipment_store.changes_listing(retailer.id)}, **start}
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    answer = api.http.get(f"/v1/shipments?{FEED}&cursor={cursor}", headers=retailer.auth)
    assert answer.status_code == 400 and answer.json_body["error"]["field"] == "cursor"


def test_a_listing_page_costs_one_query_per_shard_and_one_for_the_entries_from_before(
    api: Api, retailer: Retailer, clock: list[datetime]
) -> None:
    register(api, retailer, clock, 3)
    for query in (FEED, "status=pending"):
        table.usage.clear()
        assert api.http.get(f"/v1/shipments?{query}", headers=retailer.auth).status_code == 200
        calls = {k: v for k, v in table.usage.items() if k.startswith("calls.")}
        # The API key, one bounded query per listing shard and one of the unsharded key, one batch read
        assert calls == {"calls.GetItem": 1, "calls.Query": listings.LISTING_SHARDS + 1, "calls.BatchGetItem": 1}


def test_the_scheduler_finds_due_work_in_every_due_shard(api: Api, retailer: Retailer, providers: Providers) -> None:
    from chalicelib.workers.scheduler import run_scheduled_work

    numbers: dict[str, str] = {}  # a parcel for each shard of the `by_due` index
    candidate = 0
    while len(numbers) < DUE_SHARDS:
        number = f"1ZDUE{candidate:05d}"
        numbers.setdefault(due_shard(shipment_id_for(retailer.id, "ups", number)), number)
        candidate += 1
    for n, number in enumerate(numbers.values()):
        body = {
            "order_id": f"D-{n}",
            "carrier": "ups",
            "tracking_number": number,
            "customer": {**CUSTOMER, "email": None, "phone": f"+1415555{n:04d}"},
        }
        assert api.http.post("/v1/shipments", headers=retailer.auth, body=json.dumps(body)).status_code == 201
        scan = native_event(f"d{n}", "shipped", "2026-11-20T10:00:00+00:00", tracking_number=number)
        assert api.native(retailer, {"events": [scan]}).status_code == 200
    assert run_scheduled_work(local_time(NY, 23))["deliveries"] == {"deferred": DUE_SHARDS}  # quiet hours
    table.usage.clear()
    assert run_scheduled_work(local_time(NY, 8, days_ahead=2))["deliveries"] == {"sent": DUE_SHARDS}
    recipients = Counter(request.form["To"] for request in providers.capture.of("twilio"))
    assert len(recipients) == DUE_SHARDS and set(recipients.values()) == {1}


def test_concurrent_status_changes_of_many_shipments_leave_each_listed_once(moto_server: None) -> None:  # noqa: F811
    """Webhooks for 24 shipments of one retailer at once, over HTTP to the moto server: every entry lands in its
    shard once, and the merged pages list each shipment once, in its final status."""
    from chalicelib.domain.events import TrackingEvent, fingerprint
    from chalicelib.services import ingest, shipments

    now = datetime.now(UTC)
    ids = []
    for n in range(PARCELS):
        body = {"order_id": f"C-{n}", "carrier": "ups", "tracking_number": f"1ZCONC{n:04d}"}
        ids.append(
            shipments.register("rt_busy", {**body, "customer": {"name": "A", "phone": "+14155550123"}}, now).record.id
        )

    def webhook(job: tuple[int, int, str]) -> None:
        n, minute, status = job
        event = TrackingEvent(
            "native",
            "ups",
            f"1ZCONC{n:04d}",
            status,
            now - timedelta(hours=1) + timedelta(minutes=minute),
            fingerprint("native", f"c{n}-{minute}"),
        )
        ingest.ingest_events("rt_busy", [event], now)

    jobs = [(n, minute, status) for n in range(PARCELS) for minute, status in ((0, "shipped"), (1, "out_for_delivery"))]
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(webhook, jobs))
    changed, after = [], None
    while True:
        found, after = shipment_store.list_changed_since("rt_busy", "2000-01-01", after, 5)
        changed += [record.id for record, _ in found]
        if after is None:
            break
    assert sorted(changed) == sorted(ids)
    listed: list[str] = []
    for status in ("pending", "shipped", "out_for_delivery"):
        after = None
        while True:
            records, after = shipment_store.list_by_status("rt_busy", status, after, 4)
            listed += [f"{status}:{record.id}" for record in records]
            if after is None:
                break
    assert sorted(listed) == sorted(f"out_for_delivery:{shipment_id}" for shipment_id in ids)
