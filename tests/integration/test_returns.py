"""Returns (issue 18, D48): a retailer registers a shopper's return (`direction: "return"`), its scans move it through
the return's steps, the shopper hears of the steps the retailer enables, both pages link to each other, and
analytics counts returns apart from deliveries."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.simulator import daytime_zone
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain
from tests.integration.test_analytics_sessions import session_cookie
from tests.integration.test_notifications import CUSTOMER, notes
from tests.payloads import native_event

RETURN_TN = "1ZRETURN0000000001"


def outbound(api: Api, retailer: Retailer, **overrides: Any) -> dict[str, Any]:
    response = api.register(retailer, customer=CUSTOMER, **overrides)
    assert response.status_code == 201, response.body
    return response.json_body


def register_return(api: Api, retailer: Retailer, **overrides: Any) -> Any:
    body = {"tracking_number": RETURN_TN, "direction": "return", "customer": CUSTOMER, **overrides}
    return api.register(retailer, **body)


def scan(api: Api, retailer: Retailer, event_id: str, status: str, hours_ago: float, tn: str = RETURN_TN) -> None:
    when = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
    response = api.native(retailer, {"events": [native_event(event_id, status, when, tracking_number=tn)]})
    assert response.status_code == 200, response.body


def test_a_return_is_registered_linked_to_its_delivery(api: Api, retailer: Retailer) -> None:
    delivery = outbound(api, retailer)
    created = register_return(api, retailer, outbound_shipment_id=delivery["id"])
    assert created.status_code == 201, created.body
    again = register_return(api, retailer, outbound_shipment_id=delivery["id"])
    assert again.status_code == 200 and again.json_body["id"] == created.json_body["id"]
    page = html.unescape(api.http.get(f"/t/{delivery['tracking_token']}").body.decode())
    assert "Returns for this order" in page and created.json_body["tracking_url"] in page
    returned = api.http.get(f"/v1/tracking/{created.json_body['tracking_token']}").json_body
    assert returned["direction"] == "return"
    assert returned["return_of"] == {"order_id": "ORD-1001", "url": delivery["tracking_url"]}
    assert [step["label"] for step in returned["steps"]] == [
        "Return label created",
        "Return on its way",
        "Return received",
    ]
    view = api.http.get(f"/v1/tracking/{delivery['tracking_token']}").json_body
    assert [r["url"] for r in view["returns"]] == [created.json_body["tracking_url"]]


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"direction": "sideways"}, 400, "direction"),
        ({"direction": None, "outbound_shipment_id": "shp_" + "0" * 24}, 400, "outbound_shipment_id"),
        ({"outbound_shipment_id": "not-an-id"}, 400, "outbound_shipment_id"),
        ({"outbound_shipment_id": "shp_" + "0" * 24}, 404, "outbound_shipment_id"),
    ],
)
def test_return_registration_refuses_bad_input_precisely(
    api: Api, retailer: Retailer, changes: dict[str, Any], status: int, field: str
) -> None:
    body = {"tracking_number": RETURN_TN, "direction": "return", "customer": CUSTOMER, **changes}
    body = {key: value for key, value in body.items() if value is not None}
    response = api.register(retailer, **body)
    assert response.status_code == status, response.body
    assert response.json_body["error"]["field"] == field


def test_a_return_cannot_name_another_retailers_delivery_nor_another_return(api: Api, retailer: Retailer) -> None:
    other = api.create_retailer("Other Shop")
    theirs = outbound(api, other)
    refused = register_return(api, retailer, outbound_shipment_id=theirs["id"])
    assert refused.status_code == 404 and refused.json_body["error"]["field"] == "outbound_shipment_id"
    mine = outbound(api, retailer, tracking_number="1ZOUT2")
    first = register_return(api, retailer, outbound_shipment_id=mine["id"]).json_body
    chained = register_return(api, retailer, tracking_number="1ZRET2", outbound_shipment_id=first["id"])
    assert chained.status_code == 400 and chained.json_body["error"]["code"] == "not_outbound"
    clash = register_return(api, retailer, tracking_number="1ZOUT2")  # the delivery's own number, same order
    assert clash.status_code == 409 and clash.json_body["error"]["code"] == "direction_mismatch"


def test_return_steps_notify_only_the_ones_the_retailer_enables(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    settings = api.http.put(
        "/v1/settings", headers=retailer.auth, body=json.dumps({"returns": {"notify": ["delivered", "shipped"]}})
    )
    assert settings.status_code == 200 and settings.json_body["returns"]["notify"] == ["delivered", "shipped"]
    created = register_return(api, retailer, customer={**CUSTOMER, "time_zone": daytime_zone()}).json_body
    scan(api, retailer, "r1", "processed", 5)
    scan(api, retailer, "r2", "shipped", 4)  # dropped off
    scan(api, retailer, "r3", "shipped", 3)  # in transit
    scan(api, retailer, "r2", "shipped", 4)  # a replay
    drain(datetime.now(UTC))
    scan(api, retailer, "r4", "delivered", 1)  # received by the retailer
    drain(datetime.now(UTC))
    drain(datetime.now(UTC))
    kinds = sorted({kind for kind, _ in notes(api, retailer, created["id"])})
    assert kinds == ["return_dropped_off", "return_received"]  # no label text, no delivery texts, no survey
    bodies = [r.form["Body"] for r in providers.capture.of("twilio")]
    assert sum("is on its way to us" in body for body in bodies) == 1
    assert sum("we received your return" in body for body in bodies) == 1
    assert not any("has arrived" in body or "has shipped" in body or "How was" in body for body in bodies)
    view = api.http.get(f"/v1/tracking/{created['tracking_token']}").json_body
    assert view["status_label"] == "Return received"


def test_an_empty_notify_list_tells_the_shopper_nothing_and_bad_steps_are_refused(api: Api, retailer: Retailer) -> None:
    bad = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"returns": {"notify": ["lost"]}}))
    assert bad.status_code == 400
    api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"returns": {"notify": []}}))
    created = register_return(api, retailer).json_body
    scan(api, retailer, "q1", "processed", 2)
    scan(api, retailer, "q2", "delivered", 1)
    assert notes(api, retailer, created["id"]) == {}


def test_analytics_counts_returns_apart_from_deliveries(api: Api, retailer: Retailer) -> None:
    delivered = outbound(api, retailer, tracking_number="1ZDELIVERED")
    sent_back = outbound(api, retailer, order_id="ORD-2002", tracking_number="1ZSENTBACK")
    scan(api, retailer, "d1", "delivered", 2, tn="1ZDELIVERED")
    scan(api, retailer, "s1", "shipped", 3, tn="1ZSENTBACK")
    scan(api, retailer, "s2", "returned", 2, tn="1ZSENTBACK")
    register_return(api, retailer, outbound_shipment_id=delivered["id"])
    scan(api, retailer, "r1", "shipped", 1)
    scan(api, retailer, "r2", "delivered", 0.5)
    today = datetime.now(UTC).date()
    query = f"from={(today - timedelta(days=1)).isoformat()}&to={(today + timedelta(days=1)).isoformat()}"
    data = api.http.get(f"/v1/analytics?{query}", headers=retailer.auth).json_body
    assert data["shipments"] == {"registered": 2, "delivered": 1}  # the received return is not a delivery
    assert data["returns"] == {"returned_to_sender": 1, "registered": 1, "dropped_off": 1, "received": 1}
    assert sent_back["id"] != delivered["id"]
    # the page and its download say the same
    cookie = session_cookie(api, retailer.api_key)
    page = api.http.get(f"/analytics?{query}", headers={"Cookie": cookie}).body.decode()
    assert "Shoppers' returns: 1 registered, 1 dropped off, 1 received by you." in page
    assert "1 delivery parcel went back to you undelivered" in page
    export = api.http.get(f"/analytics/export.csv?{query}", headers={"Cookie": cookie}).body.decode()
    cells = {(s, n, m): v for s, n, m, v in list(csv.reader(io.StringIO(export)))[1:]}
    assert cells[("returns", "all", "received")] == "1" and cells[("returns", "all", "returned_to_sender")] == "1"
