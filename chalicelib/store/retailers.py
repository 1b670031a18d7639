"""Retailer profiles, their hashed API keys and their webhook integration secrets."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .table import client, from_item, table_name, to_item

PROFILE_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Retailer:
    id: str
    name: str
    created_at: str
    integrations: dict[str, str] = field(default_factory=dict)


def _profile_key(retailer_id: str) -> dict[str, Any]:
    return to_item({"pk": f"RETAILER#{retailer_id}", "sk": "PROFILE"})


def _key_item_key(key_hash: str) -> dict[str, Any]:
    return to_item({"pk": f"APIKEY#{key_hash}", "sk": "RETAILER"})


def create(retailer: Retailer, key_hash: str, key_prefix: str) -> None:
    """Profile and key written together so a retailer never exists without its key (or the reverse)."""
    client().transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(
                        {
                            "pk": f"RETAILER#{retailer.id}",
                            "sk": "PROFILE",
                            "name": retailer.name,
                            "created_at": retailer.created_at,
                            "integrations": {},
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(
                        {
                            "pk": f"APIKEY#{key_hash}",
                            "sk": "RETAILER",
                            "retailer_id": retailer.id,
                            "key_prefix": key_prefix,
                            "created_at": retailer.created_at,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )


def retailer_id_for_key(key_hash: str) -> str | None:
    item = client().get_item(TableName=table_name(), Key=_key_item_key(key_hash)).get("Item")
    return from_item(item)["retailer_id"] if item else None


_profile_cache: dict[str, tuple[float, Retailer | None]] = {}


def get(retailer_id: str, *, fresh: bool = False) -> Retailer | None:
    """A profile; webhooks read it through a short per-process cache (`fresh=True` bypasses it)."""
    now = time.monotonic()
    cached = _profile_cache.get(retailer_id)
    if cached and not fresh and now - cached[0] < PROFILE_CACHE_SECONDS:
        return cached[1]
    item = client().get_item(TableName=table_name(), Key=_profile_key(retailer_id), ConsistentRead=fresh).get("Item")
    retailer = None
    if item:
        data = from_item(item)
        retailer = Retailer(
            id=retailer_id,
            name=data["name"],
            created_at=data["created_at"],
            integrations={str(k): str(v) for k, v in (data.get("integrations") or {}).items()},
        )
    _profile_cache[retailer_id] = (now, retailer)
    return retailer


def set_integration_secret(retailer_id: str, source: str, secret: str) -> None:
    client().update_item(
        TableName=table_name(),
        Key=_profile_key(retailer_id),
        UpdateExpression="SET integrations.#source = :secret",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#source": source},
        ExpressionAttributeValues=to_item({":secret": secret}),
    )
    _profile_cache.pop(retailer_id, None)


def clear_cache() -> None:
    _profile_cache.clear()
