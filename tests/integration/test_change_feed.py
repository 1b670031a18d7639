"""The change feed: every registered shipment whose status changed since a moment, oldest change first, each once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Api, Retailer
from tests.payloads import native_event

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The moment the webhook and registration routes see, moved by the test."""
    now = [T0]
    for module in ("chalicelib.api.webhooks", "chalicelib.api.retailer_api"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now[0])
    return now


def feed(api: Api, retailer: Retailer, since: str, **params: str) -> dict:
    query = "&".join(f"{k}={v}" for k, v in {"changed_since": since, **params}.items())
    response = api.http.get(f"/v1/shipments?{query}", headers=retailer.auth)
    assert response.status_code == 200, response.body
    return response.json_body


def scan(api: Api, retailer: Retailer, clock: list[datetime], tracking_number: str, event_id: str, status: str) -> None:
    event = native_event(event_id, status, "2026-11-22T10:00:00+00:00", tracking_number=tracking_number)
    signed_at = int(clock[0].timestamp())  # the signature is fresh by the route's clock
    assert api.native(retailer, {"events": [event]}, timestamp=signed_at).status_code == 200


def test_status_changes_come_oldest_first_each_shipment_once_at_its_latest_change(
    api: Api, retailer: Retailer, clock: list[datetime]
) -> None:
    ids = {}
    for minute, number in enumerate(("1ZFEEDA", "1ZFEEDB", "1ZFEEDC")):
        clock[0] = T0 + timedelta(minutes=minute)
        ids[number] = api.register(retailer, order_id=f"O-{number}", tracking_number=number).json_body["id"]
    clock[0] = T0 + timedelta(minutes=10)
    scan(api, retailer, clock, "1ZFEEDA", "a1", "shipped")  # A moves to the end
    scan(api, retailer, clock, "1ZFEEDB", "b1", "unknown")  # not a status change: B keeps its place

    everything = feed(api, retailer, "2026-11-23T00:00:00Z")
    assert [s["id"] for s in everything["shipments"]] == [ids["1ZFEEDB"], ids["1ZFEEDC"], ids["1ZFEEDA"]]
    assert [s["status"] for s in everything["shipments"]] == ["pending", "pending", "shipped"]
    assert everything["latest_change_at"] == "2026-11-23T09:10:00+00:00" and everything["next_cursor"] is None

    recent = feed(api, retailer, "2026-11-23T09:02:00%2B00:00")
    assert [s["id"] for s in recent["shipments"]] == [ids["1ZFEEDC"], ids["1ZFEEDA"]]
    assert recent["shipments"][0]["status_changed_at"] == "2026-11-23T09:02:00+00:00"
    assert feed(api, retailer, "2026-11-23T09:10:01Z") == {
        "shipments": [],
        "next_cursor": None,
        "latest_change_at": None,
    }

    first = feed(api, retailer, "2026-11-23T00:00:00Z", limit="2")
    assert len(first["shipments"]) == 2 and first["next_cursor"]
    rest = feed(api, retailer, "2026-11-23T00:00:00Z", limit="2", cursor=first["next_cursor"])
    assert [s["id"] for s in first["shipments"] + rest["shipments"]] == [s["id"] for s in everything["shipments"]]

    other = api.create_retailer("Other Store")
    assert feed(api, other, "2026-11-23T00:00:00Z")["shipments"] == []
    stolen = api.http.get(
        f"/v1/shipments?changed_since=2026-11-23T00:00:00Z&limit=2&cursor={first['next_cursor']}", headers=other.auth
    )
    assert stolen.status_code == 400 and stolen.json_body["error"]["field"] == "cursor"


def test_unclaimed_shipments_stay_out_of_the_feed_until_registered(
    api: Api, retailer: Retailer, clock: list[datetime]
) -> None:
    scan(api, retailer, clock, "1ZFEEDX", "x1", "shipped")
    assert feed(api, retailer, "2026-11-23T00:00:00Z")["shipments"] == []
    clock[0] = T0 + timedelta(minutes=5)
    claimed = api.register(retailer, order_id="O-X", tracking_number="1ZFEEDX").json_body
    [entry] = feed(api, retailer, "2026-11-23T00:00:00Z")["shipments"]
    assert entry["id"] == claimed["id"] and entry["status_changed_at"] == "2026-11-23T09:05:00+00:00"


def test_the_feed_wants_a_moment_with_an_offset_and_nothing_else(api: Api, retailer: Retailer) -> None:
    for query, field in [
        ("changed_since=yesterday", "changed_since"),
        ("changed_since=2026-11-23T09:00:00", "changed_since"),  # a wall clock, not a moment
        ("changed_since=", "changed_since"),
        ("changed_since=2026-11-23T09:00:00Z&status=shipped", "changed_since"),
        ("changed_since=2026-11-23T09:00:00Z&limit=500", "limit"),
    ]:
        response = api.http.get(f"/v1/shipments?{query}", headers=retailer.auth)
        assert response.status_code == 400 and response.json_body["error"]["field"] == field, query
