"""1. DynamoDB requests and capacity per webhook for a known shipment (target: one read + one transactional write)."""

from __future__ import annotations

from .common import Report, item_size, native_body, post_webhook, setup_in_memory

NAME = "webhook_cost"
#: 1 GetItem + 1 TransactWriteItems, plus the day-counter UpdateItem that one webhook in five makes today (D13):
#: 2.20 measured; the budget leaves room for that and no more (an extra request per webhook would be 3).
MAX_REQUESTS_PER_WEBHOOK = 2.25


def run(report: Report, webhooks: int = 50) -> None:
    from moto import mock_aws

    from chalicelib.store import table

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        post_webhook(client, ids, native_body(0))  # warm: the retailer profile is cached per process
        table.usage.clear()
        for n in range(1, webhooks + 1):
            post_webhook(client, ids, native_body(n))
        usage = dict(table.usage)
        items = table.client().query(
            TableName=table.table_name(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SHIP#{ids['shipment_id']}"}},
        )["Items"]
    calls = {k.removeprefix("calls."): v / webhooks for k, v in usage.items() if k.startswith("calls.")}
    total_calls = sum(calls.values())
    state = next(i for i in items if i["sk"]["S"] == "STATE")
    event = next(i for i in items if i["sk"]["S"].startswith("EVENT#"))
    state_kb, event_kb = item_size(state) / 1024, item_size(event) / 1024
    # Transactional writes cost 2 WCU per started KB per item; a consistent read 1 RCU per started 4 KB.
    wcu = 2 * (int(state_kb) + 1) + 2 * (int(event_kb) + 1)
    rcu = int(state_kb / 4) + 1
    print(f"1. DynamoDB per webhook for a known shipment (steady state, {webhooks} webhooks)")
    for op, count in sorted(calls.items()):
        print(f"   {op:<22} {count:.2f} calls")
    print(f"   total                  {total_calls:.2f} calls   (target 2: ratio {total_calls / 2:.2f}x)")
    print(
        f"   item sizes             state {state_kb * 1024:.0f} B, event {event_kb * 1024:.0f} B "
        f"(after {webhooks + 2} scans; the state grows ~19 B per scan)"
    )
    print(
        f"   capacity (computed)    {rcu} RCU + {wcu} WCU   (bare PutItem of the event alone: 1 WCU; ratio {wcu:.0f}x)"
    )
    report.add(
        "webhook_cost.requests",
        "DynamoDB requests per webhook, known shipment",
        total_calls,
        "requests",
        baseline=2,
        ratio=total_calls / 2,
        at_most=MAX_REQUESTS_PER_WEBHOOK,
        detail=" + ".join(f"{count:.2f} {op}" for op, count in sorted(calls.items())),
    )
    report.add("webhook_cost.wcu", "Write units per webhook (computed)", wcu, "WCU", baseline=1, ratio=wcu)
    report.add("webhook_cost.rcu", "Read units per webhook (computed)", rcu, "RCU")
    reported = {k: v / webhooks for k, v in usage.items() if k.startswith("capacity.")}
    if reported:
        print(f"   capacity (moto)        {reported}")
