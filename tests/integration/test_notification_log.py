"""The notification log: every message of a date range, filtered and paged through the API, as a CSV from the API
and from the analytics page, contact details masked, read from the retailer's own index entries."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import jsonschema

from chalicelib.api.openapi import document
from chalicelib.shared.paging import encode_cursor
from chalicelib.store import table
from chalicelib.store.notifications import LOG_SHARDS
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_analytics_sessions import session_cookie
from tests.integration.test_notifications import NY, register, ship

WRONG = "+14155550000"
REFUSED = {"code": 21211, "message": f"The 'To' number {WRONG} is not a valid phone number.", "status": 400}


def log(api: Api, retailer: Retailer, query: str = "") -> dict:
    today = datetime.now(UTC).date().isoformat()
    response = api.http.get(f"/v1/notifications?from={today}&to={today}{query}", headers=retailer.auth)
    assert response.status_code == 200, response.body
    body = response.json_body
    jsonschema.validate(
        body, {"components": document()["components"], "$ref": "#/components/schemas/NotificationLogPage"}
    )
    return body


def _history(api: Api, retailer: Retailer, providers: Providers) -> tuple[dict, dict]:
    good = register(api, retailer)
    ship(api, retailer, "shipped", "g1")
    drain(local_time(NY, 12))
    wrong = api.register(
        retailer,
        order_id="ORD-2002",
        tracking_number="1ZWRONGNUMBER01",
        customer={"name": "Lee Wong", "phone": WRONG, "email": "lee.wong@example.org", "sms_consent": True,
                  "time_zone": NY},
    ).json_body  # fmt: skip
    providers.capture.fail_next("twilio", 400, REFUSED)
    ship(api, retailer, "shipped", "w1", tracking_number="1ZWRONGNUMBER01")
    drain(local_time(NY, 12))
    return good, wrong


def test_the_log_lists_every_message_filters_pages_and_masks_contacts(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    good, wrong = _history(api, retailer, providers)
    other = api.create_retailer("Other Shop")
    api.register(other, order_id="OTHER-1", tracking_number="1ZOTHER0000001")
    everything = log(api, retailer)
    rows = everything["notifications"]
    assert {(row["order_id"], row["kind"], row["channel"]) for row in rows} == {
        ("ORD-1001", "shipped", "sms"),
        ("ORD-1001", "shipped", "email"),
        ("ORD-2002", "shipped", "sms"),
        ("ORD-2002", "shipped", "email"),
    }
    assert everything["next_cursor"] is None
    assert [row["created_at"] for row in rows] == sorted(row["created_at"] for row in rows)  # oldest first
    failed = next(row for row in rows if row["order_id"] == "ORD-2002" and row["channel"] == "sms")
    assert failed["status"] == "failed" and failed["to"] == "*********00"
    assert "*********00" in failed["reason"] and WRONG not in failed["reason"]
    email = next(row for row in rows if row["order_id"] == "ORD-2002" and row["channel"] == "email")
    assert email["to"] == "l***@example.org" and email["status"] == "sent" and email["sent_at"]
    text = json.dumps(everything)
    for contact in ("+14155550123", WRONG, "maria@example.com", "lee.wong@example.org", "Maria", "Garcia"):
        assert contact not in text, contact

    assert {row["order_id"] for row in log(api, retailer, "&channel=sms&status=failed")["notifications"]} == {
        "ORD-2002"
    }
    assert len(log(api, retailer, "&channel=email")["notifications"]) == 2
    assert log(api, retailer, "&kind=delivered")["notifications"] == []
    # one at a time: every message exactly once, whatever shard it is in
    seen, cursor = [], ""
    for _ in range(10):
        page = log(api, retailer, "&limit=1" + (f"&cursor={cursor}" if cursor else ""))
        seen += [(row["shipment_id"], row["kind"], row["channel"]) for row in page["notifications"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted((row["shipment_id"], row["kind"], row["channel"]) for row in rows)
    assert {row["shipment_id"] for row in rows} == {good["id"], wrong["id"]}
    for query, field in (("&channel=fax", "channel"), ("&status=lost", "status"), ("&cursor=junk", "cursor"),
                         ("&format=xml", "format"), ("&limit=500", "limit")):  # fmt: skip
        answer = api.http.get(f"/v1/notifications?{query[1:]}", headers=retailer.auth)
        assert answer.status_code == 400 and answer.json_body["error"]["field"] == field, query
    beyond = encode_cursor({"retailer_index": {"S": f"NOTIFLOG#{retailer.id}"}, "after": "2099-01-01T00:00:00"})
    assert log(api, retailer, f"&cursor={beyond}") == {**everything, "notifications": [], "next_cursor": None}
    odd = encode_cursor({"retailer_index": {"S": f"NOTIFLOG#{retailer.id}"}, "after": 7})
    assert api.http.get(f"/v1/notifications?cursor={odd}", headers=retailer.auth).status_code == 400
    first = log(api, retailer, "&limit=1")["next_cursor"]
    assert api.http.get(f"/v1/notifications?cursor={first}", headers=other.auth).status_code == 400
    assert log(api, other)["notifications"] == []  # registered, nothing sent yet


def test_a_page_costs_one_query_per_log_shard_and_two_batch_reads_whatever_else_the_table_holds(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    _history(api, retailer, providers)
    other = api.create_retailer("Busy Shop")
    for n in range(6):
        api.register(other, order_id=f"BUSY-{n}", tracking_number=f"1ZBUSY{n:08d}")
        ship(api, other, "shipped", f"b{n}", tracking_number=f"1ZBUSY{n:08d}")
    table.usage.clear()
    assert len(log(api, retailer)["notifications"]) == 4
    calls = {k: v for k, v in table.usage.items() if k.startswith("calls.")}
    # the API key; one bounded query per shard of this retailer's log; the notifications and their shipments
    assert calls == {"calls.GetItem": 1, "calls.Query": LOG_SHARDS, "calls.BatchGetItem": 2}


def test_the_csv_from_the_api_and_from_the_page_holds_the_logged_rows_masked(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    _history(api, retailer, providers)
    rows = log(api, retailer)["notifications"]
    today = datetime.now(UTC).date().isoformat()
    cookie = session_cookie(api, retailer.api_key)
    from_api = api.http.get(f"/v1/notifications?from={today}&to={today}&format=csv", headers=retailer.auth)
    from_page = api.http.get(f"/analytics/notifications.csv?from={today}&to={today}", headers={"Cookie": cookie})
    for response in (from_api, from_page):
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        table_rows = list(csv.DictReader(io.StringIO(response.body.decode())))
        assert [(r["order_id"], r["kind"], r["channel"], r["status"], r["to"]) for r in table_rows] == [
            (r["order_id"], r["kind"], r["channel"], r["status"], r["to"]) for r in rows
        ]
        assert "+14155550123" not in response.body.decode() and "maria@example.com" not in response.body.decode()
    filtered = api.http.get(
        f"/analytics/notifications.csv?from={today}&to={today}&status=failed", headers={"Cookie": cookie}
    )
    assert [r["order_id"] for r in csv.DictReader(io.StringIO(filtered.body.decode()))] == ["ORD-2002"]
    assert api.http.get("/analytics/notifications.csv").status_code == 401
    page = api.http.get(f"/analytics?from={today}&to={today}", headers={"Cookie": cookie}).body.decode()
    assert f"/analytics/notifications.csv?from={today}&amp;to={today}" in page
