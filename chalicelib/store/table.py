"""The table, its client and the (de)serialisation shared by every repository."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pynamodb.connection import Connection, TableConnection
from pynamodb.connection.base import MetaTable

from ..config import settings

GSI_TRACKING = "by_tracking"  # (retailer#tracking number, carrier) -> shipment
GSI_TOKEN = "by_token"  # noqa: S105 - tracking token -> shipment (the shopper's page)
GSI_PROVIDER_MESSAGE = "by_provider_message"  # provider message id -> notification (status callbacks)
GSI_DUE = "by_due"  # (due shard, due time) -> deferred work for the scheduler
GSI_RETAILER = "by_retailer"  # (retailer#collection, sort key) -> a retailer's answered surveys, newest first
GSI_LOG = "by_log"  # (retailer#shard, created#shipment#kind#channel) -> a retailer's notifications, keys only
TTL_ATTRIBUTE = "expires_at"

_connection_lock = threading.Lock()
_table_connection: TableConnection | None = None

#: Requests and consumed capacity per operation, read by bench/ to report cost per webhook.
usage: defaultdict[str, float] = defaultdict(float)


def _count_usage(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    usage[f"calls.{model.name}"] += 1
    consumed = parsed.get("ConsumedCapacity")
    for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
        usage[f"capacity.{model.name}"] += float(entry.get("CapacityUnits", 0.0))


class _CountedConnection(Connection):
    """PynamoDB's connection, whose botocore client (made again when credentials go stale) reports into `usage`."""

    _counted: Any = None

    @property
    def client(self) -> Any:
        made = super().client
        if made is not self._counted:
            made.meta.events.register("after-call.dynamodb", _count_usage)
            self._counted = made
        return made


def table_connection() -> TableConnection:
    """One PynamoDB connection to the table per process, shared by every model (thread-safe: the botocore client
    is). The table name and region come from settings; AWS_ENDPOINT_URL_DYNAMODB is honoured by botocore."""
    global _table_connection
    name = settings().table_name
    current = _table_connection
    if current is None or current.table_name != name:
        with _connection_lock:
            if _table_connection is None or _table_connection.table_name != name:
                from .models import TableSchema, bind  # the models need this module first

                made = TableConnection(name)
                made.connection = _CountedConnection(
                    region=settings().region,
                    retry_configuration={"mode": "standard", "max_attempts": 4},
                    max_pool_connections=50,
                )
                made.connection.add_meta_table(MetaTable(TableSchema.meta_table_data(name)))
                bind(name)
                _table_connection = made
            current = _table_connection
    return current


def client() -> Any:
    """The botocore DynamoDB client of PynamoDB's connection: the `by_retailer` page helper's, and tests' and bench's
    raw requests (the repositories go through models and the connection)."""
    return table_connection().connection.client


def reset_client() -> None:
    """Forget the connection (tests switch between moto modes and endpoints)."""
    global _table_connection
    with _connection_lock:
        _table_connection = None


def table_name() -> str:
    return settings().table_name


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed form of plain values (top-level None left out), for requests written by hand."""
    return {key: to_attribute(value) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Plain values of a raw item: numbers as Decimal, sets as sets, as DynamoDB's own SDKs give them."""
    return {key: from_attribute(value) for key, value in item.items()}


def to_attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, dict):
        return {"M": {str(key): to_attribute(inner) for key, inner in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(inner) for inner in value]}
    if isinstance(value, set | frozenset) and value:
        if all(isinstance(inner, str) for inner in value):
            return {"SS": sorted(value)}
        if all(isinstance(inner, int | Decimal) and not isinstance(inner, bool) for inner in value):
            return {"NS": [str(inner) for inner in value]}
    raise TypeError(f"no DynamoDB type for {value!r}")  # floats too: they would lose precision silently


def from_attribute(value: dict[str, Any]) -> Any:
    (kind, inner), *_ = value.items()
    if kind == "S" or kind == "B" or kind == "BOOL":
        return inner
    if kind == "N":
        return Decimal(inner)
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: from_attribute(nested) for key, nested in inner.items()}
    if kind == "L":
        return [from_attribute(nested) for nested in inner]
    if kind == "SS" or kind == "BS":
        return set(inner)
    if kind == "NS":
        return {Decimal(number) for number in inner}
    raise TypeError(f"unknown DynamoDB type {kind}")


def expires_at(stamp: str, days: int | None = None) -> int:
    """The TTL (epoch seconds) for an item last changed at `stamp`: RETENTION_DAYS (or `days`) later."""
    from datetime import datetime, timedelta

    keep = settings().retention_days if days is None else days
    return int((datetime.fromisoformat(stamp) + timedelta(days=keep)).timestamp())


def condition_failed(error: Exception) -> bool:
    """Whether a PynamoDB operation failed only because its condition did not hold (nothing was written)."""
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def rows(
    hash_key: str,
    range_key_condition: Any = None,
    *,
    index: str | None = None,
    consistent_read: bool = False,
) -> Iterator[dict[str, Any]]:
    """Every raw item of one partition (of the table or an index) through PynamoDB's connection, following pages:
    for partitions holding several item types, each handed to the model its sort key names (`from_raw_data`)."""
    start: dict[str, Any] | None = None
    while True:
        page = table_connection().query(
            hash_key,
            range_key_condition=range_key_condition,
            index_name=index,
            consistent_read=consistent_read,
            exclusive_start_key=start,
        )
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


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


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def create_table(name: str | None = None, *, stream: bool = True) -> None:
    """Create the single table with its indexes, streams and TTL (idempotent; used locally and by tests).

    The schema is `models.TableSchema`'s. The local runtime passes `stream=False`: its drainer stands in for the
    stream, and the embedded moto keeps every stream record forever and deep-copies the whole table, records
    included, for each item of each transaction, so a stream nobody reads makes every write slower and leaves
    millions of objects for the garbage collector.
    """
    from .models import TableSchema

    if name and name != table_name():
        raise ValueError(f"create_table makes the configured table {table_name()!r}, not {name!r}")
    if table_name() in table_connection().connection.list_tables().get("TableNames", []):
        TableSchema.add_missing_indexes()  # a table kept from before an index was added (the local runtime's)
        return
    TableSchema.create(stream=stream)
