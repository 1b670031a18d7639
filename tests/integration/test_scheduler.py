"""The scheduled Lambda works through a morning backlog of deferred texts within its time, each sent once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, local_time
from tests.integration.test_notifications import CUSTOMER, NY, notes
from tests.payloads import native_event

BACKLOG = 30


class LambdaContext:
    """What the Lambda runtime passes: the scheduler reads how much time the invocation has left."""

    def __init__(self, seconds_left: float) -> None:
        self.seconds_left = seconds_left
        self.aws_request_id = "test"
        self.function_name = "scheduler"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "test",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/scheduler"],
        "detail": {},
    }


def deferred_overnight(api: Api, retailer: Retailer, count: int) -> list[str]:
    """`count` shipments whose `shipped` text waits for 8:00 (the e-mails went at once)."""
    from tests.integration.conftest import drain

    ids = []
    for n in range(count):
        body = {
            "order_id": f"B-{n}",
            "carrier": "ups",
            "tracking_number": f"1ZBACKLOG{n:04d}",
            "customer": {**CUSTOMER, "email": None, "phone": f"+1415555{n:04d}"},
        }
        created = api.http.post("/v1/shipments", headers=retailer.auth, body=json.dumps(body))
        ids.append(created.json_body["id"])
        scan = native_event(f"b{n}", "shipped", "2026-11-20T10:00:00+00:00", tracking_number=f"1ZBACKLOG{n:04d}")
        assert api.native(retailer, {"events": [scan]}).status_code == 200
    assert drain(local_time(NY, 23))["deliveries"] == {"deferred": count}
    return ids


def test_the_morning_backlog_goes_out_in_one_run_each_text_once(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib.composition import deliver_due

    ids = deferred_overnight(api, retailer, BACKLOG)
    morning = local_time(NY, 8, days_ahead=2)
    # Batches of eight: the run must go on batch after batch until nothing is due. (In-process moto is not
    # thread-safe; sends in flight together are proven against the moto server in test_concurrency.)
    assert deliver_due(morning, limit=8) == {"sent": BACKLOG}
    recipients = Counter(request.form["To"] for request in providers.capture.of("twilio"))
    assert len(recipients) == BACKLOG and set(recipients.values()) == {1}
    assert deliver_due(morning, limit=8) == {}
    assert notes(api, retailer, ids[-1])[("shipped", "sms")]["status"] == "sent"


def test_the_scheduled_lambda_stops_starting_work_when_its_time_runs_short(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch
) -> None:
    from app import scheduler

    deferred_overnight(api, retailer, 3)
    monkeypatch.setattr("chalicelib.workers.scheduler.LAMBDA_WORKERS", 1)  # in-process moto is not thread-safe
    monkeypatch.setattr("chalicelib.workers.scheduler.datetime", FrozenDateTime)
    FrozenDateTime.frozen = local_time(NY, 8, days_ahead=2)

    assert scheduler(scheduled_event(), LambdaContext(seconds_left=20)) == {"deliveries": {}}
    assert providers.capture.of("twilio") == []
    assert scheduler(scheduled_event(), LambdaContext(seconds_left=110)) == {"deliveries": {"sent": 3}}
    assert len(providers.capture.of("twilio")) == 3


class FrozenDateTime(datetime):
    """The scheduler's clock, held at a chosen moment (the Lambda entry point reads the real one)."""

    frozen: datetime

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return cls.frozen
