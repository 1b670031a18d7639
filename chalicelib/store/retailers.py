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


def _key_mirror(retailer_id: str, key_hash: str) -> dict[str, Any]:
    """The retailer's own list of its keys (by hash), so it can see and revoke them."""
    return to_item({"pk": f"RETAILER#{retailer_id}", "sk": f"APIKEY#{key_hash}"})


@dataclass(frozen=True)
class ApiKey:
    key_hash: str
    key_prefix: str
    created_at: str
    expires_at: int | None = None  # epoch seconds; the key stops working then (and TTL removes it later)


def _key_puts(retailer_id: str, key: ApiKey) -> list[dict[str, Any]]:
    fields = {"retailer_id": retailer_id, "key_prefix": key.key_prefix, "created_at": key.created_at}
    return [
        {
            "Put": {
                "TableName": table_name(),
                "Item": {**item_key, **to_item(fields)},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for item_key in (_key_item_key(key.key_hash), _key_mirror(retailer_id, key.key_hash))
    ]


def create(retailer: Retailer, key_hash: str, key_prefix: str) -> None:
    """Profile and key written together so a retailer never exists without its key (or the reverse)."""
    profile = {
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
    }
    key = ApiKey(key_hash, key_prefix, retailer.created_at)
    client().transact_write_items(TransactItems=[profile, *_key_puts(retailer.id, key)])


def add_key(retailer_id: str, key: ApiKey, retire: tuple[str, int] | None = None) -> None:
    """A new key, and optionally an expiry for an existing one (hash, epoch seconds), in one transaction."""
    writes = _key_puts(retailer_id, key)
    if retire is not None:
        old_hash, expires = retire
        for item_key in (_key_item_key(old_hash), _key_mirror(retailer_id, old_hash)):
            writes.append(
                {
                    "Update": {
                        "TableName": table_name(),
                        "Key": item_key,
                        "UpdateExpression": "SET expires_at = :expires",
                        "ConditionExpression": "retailer_id = :retailer",
                        "ExpressionAttributeValues": to_item({":expires": expires, ":retailer": retailer_id}),
                    }
                }
            )
    client().transact_write_items(TransactItems=writes)


def keys_of(retailer_id: str) -> list[ApiKey]:
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues=to_item({":pk": f"RETAILER#{retailer_id}", ":prefix": "APIKEY#"}),
        ConsistentRead=True,
    )
    found = []
    for item in page.get("Items", []):
        data = from_item(item)
        expires = data.get("expires_at")
        found.append(
            ApiKey(
                key_hash=data["sk"].removeprefix("APIKEY#"),
                key_prefix=data["key_prefix"],
                created_at=data["created_at"],
                expires_at=int(expires) if expires is not None else None,
            )
        )
    return found


def delete_key(retailer_id: str, key_hash: str) -> None:
    client().transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": table_name(), "Key": _key_item_key(key_hash)}},
            {"Delete": {"TableName": table_name(), "Key": _key_mirror(retailer_id, key_hash)}},
        ]
    )


def retailer_id_for_key(key_hash: str, now: float) -> str | None:
    """Strongly consistent, so a revoked key stops working at once; an expired one is refused before TTL removes it."""
    item = client().get_item(TableName=table_name(), Key=_key_item_key(key_hash), ConsistentRead=True).get("Item")
    if not item:
        return None
    data = from_item(item)
    expires = data.get("expires_at")
    if expires is not None and int(expires) <= now:
        return None
    return str(data["retailer_id"])


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


def rotate_outbound_secret(retailer_id: str, secret: str, previous: str | None, previous_until: int | None) -> None:
    """The new signing secret for calls to the retailer, and the old one with the epoch second it stops signing."""
    names = {"#new": "outbound", "#old": "outbound_previous", "#until": "outbound_previous_until"}
    if previous and previous_until:
        expression = "SET integrations.#new = :new, integrations.#old = :old, integrations.#until = :until"
        values = {":new": secret, ":old": previous, ":until": str(previous_until)}
    else:
        expression = "SET integrations.#new = :new REMOVE integrations.#old, integrations.#until"
        values = {":new": secret}
    client().update_item(
        TableName=table_name(),
        Key=_profile_key(retailer_id),
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_item(values),
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
