"""Retailer profiles, their hashed API keys and their webhook integration secrets."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from msgspec import Struct, field
from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import DeleteError, DoesNotExist
from pynamodb.transactions import TransactWrite

from .models import ApiKeyItem, KeyMirror, RetailerProfile, RetailerTemplate, TableItem
from .table import condition_failed, dumps, rows, table_connection

PROFILE_CACHE_SECONDS = 60.0


class Retailer(Struct, frozen=True):
    id: str
    name: str
    created_at: str
    integrations: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    branding: dict[str, Any] = field(default_factory=dict)


def _profile(retailer_id: str) -> RetailerProfile:
    return RetailerProfile(f"RETAILER#{retailer_id}", "PROFILE")


def _key_item(key_hash: str) -> ApiKeyItem:
    return ApiKeyItem(f"APIKEY#{key_hash}", "RETAILER")


def _key_mirror(retailer_id: str, key_hash: str) -> KeyMirror:
    """The retailer's own list of its keys (by hash), so it can see and revoke them."""
    return KeyMirror(f"RETAILER#{retailer_id}", f"APIKEY#{key_hash}")


class ApiKey(Struct, frozen=True):
    key_hash: str
    key_prefix: str
    created_at: str
    expires_at: int | None = None  # epoch seconds; the key stops working then (and TTL removes it later)


def _epoch(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _save_key(write: TransactWrite, retailer_id: str, key: ApiKey) -> None:
    """The key item and its mirror, each only where none exists."""
    for item in (_key_item(key.key_hash), _key_mirror(retailer_id, key.key_hash)):
        item.retailer_id, item.key_prefix, item.created_at = retailer_id, key.key_prefix, key.created_at
        write.save(item, TableItem.pk.does_not_exist())


def _write() -> TransactWrite:
    return TransactWrite(connection=table_connection().connection)


def create(retailer: Retailer, key_hash: str, key_prefix: str) -> None:
    """Profile and key written together so a retailer never exists without its key (or the reverse)."""
    profile = RetailerProfile(
        f"RETAILER#{retailer.id}", "PROFILE", name=retailer.name, created_at=retailer.created_at, integrations={}
    )
    with _write() as write:
        write.save(profile, TableItem.pk.does_not_exist())
        _save_key(write, retailer.id, ApiKey(key_hash, key_prefix, retailer.created_at))


def add_key(retailer_id: str, key: ApiKey, retire: tuple[str, int] | None = None) -> None:
    """A new key, and optionally an expiry for an existing one (hash, epoch seconds), in one transaction."""
    with _write() as write:
        _save_key(write, retailer_id, key)
        if retire is not None:
            old_hash, expires = retire
            until = datetime.fromtimestamp(expires, UTC)
            write.update(_key_item(old_hash), [ApiKeyItem.expires_at.set(until)], ApiKeyItem.retailer_id == retailer_id)
            write.update(
                _key_mirror(retailer_id, old_hash),
                [KeyMirror.expires_at.set(until)],
                KeyMirror.retailer_id == retailer_id,
            )


def keys_of(retailer_id: str) -> list[ApiKey]:
    return [
        ApiKey(
            key_hash=mirror.sk.removeprefix("APIKEY#"),
            key_prefix=mirror.key_prefix,
            created_at=mirror.created_at,
            expires_at=_epoch(mirror.expires_at),
        )
        for mirror in KeyMirror.query(
            f"RETAILER#{retailer_id}", KeyMirror.sk.startswith("APIKEY#"), consistent_read=True
        )
    ]


def delete_key(retailer_id: str, key_hash: str) -> None:
    with _write() as write:
        write.delete(_key_item(key_hash))
        write.delete(_key_mirror(retailer_id, key_hash))


def retailer_id_for_key(key_hash: str, now: float) -> str | None:
    """Strongly consistent, so a revoked key stops working at once; an expired one is refused before TTL removes it."""
    try:
        item = ApiKeyItem.get(f"APIKEY#{key_hash}", "RETAILER", consistent_read=True)
    except DoesNotExist:
        return None
    expires = _epoch(item.expires_at)
    if expires is not None and expires <= now:
        return None
    return item.retailer_id


_profile_cache: dict[str, tuple[float, Retailer | None]] = {}


def get(retailer_id: str, *, fresh: bool = False) -> Retailer | None:
    """A profile; webhooks read it through a short per-process cache (`fresh=True` bypasses it)."""
    now = time.monotonic()
    cached = _profile_cache.get(retailer_id)
    if cached and not fresh and now - cached[0] < PROFILE_CACHE_SECONDS:
        return cached[1]
    try:
        profile = RetailerProfile.get(f"RETAILER#{retailer_id}", "PROFILE", consistent_read=fresh)
    except DoesNotExist:
        retailer = None
    else:
        retailer = _retailer_of(retailer_id, profile)
    _profile_cache[retailer_id] = (now, retailer)
    return retailer


def get_for_sending(retailer_id: str) -> Retailer | None:
    """A profile, as `get`, for delivery: when it must be read, the retailer's template overrides come with it in the
    same query (they share its partition and sort right after it), so a cold delivery reads a retailer once."""
    now = time.monotonic()
    cached, templates = _profile_cache.get(retailer_id), _templates_cache.get(retailer_id)
    if cached and templates and now - min(cached[0], templates[0]) < PROFILE_CACHE_SECONDS:
        return cached[1]
    retailer: Retailer | None = None
    found: dict[str, dict[str, dict[str, Any]]] = {}
    profile_and_templates = TableItem.sk.between("PROFILE", "TEMPLATE$")  # "TEMPLATE#..." < "TEMPLATE$"
    for raw in rows(f"RETAILER#{retailer_id}", profile_and_templates, consistent_read=True):
        sk = raw["sk"]["S"]
        if sk == "PROFILE":
            retailer = _retailer_of(retailer_id, RetailerProfile.from_raw_data(raw))
        elif sk.startswith("TEMPLATE#"):
            _add_template(found, RetailerTemplate.from_raw_data(raw))
    _profile_cache[retailer_id] = (now, retailer)
    _templates_cache[retailer_id] = (now, found)
    return retailer


def _retailer_of(retailer_id: str, profile: RetailerProfile) -> Retailer:
    return Retailer(
        id=retailer_id,
        name=profile.name,
        created_at=profile.created_at,
        integrations={str(k): str(v) for k, v in _plain(profile.integrations).items()},
        settings=json.loads(profile.settings_doc or "{}"),
        branding=json.loads(profile.branding_doc or "{}"),
    )


def _plain(stored: Any) -> dict[str, Any]:
    """A raw map attribute as read (PynamoDB gives a MapAttribute holding the values) as a plain dict."""
    return stored.as_dict() if isinstance(stored, MapAttribute) else dict(stored or {})


def _update_profile(retailer_id: str, actions: list[Any]) -> None:
    """Change an existing profile (a missing one raises: nothing is created) and forget its cached copy."""
    _profile(retailer_id).update(actions=actions, condition=RetailerProfile.pk.exists())
    _profile_cache.pop(retailer_id, None)


def set_integration_secret(retailer_id: str, source: str, secret: str) -> None:
    _update_profile(retailer_id, [RetailerProfile.integrations[source].set(secret)])


def rotate_outbound_secret(retailer_id: str, secret: str, previous: str | None, previous_until: int | None) -> None:
    """The new signing secret for calls to the retailer, and the old one with the epoch second it stops signing."""
    integrations = RetailerProfile.integrations
    if previous and previous_until:
        actions = [
            integrations["outbound"].set(secret),
            integrations["outbound_previous"].set(previous),
            integrations["outbound_previous_until"].set(str(previous_until)),
        ]
    else:
        actions = [
            integrations["outbound"].set(secret),
            integrations["outbound_previous"].remove(),
            integrations["outbound_previous_until"].remove(),
        ]
    _update_profile(retailer_id, actions)


def clear_cache() -> None:
    _profile_cache.clear()
    _templates_cache.clear()


def set_document(retailer_id: str, name: str, value: dict[str, Any]) -> None:
    """Replace the retailer's `settings` or `branding` document."""
    assert name in ("settings", "branding")
    document = RetailerProfile.settings_doc if name == "settings" else RetailerProfile.branding_doc
    _update_profile(retailer_id, [document.set(dumps(value))])


def _template(retailer_id: str, kind: str, channel: str, locale: str) -> RetailerTemplate:
    return RetailerTemplate(f"RETAILER#{retailer_id}", f"TEMPLATE#{kind}#{channel}#{locale}")


def put_template(
    retailer_id: str, kind: str, channel: str, locale: str, body: str, subject: str | None, now: str
) -> None:
    sk = f"TEMPLATE#{kind}#{channel}#{locale}"
    RetailerTemplate(f"RETAILER#{retailer_id}", sk, body=body, subject=subject, updated_at=now).save()
    _templates_cache.pop(retailer_id, None)


def delete_template(retailer_id: str, kind: str, channel: str, locale: str) -> bool:
    """True if there was an override to delete (one request either way)."""
    try:
        _template(retailer_id, kind, channel, locale).delete(RetailerTemplate.pk.exists())
    except DeleteError as error:
        if condition_failed(error):
            return False
        raise
    finally:
        _templates_cache.pop(retailer_id, None)
    return True


#: Every override a retailer keeps, by "kind#channel" then locale, with when it was read (monotonic seconds).
_templates_cache: dict[str, tuple[float, dict[str, dict[str, dict[str, Any]]]]] = {}


def templates_for(retailer_id: str, kind: str, channel: str, *, fresh: bool = False) -> dict[str, dict[str, Any]]:
    """The retailer's overrides of one kind and channel, by locale. Delivery reads every override the retailer
    keeps in one query, kept as long as the profile (PROFILE_CACHE_SECONDS): one read a minute per retailer and
    process instead of one per notification. `fresh=True` reads these alone, as stored now (the API)."""
    if fresh:
        return _read_templates(retailer_id, f"TEMPLATE#{kind}#{channel}#").get(f"{kind}#{channel}", {})
    now = time.monotonic()
    cached = _templates_cache.get(retailer_id)
    if cached is None or now - cached[0] >= PROFILE_CACHE_SECONDS:
        cached = _templates_cache[retailer_id] = (now, _read_templates(retailer_id, "TEMPLATE#"))
    return cached[1].get(f"{kind}#{channel}", {})


def _read_templates(retailer_id: str, prefix: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Overrides under a key prefix (one query, strongly consistent), by "kind#channel" then locale."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for template in RetailerTemplate.query(
        f"RETAILER#{retailer_id}", RetailerTemplate.sk.startswith(prefix), consistent_read=True
    ):
        _add_template(found, template)
    return found


def _add_template(found: dict[str, dict[str, dict[str, Any]]], template: RetailerTemplate) -> None:
    address, locale = template.sk.removeprefix("TEMPLATE#").rsplit("#", 1)
    stored = {"body": template.body, "updated_at": template.updated_at}
    if template.subject is not None:
        stored["subject"] = template.subject
    found.setdefault(address, {})[locale] = stored
