"""The table, its client and the (de)serialisation shared by every repository."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

from ..config import settings

GSI_TRACKING = "by_tracking"  # (retailer#tracking number, carrier) -> shipment
GSI_TOKEN = "by_token"  # noqa: S105 - tracking token -> shipment (the shopper's page)
GSI_PROVIDER_MESSAGE = "by_provider_message"  # provider message id -> notification (status callbacks)
GSI_DUE = "by_due"  # (due shard, due time) -> deferred work for the scheduler
GSI_RETAILER = "by_retailer"  # (retailer#collection, sort key) -> a retailer's answered surveys, newest first
TTL_ATTRIBUTE = "expires_at"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_client_lock = threading.Lock()
_client: Any = None

#: Requests and consumed capacity per operation, read by bench/ to report cost per webhook.
usage: defaultdict[str, float] = defaultdict(float)


def _count_usage(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    usage[f"calls.{model.name}"] += 1
    consumed = parsed.get("ConsumedCapacity")
    for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
        usage[f"capacity.{model.name}"] += float(entry.get("CapacityUnits", 0.0))


def client() -> Any:
    """One low-level client per process (thread-safe; boto3 clients are). AWS_ENDPOINT_URL_DYNAMODB is honoured."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                new = boto3.session.Session().client(
                    "dynamodb",
                    region_name=settings().region,
                    config=Config(retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=50),
                )
                new.meta.events.register("after-call.dynamodb", _count_usage)
                _client = new
    return _client


def reset_client() -> None:
    """Forget the client (tests switch between moto modes and endpoints)."""
    global _client
    with _client_lock:
        _client = None


def table_name() -> str:
    return settings().table_name


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def expires_at(stamp: str, days: int | None = None) -> int:
    """The TTL (epoch seconds) for an item last changed at `stamp`: RETENTION_DAYS (or `days`) later."""
    from datetime import datetime, timedelta

    keep = settings().retention_days if days is None else days
    return int((datetime.fromisoformat(stamp) + timedelta(days=keep)).timestamp())


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a query matches, deserialised, following pages past DynamoDB's 1 MB limit."""
    kwargs = {"TableName": table_name(), **kwargs}
    while True:
        page = client().query(**kwargs)
        for raw in page.get("Items", []):
            yield from_item(raw)
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def index_page(
    index: str, start: dict[str, Any] | None, limit: int, *, since: str | None = None, newest_first: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a `by_retailer` listing (optionally from a sort key on): its entries and where the next starts."""
    condition, values = "retailer_index = :index", {":index": index}
    if since is not None:
        condition, values = condition + " AND retailer_sort >= :since", {**values, ":since": since}
    kwargs: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": GSI_RETAILER,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": to_item(values),
        "ScanIndexForward": not newest_first,
        "Limit": limit,
    }
    if start:
        kwargs["ExclusiveStartKey"] = start
    page = client().query(**kwargs)
    return [from_item(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")


def put_new(item: dict[str, Any], **kwargs: Any) -> bool:
    """Put an item only if its key is free; False (and nothing written) if it already exists."""
    ddb = client()
    try:
        ddb.put_item(TableName=table_name(), Item=item, ConditionExpression="attribute_not_exists(pk)", **kwargs)
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def delete_keys(keys: Iterable[tuple[str, str]]) -> int:
    """Delete items by (pk, sk) in batches of 25, retrying whatever DynamoDB leaves unprocessed."""
    pending_keys = [to_item({"pk": pk, "sk": sk}) for pk, sk in keys]
    for start in range(0, len(pending_keys), 25):
        requests = [{"DeleteRequest": {"Key": key}} for key in pending_keys[start : start + 25]]
        pending: dict[str, Any] = {table_name(): requests}
        while pending:
            pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(pending_keys)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def create_table(name: str | None = None, *, stream: bool = True) -> None:
    """Create the single table with its indexes, streams and TTL (idempotent; used locally and by tests).

    The local runtime passes `stream=False`: its drainer stands in for the stream, and the embedded moto keeps every
    stream record forever and deep-copies the whole table, records included, for each item of each transaction, so
    a stream nobody reads makes every write slower and leaves millions of objects for the garbage collector.
    """
    ddb = client()
    name = name or table_name()
    existing = ddb.list_tables().get("TableNames", [])
    if name in existing:
        return
    string_attrs = [
        "pk",
        "sk",
        "tracking_lookup",
        "carrier",
        "tracking_token",
        "provider_message_id",
        "due_shard",
        "due_at",
        "retailer_index",
        "retailer_sort",
    ]
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": attr, "AttributeType": "S"} for attr in string_attrs],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            _gsi(GSI_TRACKING, "tracking_lookup", "carrier"),
            _gsi(GSI_TOKEN, "tracking_token", None),
            _gsi(GSI_PROVIDER_MESSAGE, "provider_message_id", None),
            _gsi(GSI_DUE, "due_shard", "due_at"),
            _gsi(GSI_RETAILER, "retailer_index", "retailer_sort"),
        ],
        **({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}),
    )
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})


def _gsi(name: str, hash_key: str, range_key: str | None) -> dict[str, Any]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}
