"""Signed-in sessions of the analytics page: stored under the SHA-256 of their id, removed by TTL when they end."""

from __future__ import annotations

from datetime import UTC, datetime

from msgspec import Struct
from pynamodb.exceptions import DoesNotExist

from .models import AnalyticsSession


class Session(Struct, frozen=True):
    retailer_id: str
    key_hash: str  # the API key it was opened with: the session lives only as long as that key
    created_at: str
    expires_at: int  # epoch seconds


def create(session_hash: str, session: Session) -> None:
    stored = AnalyticsSession(
        f"SESSION#{session_hash}",
        "ANALYTICS",
        retailer_id=session.retailer_id,
        key_hash=session.key_hash,
        created_at=session.created_at,
        expires_at=datetime.fromtimestamp(session.expires_at, UTC),
    )
    stored.save(AnalyticsSession.pk.does_not_exist())


def get(session_hash: str) -> Session | None:
    """Strongly consistent, so a signed-out session stops at once."""
    try:
        stored = AnalyticsSession.get(f"SESSION#{session_hash}", "ANALYTICS", consistent_read=True)
    except DoesNotExist:
        return None
    return Session(
        retailer_id=stored.retailer_id,
        key_hash=stored.key_hash,
        created_at=stored.created_at,
        expires_at=int(stored.expires_at.timestamp()) if stored.expires_at else 0,
    )


def delete(session_hash: str) -> None:
    AnalyticsSession(f"SESSION#{session_hash}", "ANALYTICS").delete()
