"""A table kept from before an index existed (the local runtime's, in .porchlight-data) gets the index on start."""

from __future__ import annotations

from chalicelib.store import table
from chalicelib.store.models import TableSchema


def test_create_table_adds_an_index_the_existing_table_lacks(aws: None) -> None:
    client = table.table_connection().connection.client
    name = table.table_name()
    client.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": table.GSI_LOG}}])
    indexes = {i["IndexName"] for i in client.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]}
    assert table.GSI_LOG not in indexes
    table.create_table()
    described = client.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    by_log = next(index for index in described if index["IndexName"] == table.GSI_LOG)
    assert by_log["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {i["IndexName"] for i in described} == {
        i["index_name"] for i in TableSchema._get_schema()["global_secondary_indexes"]
    }
