"""Retailer corrections and cancellations after registration: PATCH /v1/shipments/{id} and POST .../cancel."""

from __future__ import annotations

import json

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_notifications import CUSTOMER, NY, notes, register, ship
from tests.payloads import native_event


def patch(api: Api, retailer: Retailer, shipment_id: str, body: object) -> object:
    raw = body if isinstance(body, str) else json.dumps(body)
    return api.http.patch(f"/v1/shipments/{shipment_id}", headers=retailer.auth, body=raw)


def cancel(api: Api, retailer: Retailer, shipment_id: str, body: str = "") -> object:
    return api.http.post(f"/v1/shipments/{shipment_id}/cancel", headers=retailer.auth, body=body)


def test_corrected_phone_with_consent_gets_the_next_text(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    response = patch(api, retailer, shipment["id"], {"customer": {"phone": "+1 (212) 555-0199", "sms_consent": True}})
    assert response.status_code == 200, response.body
    assert response.json_body["customer"]["phone"] == "+12125550199"
    assert response.json_body["customer"]["email"] == CUSTOMER["email"]  # fields left out stay

    ship(api, retailer, "out_for_delivery", "e1")
    drain(local_time(NY, 12))
    [text] = providers.capture.of("twilio")
    assert text.form["To"] == "+12125550199"
    [mail] = providers.capture.of("sendgrid")
    assert mail.json["personalizations"][0]["to"] == [{"email": CUSTOMER["email"]}]


def test_a_new_phone_does_not_inherit_the_old_numbers_sms_consent(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer)
    changed = patch(api, retailer, shipment["id"], {"customer": {"phone": "+12125550199"}}).json_body
    assert changed["customer"]["sms_consent"] is False

    ship(api, retailer, "shipped", "e1")
    drain(local_time(NY, 12))
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["reason"] == "no_sms_consent"
    assert providers.capture.of("twilio") == []


def test_null_clears_and_fields_left_out_keep_their_value(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer)
    body = {
        "customer": {"email": None, "locale": "es"},
        "promised_date": "2026-12-01",
        "items": [{"name": "Trail shoes", "quantity": 2}],
        "order_id": "ORD-1001-B",
    }
    changed = patch(api, retailer, shipment["id"], body).json_body
    assert changed["customer"] == {
        "name": "Maria Garcia",
        "phone": "+14155550123",
        "sms_consent": True,
        "time_zone": NY,
        "locale": "es",
    }
    assert changed["promised_date"] == "2026-12-01" and changed["order_id"] == "ORD-1001-B"
    assert changed["items"] == [{"name": "Trail shoes", "quantity": 2}]

    cleared = patch(api, retailer, shipment["id"], {"promised_date": None, "items": None}).json_body
    assert cleared["promised_date"] is None and cleared["items"] is None
    assert cleared["order_id"] == "ORD-1001-B"


def test_repeating_a_change_writes_nothing(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer)
    first = patch(api, retailer, shipment["id"], {"promised_date": "2026-12-01"}).json_body
    again = patch(api, retailer, shipment["id"], {"promised_date": "2026-12-01"}).json_body
    assert again["updated_at"] == first["updated_at"]
    assert again == first


def test_bad_changes_are_rejected_naming_the_field_and_change_nothing(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer)
    before = api.shipment(retailer, shipment["id"]).json_body
    cases = {
        "{}": "body",
        '{"customer": {}}': "body",
        '{"customer": {"name": null}}': "customer.name",
        '{"customer": {"sms_consent": null}}': "customer.sms_consent",
        '{"customer": null}': "customer",
        '{"order_id": null}': "order_id",
        '{"customer": {"phone": "555"}}': "customer.phone",
        '{"customer": {"time_zone": "Mars/Olympus"}}': "customer.time_zone",
        '{"carrier": "fedex"}': "carrier",
        '{"tracking_number": "X"}': "tracking_number",
        '{"promised_date": "soon"}': "promised_date",
        "[1]": "body",
        "not json": "body",
    }
    for body, field in cases.items():
        response = patch(api, retailer, shipment["id"], body)
        assert response.status_code == 400, (body, response.body)
        assert response.json_body["error"]["field"] == field, (body, response.body)
    assert api.shipment(retailer, shipment["id"]).json_body == before


def test_changes_and_cancellation_stay_within_one_retailer(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer)
    before = api.shipment(retailer, shipment["id"]).json_body
    other = api.create_retailer("Other Store")
    for response in (
        patch(api, other, shipment["id"], {"order_id": "MINE"}),
        cancel(api, other, shipment["id"]),
        patch(api, retailer, "shp_000000000000000000000000", {"order_id": "X"}),
        cancel(api, retailer, "shp_000000000000000000000000"),
    ):
        assert response.status_code == 404, response.body
        assert response.json_body["error"]["code"] == "not_found"
    assert api.shipment(retailer, shipment["id"]).json_body == before


def test_a_shipment_known_only_from_scans_must_be_registered_before_it_is_changed(api: Api, retailer: Retailer) -> None:
    api.native(retailer, {"events": [native_event("e1", "shipped", "2026-11-20T10:00:00+00:00")]})
    [unclaimed] = api.find(retailer, "1Z999AA10123456784").json_body["shipments"]
    assert unclaimed["claimed"] is False
    response = patch(api, retailer, unclaimed["id"], {"order_id": "ORD-9"})
    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "not_registered"


def test_cancelling_drops_pending_texts_closes_the_page_and_is_harmless_twice(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    drain(local_time(NY, 23))  # the text waits for morning; the e-mail went
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["status"] == "deferred"

    response = cancel(api, retailer, shipment["id"], '{"reason": "Customer changed their mind"}')
    assert response.status_code == 200, response.body
    cancelled = response.json_body
    assert cancelled["status"] == "cancelled"
    assert cancelled["events"][-1]["status"] == "cancelled"
    assert cancelled["events"][-1]["source"] == "retailer"
    assert cancelled["events"][-1]["description"] == "Customer changed their mind"

    again = cancel(api, retailer, shipment["id"])
    assert again.status_code == 200
    assert [e["status"] for e in again.json_body["events"]].count("cancelled") == 1

    drain(local_time(NY, 8, days_ahead=2))
    skipped = notes(api, retailer, shipment["id"])[("shipped", "sms")]
    assert skipped["status"] == "skipped" and skipped["reason"] == "superseded"
    assert providers.capture.of("twilio") == []
    page = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert page["status"] == "cancelled"


def test_an_arrived_shipment_cannot_be_cancelled(api: Api, retailer: Retailer) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "delivered", "e1")
    response = cancel(api, retailer, shipment["id"])
    assert response.status_code == 409
    assert response.json_body["error"] == {
        "code": "not_cancellable",
        "message": "the shipment has already arrived; it cannot be cancelled",
        "field": "id",
    }
    assert cancel(api, retailer, shipment["id"], '{"reason": ""}').status_code == 400
    assert api.shipment(retailer, shipment["id"]).json_body["status"] == "delivered"


def list_status(api: Api, retailer: Retailer, query: str) -> object:
    return api.http.get(f"/v1/shipments?{query}", headers=retailer.auth)


def test_shipments_are_listed_by_current_status_latest_first_page_by_page(api: Api, retailer: Retailer) -> None:
    ids = {}
    for n, (status, hour) in enumerate([("exception", 9), ("shipped", 10), ("exception", 11), ("exception", 12)]):
        tracking_number = f"1ZLIST{n}"
        ids[n] = api.register(retailer, tracking_number=tracking_number, order_id=f"L-{n}").json_body["id"]
        scan = native_event(f"l{n}", status, f"2026-11-20T{hour:02d}:00:00+00:00", tracking_number=tracking_number)
        assert api.native(retailer, {"events": [scan]}).status_code == 200
    api.native(
        retailer, {"events": [native_event("u1", "exception", "2026-11-20T13:00:00+00:00", tracking_number="NOTOURS")]}
    )

    exceptions = list_status(api, retailer, "status=exception").json_body
    assert [s["id"] for s in exceptions["shipments"]] == [ids[3], ids[2], ids[0]]  # unregistered scans are not listed
    assert exceptions["next_cursor"] is None
    first = list_status(api, retailer, "status=exception&limit=2").json_body
    second = list_status(api, retailer, f"status=exception&limit=2&cursor={first['next_cursor']}").json_body
    assert [s["id"] for s in first["shipments"] + second["shipments"]] == [ids[3], ids[2], ids[0]]

    # Moving on leaves the old listing and joins the new one; a registration is listed as pending.
    scan = native_event("l9", "delivered", "2026-11-21T10:00:00+00:00", tracking_number="1ZLIST2")
    api.native(retailer, {"events": [scan]})
    assert [s["id"] for s in list_status(api, retailer, "status=exception").json_body["shipments"]] == [ids[3], ids[0]]
    assert [s["id"] for s in list_status(api, retailer, "status=delivered").json_body["shipments"]] == [ids[2]]
    fresh = api.register(retailer, tracking_number="1ZLISTNEW").json_body
    assert [s["id"] for s in list_status(api, retailer, "status=pending").json_body["shipments"]] == [fresh["id"]]
    cancel(api, retailer, fresh["id"])
    assert list_status(api, retailer, "status=pending").json_body["shipments"] == []
    assert [s["status"] for s in list_status(api, retailer, "status=cancelled").json_body["shipments"]] == ["cancelled"]


def test_status_listings_are_private_and_check_their_input(api: Api, retailer: Retailer) -> None:
    api.register(retailer)
    other = api.create_retailer("Other Store")
    assert list_status(api, other, "status=pending").json_body["shipments"] == []
    mine = list_status(api, retailer, "status=pending&limit=1").json_body
    assert len(mine["shipments"]) == 1
    api.register(retailer, tracking_number="1ZSECOND")
    page = list_status(api, retailer, "status=pending&limit=1").json_body
    for query, field in (
        ("status=lost", "status"),
        ("status=pending&limit=0", "limit"),
        ("status=pending&limit=101", "limit"),
        ("status=pending&cursor=junk", "cursor"),
        ("tracking_number=1ZSECOND&limit=x", "limit"),
        ("tracking_number=1ZSECOND&status=lost", "status"),
        ("", "tracking_number"),
    ):
        response = list_status(api, retailer, query)
        assert response.status_code == 400 and response.json_body["error"]["field"] == field, query
    narrowed = list_status(api, retailer, "tracking_number=1ZSECOND&status=pending").json_body["shipments"]
    assert [s["tracking_number"] for s in narrowed] == ["1ZSECOND"]
    assert list_status(api, retailer, "tracking_number=1ZSECOND&status=shipped").json_body["shipments"] == []
    # Another retailer cannot use my cursor to read on, not even in its own listing of the same status.
    stolen = list_status(api, other, f"status=pending&cursor={page['next_cursor']}")
    assert stolen.status_code == 400 and stolen.json_body["error"]["field"] == "cursor"


def test_a_destination_is_replaced_whole_and_a_line_sent_as_null_is_absent(api: Api, retailer: Retailer) -> None:
    address = {"line1": "1 Main St", "city": "Miami", "region": "FL", "postal_code": "33101", "country": "US"}
    shipment = api.register(retailer, destination=address).json_body
    moved = {"line1": "2 Oak St", "city": "Tampa", "region": "FL", "postal_code": None, "country": "US"}
    response = patch(api, retailer, shipment["id"], {"destination": moved})
    assert response.status_code == 200, response.body
    assert response.json_body["destination"] == {"line1": "2 Oak St", "city": "Tampa", "region": "FL", "country": "US"}
    cleared = patch(api, retailer, shipment["id"], {"destination": {"postal_code": None}})
    assert (
        cleared.json_body["destination"] is None
    )  # nothing left of the address: no destination, not {"postal_code": null}
