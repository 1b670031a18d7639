"""Retailer profiles, their hashed API keys and their webhook integration secrets."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from .table import client, dumps, from_item, table_name, to_item

PROFILE_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Retailer:
    id: str
    name: str
    created_at: str
    integrations: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    branding: dict[str, Any] = field(default_factory=dict)


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
            settings=json.loads(data.get("settings_doc") or "{}"),
            branding=json.loads(data.get("branding_doc") or "{}"),
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


def set_document(retailer_id: str, name: str, value: dict[str, Any]) -> None:
    """Replace the retailer's `settings` or `branding` document."""
    assert name in ("settings", "branding")
    client().update_item(
        TableName=table_name(),
        Key=_profile_key(retailer_id),
        UpdateExpression="SET #doc = :doc",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#doc": f"{name}_doc"},
        ExpressionAttributeValues=to_item({":doc": dumps(value)}),
    )
    _profile_cache.pop(retailer_id, None)


def _template_key(retailer_id: str, kind: str, channel: str, locale: str) -> dict[str, Any]:
    return to_item({"pk": f"RETAILER#{retailer_id}", "sk": f"TEMPLATE#{kind}#{channel}#{locale}"})


def put_template(
    retailer_id: str, kind: str, channel: str, locale: str, body: str, subject: str | None, now: str
) -> None:
    client().put_item(
        TableName=table_name(),
        Item={
            **_template_key(retailer_id, kind, channel, locale),
            **to_item({"body": body, "subject": subject, "updated_at": now}),
        },
    )


def delete_template(retailer_id: str, kind: str, channel: str, locale: str) -> bool:
    result = client().delete_item(
        TableName=table_name(), Key=_template_key(retailer_id, kind, channel, locale), ReturnValues="ALL_OLD"
    )
    return "Attributes" in result


def templates_for(retailer_id: str, kind: str, channel: str) -> dict[str, dict[str, Any]]:
    """The retailer's overrides of one kind and channel, by locale (one query)."""
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues=to_item({":pk": f"RETAILER#{retailer_id}", ":prefix": f"TEMPLATE#{kind}#{channel}#"}),
        ConsistentRead=True,
    )
    found = {}
    for item in page.get("Items", []):
        data = from_item(item)
        found[data["sk"].rsplit("#", 1)[1]] = data
    return found
