"""3. Cold start of each Lambda entry point (API handling a signed webhook, deliver_outbox handling a stream batch,
scheduler sending what is due) in a fresh interpreter reading bytecode, from our code laid out as the package lays it
out (compiled templates included), against a bare Chalice app of the same kind doing one GetItem (botocore's client
construction) and a bare Chalice route doing nothing."""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import ROOT, TEST_ENV, Report, native_body, post_webhook, register_shipment, setup_in_memory

NAME = "cold_start"
#: Budgets (issue 16.7), first call against a bare Chalice app of the same kind doing one GetItem.
BUDGET_OF = {"API: signed webhook": 1.25, "deliver_outbox: 2 sends": 1.6}

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
#: The Lambda function each entry point is deployed as, whose own environment (.chalice/config.json) it runs with.
FUNCTION_OF = {"deliver_outbox: 2 sends": "deliver_outbox", "scheduler: 2 sends": "scheduler"}
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


def deployed_layout() -> str:
    """What the Lambda zip holds of our own code, in a temporary directory: app.py, chalicelib/ (with the compiled
    catalogs) and templates/ with the templates compiled by the package step's own function (infra/package.py)."""
    from chalicelib.web.templating import compile_builtin

    layout = Path(tempfile.mkdtemp(prefix="porchlight-bench-task-"))
    skip = shutil.ignore_patterns("__pycache__", "_compiled")
    shutil.copy2(ROOT / "app.py", layout / "app.py")
    shutil.copytree(ROOT / "chalicelib", layout / "chalicelib", ignore=skip)
    shutil.copytree(ROOT / "templates", layout / "templates", ignore=skip)
    compile_builtin(layout / "templates" / "_compiled")
    return str(layout)


def function_environment(entry: str, stage: str = "dev") -> dict[str, str]:
    """What .chalice/config.json sets for this entry point's own Lambda function (SERVES_HTTP=0 on the workers)."""
    function = FUNCTION_OF.get(entry)
    if function is None:
        return {}
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    functions = config["stages"][stage].get("lambda_functions", {})
    return dict(functions.get(function, {}).get("environment_variables", {}))


def run_fresh(entry: str, event: dict[str, Any], env: dict[str, str]) -> dict[str, float]:
    imports, handler, check = ENTRY_POINTS[entry]
    env = {**env, **function_environment(entry)}
    script = COLD_SCRIPT.format(imports=imports, handler=handler, check=check)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(script)
    # This process serves the stand-ins (moto's DynamoDB, Twilio, SendGrid): a collection of its large heap during a
    # child's request stalled that request by ~80 ms, a pause no real DynamoDB puts on a Lambda. Collected before,
    # not during, the child's run.
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, handle.name, json.dumps(event)],
            cwd=env["PYTHONPATH"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
    finally:
        gc.enable()
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


def run(report: Report, rounds: int = 7) -> None:
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
        "PYTHONPATH": deployed_layout(),
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
    shutil.rmtree(env["PYTHONPATH"], ignore_errors=True)
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
            limit = BUDGET_OF.get(name)
            report.add(
                f"cold_start.{name.split(':')[0]}",
                f"Cold start, {name} (import + first call)",
                median(name, "total"),
                "ms",
                baseline=same_kind,
                ratio=median(name, "total") / same_kind,
                at_most=limit,
                on="ratio",
                detail=f"baseline: {BASELINE_OF[name]}; {median(name, 'total') / bare:.2f}x a bare route doing nothing",
            )
        print(row)
    print(
        f"   ({sent[0]} texts and {sent[1]} e-mails reached the local Twilio/SendGrid stand-in through the real SDKs)"
    )
