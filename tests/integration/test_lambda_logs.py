"""Lambda logs: each of the three entry points in app.py, invoked as Lambda invokes it (the event AWS sends and a
Lambda context), prints exactly one JSON line per log call, each with level, message and the invocation's
correlation id, and no shopper contact, token or key in full.

The events are AWS's own samples (tests/fixtures/lambda_events/README.md says where each comes from), with only
what must point at this test's data replaced. A handler on the root logger stands in for the Lambda Python runtime's
own, which would print any record that reaches it a second time, as plain text.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chalicelib import observability
from chalicelib.carriers import native
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers
from tests.payloads import native_event

EVENTS = Path(__file__).parent.parent / "fixtures" / "lambda_events"
PHONE, EMAIL = "+14155550123", "maria.garcia@example.com"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@dataclass
class LambdaContext:
    """The attributes of the Lambda Python runtime's context object that Porchlight and Powertools read."""

    aws_request_id: str
    function_name: str = "porchlight-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:porchlight-test"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


class Tally(logging.Handler):
    """Counts the records that reach the `porchlight` logger's handlers: the log calls that were not filtered out."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Output:
    logs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    raw: str = ""


class LambdaLogs:
    def __init__(self, capsys: pytest.CaptureFixture[str], tally: Tally) -> None:
        self.capsys = capsys
        self.tally = tally

    def read(self) -> Output:
        """Everything printed since the last read; fails unless every line is JSON and log lines match log calls."""
        raw = self.capsys.readouterr().out
        output = Output(raw=raw)
        for line in raw.splitlines():
            record = json.loads(line)  # a plain-text line (Chalice's or the runtime's format) fails here
            (output.metrics if "_aws" in record else output.logs).append(record)
        assert len(output.logs) == len(self.tally.records), (output.logs, self.tally.records)
        self.tally.records.clear()
        for line in output.logs:
            assert {"level", "message", "correlation_id", "timestamp", "service"} <= set(line), line
        return output


@pytest.fixture
def lambda_logs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[LambdaLogs]:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "porchlight-test")
    observability.reset()
    root, porchlight = logging.getLogger(), logging.getLogger("porchlight")
    runtime = logging.StreamHandler(sys.stdout)
    runtime.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(message)s"))
    root.addHandler(runtime)
    tally = Tally()
    porchlight.addHandler(tally)
    capsys.readouterr()
    try:
        yield LambdaLogs(capsys, tally)
    finally:
        root.removeHandler(runtime)
        observability.reset()


def api_gateway_event(
    path: str, resource: str, params: dict[str, str], body: bytes, headers: dict[str, str], request_id: str
) -> dict[str, Any]:
    event = sample("api_gateway_proxy.json")
    event.update(
        path=path,
        resource=resource,
        httpMethod="POST",
        body=body.decode(),
        isBase64Encoded=False,
        pathParameters=params,
        queryStringParameters=None,
        multiValueQueryStringParameters=None,
    )
    event["headers"] = {**event["headers"], **headers}
    event["multiValueHeaders"] = {**event["multiValueHeaders"], **{k: [v] for k, v in headers.items()}}
    event["requestContext"].update(resourcePath=resource, httpMethod="POST", path=f"/api{path}", requestId=request_id)
    return event


def signed_webhook(
    retailer: Retailer, events: list[dict[str, Any]], request_id: str, secret: str | None = None
) -> dict[str, Any]:
    raw = json.dumps({"events": events}).encode()
    signature = native.sign(secret or retailer.secrets["native"], raw, int(time.time()))
    return api_gateway_event(
        f"/v1/webhooks/native/{retailer.id}",
        "/v1/webhooks/{source}/{retailer_id}",
        {"source": "native", "retailer_id": retailer.id},
        raw,
        {"Content-Type": "application/json", "X-Porchlight-Signature": signature},
        request_id,
    )


def register(api: Api, retailer: Retailer) -> dict[str, Any]:
    from chalicelib.simulator import daytime_zone

    customer = {
        "name": "Maria Garcia",
        "phone": PHONE,
        "email": EMAIL,
        "sms_consent": True,
        "time_zone": daytime_zone(),
    }
    response = api.register(retailer, customer=customer)
    assert response.status_code == 201, response.body
    return response.json_body


def assert_private(output: Output, retailer: Retailer, shipment: dict[str, Any]) -> None:
    for secret in (PHONE, EMAIL, retailer.api_key, retailer.secrets["native"], shipment["tracking_token"]):
        assert secret not in output.raw, output.raw[max(0, output.raw.find(secret) - 300) :][:400]


API_SCRIPT = """
import json, logging, sys, time
from app import app  # as Lambda's cold start does: Chalice and every handler it sets up, before the first event
from moto import mock_aws
from chalice.test import Client
from tests.conftest import Api, reset_process_state
from tests.integration.test_lambda_logs import LambdaContext, PHONE, EMAIL, signed_webhook
from tests.payloads import native_event
from chalicelib.store.table import create_table
with mock_aws():
    reset_process_state()
    create_table()
    with Client(app, stage_name="test") as client:
        api = Api(client)
        retailer = api.create_retailer()
        shipment = api.register(retailer, customer={"name": "Maria Garcia", "phone": PHONE, "email": EMAIL}).json_body
    print(json.dumps({"secrets": [retailer.api_key, retailer.secrets["native"], shipment["tracking_token"]]}))
    print("--- invocations", flush=True)
    import os
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "porchlight-test-api_handler"
    logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))  # the Lambda runtime's root handler
    shipped = native_event("evt-log-1", "shipped", "2026-11-20T09:00:00+00:00")
    accepted = app(signed_webhook(retailer, [shipped], "req-accepted"), LambdaContext("lambda-1"))
    refused = app(signed_webhook(retailer, [shipped], "req-refused", secret="wrong"), LambdaContext("lambda-2"))
    assert (accepted["statusCode"], refused["statusCode"]) == (200, 401), (accepted, refused)
"""


def test_an_api_request_prints_one_json_line_per_log_call_with_api_gateways_request_id() -> None:
    """In a fresh interpreter, as in Lambda: handlers set up at import time print to the same stdout."""
    root = Path(__file__).parent.parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA", "TWILIO_", "SENDGRID_"))}
    done = subprocess.run(
        [sys.executable, "-c", API_SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    setup, invocations = done.stdout.split("--- invocations\n")
    secrets = json.loads(setup.strip().splitlines()[-1])["secrets"]
    lines = [json.loads(line) for line in invocations.splitlines()]  # a plain-text line fails here
    logs = [line for line in lines if "_aws" not in line]
    assert [(line["level"], line["message"], line["correlation_id"]) for line in logs] == [
        ("INFO", "webhook accepted", "req-accepted"),
        ("WARNING", "webhook rejected", "req-refused"),
    ]
    assert logs[0]["function_request_id"] == "lambda-1" and logs[0]["name"] == "porchlight.webhooks"
    assert logs[0]["cold_start"] is True and logs[1]["cold_start"] is False
    assert logs[1]["reason"] == "invalid_signature"
    assert {line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] for line in lines if "_aws" in line} == {
        "WebhooksAccepted",
        "ScansAccepted",
        "WebhooksRejected",
    }
    for secret in [PHONE, EMAIL, *secrets]:
        assert secret not in invocations


def outbox_images(shipment_id: str) -> list[dict[str, Any]]:
    from chalicelib.domain.notifications import is_notification
    from chalicelib.store.table import client, table_name

    items = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"SHIP#{shipment_id}"}, ":outbox": {"S": "OUTBOX#"}},
    )["Items"]
    return sorted((item for item in items if is_notification(item["kind"]["S"])), key=lambda item: item["sk"]["S"])


def test_a_stream_batch_prints_one_json_line_per_log_call_each_with_its_records_event_id(
    api: Api, retailer: Retailer, providers: Providers, lambda_logs: LambdaLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import deliver_outbox
    from chalicelib.channels import twilio_sms

    shipment = register(api, retailer)
    assert (
        api.native(retailer, {"events": [native_event("evt-s-1", "shipped", "2026-11-20T09:00:00+00:00")]}).status_code
        == 200
    )
    email, sms = outbox_images(shipment["id"])
    assert email["channel"]["S"] == "email" and sms["channel"]["S"] == "sms"
    lambda_logs.read()

    def broken_sdk(message: Any) -> Any:  # an unexpected failure whose text quotes the number
        raise RuntimeError(f"could not reach {message.to}")

    monkeypatch.setattr(twilio_sms, "send", broken_sdk)
    event = copy.deepcopy(sample("dynamodb_stream.json"))
    event["Records"][0]["dynamodb"]["NewImage"] = email  # INSERT
    event["Records"][1]["dynamodb"]["NewImage"] = sms  # MODIFY (a retry's image)
    result = deliver_outbox(event, LambdaContext("lambda-stream"))

    # A crashing send counts its attempt and is retried later (D29): the record itself is handled, not failed.
    assert result == {"batchItemFailures": []}
    output = lambda_logs.read()
    assert [(line["level"], line["message"], line["correlation_id"]) for line in output.logs] == [
        ("INFO", "stream record delivered", "c4ca4238a0b923820dcc509a6f75849b"),
        ("ERROR", "delivery failed unexpectedly", "c81e728d9d4c2f636f067f89cc14862c"),
        ("INFO", "stream record delivered", "c81e728d9d4c2f636f067f89cc14862c"),
    ]
    assert output.logs[0]["outcome"] == "sent" and output.logs[0]["channel"] == "email"
    assert output.logs[2]["outcome"] == "retry"
    assert all(line["function_request_id"] == "lambda-stream" for line in output.logs)
    failure = output.logs[1]
    assert failure["exception_name"] == "RuntimeError" and "could not reach +…23" in failure["exception"]
    assert_private(output, retailer, shipment)


def test_a_scheduled_run_prints_one_json_line_per_log_call_with_the_schedule_events_id(
    api: Api, retailer: Retailer, providers: Providers, lambda_logs: LambdaLogs
) -> None:
    from app import scheduler

    shipment = register(api, retailer)
    assert (
        api.native(retailer, {"events": [native_event("evt-c-1", "shipped", "2026-11-20T09:00:00+00:00")]}).status_code
        == 200
    )
    lambda_logs.read()

    result = scheduler(sample("scheduled_event.json"), LambdaContext("lambda-schedule"))

    assert result["deliveries"] == {"sent": 2}
    output = lambda_logs.read()
    assert [(line["level"], line["message"], line["correlation_id"]) for line in output.logs] == [
        ("INFO", "scheduled deliveries", "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"),
    ]
    assert output.logs[0]["deliveries"] == {"sent": 2} and output.logs[0]["cold_start"] in (True, False)
    assert len(providers.capture.of("twilio")) == 1 and len(providers.capture.of("sendgrid")) == 1
    assert_private(output, retailer, shipment)


def test_a_stream_record_that_cannot_be_read_fails_alone_and_is_logged_as_json(
    api: Api, retailer: Retailer, providers: Providers, lambda_logs: LambdaLogs
) -> None:
    from app import deliver_outbox

    shipment = register(api, retailer)
    ship = {"events": [native_event("evt-m-1", "shipped", "2026-11-20T09:00:00+00:00")]}
    assert api.native(retailer, ship).status_code == 200
    email, _ = outbox_images(shipment["id"])
    lambda_logs.read()
    event = copy.deepcopy(sample("dynamodb_stream.json"))
    event["Records"][0]["dynamodb"]["NewImage"] = {**email, "sk": {"S": "OUTBOX#no-channel"}}
    event["Records"][1]["dynamodb"]["NewImage"] = email

    result = deliver_outbox(event, LambdaContext("lambda-malformed"))

    assert result == {"batchItemFailures": [{"itemIdentifier": "4421584500000000017450439091"}]}
    output = lambda_logs.read()
    assert [(line["level"], line["message"], line["correlation_id"]) for line in output.logs] == [
        ("ERROR", "stream delivery failed", "c4ca4238a0b923820dcc509a6f75849b"),
        ("INFO", "stream record delivered", "c81e728d9d4c2f636f067f89cc14862c"),
    ]
    assert output.logs[0]["exception_name"] == "ValueError"
