"""Webhook bodies shaped exactly as each service documents them, built from short scan lists."""

from __future__ import annotations

from typing import Any

Scan = tuple[str, str, str, str, str]  # (code, detail, time, message, city)


def native_event(event_id: str, status: str, occurred_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "tracking_number": extra.pop("tracking_number", "1Z999AA10123456784"),
        "carrier": extra.pop("carrier", "ups"),
        "status": status,
        "occurred_at": occurred_at,
        "description": extra.pop("description", status.replace("_", " ").title()),
        **extra,
    }


def easypost_tracker_event(
    scans: list[Scan],
    *,
    tracking_code: str = "9400110898825022579493",
    carrier: str = "USPS",
    status: str | None = None,
    est_delivery_date: str | None = "2026-11-25T00:00:00Z",
    signed_by: str | None = None,
    description: str = "tracker.updated",
) -> dict[str, Any]:
    details = [
        {
            "object": "TrackingDetail",
            "message": message,
            "description": message,
            "status": code,
            "status_detail": detail,
            "datetime": when,
            "source": carrier,
            "carrier_code": None,
            "tracking_location": {
                "object": "TrackingLocation",
                "city": city or None,
                "state": "CA",
                "country": "US",
                "zip": None,
            },
        }
        for code, detail, when, message, city in scans
    ]
    last = scans[-1] if scans else ("unknown", "unknown", "", "", "")
    return {
        "id": "evt_3f1c0d8e2b6a4e0b9b1b",
        "object": "Event",
        "mode": "test",
        "description": description,
        "previous_attributes": {"status": "pre_transit"},
        "pending_urls": ["https://example.test/hooks"],
        "completed_urls": [],
        "created_at": "2026-11-23T10:00:00Z",
        "updated_at": "2026-11-23T10:00:00Z",
        "user_id": "user_2b0d",
        "status": "pending",
        "result": {
            "id": "trk_c6a0e2f3a1b24c6d",
            "object": "Tracker",
            "mode": "test",
            "tracking_code": tracking_code,
            "status": status or last[0],
            "status_detail": last[1],
            "created_at": "2026-11-20T08:00:00Z",
            "updated_at": "2026-11-23T10:00:00Z",
            "signed_by": signed_by,
            "weight": 17.5,
            "est_delivery_date": est_delivery_date,
            "shipment_id": "shp_7a1",
            "carrier": carrier,
            "tracking_details": details,
            "carrier_detail": {"object": "CarrierDetail", "service": "First-Class Package Service"},
            "finalized": False,
            "is_return": False,
            "public_url": "https://track.easypost.com/djE6dHJrX2M2YTBl",
            "fees": [],
        },
    }


def aftership_tracking_update(
    scans: list[Scan],
    *,
    tracking_number: str = "794644790132",
    slug: str = "fedex",
    return_to_sender: bool = False,
    expected_delivery: str | None = "2026-11-25",
    signed_by: str | None = None,
) -> dict[str, Any]:
    checkpoints = [
        {
            "slug": slug,
            "city": city or None,
            "created_at": "2026-11-23T10:00:00+00:00",
            "location": f"{city}, CA" if city else None,
            "country_name": "USA",
            "message": message,
            "country_iso3": "USA",
            "tag": code,
            "subtag": detail,
            "subtag_message": detail,
            "checkpoint_time": when,
            "coordinates": [],
            "state": "CA",
            "zip": None,
            "raw_tag": "FPX_L_RPIF",
        }
        for code, detail, when, message, city in scans
    ]
    last = scans[-1] if scans else ("Pending", "Pending_001", "", "", "")
    return {
        "event": "tracking_update",
        "event_id": "f1a6a5a0-2b8e-4c8a-9d7e-0c6b1c1f2e3d",
        "is_tracking_first_tag": False,
        "msg": {
            "id": "r7yq8mdlqv9q5k0ccdx0w1a2",
            "tracking_number": tracking_number,
            "slug": slug,
            "active": True,
            "tag": last[0],
            "subtag": last[1],
            "subtag_message": last[1],
            "return_to_sender": return_to_sender,
            "expected_delivery": expected_delivery,
            "signed_by": signed_by,
            "shipment_type": "FedEx Home Delivery",
            "origin_country_iso3": "USA",
            "destination_country_iso3": "USA",
            "order_id": "ORD-1001",
            "checkpoints": checkpoints,
        },
        "ts": 1795000000,
    }


def shippo_track_updated(
    scans: list[Scan],
    *,
    tracking_number: str = "92055901755477000271990251",
    carrier: str = "usps",
    eta: str | None = "2026-11-25T12:00:00Z",
    object_ids: bool = True,
) -> dict[str, Any]:
    history = [
        {
            "object_created": when,
            "object_updated": when,
            "object_id": f"obj_{index:04d}" if object_ids else None,
            "status": code,
            "status_details": message,
            "status_date": when,
            "substatus": {"code": detail, "text": message, "action_required": False} if detail else None,
            "location": {"city": city or None, "state": "CA", "zip": "94103", "country": "US"},
        }
        for index, (code, detail, when, message, city) in enumerate(scans)
    ]
    return {
        "event": "track_updated",
        "test": True,
        "data": {
            "messages": [],
            "carrier": carrier,
            "tracking_number": tracking_number,
            "address_from": {"city": "Las Vegas", "state": "NV", "zip": "89101", "country": "US"},
            "address_to": {"city": "San Francisco", "state": "CA", "zip": "94103", "country": "US"},
            "eta": eta,
            "original_eta": eta,
            "servicelevel": {"token": "usps_priority", "name": "Priority Mail"},
            "metadata": "Order ORD-1001",
            "tracking_status": history[-1] if history else None,
            "tracking_history": history,
            "transaction": "a3b1f0c2",
        },
    }
