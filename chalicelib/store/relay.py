"""Relay sessions and the routing entries that map (relay number, phone) to sessions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.events import iso
from .table import client, dumps, expires_at, from_item, table_name, to_item

ROUTE_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Session:
    shipment_id: str
    relay_number: str
    shopper_phone: str
    driver_phone: str
    driver_name: str
    opened_at: str


def route_pk(relay_number: str, phone: str) -> str:
    return f"RELAY#{relay_number}#{phone}"


def busy(relay_number: str, phone: str, now: datetime) -> bool:
    """Does this phone already have a session on this relay number that may still be open?"""
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        FilterExpression="active_until > :now",
        ExpressionAttributeValues=to_item({":pk": route_pk(relay_number, phone), ":now": iso(now)}),
        ConsistentRead=True,
    )
    return bool(page.get("Items"))


def routes(relay_number: str, phone: str, now: datetime) -> list[dict[str, Any]]:
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": route_pk(relay_number, phone)}),
        ConsistentRead=True,
    )
    return [from_item(item) for item in page.get("Items", [])]


def open_session(session: Session, now: datetime, token: str) -> None:
    """The session and one routing entry per participant, together."""
    until = iso(now + ROUTE_LIFETIME)
    expires = expires_at(iso(now))
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table_name(),
                "Item": to_item(
                    {
                        "pk": f"SHIP#{session.shipment_id}",
                        "sk": "RELAY",
                        "doc": dumps(session.__dict__),
                        "tracking_token": token,
                        "expires_at": expires,
                    }
                ),
            }
        }
    ]
    for role, phone in (("shopper", session.shopper_phone), ("driver", session.driver_phone)):
        if not phone:
            continue
        writes.append(
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(
                        {
                            "pk": route_pk(session.relay_number, phone),
                            "sk": session.shipment_id,
                            "role": role,
                            "active_until": until,
                            "expires_at": expires,
                        }
                    ),
                }
            }
        )
    client().transact_write_items(TransactItems=writes)


def get_session(shipment_id: str) -> Session | None:
    item = (
        client()
        .get_item(
            TableName=table_name(), Key=to_item({"pk": f"SHIP#{shipment_id}", "sk": "RELAY"}), ConsistentRead=True
        )
        .get("Item")
    )
    return Session(**json.loads(from_item(item)["doc"])) if item else None
