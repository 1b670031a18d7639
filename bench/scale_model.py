"""12. A scale model: the sustained webhooks per second one retailer can send before any partition key (base table
or index) reaches DynamoDB's per-partition limits, computed from the key design, not from a load test.

Every DynamoDB request of a realistic mix is instrumented (the same client hook `table.usage` counts with): each
write is charged to its item's partition key and to every index key value its old and new item carry, each read to
the partition it reads. Dividing by the webhooks sent gives units per webhook per key; a key's limit divided by that
is the rate at which it saturates. Keys only one shipment ever touches (its STATE partition, its token, its order
number) grow with the number of parcels, not with the rate; the retailer's limit is set by the keys many shipments
share (its day counters, its `by_retailer` listings, the `by_due` shards).

Charged as DynamoDB does (developer guide, "Read/write capacity mode", "Managing capacity for transactions" and
"Provisioned throughput considerations for global secondary indexes"): a write costs 1 unit per started KB of the
larger of the old and new item, twice inside a transaction; an index write costs 1 unit per started KB of the
projected (here: the whole) item, plus as much again to delete the old entry when its partition or sort key
changes; a read 1 unit per started 4 KB (0.5 when eventually consistent, as every index read is), twice inside a
transaction.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .common import Report, item_size, post_webhook, register_shipment, setup_in_memory

NAME = "scale_model"
#: DynamoDB's per-partition throughput, the same for a GSI partition.
PARTITION_WCU = 1_000.0
PARTITION_RCU = 3_000.0
#: Issue 16.8: sustained webhooks/s one retailer must be able to send.
MIN_WEBHOOKS_PER_SECOND = 5_000.0
#: One parcel's scans, as in the lifecycle figure: 4 status changes in 6 webhooks.
LIFE = ("processed", "shipped", "shipped", "shipped", "out_for_delivery", "delivered")
#: index name -> the attribute that is its partition key (chalicelib/store/table.py).
INDEX_KEYS = {
    "by_tracking": "tracking_lookup",
    "by_token": "tracking_token",
    "by_provider_message": "provider_message_id",
    "by_due": "due_shard",
    "by_retailer": "retailer_index",
    "by_log": "log_index",
}
#: index name -> the attribute that is its sort key: an entry whose sort key changes is deleted and put again.
INDEX_SORT_KEYS = {"by_tracking": "carrier", "by_due": "due_at", "by_retailer": "retailer_sort", "by_log": "log_sort"}
#: Indexes projecting keys only: a write costs them something only when it adds, moves or removes the entry.
KEYS_ONLY = {"by_log"}


@dataclass
class Load:
    """Units per key ("table pk=…" or "index key=…"), and which shipments' traffic touched each key."""

    write: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    read: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    owners: defaultdict[str, set[str | None]] = field(default_factory=lambda: defaultdict(set))
    webhook_of: str | None = None  # the shipment whose webhook is being handled (None while delivering)
    count_reads: bool = True

    def charge(self, kind: str, key: str, units: float, owner: str | None) -> None:
        (self.write if kind == "write" else self.read)[key] += units
        self.owners[key].add(owner or self.webhook_of)

    def shared(self, key: str) -> bool:
        return None in self.owners[key] or len(self.owners[key]) > 1


def _value(attribute: dict[str, Any] | None) -> str | None:
    return None if not attribute else str(next(iter(attribute.values())))


def _owner(item: dict[str, Any] | None) -> str | None:
    pk = _value((item or {}).get("pk")) or ""
    return pk.removeprefix("SHIP#") if pk.startswith("SHIP#") else None


def _write_units(old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
    return max(1, math.ceil(max(item_size(old or {}), item_size(new or {})) / 1024))


def _charge_write(load: Load, old: dict[str, Any] | None, new: dict[str, Any] | None, transactional: bool) -> None:
    item = new or old or {}
    owner = _owner(item)
    load.charge(
        "write", f"table pk={_value(item.get('pk'))}", _write_units(old, new) * (2 if transactional else 1), owner
    )
    for index, attribute in INDEX_KEYS.items():
        before, after = _value((old or {}).get(attribute)), _value((new or {}).get(attribute))
        if index in KEYS_ONLY:
            for entry in {before, after} - {None} if before != after else set():
                load.charge("write", f"{index} {attribute}={entry}", 1, owner)
            continue
        if after is not None:
            load.charge("write", f"{index} {attribute}={after}", math.ceil(item_size(new or {}) / 1024), owner)
        sort = INDEX_SORT_KEYS.get(index)
        moved = sort is not None and _value((old or {}).get(sort)) != _value((new or {}).get(sort))
        if before is not None and (before != after or moved):  # the old entry deleted: its key changed
            load.charge("write", f"{index} {attribute}={before}", math.ceil(item_size(old or {}) / 1024), owner)


def _read_units(items: list[dict[str, Any]], consistent: bool) -> float:
    return max(1, math.ceil(sum(item_size(item) for item in items) / 4096)) * (1.0 if consistent else 0.5)


def _query_key(params: dict[str, Any]) -> str:
    """The partition a Query reads: the value compared with `=` in its key condition."""
    names = params.get("ExpressionAttributeNames") or {}
    attribute, placeholder = re.search(r"(#?\w+)\s*=\s*(:\w+)", params["KeyConditionExpression"]).groups()  # type: ignore[union-attr]
    index = params.get("IndexName") or "table"
    return f"{index} {names.get(attribute, attribute)}={_value(params['ExpressionAttributeValues'][placeholder])}"


def instrument(ddb: Any, raw: Any, table_name: str, load: Load) -> None:
    """Charge every request `ddb` makes to the keys it touches; `raw` (an uncounted client) reads the items as they
    were before and after each write."""
    pending: dict[str, Any] = {}

    def current(key: dict[str, Any]) -> dict[str, Any] | None:
        item = raw.get_item(TableName=table_name, Key={"pk": key["pk"], "sk": key["sk"]}, ConsistentRead=True)
        return item.get("Item")

    def writes_of(name: str, params: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
        if name == "PutItem":
            return [(params["Item"], False)]
        if name in ("UpdateItem", "DeleteItem"):
            return [(params["Key"], False)]
        if name == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                operation = next(iter(entry.values()))
                found.append((operation.get("Item") or operation["Key"], True))
            return found
        if name == "BatchWriteItem":
            return [
                (request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"], False)
                for requests in params["RequestItems"].values()
                for request in requests
            ]
        return []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        targets = writes_of(model.name, params)
        pending["params"] = params
        pending["writes"] = [(key, transactional, current(key)) for key, transactional in targets]

    def after(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        params = pending.pop("params", {})
        if http_response.status_code != 200:  # a cancelled transaction or a failed condition writes nothing
            pending.pop("writes", None)
            return
        for key, transactional, old in pending.pop("writes", []):
            _charge_write(load, old, current(key), transactional)
        if not load.count_reads:
            return
        if model.name == "GetItem":
            item = parsed.get("Item")
            key = f"table pk={_value(params['Key']['pk'])}"
            load.charge("read", key, _read_units([item] if item else [], bool(params.get("ConsistentRead"))), None)
        elif model.name == "Query":
            consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
            load.charge("read", _query_key(params), _read_units(parsed.get("Items", []), consistent), None)
        elif model.name == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                found = parsed.get("Responses", {}).get(table, [])
                for key in request["Keys"]:
                    items = [item for item in found if item["pk"] == key["pk"] and item["sk"] == key["sk"]]
                    units = _read_units(items, bool(request.get("ConsistentRead")))
                    load.charge("read", f"table pk={_value(key['pk'])}", units, None)

    ddb.meta.events.register("before-parameter-build.dynamodb", before)
    ddb.meta.events.register("after-call.dynamodb", after)


def shard_families(retailer_id: str) -> list[tuple[str, int]]:
    """Each family of sharded keys (a pattern whose one group is the shard number) and its number of shards, from
    the key design itself (chalicelib.store)."""
    from chalicelib.store.listings import LISTING_SHARDS
    from chalicelib.store.notifications import DUE_SHARDS, LOG_SHARDS
    from chalicelib.store.stats import COUNTER_SHARDS

    retailer = re.escape(retailer_id)
    return [
        (r"by_due due_shard=DUE#(\d+)", DUE_SHARDS),
        (rf"by_retailer retailer_index=SHIPMENTS#{retailer}#\w+#(\d+)", LISTING_SHARDS),
        (rf"by_log log_index=NOTIFLOG#{retailer}#(\d+)", LOG_SHARDS),
        (rf"table pk=STATS#{retailer}#(\d+)", COUNTER_SHARDS),
    ]


def pool(load: Load, pattern: str, shards: int) -> None:
    """Replace the keys matching `pattern` (one per shard and listing) by one per listing, `<each of N>`, carrying
    the mean of its shards' writes."""
    pooled: defaultdict[str, float] = defaultdict(float)
    for key in [key for key in load.write if re.fullmatch(pattern, key)]:
        match = re.fullmatch(pattern, key)
        assert match is not None
        family = key[: match.start(1)] + f"<each of {shards}>" + key[match.end(1) :]
        pooled[family] += load.write.pop(key) / shards
        load.read.pop(key, None)
    for family, units in pooled.items():
        load.write[family] = units
        load.owners[family] = {None}


def run(report: Report, shipments: int = 24) -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.store import table
    from chalicelib.workers.scheduler import run_scheduled_work

    load = Load()
    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        auth = {"Authorization": f"Bearer {ids['api_key']}", "Content-Type": "application/json"}
        registered = []
        for n in range(shipments):  # a shopper each: their contact's keys are theirs, not the retailer's
            customer = {
                "name": "S",
                "phone": f"+1415555{n:04d}",
                "email": f"s{n}@example.com",
                "sms_consent": True,
                "time_zone": "UTC",
            }
            registered.append(register_shipment(client, auth, f"SCALE-{n}", f"1ZSCALE{n}", customer)["id"])
        raw = boto3.session.Session().client("dynamodb", region_name="us-east-1")
        instrument(table.client(), raw, table.table_name(), load)
        now = datetime.now(UTC)
        webhooks = 0
        for step, status in enumerate(LIFE):  # the parcels move together, as a retailer's day of parcels does
            for n, shipment_id in enumerate(registered):
                load.webhook_of = shipment_id
                event = {
                    "event_id": f"scale-{n}-{step}",
                    "tracking_number": f"1ZSCALE{n}",
                    "carrier": "ups",
                    "status": status,
                    "occurred_at": (now - timedelta(hours=8 - step, minutes=n)).isoformat(),
                }
                post_webhook(client, ids, json.dumps({"events": [event]}).encode())
                webhooks += 1
        # The notifications those webhooks planned, delivered: their writes are part of the sustained load; the
        # scheduler's index polling is per minute, not per webhook, so its reads are left out.
        load.webhook_of, load.count_reads = None, False
        delivered = run_scheduled_work(now.replace(hour=12) + timedelta(days=1))["deliveries"]
    # The local outbox is not in AWS.
    load.write.pop("table pk=DEVOUTBOX", None)
    # Sharded keys: the `by_due`, `by_retailer` listing and `by_log` shards are chosen by a hash of the shipment id,
    # the day counters' at random per increment, so with many parcels each shard carries 1/N of its family's
    # writes: charged as that mean (the real key design's N, imported), not as this small sample's spread.
    for pattern, shards in shard_families(ids["retailer_id"]):
        pool(load, pattern, shards)
    rates = {}
    for key in set(load.write) | set(load.read):
        if not load.shared(key):
            continue
        wpw, rpw = load.write[key] / webhooks, load.read[key] / webhooks
        limits = [PARTITION_WCU / wpw] if wpw else []
        limits += [PARTITION_RCU / rpw] if rpw else []
        rates[key] = (min(limits), wpw, rpw)
    hottest = sorted(rates, key=lambda key: rates[key][0])

    def shown(key: str) -> str:
        return key.replace(ids["retailer_id"], "<retailer>")

    print(
        f"12. Scale model: {webhooks} webhooks ({shipments} parcels x {len(LIFE)} scans) and the "
        f"{delivered.get('sent', 0)} notifications they caused, charged per partition key (limits "
        f"{PARTITION_WCU:,.0f} WCU/s, {PARTITION_RCU:,.0f} RCU/s per partition, base table and index alike)"
    )
    print(f"   {'key shared by many shipments':<72} {'WCU/webhook':>11} {'RCU/webhook':>11} {'saturates at':>14}")
    for key in hottest[:8]:
        rate, wpw, rpw = rates[key]
        print(f"   {shown(key):<72} {wpw:11.3f} {rpw:11.3f} {rate:10,.0f} /s")
    worst = hottest[0]
    rate, wpw, _ = rates[worst]
    print(
        f"   one retailer: {rate:,.0f} webhooks/s sustained before {shown(worst)} is hot "
        f"(target >= {MIN_WEBHOOKS_PER_SECOND:,.0f}/s)"
    )
    report.add(
        "scale_model.webhooks_per_second",
        "Sustained webhooks/s one retailer can send before a partition key reaches DynamoDB's limits",
        rate,
        "webhooks/s",
        at_least=MIN_WEBHOOKS_PER_SECOND,
        detail=f"hottest key {shown(worst)}, {wpw:.3f} WCU per webhook",
    )
