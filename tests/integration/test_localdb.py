"""The embedded DynamoDB keeps AWS's semantics with its faster paths (D28): transactions are all or nothing
(conditions, rollback of puts, updates in place and deletes), and index and table queries see every write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.store import table
from tests.integration.test_concurrency import moto_server

__all__ = ["moto_server"]


@pytest.fixture
def ddb(moto_server: None) -> Iterator[Any]:
    yield table.client()


def put(ddb: Any, **values: Any) -> None:
    ddb.put_item(TableName=table.table_name(), Item=table.to_item(values))


def partition(ddb: Any, pk: str) -> list[dict[str, Any]]:
    page = ddb.query(
        TableName=table.table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=table.to_item({":pk": pk}),
        ConsistentRead=True,
    )
    return [table.from_item(item) for item in page["Items"]]


def due(ddb: Any, shard: str, before: str = "9999") -> list[str]:
    page = ddb.query(
        TableName=table.table_name(),
        IndexName=table.GSI_DUE,
        KeyConditionExpression="due_shard = :shard AND due_at <= :before",
        ExpressionAttributeValues=table.to_item({":shard": shard, ":before": before}),
    )
    return [f"{item['pk']['S']}/{item['sk']['S']}" for item in page["Items"]]


def test_a_cancelled_transaction_leaves_every_item_it_named_as_it_was(ddb: Any) -> None:
    put(ddb, pk="SHIP#1", sk="STATE", version=1, due_shard="DUE#1", due_at="2026-01-01")
    put(ddb, pk="SHIP#1", sk="OLD", note="kept")
    put(ddb, pk="SHIP#1", sk="GUARD", version=1)
    before = partition(ddb, "SHIP#1")
    name = table.table_name()
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": table.to_item({"pk": "SHIP#1", "sk": "STATE"}),
                        "UpdateExpression": "SET version = :v, due_shard = :s",
                        "ExpressionAttributeValues": table.to_item({":v": 2, ":s": "DUE#2"}),
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": table.to_item(
                            {"pk": "SHIP#1", "sk": "NEW", "due_shard": "DUE#2", "due_at": "2026-01-02"}
                        ),
                    }
                },
                {"Delete": {"TableName": name, "Key": table.to_item({"pk": "SHIP#1", "sk": "OLD"})}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": table.to_item({"pk": "SHIP#1", "sk": "GUARD"}),
                        "ConditionExpression": "version = :expected",
                        "ExpressionAttributeValues": table.to_item({":expected": 7}),
                    }
                },
            ]
        )
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert partition(ddb, "SHIP#1") == before
    assert due(ddb, "DUE#1") == ["SHIP#1/STATE"] and due(ddb, "DUE#2") == []


def test_a_transaction_naming_one_item_twice_is_refused_and_writes_nothing(ddb: Any) -> None:
    put(ddb, pk="SHIP#2", sk="STATE", version=1)
    item = table.to_item({"pk": "SHIP#2", "sk": "STATE", "version": 2})
    with pytest.raises(ddb.exceptions.ClientError) as refused:
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table.table_name(), "Item": item}} for _ in range(2)]
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert partition(ddb, "SHIP#2")[0]["version"] == 1


def test_index_queries_follow_items_as_they_move_between_partitions_and_go(ddb: Any) -> None:
    for n in range(30):
        put(ddb, pk=f"SHIP#{n}", sk="OUTBOX#a", due_shard=f"DUE#{n % 3}", due_at=f"2026-01-{n + 1:02d}")
    assert due(ddb, "DUE#0", "2026-01-07") == ["SHIP#0/OUTBOX#a", "SHIP#3/OUTBOX#a", "SHIP#6/OUTBOX#a"]
    name = table.table_name()
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": name,
                    "Key": table.to_item({"pk": "SHIP#0", "sk": "OUTBOX#a"}),
                    "UpdateExpression": "SET due_shard = :s",
                    "ExpressionAttributeValues": table.to_item({":s": "DUE#1"}),
                }
            },
            {
                "Update": {
                    "TableName": name,
                    "Key": table.to_item({"pk": "SHIP#3", "sk": "OUTBOX#a"}),
                    "UpdateExpression": "REMOVE due_shard",
                }
            },
            {"Delete": {"TableName": name, "Key": table.to_item({"pk": "SHIP#6", "sk": "OUTBOX#a"})}},
        ]
    )
    ddb.batch_write_item(
        RequestItems={
            name: [
                {
                    "PutRequest": {
                        "Item": table.to_item(
                            {"pk": "SHIP#9", "sk": "OUTBOX#b", "due_shard": "DUE#0", "due_at": "2026-01-01"}
                        )
                    }
                }
            ]
        }
    )
    assert due(ddb, "DUE#0", "2026-01-07") == ["SHIP#9/OUTBOX#b"]
    assert due(ddb, "DUE#1", "2026-01-02") == ["SHIP#0/OUTBOX#a", "SHIP#1/OUTBOX#a"]
    assert [item["sk"] for item in partition(ddb, "SHIP#9")] == ["OUTBOX#a", "OUTBOX#b"]
    assert partition(ddb, "SHIP#6") == []
