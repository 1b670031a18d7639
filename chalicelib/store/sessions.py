"""Signed-in sessions of the analytics page: stored under the SHA-256 of their id, removed by TTL when they end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .table import TTL_ATTRIBUTE, client, from_item, table_name, to_item


@dataclass(frozen=True)
class Session:
    retailer_id: str
    key_hash: str  # the API key it was opened with: the session lives only as long as that key
    created_at: str
    expires_at: int  # epoch seconds


def _key(session_hash: str) -> dict[str, Any]:
    return to_item({"pk": f"SESSION#{session_hash}", "sk": "ANALYTICS"})


def create(session_hash: str, session: Session) -> None:
    item = {
        "retailer_id": session.retailer_id,
        "key_hash": session.key_hash,
        "created_at": session.created_at,
        TTL_ATTRIBUTE: session.expires_at,
    }
    client().put_item(
        TableName=table_name(),
        Item={**_key(session_hash), **to_item(item)},
        ConditionExpression="attribute_not_exists(pk)",
    )


def get(session_hash: str) -> Session | None:
    """Strongly consistent, so a signed-out session stops at once."""
    item = client().get_item(TableName=table_name(), Key=_key(session_hash), ConsistentRead=True).get("Item")
    if not item:
        return None
    data = from_item(item)
    return Session(
        retailer_id=str(data["retailer_id"]),
        key_hash=str(data["key_hash"]),
        created_at=str(data["created_at"]),
        expires_at=int(data[TTL_ATTRIBUTE]),
    )


def delete(session_hash: str) -> None:
    client().delete_item(TableName=table_name(), Key=_key(session_hash))
