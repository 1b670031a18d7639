"""Relay sessions and the routing entries that map (relay number, phone) to sessions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct
from msgspec.structs import asdict
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from ..domain.events import iso
from .models import RelayRoute, RelaySession, ttl
from .table import dumps, from_item, rows, table_connection

ROUTE_LIFETIME = timedelta(hours=24)


class Session(Struct, frozen=True):
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
    open_routes = RelayRoute.query(
        route_pk(relay_number, phone), filter_condition=RelayRoute.active_until > iso(now), consistent_read=True
    )
    return any(True for _ in open_routes)


def routes(relay_number: str, phone: str, now: datetime) -> list[dict[str, Any]]:
    return [from_item(raw) for raw in rows(route_pk(relay_number, phone), consistent_read=True)]


def open_session(session: Session, now: datetime, token: str) -> None:
    """The session and one routing entry per participant, together."""
    until = iso(now + ROUTE_LIFETIME)
    expires = ttl(iso(now))
    with TransactWrite(connection=table_connection().connection) as write:
        doc = dumps(asdict(session))
        write.save(
            RelaySession(f"SHIP#{session.shipment_id}", "RELAY", doc=doc, tracking_token=token, expires_at=expires)
        )
        for role, phone in (("shopper", session.shopper_phone), ("driver", session.driver_phone)):
            if phone:
                route = RelayRoute(
                    route_pk(session.relay_number, phone), session.shipment_id, role=role, active_until=until
                )
                route.expires_at = expires
                write.save(route)


def get_session(shipment_id: str) -> Session | None:
    try:
        stored = RelaySession.get(f"SHIP#{shipment_id}", "RELAY", consistent_read=True)
    except DoesNotExist:
        return None
    return Session(**json.loads(stored.doc))
