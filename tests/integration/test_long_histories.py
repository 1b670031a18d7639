"""However many new scans one webhook brings, every transaction fits DynamoDB's 100 items (issue 15, item 2).

A history lands in one transaction when it fits, and in several (oldest scans first, the outbox items with the last)
when it does not; the plan is sized from the items each transaction really holds, so no history size fails.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from chalicelib.domain.events import TrackingEvent, fingerprint
from chalicelib.domain.notifications import Intent
from chalicelib.services.ingest import plan_transactions
from chalicelib.store import shipments as shipment_store
from chalicelib.store.shipments import MAX_TRANSACTION_ITEMS, ShipmentRecord
from tests.conftest import Api
from tests.integration.conftest import Providers, reset_channels
from tests.payloads import native_event

#: Scans from yesterday on: recent enough that the silence watch is armed (one more outbox item).
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

#: Every kind of outbox item one webhook can plan, on every channel (more than any one webhook plans).
ALL_INTENTS = [Intent(kind, channel) for kind in ("out_for_delivery", "delayed") for channel in ("sms", "email")] + [
    Intent("relay_open", "relay"),
    Intent("survey", "sms"),
    Intent("late_check:silence:1", "check"),
    Intent("status:out_for_delivery:9", "webhook"),
    Intent("status:delayed:9", "webhook"),
    Intent("survey", "email"),
]


def scans(count: int) -> list[TrackingEvent]:
    return [
        TrackingEvent(
            source="native",
            carrier="ups",
            tracking_number="1ZLONG",
            status="shipped" if n < count - 1 else "out_for_delivery",
            occurred_at=START + timedelta(minutes=n),
            fingerprint=fingerprint("native", f"long-{n}"),
        )
        for n in range(count)
    ]


def registered(**changes: object) -> ShipmentRecord:
    record = ShipmentRecord(
        id="sh_long",
        retailer_id="rt_long",
        carrier="ups",
        tracking_number="1ZLONG",
        tracking_token="tok",
        created_at="2026-11-17T08:00:00+00:00",
        updated_at="2026-11-17T08:00:00+00:00",
        claimed=True,
        version=3,
        order_id="ORD-1",
        customer={"name": "A", "phone": "+14155550123", "email": "a@example.com"},
    )
    return replace(record, **changes)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(count=st.integers(min_value=1, max_value=600), planned=st.integers(min_value=0, max_value=len(ALL_INTENTS)))
def test_every_planned_transaction_fits_whatever_the_history_size(count: int, planned: int) -> None:
    """Every optional item present: a registered shipment (listing and change-feed entries), an order-lookup entry
    to move (a delete and a put), and up to ten outbox items; the store's own item builder counts them."""
    from chalicelib.domain.shipment import fold

    before = registered(order_id="ORD-OLD")  # the order entry moves: both order writes are in the transaction
    fresh = scans(count)
    intents = ALL_INTENTS[:planned]
    final = replace(before, order_id="ORD-1", progress=fold(before.progress, fresh), event_count=count)
    steps = plan_transactions(before, before, fresh, final, intents)
    now = "2026-11-18T09:00:00+00:00"
    for step in steps:
        items = shipment_store.transaction_items(step.before, step.after, step.events, step.intents, now)
        assert len(items) <= MAX_TRANSACTION_ITEMS
    assert [event for step in steps for event in step.events] == fresh  # each scan once, oldest first
    assert [step.intents for step in steps[:-1]] == [[]] * (len(steps) - 1) and steps[-1].intents == intents
    assert [step.after.version for step in steps] == list(range(before.version + 1, before.version + len(steps) + 1))
    assert steps[-1].after.progress == final.progress
    if count + planned <= MAX_TRANSACTION_ITEMS - 5:
        assert len(steps) == 1  # an ordinary webhook stays one transaction


@pytest.fixture
def every_option(providers: Providers) -> Iterator[Providers]:
    """A relay pool, so an out-for-delivery scan with a driver's phone opens a chat session (one more item)."""
    os.environ["TWILIO_RELAY_NUMBERS"] = "+15005550101"
    reset_channels()
    yield providers
    os.environ.pop("TWILIO_RELAY_NUMBERS", None)
    reset_channels()


def outbox_kinds(api: Api, retailer, shipment_id: str) -> set[tuple[str, str]]:
    body = api.shipment(retailer, shipment_id).json_body
    return {(note["kind"], note["channel"]) for note in body["notifications"]}


@pytest.mark.parametrize("count", [88, 89, 90, 91, 95, 183])
def test_a_history_of_any_size_with_every_notification_planned_lands_once(
    api: Api, every_option: Providers, count: int
) -> None:
    retailer = api.create_retailer()  # the silence watch is on by default: one more outbox item
    hooks = {
        "webhooks": {"url": f"{every_option.capture.url}/hooks/status", "statuses": ["out_for_delivery", "delayed"]}
    }
    assert api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(hooks)).status_code == 200
    customer = {"name": "Maria Garcia", "phone": "+14155550123", "email": "maria@example.com", "sms_consent": True}
    shipment = api.register(retailer, customer=customer).json_body
    history = [
        native_event(f"e{n}", "shipped", (START + timedelta(minutes=n)).isoformat()) for n in range(count - 1)
    ] + [
        native_event(
            "last",
            "out_for_delivery",
            (START + timedelta(minutes=count)).isoformat(),
            delayed=True,
            driver={"name": "Sam Rivera", "phone": "+14155551001"},
        )
    ]
    response = api.native(retailer, {"events": history})
    assert response.status_code == 200, response.body
    assert response.json_body == {"accepted": count, "duplicates": 0}
    again = api.native(retailer, {"events": history})  # the carrier retries: nothing twice
    assert again.status_code == 200 and again.json_body == {"accepted": 0, "duplicates": count}

    body = api.shipment(retailer, shipment["id"]).json_body
    assert body["status"] == "out_for_delivery" and len(body["events"]) == count
    kinds = outbox_kinds(api, retailer, shipment["id"])
    assert {("out_for_delivery", "sms"), ("out_for_delivery", "email")} <= kinds
    assert (
        "delayed",
        "sms",
    ) not in kinds  # one scan, one text: the milestone says more (D30); the retailer still hears
    assert ("relay_open", "relay") in kinds  # the silence watch's check is planned too, but is not a notification
    assert sorted(kind.rpartition(":")[0] for kind, _ in kinds if kind.startswith("status:")) == [
        "status:delayed",
        "status:out_for_delivery",
    ]
