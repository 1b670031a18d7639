"""Carriers recycle tracking numbers: a new parcel with an old number becomes a new shipment, and the old one stays."""

from __future__ import annotations

from tests.conftest import Api, Retailer
from tests.payloads import native_event

NUMBER = "9400111899223344556677"
FIRST_PARCEL = [
    native_event("a1", "processed", "2026-06-01T09:00:00+00:00", carrier="usps", tracking_number=NUMBER),
    native_event("a2", "shipped", "2026-06-02T09:00:00+00:00", carrier="usps", tracking_number=NUMBER),
    native_event("a3", "delivered", "2026-06-04T15:00:00+00:00", carrier="usps", tracking_number=NUMBER),
]
SECOND_PARCEL = [
    native_event("b1", "processed", "2026-09-10T09:00:00+00:00", carrier="usps", tracking_number=NUMBER),
    native_event("b2", "shipped", "2026-09-11T09:00:00+00:00", carrier="usps", tracking_number=NUMBER),
]


def register(api: Api, retailer: Retailer, order_id: str, name: str = "Maria Garcia") -> dict:
    response = api.register(
        retailer,
        order_id=order_id,
        carrier="USPS",
        tracking_number=NUMBER,
        customer={"name": name, "email": f"{order_id.lower()}@example.com"},
    )
    assert response.status_code in (200, 201), response.body
    return response.json_body | {"http_status": response.status_code}


def detail(api: Api, retailer: Retailer, shipment_id: str) -> dict:
    body = api.shipment(retailer, shipment_id).json_body
    body.pop("updated_at")
    return body


def test_scans_long_after_delivery_become_a_new_shipment_and_leave_the_delivered_one_alone(
    api: Api, retailer: Retailer
) -> None:
    from chalicelib import observability

    observability.emitted.clear()
    first = register(api, retailer, "ORD-1")
    assert api.native(retailer, {"events": FIRST_PARCEL}).json_body == {"accepted": 3, "duplicates": 0}
    delivered = detail(api, retailer, first["id"])
    assert delivered["status"] == "delivered"

    assert api.native(retailer, {"events": SECOND_PARCEL[:1]}).json_body == {"accepted": 1, "duplicates": 0}
    assert detail(api, retailer, first["id"]) == delivered  # not reopened, nobody re-notified
    found = api.find(retailer, NUMBER).json_body["shipments"]
    assert [(s["status"], s["claimed"]) for s in found] == [("processed", False), ("delivered", True)]
    recycled = found[0]
    assert recycled["id"] != first["id"] and recycled["tracking_token"] != first["tracking_token"]

    second = register(api, retailer, "ORD-2", name="Lee Chen")  # the retailer's new order claims the new parcel
    assert second["http_status"] == 201 and second["id"] == recycled["id"] and second["order_id"] == "ORD-2"
    api.native(retailer, {"events": SECOND_PARCEL})
    new = detail(api, retailer, second["id"])
    assert new["status"] == "shipped" and [e["status"] for e in new["events"]] == ["processed", "shipped"]
    assert new["customer"]["name"] == "Lee Chen"

    # The carrier re-sending the first parcel's history lands on the first shipment, as duplicates.
    assert api.native(retailer, {"events": FIRST_PARCEL}).json_body == {"accepted": 0, "duplicates": 3}
    assert detail(api, retailer, first["id"]) == delivered
    assert detail(api, retailer, second["id"]) == new
    # Registering either order again is a plain lookup of its own parcel.
    again = register(api, retailer, "ORD-1")
    assert again["http_status"] == 200 and again["id"] == first["id"]
    assert register(api, retailer, "ORD-2")["id"] == second["id"]
    assert observability.emitted["RecycledNumbers|carrier=usps,via=scan"] == 1
    assert "RecycledNumbers|carrier=usps,via=registration" not in observability.emitted


def test_a_scan_soon_after_delivery_still_belongs_to_that_parcel(api: Api, retailer: Retailer) -> None:
    first = register(api, retailer, "ORD-1")
    api.native(retailer, {"events": FIRST_PARCEL})
    returned = native_event("a4", "returned", "2026-06-09T10:00:00+00:00", carrier="usps", tracking_number=NUMBER)
    api.native(retailer, {"events": [returned]})
    assert detail(api, retailer, first["id"])["status"] == "returned"
    assert len(api.find(retailer, NUMBER).json_body["shipments"]) == 1


def test_a_new_order_on_an_arrived_parcel_is_a_new_shipment_that_gets_the_later_scans(
    api: Api, retailer: Retailer
) -> None:
    first = register(api, retailer, "ORD-1")
    api.native(retailer, {"events": FIRST_PARCEL})
    same_box = register(api, retailer, "ORD-1")
    assert same_box["http_status"] == 200 and same_box["id"] == first["id"]

    second = register(api, retailer, "ORD-2")
    assert second["http_status"] == 201 and second["id"] != first["id"] and second["status"] == "pending"
    assert register(api, retailer, "ORD-2")["id"] == second["id"]  # retried: the same new shipment
    soon = native_event("b0", "processed", "2026-06-20T09:00:00+00:00", carrier="usps", tracking_number=NUMBER)
    api.native(retailer, {"events": [soon]})
    assert detail(api, retailer, second["id"])["status"] == "processed"
    assert detail(api, retailer, first["id"])["status"] == "delivered"


def test_a_second_order_on_a_parcel_still_moving_shares_it(api: Api, retailer: Retailer) -> None:
    """Two orders in one box: the number is not recycled, so the second registration returns the first shipment."""
    first = register(api, retailer, "ORD-1")
    api.native(retailer, {"events": FIRST_PARCEL[:2]})
    second = register(api, retailer, "ORD-2")
    assert second["http_status"] == 200 and second["id"] == first["id"] and second["order_id"] == "ORD-1"


def test_retailer_actions_reach_the_parcel_they_name(api: Api, retailer: Retailer) -> None:
    first = register(api, retailer, "ORD-1")
    api.native(retailer, {"events": FIRST_PARCEL})
    second = register(api, retailer, "ORD-2")
    cancelled = api.http.post(f"/v1/shipments/{second['id']}/cancel", headers=retailer.auth, body="{}")
    assert cancelled.status_code == 200 and cancelled.json_body["status"] == "cancelled"
    assert api.http.post(f"/v1/shipments/{first['id']}/cancel", headers=retailer.auth, body="{}").status_code == 409
    assert detail(api, retailer, first["id"])["status"] == "delivered"


def test_erasing_the_first_parcel_keeps_the_later_one_tracking(api: Api, retailer: Retailer) -> None:
    first = register(api, retailer, "ORD-1", name="Ann Example")
    api.native(retailer, {"events": FIRST_PARCEL})
    second = register(api, retailer, "ORD-2")

    erased = api.http.delete(f"/v1/shipments/{first['id']}", headers=retailer.auth)
    assert erased.status_code == 200
    assert api.shipment(retailer, first["id"]).status_code == 404
    assert api.http.get(f"/t/{first['tracking_token']}").status_code == 404
    assert [s["id"] for s in api.find(retailer, NUMBER).json_body["shipments"]] == [second["id"]]

    api.native(retailer, {"events": SECOND_PARCEL})
    assert detail(api, retailer, second["id"])["status"] == "shipped"
    assert "Ann Example" not in str(api.find(retailer, NUMBER).json_body)
