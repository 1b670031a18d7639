"""Porchlight benchmarks: every figure is printed next to a baseline measured in the same run.

    python -m bench.run            (make bench)

1. DynamoDB requests and capacity per webhook for a known shipment (target: one read + one transactional write).
2. Webhooks per second through chalice.test.Client with in-memory moto, against the bare moto calls the same work
   needs (one GetItem and one two-item TransactWriteItems per webhook).
3. Cold start of each Lambda entry point (API handling a signed webhook, deliver_outbox handling a stream batch,
   scheduler sending what is due) in a fresh interpreter reading bytecode as deployed, against a bare Chalice app
   of the same kind doing one GetItem (botocore's client construction) and a bare Chalice route doing nothing.
4. DynamoDB requests per notification delivered.
5. Webhook accepted -> provider request in the local runtime, against the same Twilio SDK call made directly.
6. Tracking page render time (p50, p95) against a bare Jinja2 template of the same size; bytes and queries per view;
   DynamoDB calls per order lookup, found and missed.
7. Analytics request cost for a retailer with 100,000 shipments against one with 1,000 (target: the same).
8. DynamoDB units for one shipment's whole life, as an on-demand cost per million shipments.
9. The deployment package: size, and cold imports from it with the bytecode it ships against sources only.
10. The local runtime as its table grows (0, 1,000 and 10,000 shipments): webhooks/s, p95 and resident memory over
    HTTP against the empty table, with budgets that fail the bench (exit status 1) when broken.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEST_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "STAGE": "bench",
    "TABLE_NAME": "porchlight-bench",
    "PUBLIC_BASE_URL": "https://track.example.test",
    "ADMIN_API_KEY": "adm_bench_0123456789",
}


def native_body(n: int, tracking_number: str = "1ZBENCH") -> bytes:
    moment = datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=n)
    status = "shipped" if n % 10 else "out_for_delivery"
    event = {
        "event_id": f"bench-{n}",
        "tracking_number": tracking_number,
        "carrier": "ups",
        "status": status,
        "occurred_at": moment.isoformat(),
        "description": "Arrived at facility",
        "location": {"city": "Oakland", "region": "CA", "country": "US"},
    }
    return json.dumps({"events": [event]}).encode()


def setup_in_memory() -> tuple[Any, dict[str, str]]:
    """App + in-memory moto with one retailer, one registered shipment; returns (client, ids and secret)."""
    from chalice.test import Client

    from app import app
    from chalicelib.store.table import create_table

    create_table()
    client = Client(app, stage_name="bench")  # no stage environment from .chalice/config.json
    created = client.http.post(
        "/v1/admin/retailers",
        headers={"Authorization": f"Bearer {TEST_ENV['ADMIN_API_KEY']}", "Content-Type": "application/json"},
        body='{"name": "Bench"}',
    ).json_body
    auth = {"Authorization": f"Bearer {created['api_key']}", "Content-Type": "application/json"}
    secret = client.http.put("/v1/integrations/native", headers=auth, body="").json_body["secret"]
    shipment = register_shipment(client, auth, "B1", "1ZBENCH", {"name": "B", "phone": "+14155550123"})
    return client, {
        "retailer_id": created["id"],
        "secret": secret,
        "shipment_id": shipment["id"],
        "api_key": created["api_key"],
    }


def post_webhook(client: Any, ids: dict[str, str], raw: bytes) -> None:
    from chalicelib.carriers.native import sign

    response = client.http.post(
        f"/v1/webhooks/native/{ids['retailer_id']}",
        headers={
            "Content-Type": "application/json",
            "X-Porchlight-Signature": sign(ids["secret"], raw, int(time.time())),
        },
        body=raw,
    )
    assert response.status_code == 200, response.body


def register_shipment(
    client: Any, auth: dict[str, str], order_id: str, tracking_number: str, customer: dict[str, Any]
) -> dict[str, Any]:
    """`POST /v1/shipments` for a UPS shipment, as the retailer would; the shipment summary."""
    body = {"order_id": order_id, "carrier": "ups", "tracking_number": tracking_number, "customer": customer}
    response = client.http.post("/v1/shipments", headers=auth, body=json.dumps(body))
    assert response.status_code in (200, 201), response.body
    return response.json_body


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB item size: attribute name bytes + value bytes (strings/numbers/booleans as stored here)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        kind, inner = next(iter(value.items()))
        size += len(str(inner).encode()) if kind in ("S", "N") else 1 if kind == "BOOL" else len(json.dumps(inner))
    return size


def bench_dynamodb_cost(webhooks: int = 50) -> None:
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
    reported = {k: v / webhooks for k, v in usage.items() if k.startswith("capacity.")}
    if reported:
        print(f"   capacity (moto)        {reported}")


COLD_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    started = time.perf_counter()
    {imports}
    imported = time.perf_counter()
    event = json.loads(sys.argv[1])
    context = type("Ctx", (), {{"aws_request_id": "bench", "function_name": "bench", "memory_limit_in_mb": 512}})()
    result = {handler}(event, context)
    {check}
    print(json.dumps({{"import": imported - started, "total": time.perf_counter() - started}}))
    """
)
GET_ITEM = 'boto3.client("dynamodb").get_item(TableName="porchlight-bench", Key={"pk": {"S": "x"}, "sk": {"S": "y"}})'


def bare_app(decorator: str, signature: str, work: str) -> str:
    return (
        "import boto3\nfrom chalice import Chalice, Rate\napp = Chalice(app_name='bare')\n"
        f"@app.{decorator}\ndef handler({signature}):\n    {work}\n    return {{'ok': True}}"
    )


#: name -> (imports, handler expression, check); each Porchlight entry point is paired with a bare Chalice app of the
#: same kind doing one GetItem (what a handler that reads anything must at least pay: botocore's client).
ENTRY_POINTS: dict[str, tuple[str, str, str]] = {
    "bare route": (bare_app("route('/ping')", "", "pass"), "app", "assert result['statusCode'] == 200"),
    "bare route + GetItem": (
        bare_app("route('/ping')", "", GET_ITEM),
        "app",
        "assert result['statusCode'] == 200",
    ),
    "bare function + GetItem": (
        bare_app("lambda_function(name='fn')", "event, context", GET_ITEM),
        "handler",
        "assert result == {'ok': True}",
    ),
    "bare schedule + GetItem": (
        bare_app("schedule(Rate(1, unit=Rate.MINUTES))", "event", GET_ITEM),
        "handler",
        "assert result == {'ok': True}",
    ),
    "API: signed webhook": ("from app import app", "app", "assert result['statusCode'] == 200, result"),
    "deliver_outbox: 2 sends": (
        "from app import deliver_outbox",
        "deliver_outbox",
        "assert result == {'batchItemFailures': []}, result",
    ),
    # At least the two items left for it: by day the bench shipment's out-for-delivery text is due as well.
    "scheduler: 2 sends": (
        "from app import scheduler",
        "scheduler",
        "assert result['deliveries'].get('sent', 0) >= 2, result",
    ),
}
BASELINE_OF = {
    "API: signed webhook": "bare route + GetItem",
    "deliver_outbox: 2 sends": "bare function + GetItem",
    "scheduler: 2 sends": "bare schedule + GetItem",
}


def api_gateway_event(
    path: str, resource: str, params: dict[str, str], body: bytes, headers: dict[str, str]
) -> dict[str, Any]:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "POST" if body else "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {"resourcePath": resource, "httpMethod": "POST" if body else "GET", "stage": "api"},
        "body": body.decode() if body else None,
        "isBase64Encoded": False,
    }


def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "bench",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/bench"],
        "detail": {},
    }


def run_fresh(entry: str, event: dict[str, Any], env: dict[str, str]) -> dict[str, float]:
    imports, handler, check = ENTRY_POINTS[entry]
    script = COLD_SCRIPT.format(imports=imports, handler=handler, check=check)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(script)
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, handle.name, json.dumps(event)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    os.unlink(handle.name)
    if out.returncode != 0:
        raise RuntimeError(f"{entry}: {out.stderr[-2000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["wall"] = wall
    return figures


def pending_outbox_records(client: Any, auth: dict[str, str], ids: dict[str, str], n: int) -> dict[str, Any]:
    """Register a shipment and move it to `shipped`: its SMS and e-mail wait in the outbox, as stream records."""
    from chalicelib.domain.notifications import is_notification
    from chalicelib.simulator import daytime_zone
    from chalicelib.store.table import client as dynamodb

    customer = {
        "name": "C",
        "phone": "+14155550123",
        "email": "c@example.com",
        "sms_consent": True,
        "time_zone": daytime_zone(),
    }
    tracking_number = f"1ZCOLD{n}"
    shipment = register_shipment(client, auth, f"C{n}", tracking_number, customer)
    post_webhook(client, ids, native_body(1, tracking_number=tracking_number))
    items = dynamodb().query(
        TableName=TEST_ENV["TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"SHIP#{shipment['id']}"}, ":outbox": {"S": "OUTBOX#"}},
    )["Items"]
    # The text and the e-mail; the silence watch the same scan armed is not due for days.
    items = [item for item in items if is_notification(item["kind"]["S"])]
    assert len(items) == 2, items
    return {
        "Records": [
            {"eventName": "INSERT", "dynamodb": {"NewImage": item, "SequenceNumber": str(i)}}
            for i, item in enumerate(items)
        ]
    }


def bench_cold_start(rounds: int = 7) -> None:
    """Each Lambda entry point in a fresh interpreter: import + first invocation, against bare Chalice apps."""
    from chalicelib.carriers.native import sign
    from chalicelib.localdb import EmbeddedDynamoDB
    from tests.capture import CaptureServer

    db = EmbeddedDynamoDB()
    endpoint = db.start()
    capture = CaptureServer().start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SENDGRID_"))},
        **TEST_ENV,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "PYTHONPATH": str(ROOT),
        # The real SDKs, talking to a local stand-in for Twilio and SendGrid: their import cost is part of the figure.
        "TWILIO_ACCOUNT_SID": "AC" + "3" * 32,
        "TWILIO_AUTH_TOKEN": "bench-token",
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": capture.url,
        "SENDGRID_API_KEY": "SG.bench",
        "SENDGRID_API_HOST": capture.url,
        "EMAIL_FROM": "tracking@example.com",
    }
    # As deployed: Lambda runs the bytecode the package ships (bench section 9), so every interpreter here reads
    # bytecode too, from a private cache that the first, untimed round fills (this checkout may not write any).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="porchlight-bench-pyc-")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    from chalicelib.config import settings
    from chalicelib.store import retailers, table

    settings.cache_clear()
    table.reset_client()
    retailers.clear_cache()
    client, ids = setup_in_memory()
    auth = {"Authorization": f"Bearer {ids['api_key']}", "Content-Type": "application/json"}
    bare_event = api_gateway_event("/ping", "/ping", {}, b"", {})
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in ENTRY_POINTS}
    for n in range(rounds + 1):  # round 0 only fills the bytecode cache
        raw = native_body(1000 + n)
        headers = {
            "Content-Type": "application/json",
            "X-Porchlight-Signature": sign(ids["secret"], raw, int(time.time())),
        }
        webhook = api_gateway_event(
            f"/v1/webhooks/native/{ids['retailer_id']}",
            "/v1/webhooks/{source}/{retailer_id}",
            {"source": "native", "retailer_id": ids["retailer_id"]},
            raw,
            headers,
        )
        for name in ("bare route", "bare route + GetItem"):
            figures[name].append(run_fresh(name, bare_event, env))
        figures["bare function + GetItem"].append(run_fresh("bare function + GetItem", {"Records": []}, env))
        figures["bare schedule + GetItem"].append(run_fresh("bare schedule + GetItem", scheduled_event(), env))
        figures["API: signed webhook"].append(run_fresh("API: signed webhook", webhook, env))
        stream_batch = pending_outbox_records(client, auth, ids, 2 * n)
        figures["deliver_outbox: 2 sends"].append(run_fresh("deliver_outbox: 2 sends", stream_batch, env))
        pending_outbox_records(client, auth, ids, 2 * n + 1)  # left for the scheduler to find
        figures["scheduler: 2 sends"].append(run_fresh("scheduler: 2 sends", scheduled_event(), env))
    figures = {name: rows[1:] for name, rows in figures.items()}
    shutil.rmtree(env["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    sent = len(capture.of("twilio")), len(capture.of("sendgrid"))
    capture.stop()
    db.stop()
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

    def median(name: str, key: str) -> float:
        return statistics.median(row[key] for row in figures[name]) * 1000

    print(f"3. Cold start per Lambda entry point, median of {rounds} fresh interpreters reading bytecode, as Lambda")
    print("   does from the package (ms; the whole process includes Python start-up). Ratios: against a bare Chalice")
    print("   app of the same kind doing one GetItem, and against a bare Chalice route doing nothing.")
    print(f"   {'entry point':<26} {'import':>7} {'+ first call':>13} {'whole process':>14}   ratio (first call)")
    bare = median("bare route", "total")
    for name in ENTRY_POINTS:
        row = f"   {name:<26} {median(name, 'import'):7.0f} {median(name, 'total'):13.0f} {median(name, 'wall'):14.0f}"
        if name in BASELINE_OF:
            same_kind = median(BASELINE_OF[name], "total")
            row += f"   {median(name, 'total') / same_kind:.2f}x same kind, {median(name, 'total') / bare:.2f}x bare"
        print(row)
    print(
        f"   ({sent[0]} texts and {sent[1]} e-mails reached the local Twilio/SendGrid stand-in through the real SDKs)"
    )


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def bench_throughput(webhooks: int = 300) -> None:
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


def bench_notification_cost(shipments: int = 30) -> None:
    """DynamoDB requests per notification delivered (local outbox channel, in-memory moto)."""
    from moto import mock_aws

    from chalicelib.services.scheduler import run_scheduled_work
    from chalicelib.store import table

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        auth = {"Authorization": f"Bearer {ids['api_key']}", "Content-Type": "application/json"}
        for n in range(shipments):
            customer = {
                "name": "B",
                "phone": "+14155550123",
                "email": "b@example.com",
                "sms_consent": True,
                "time_zone": "UTC",
            }
            register_shipment(client, auth, f"N{n}", f"1ZNOTE{n}", customer)
            post_webhook(client, ids, native_body(1, tracking_number=f"1ZNOTE{n}"))
        noon = datetime.now(UTC).replace(hour=12, minute=0) + timedelta(days=1)
        table.usage.clear()
        started = time.perf_counter()
        outcome = run_scheduled_work(noon)["deliveries"]
        elapsed = time.perf_counter() - started
        usage = dict(table.usage)
    sent = outcome.get("sent", 0)
    calls = {k.removeprefix("calls."): v / max(sent, 1) for k, v in usage.items() if k.startswith("calls.")}
    print(f"4. Delivery cost, {sent} notifications (SMS + email) drained in one pass, in-memory moto")
    for op, count in sorted(calls.items()):
        print(f"   {op:<22} {count:.2f} per notification")
    print(f"   total                  {sum(calls.values()):.2f} DynamoDB requests per notification")
    print(f"   drain rate             {sent / elapsed:.0f} notifications/s (includes template rendering)")


def bench_notification_latency(webhooks: int = 20) -> None:
    """Webhook accepted -> provider request, through the real local runtime and the real SDKs."""
    import requests

    from chalicelib.carriers.native import sign
    from chalicelib.devserver import free_port
    from chalicelib.simulator import daytime_zone
    from tests.capture import CaptureServer

    capture = CaptureServer().start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        demo_file = Path(tmp) / "demo.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TWILIO_", "SENDGRID_"))}
        env.update(
            TWILIO_ACCOUNT_SID="AC" + "2" * 32,
            TWILIO_AUTH_TOKEN="bench-token",
            TWILIO_FROM_NUMBER="+15005550006",
            TWILIO_API_BASE_URL=capture.url,
            STAGE="local",
            TABLE_NAME="porchlight-local",
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        )
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chalicelib.devserver",
                "--port",
                str(port),
                "--demo-file",
                str(demo_file),
                "--ephemeral",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        while "Press Ctrl-C" not in process.stdout.readline():
            pass
        import threading

        # keep draining the server's log so it never blocks writing to a full pipe
        threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
        demo = json.loads(demo_file.read_text())
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {demo['api_key']}"}
        zone = daytime_zone()
        latencies = []
        session = requests.Session()
        for n in range(webhooks):
            session.post(
                f"{base}/v1/shipments",
                headers=auth,
                timeout=10,
                json={
                    "order_id": f"L{n}",
                    "carrier": "ups",
                    "tracking_number": f"1ZLAT{n}",
                    "customer": {"name": "B", "phone": "+14155550123", "sms_consent": True, "time_zone": zone},
                },
            )
            raw = json.dumps(
                {
                    "events": [
                        {
                            "event_id": f"lat-{n}",
                            "tracking_number": f"1ZLAT{n}",
                            "carrier": "ups",
                            "status": "out_for_delivery",
                            "occurred_at": "2026-11-20T10:00:00+00:00",
                        }
                    ]
                }
            ).encode()
            before = len(capture.of("twilio"))
            session.post(
                f"{base}/v1/webhooks/native/{demo['retailer_id']}",
                data=raw,
                timeout=10,
                headers={
                    "X-Porchlight-Signature": sign(demo["integrations"]["native"]["secret"], raw, int(time.time()))
                },
            )
            accepted = time.perf_counter()
            while len(capture.of("twilio")) == before and time.perf_counter() - accepted < 10:
                time.sleep(0.005)
            latencies.append(time.perf_counter() - accepted)
        process.send_signal(2)
        process.wait(timeout=20)
    # Baseline: the same SDK request made directly, no Porchlight in between.
    from twilio.rest import Client

    direct = Client("AC" + "2" * 32, "bench-token")
    direct.api.base_url = capture.url
    baseline = []
    for _ in range(webhooks):
        started = time.perf_counter()
        direct.messages.create(to="+14155550123", from_="+15005550006", body="baseline")
        baseline.append(time.perf_counter() - started)
    capture.stop()
    latencies.sort()
    p50, p95 = statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
    b50 = statistics.median(baseline)
    print(f"5. Webhook accepted -> Twilio request, {webhooks} webhooks, local runtime (drainer polls every 0.25 s)")
    print(
        f"   p50 {p50 * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   (target p95 <= 1000 ms)   "
        f"direct SDK call {b50 * 1000:.0f} ms: ratio p50 {p50 / b50:.0f}x"
    )


def bench_tracking_page(views: int = 200) -> None:
    """Server-side render of the shopper page, against rendering a bare Jinja2 template of the same size."""
    from jinja2 import Environment
    from moto import mock_aws

    from chalicelib.services import tracking
    from chalicelib.store import retailers as retailer_store
    from chalicelib.store import shipments as shipment_store
    from chalicelib.store import table
    from chalicelib.web.i18n import LANGUAGE_NAMES, strings
    from chalicelib.web.templating import builtin_environment

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[int(q * (len(ordered) - 1))]

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        for n in range(2, 14):
            post_webhook(client, ids, native_body(n))
        auth = {"Authorization": f"Bearer {ids['api_key']}"}
        token = client.http.get(f"/v1/shipments/{ids['shipment_id']}", headers=auth).json_body["tracking_token"]
        client.http.get(f"/t/{token}")  # warm: retailer profile cache, template compilation
        table.usage.clear()
        requests_timed, sizes = [], []
        for _ in range(views):
            started = time.perf_counter()
            response = client.http.get(f"/t/{token}")
            requests_timed.append(time.perf_counter() - started)
            sizes.append(len(response.body) + sum(len(k) + len(v) + 4 for k, v in response.headers.items()))
        queries = table.usage.get("calls.Query", 0) / views
        writes = table.usage.get("calls.UpdateItem", 0) / views
        html = response.body.decode()
        lookup_calls, lookup_times = lookup_cost(client, ids["retailer_id"], views)
        # The render alone: building the view and templating it, with the data already read.
        tracked = shipment_store.find_by_token(token)
        record, events = tracked.record, tracked.events
        retailer = retailer_store.get(ids["retailer_id"])
        assert record is not None and retailer is not None
        page = builtin_environment().get_template("pages/tracking.html.j2")
        renders = []
        for _ in range(views):
            started = time.perf_counter()
            view = tracking.build_view(record, events, retailer)
            page.render(
                v=view, t=strings("en"), base="https://x", csrf="c", saved=False, languages=LANGUAGE_NAMES, nonce="n"
            )
            renders.append(time.perf_counter() - started)
        redaction_cost = redaction_ratio(record, events, retailer, page, views)
    # Baseline: a template of the same size with one variable.
    bare = Environment(autoescape=True).from_string(html.replace("{", "(").replace("}", ")") + "{{ x }}")
    baseline = []
    for _ in range(views):
        started = time.perf_counter()
        bare.render(x="y")
        baseline.append(time.perf_counter() - started)
    render50, render95, bare50, bare95 = pct(renders, 0.5), pct(renders, 0.95), pct(baseline, 0.5), pct(baseline, 0.95)
    print(f"6. Tracking page, {views} views of a 13-scan shipment (in-memory moto)")
    print(
        f"   server-side render p50 {render50 * 1000:.2f} ms  p95 {render95 * 1000:.2f} ms   bare Jinja2 template of "
        f"the same size p50 {bare50 * 1000:.3f} ms: ratio p50 {render50 / bare50:.0f}x, p95 {render95 / bare95:.0f}x"
    )
    print(
        f"   whole request through chalice.test.Client p50 {pct(requests_timed, 0.5) * 1000:.1f} ms  "
        f"p95 {pct(requests_timed, 0.95) * 1000:.1f} ms"
    )
    print(
        f"   bytes on the wire {statistics.median(sizes) / 1024:.1f} KB (body + headers, uncompressed)   "
        f"DynamoDB per view: {queries:.2f} query (target 1) + {writes:.2f} page-view counter update"
    )
    print(
        f"   carrier-text redaction (names, street, phones, e-mails): render p50 with / without = "
        f"{redaction_cost:.2f}x (no DynamoDB call: it works on the state the one query read)"
    )
    found, missed = lookup_calls
    print(
        f"   order lookup (POST /v1/track): found {found}, missed {missed} per lookup; request p50 "
        f"{pct(lookup_times, 0.5) * 1000:.1f} ms = {pct(lookup_times, 0.5) / pct(requests_timed, 0.5):.2f}x a page view"
    )


def redaction_ratio(record: Any, events: Any, retailer: Any, page: Any, views: int) -> float:
    """The tracking page render (view + template) with the real redactor, over the same render with carrier text
    passed through untouched; alternated per view so both see the same machine state."""
    from dataclasses import replace

    from chalicelib.services import tracking
    from chalicelib.web.i18n import LANGUAGE_NAMES, strings

    class PassThrough:
        def text(self, value: str | None) -> str:
            return value or ""

        def place(self, value: str | None) -> str:
            return value or ""

    # A shopper with a full name and a street line, as registrations carry them (the bench shipment has neither).
    record = replace(
        record,
        customer={**record.customer, "name": "Maria Garcia-Lopez"},
        destination={"line1": "742 Evergreen Terrace"},
    )
    real = tracking.shopper_redactor
    timings: dict[bool, list[float]] = {True: [], False: []}
    try:
        for n in range(views * 2):
            redacting = n % 2 == 0
            tracking.shopper_redactor = real if redacting else lambda *_: PassThrough()  # type: ignore[assignment]
            started = time.perf_counter()
            view = tracking.build_view(record, events, retailer)
            page.render(
                v=view, t=strings("en"), base="https://x", csrf="c", saved=False, languages=LANGUAGE_NAMES, nonce="n"
            )
            timings[redacting].append(time.perf_counter() - started)
    finally:
        tracking.shopper_redactor = real
    return statistics.median(timings[True]) / statistics.median(timings[False])


def lookup_cost(client: Any, retailer_id: str, lookups: int) -> tuple[tuple[str, str], list[float]]:
    """DynamoDB calls per order lookup that finds the order and per one that misses, and the found lookups' times."""
    from chalicelib.store import table

    def calls_per(contact: str, order_id: str, rounds: int) -> tuple[str, list[float]]:
        body = json.dumps({"order_id": order_id, "contact": contact})
        headers = {"Content-Type": "application/json"}
        table.usage.clear()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            client.http.post(f"/v1/track/{retailer_id}", headers=headers, body=body)
            times.append(time.perf_counter() - started)
        counted = {k.removeprefix("calls."): v / rounds for k, v in table.usage.items() if k.startswith("calls.")}
        return " + ".join(f"{v:.2f} {k}" for k, v in sorted(counted.items())), times

    found, times = calls_per("+1 (415) 555-0123", "b1", lookups)
    missed, _ = calls_per("nobody@example.com", f"B{lookups}", 5)  # 5 misses: under every limit (D25)
    return (found, missed), times


def bench_analytics(small: int = 1_000, large: int = 100_000) -> None:
    """Analytics for a retailer with 1,000 and with 100,000 delivered shipments: same requests, same capacity.

    The counters are written by the same code the webhooks use (services.stats.progress_changed and the survey
    counters), once per synthetic shipment spread over 90 days, so the day items hold what that many would leave.
    """
    from moto import mock_aws

    from chalicelib.services import analytics, stats
    from chalicelib.store import table

    def seed_and_measure(shipments: int) -> tuple[dict[str, float], float]:
        with mock_aws():
            table.reset_client()
            from chalicelib.store.table import create_table

            create_table()
            today = datetime(2026, 11, 23, tzinfo=UTC)
            per_day: dict[str, dict[str, float]] = {}
            for n in range(shipments):  # aggregate in memory first: 100,000 UpdateItems on moto take minutes
                day = (today - timedelta(days=n % 90)).date().isoformat()
                carrier = ("ups", "fedex", "usps")[n % 3]
                deltas = per_day.setdefault(day, {})
                for name, value in {
                    "delivered": 1,
                    f"carrier:{carrier}:delivered": 1,
                    "answered": n % 2,
                    "score_sum": (n % 5 + 1) * (n % 2),
                    f"dur:shipped:b{stats.bucket(600 + n % 3000)}": 1,
                }.items():
                    deltas[name] = deltas.get(name, 0) + value
            for day, deltas in per_day.items():
                stats.count("rt_bench", day, deltas)
            table.usage.clear()
            data = analytics.report("rt_bench", (today - timedelta(days=89)).date(), today.date())
            assert data["shipments"]["delivered"] == shipments
            usage = dict(table.usage)
        return {k: v for k, v in usage.items() if k.startswith("calls.")}, usage.get("capacity.Query", 0.0)

    small_calls, small_units = seed_and_measure(small)
    large_calls, large_units = seed_and_measure(large)
    small_total, large_total = sum(small_calls.values()), sum(large_calls.values())
    print(f"7. Analytics view over 90 days, {small:,} vs {large:,} delivered shipments (in-memory moto)")
    print(
        f"   requests {small_total:.0f} vs {large_total:.0f} {large_calls}   read capacity {small_units:g} vs "
        f"{large_units:g} RCU   ratio {large_total / max(small_total, 1):.2f}x"
    )


# DynamoDB on-demand prices, us-east-1, per million request units, as listed on the AWS pricing page after the
# November 2024 price reduction (aws.amazon.com/dynamodb/pricing/on-demand/). Check them before budgeting.
PRICE_PER_MILLION_WRU = 0.625
PRICE_PER_MILLION_RRU = 0.125


def _size(item: dict[str, Any]) -> int:
    return item_size(item)


def bench_lifecycle_cost() -> None:
    """Register + 6 scans + 4 notifications + a survey answer: read/write units, and the cost per million shipments."""
    import math

    from moto import mock_aws

    from chalicelib.services.scheduler import run_scheduled_work
    from chalicelib.store import table

    units = {"read": 0.0, "write": 0.0}

    def account(params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name == "PutItem" and params["Item"]["pk"]["S"] != "DEVOUTBOX":  # the local outbox is not in AWS
            units["write"] += math.ceil(_size(params["Item"]) / 1024)
        elif name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                item = entry.get("Put", {}).get("Item")
                units["write"] += 2 * (math.ceil(_size(item) / 1024) if item else 1)
        elif name in ("UpdateItem", "DeleteItem"):
            units["write"] += 1  # every update here touches an item under 1 KB except the day counters (≤ 4 KB)

    def account_reads(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetItem":
            units["read"] += math.ceil(max(_size(parsed.get("Item") or {}), 1) / 4096)
        elif model.name == "Query":
            size = sum(_size(item) for item in parsed.get("Items", []))
            units["read"] += max(math.ceil(size / 4096), 1) * 0.5  # most queries are eventually consistent or GSI

    with mock_aws():
        table.reset_client()
        client, ids = setup_in_memory()
        ddb = table.client()
        ddb.meta.events.register("before-parameter-build.dynamodb", account)
        ddb.meta.events.register("after-call.dynamodb", account_reads)
        table.usage.clear()
        units.update(read=0.0, write=0.0)
        auth = {"Authorization": f"Bearer {ids['api_key']}", "Content-Type": "application/json"}
        customer = {
            "name": "Life Cycle",
            "phone": "+14155550123",
            "email": "life@example.com",
            "sms_consent": True,
            "time_zone": "UTC",
        }
        created = register_shipment(client, auth, "LIFE-1", "1ZLIFE", customer)
        now = datetime.now(UTC)
        statuses = ["processed", "shipped", "shipped", "shipped", "out_for_delivery", "delivered"]
        for n, status in enumerate(statuses):
            event = {
                "event_id": f"life-{n}",
                "tracking_number": "1ZLIFE",
                "carrier": "ups",
                "status": status,
                "occurred_at": (now - timedelta(hours=8 - n)).isoformat(),
            }
            post_webhook(client, ids, json.dumps({"events": [event]}).encode())
            if status in ("shipped", "out_for_delivery", "delivered") and n != 2 and n != 3:
                run_scheduled_work(now.replace(hour=12) + timedelta(days=1))
        run_scheduled_work(now.replace(hour=12) + timedelta(days=1))
        from chalicelib.services import surveys
        from chalicelib.store import shipments as shipment_store

        record = shipment_store.get(created["id"])
        assert record is not None
        surveys.answer(record, 5, "sms", now)
        calls = sum(v for k, v in table.usage.items() if k.startswith("calls."))
    per_million = units["write"] * PRICE_PER_MILLION_WRU + units["read"] * PRICE_PER_MILLION_RRU
    print("8. One shipment's life: register + 6 scans + notifications (SMS + email per milestone) + survey answer")
    print(f"   {calls:.0f} DynamoDB requests, ~{units['write']:.0f} write units, ~{units['read']:.1f} read units")
    print(
        f"   on-demand cost per million shipments: ${per_million:,.2f} (${PRICE_PER_MILLION_WRU}/M WRU, "
        f"${PRICE_PER_MILLION_RRU}/M RRU, us-east-1, storage and streams extra)"
    )


PACKAGE_IMPORT_SCRIPT = """
import time
started = time.perf_counter()
import app
imported = time.perf_counter()
import chalicelib.services.deliver, chalicelib.channels.twilio_sms, chalicelib.channels.sendgrid_email
import twilio.rest, sendgrid, chalicelib.api.schemas, chalicelib.web.templating
print(imported - started, time.perf_counter() - started)
"""


def bench_package(rounds: int = 5) -> None:
    """The deployment package as Lambda runs it (boto3 from the runtime, the rest from the zip, `-S`), importing
    the app and everything a delivery needs, with the bytecode the package ships against the same zip without it."""
    import shutil
    import zipfile

    from infra.package import build, link_runtime_provided, lint, precompile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out = build("prod", root / "prod", bytecode=False)
        lint(out / "sam.json")
        plain_size = (out / "deployment.zip").stat().st_size
        compiled = precompile(out)
        size = (out / "deployment.zip").stat().st_size
        with zipfile.ZipFile(out / "deployment.zip") as archive:
            archive.extractall(root / "with")
        shutil.copytree(root / "with", root / "without")
        for cache in list((root / "without").rglob("__pycache__")):
            shutil.rmtree(cache)
        provided = link_runtime_provided(root / "provided")
        timings: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
        for _ in range(rounds):
            for variant in timings:
                env = {
                    "PYTHONPATH": f"{root / variant}:{provided}",
                    "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only in Lambda: nothing gets cached
                    "PATH": "/usr/bin:/bin",
                    **TEST_ENV,
                }
                out_text = subprocess.run(
                    [sys.executable, "-S", "-c", PACKAGE_IMPORT_SCRIPT],
                    cwd=root,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                timings[variant].append((float(out_text[0]), float(out_text[1])))

    def median(variant: str, index: int) -> float:
        return statistics.median(row[index] for row in timings[variant]) * 1000

    print(f"9. Deployment package (make package STAGE=prod), imported as Lambda would, median of {rounds}")
    print(
        f"   size {size / 1e6:.1f} MB zipped with {compiled} precompiled modules "
        f"({plain_size / 1e6:.1f} MB as Chalice builds it, sources only)"
    )
    for index, label in ((0, "import app"), (1, "+ everything a delivery imports")):
        shipped, bare = median("with", index), median("without", index)
        ratio = shipped / bare
        print(f"   {label:<32} with bytecode {shipped:5.0f} ms | sources only {bare:5.0f} ms   ratio {ratio:.2f}x")


#: Budgets for section 10 (issue 15.7): the bench fails when one is broken.
EMBEDDED_MIN_WEBHOOKS_PER_SECOND = 20.0  # with 10,000 shipments in the table
EMBEDDED_MAX_P95_RATIO = 3.0  # p95 at 10,000 shipments against the empty table
EMBEDDED_MIN_RATE_RATIO = 0.5  # webhooks/s at 10,000 shipments against the empty table
EMBEDDED_MAX_RSS_MB = 1024.0  # resident memory of the local runtime with 10,000 shipments, after the burst


def start_devserver(tmp: Path, *extra: str) -> tuple[subprocess.Popen[str], str, dict[str, Any], str]:
    """`python -m chalicelib.devserver` as a child process: (process, base URL, demo credentials, DynamoDB endpoint)."""
    import threading

    from chalicelib.devserver import free_port

    port = free_port()
    demo_file = tmp / "demo.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TWILIO_", "SENDGRID_"))}
    env.update(STAGE="local", TABLE_NAME="porchlight-local", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    command = [sys.executable, "-m", "chalicelib.devserver", "--port", str(port), "--demo-file", str(demo_file)]
    process = subprocess.Popen(
        [*command, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    endpoint = ""
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("devserver exited before it started")
        if "embedded DynamoDB:" in line:
            endpoint = line.split("embedded DynamoDB:")[1].split()[0]
        if "Press Ctrl-C" in line:
            break
    # keep draining the server's log so it never blocks writing to a full pipe
    threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
    return process, f"http://127.0.0.1:{port}", json.loads(demo_file.read_text()), endpoint


def resident_mb(pid: int) -> float:
    """The process's resident set size now (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seed_shipments(endpoint: str, retailer_id: str, count: int) -> None:
    """`count` registered shipments with two scans each, as the store writes them (state, status listing, change
    feed, order lookup, scans), put straight into the embedded table with BatchWriteItem: 10,000 registrations
    over HTTP would measure seeding, not the runtime."""
    import boto3

    from chalicelib.domain.events import TrackingEvent, fingerprint
    from chalicelib.domain.shipment import Progress, fold
    from chalicelib.services.shipments import new_tracking_token, shipment_id_for
    from chalicelib.store import shipments as shipment_store
    from chalicelib.store import table

    class Collect:
        """Stands in for the client while `save` builds its transaction: the items, not the request."""

        def __init__(self) -> None:
            self.items: list[dict[str, Any]] = []

        def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> None:
            self.items += [write["Put"]["Item"] for write in TransactItems]

    collect = Collect()
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    real_client = table._client
    table._client = collect
    try:
        for n in range(count):
            tracking_number = f"1ZSEED{n:06d}"
            events = [
                TrackingEvent(
                    "native",
                    "ups",
                    tracking_number,
                    status,
                    start + timedelta(hours=h),
                    fingerprint("native", f"s{n}-{h}"),
                )
                for h, status in ((0, "processed"), (5, "shipped"))
            ]
            stamp = (start + timedelta(hours=6)).isoformat().replace("+00:00", "Z")
            record = shipment_store.ShipmentRecord(
                id=shipment_id_for(retailer_id, "ups", tracking_number),
                retailer_id=retailer_id,
                carrier="ups",
                tracking_number=tracking_number,
                tracking_token=new_tracking_token(),
                created_at=stamp,
                updated_at=stamp,
                claimed=True,
                version=1,
                order_id=f"SEED-{n}",
                customer={"name": "Seed Shopper", "email": f"seed{n}@example.com", "phone": "+14155550100"},
                progress=fold(Progress(), events),
                notified=frozenset({"processed", "shipped"}),
                event_count=len(events),
            )
            shipment_store.save(None, record, events, now=stamp)
    finally:
        table._client = real_client
    ddb = boto3.session.Session().client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    for offset in range(0, len(collect.items), 25):
        requests_ = [{"PutRequest": {"Item": item}} for item in collect.items[offset : offset + 25]]
        pending: dict[str, Any] = {"porchlight-local": requests_}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def embedded_run(seeded: int, webhooks: int, senders: int) -> dict[str, float]:
    """The local runtime with `seeded` shipments in its table: `webhooks` signed scans over HTTP from `senders`
    threads, each a new scan for one of 50 shipments registered over HTTP."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from chalicelib.carriers.native import sign

    with tempfile.TemporaryDirectory() as tmp:
        process, base, demo, endpoint = start_devserver(Path(tmp), "--ephemeral")
        try:
            seed_shipments(endpoint, demo["retailer_id"], seeded)
            auth = {"Authorization": f"Bearer {demo['api_key']}"}
            session = requests.Session()
            for n in range(50):
                body = {"order_id": f"W{n}", "carrier": "ups", "tracking_number": f"1ZWEB{n:04d}"}
                response = session.post(
                    f"{base}/v1/shipments", headers=auth, timeout=120, json={**body, "customer": {"name": "W"}}
                )
                assert response.status_code == 201, response.text
            secret = demo["integrations"]["native"]["secret"]
            url = f"{base}/v1/webhooks/native/{demo['retailer_id']}"
            start = datetime(2026, 11, 21, 8, tzinfo=UTC)

            def post(n: int) -> float:
                event = {
                    "event_id": f"web-{n}",
                    "tracking_number": f"1ZWEB{n % 50:04d}",
                    "carrier": "ups",
                    "status": "shipped",
                    "occurred_at": (start + timedelta(minutes=n)).isoformat(),
                }
                raw = json.dumps({"events": [event]}).encode()
                headers = {"X-Porchlight-Signature": sign(secret, raw, int(time.time()))}
                began = time.perf_counter()
                with requests.Session() as sender:
                    response = sender.post(url, data=raw, headers=headers, timeout=120)
                assert response.status_code == 200, response.text
                return time.perf_counter() - began

            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=senders) as pool:
                latencies = sorted(pool.map(post, range(webhooks)))
            elapsed = time.perf_counter() - began
            rss = resident_mb(process.pid)
        finally:
            process.send_signal(2)
            process.wait(timeout=60)
    return {
        "rate": webhooks / elapsed,
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "rss": rss,
    }


def bench_embedded_runtime(sizes: tuple[int, ...] = (0, 1_000, 10_000), webhooks: int = 200, senders: int = 4) -> bool:
    """Section 10: the local runtime as the table grows. Returns False when a budget is broken."""
    sizes = tuple(int(s) for s in os.environ.get("BENCH_EMBEDDED_SIZES", ",".join(map(str, sizes))).split(","))
    webhooks = int(os.environ.get("BENCH_EMBEDDED_WEBHOOKS", webhooks))
    runs = {size: embedded_run(size, webhooks, senders) for size in sizes}
    base = runs[sizes[0]]
    print(f"10. Local runtime (embedded DynamoDB) as the table grows: {webhooks} webhooks from {senders} senders")
    for size, run in runs.items():
        print(
            f"   {size:>6,} shipments: {run['rate']:6.1f} webhooks/s ({run['rate'] / base['rate']:.2f}x)   "
            f"p95 {run['p95'] * 1000:6.0f} ms ({run['p95'] / base['p95']:.2f}x)   "
            f"resident {run['rss']:6.0f} MB ({run['rss'] / base['rss']:.2f}x)"
        )
    largest = runs[sizes[-1]]
    checks = (
        (
            "webhooks/s",
            largest["rate"],
            largest["rate"] >= EMBEDDED_MIN_WEBHOOKS_PER_SECOND,
            f">= {EMBEDDED_MIN_WEBHOOKS_PER_SECOND:g}",
        ),
        (
            "webhooks/s ratio",
            largest["rate"] / base["rate"],
            largest["rate"] / base["rate"] >= EMBEDDED_MIN_RATE_RATIO,
            f">= {EMBEDDED_MIN_RATE_RATIO:g}",
        ),
        (
            "p95 ratio",
            largest["p95"] / base["p95"],
            largest["p95"] / base["p95"] <= EMBEDDED_MAX_P95_RATIO,
            f"<= {EMBEDDED_MAX_P95_RATIO:g}",
        ),
        ("resident MB", largest["rss"], largest["rss"] <= EMBEDDED_MAX_RSS_MB, f"<= {EMBEDDED_MAX_RSS_MB:g}"),
    )
    broken = [f"{what} {value:.2f} (budget {limit})" for what, value, ok, limit in checks if not ok]
    print(f"   budgets at {sizes[-1]:,} shipments: " + ("all met" if not broken else "BROKEN: " + "; ".join(broken)))
    return not broken


def bench_templates_under_limits() -> None:
    """templates under limits: the slowest and hungriest hostile retailer templates, each stopped by the sandbox
    (render only, compiled beforehand; tracemalloc's own overhead is in the times)."""
    import tracemalloc

    from chalicelib.web.sandbox import TemplateLimitError, compile_limited, render_limited

    hostile = {
        "range(10**9)": "{% for i in range(10**9) %}x{% endfor %}",
        "recursive macro": "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(1) }}",
        "'a' * 10**9": "{{ 'a' * 10**9 }}",
        "1000 x 1000 empty loop": "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "3 nested loops over a value": "{% for a in s %}{% for b in s %}{% for c in s %}{% endfor %}{% endfor %}"
        "{% endfor %}",
        "doubling with ~": "{% set x = s %}" + "{% set x = x ~ x %}" * 30 + "{{ x }}",
        "output flood": "{% for i in range(1000) %}{{ s }}{% endfor %}",
    }
    results = []
    for name, source in hostile.items():
        compile_limited(source)  # compiled once per source and cached: the render is what is bounded
        tracemalloc.start()
        started = time.perf_counter()
        try:
            render_limited(source, {"s": "x" * 60})
            outcome = "rendered"
        except TemplateLimitError as error:
            outcome = str(error)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results.append((elapsed, peak, name, outcome))
    for elapsed, peak, name, outcome in sorted(results, reverse=True):
        print(f"  {name:28} {elapsed * 1000:7.1f} ms  peak {peak / 1024:8.1f} KiB  -> {outcome}")
    worst_time = max(results)
    worst_memory = max(results, key=lambda row: row[1])
    print(
        f"templates under limits: worst render {worst_time[0] * 1000:.1f} ms ({worst_time[2]}), "
        f"worst peak memory {worst_memory[1] / 1024:.0f} KiB ({worst_memory[2]})"
    )


def main() -> int:
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    os.environ.update(TEST_ENV)
    bench_dynamodb_cost()
    bench_throughput()
    bench_cold_start()
    bench_notification_cost()
    bench_notification_latency()
    bench_tracking_page()
    bench_analytics()
    bench_lifecycle_cost()
    bench_package()
    bench_templates_under_limits()
    return 0 if bench_embedded_runtime() else 1


if __name__ == "__main__":
    sys.exit(main())
