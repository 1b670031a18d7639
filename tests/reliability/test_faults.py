"""Faults: providers failing for a while, and a sender dying mid-batch; every notification goes out exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from chalicelib.simulator import daytime_zone
from chalicelib.store import notifications as outbox
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.payloads import native_event


def register_many(api: Api, retailer: Retailer, count: int, time_zone: str | None = None) -> list[dict]:
    created = []
    for n in range(count):
        created.append(
            api.register(
                retailer,
                order_id=f"F{n}",
                tracking_number=f"1ZFAULT{n:03d}",
                customer={
                    "name": "F",
                    "phone": f"+1415555{n:04d}",
                    "email": f"f{n}@example.com",
                    "sms_consent": True,
                    "time_zone": time_zone or daytime_zone(),
                },
            ).json_body
        )
        api.native(
            retailer,
            {
                "events": [
                    native_event(f"f{n}", "shipped", "2026-11-20T10:00:00+00:00", tracking_number=f"1ZFAULT{n:03d}")
                ]
            },
        )
    return created


def test_outage_then_recovery_sends_each_notification_exactly_once(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipments = register_many(api, retailer, 6, time_zone="America/New_York")
    providers.capture.fail_next("twilio", 500, {"code": 20500, "message": "down", "status": 500}, times=8)
    providers.capture.fail_next("twilio", 429, {"code": 20429, "message": "slow down", "status": 429}, times=4)
    providers.capture.fail_next("sendgrid", 503, {"errors": [{"message": "down"}]}, times=7)
    # the runs span 13 hours: they start at 08:00 in the shoppers' zone so that every retry falls inside the
    # quiet-hours floor's daytime (08:00-21:00), whatever the real clock says
    clock = local_time("America/New_York", 8)
    for _ in range(12):  # a dozen scheduler runs, far enough apart for every backoff
        drain(clock)
        clock += timedelta(minutes=70)
    for shipment in shipments:
        notes = api.shipment(retailer, shipment["id"]).json_body["notifications"]
        assert {(n["kind"], n["channel"], n["status"]) for n in notes} == {
            ("shipped", "sms", "sent"),
            ("shipped", "email", "sent"),
        }
    delivered = Counter(r.form["To"] for r in providers.capture.of("twilio") if r.form["To"])
    accepted_texts = len(providers.capture.of("twilio")) - 12
    accepted_mails = len(providers.capture.of("sendgrid")) - 7
    assert accepted_texts == 6 and accepted_mails == 6  # each failure was retried, each success happened once
    assert len(delivered) == 6


def test_a_sender_that_dies_mid_batch_loses_nothing(api: Api, retailer: Retailer, providers: Providers) -> None:
    register_many(api, retailer, 4)
    now = datetime.now(UTC) + timedelta(seconds=5)
    keys = outbox.due(now)
    assert len(keys) == 8
    crashed = [outbox.claim(key, now) for key in keys[:5]]  # claimed, then the process died before sending
    assert all(item is not None for item in crashed)
    # the others go; the claimed ones are leased to the dead sender, not lost
    assert drain(now)["deliveries"] == {"sent": 3, "not_due_or_taken": 5}
    assert drain(now + timedelta(minutes=1))["deliveries"] == {"not_due_or_taken": 5}
    assert drain(now + timedelta(minutes=3))["deliveries"] == {"sent": 5}  # the lease expired: taken over
    assert len(providers.capture.of("twilio")) + len(providers.capture.of("sendgrid")) == 8
