"""2. Webhooks per second through chalice.test.Client with in-memory moto, against the bare moto calls the same
work needs (one GetItem and one two-item TransactWriteItems per webhook)."""

from __future__ import annotations

from .common import Report, native_body, post_webhook, setup_in_memory, timed

NAME = "throughput"


def run(report: Report, webhooks: int = 300) -> None:
    from moto import mock_aws

    from chalicelib.store import table

    # moto copies the whole table on every transaction, so each side runs in a fresh backend of the same size.
    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        post_webhook(client, ids, native_body(0))
        bodies = [native_body(n) for n in range(1, webhooks + 1)]

        def ours_work() -> None:
            for raw in bodies:
                post_webhook(client, ids, raw)

        ours = timed(ours_work)

    with mock_aws():
        table.reset_client()
        setup_in_memory()
        ddb = table.client()
        name = table.table_name()

        def bare() -> None:
            for n in range(webhooks):
                ddb.get_item(TableName=name, Key={"pk": {"S": "BARE#1"}, "sk": {"S": "STATE"}}, ConsistentRead=True)
                ddb.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": name,
                                "Item": {"pk": {"S": "BARE#1"}, "sk": {"S": "STATE"}, "version": {"N": str(n)}},
                            }
                        },
                        {
                            "Put": {
                                "TableName": name,
                                "Item": {"pk": {"S": "BARE#1"}, "sk": {"S": f"EVENT#{n}"}, "doc": {"S": "x" * 300}},
                            }
                        },
                    ]
                )

        baseline = timed(bare)
    print(f"2. Throughput, {webhooks} webhooks in one process with in-memory moto")
    print(
        f"   Porchlight {webhooks / ours:7.0f} webhooks/s   bare moto calls {webhooks / baseline:7.0f} /s   "
        f"ratio {ours / baseline:.2f}x the time (our overhead on top of moto's)"
    )
    report.add(
        "throughput.webhooks_per_second",
        "Webhooks per second, in-process moto",
        webhooks / ours,
        "webhooks/s",
        baseline=webhooks / baseline,
        ratio=ours / baseline,
        detail="ratio: the time against the bare moto calls",
    )
