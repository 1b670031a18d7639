"""Retailer bootstrap, API-key authentication and webhook integrations."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from msgspec import Struct

from ..carriers import SOURCES
from ..config import settings
from ..domain.events import iso
from ..errors import Conflict, NotFound, Unauthorized, ValidationError
from ..shared.api_keys import API_KEY_PREFIX, hash_api_key
from ..store import retailers as retailer_store
from ..store.retailers import ApiKey, Retailer

MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256
MAX_ACTIVE_KEYS = 5


class NewRetailer(Struct, frozen=True):
    retailer: Retailer
    api_key: str


def check_admin_key(given: str | None) -> None:
    expected = settings().admin_api_key
    # An unset ADMIN_API_KEY disables the admin API instead of accepting an empty bearer.
    if not expected or given is None or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Unauthorized("a valid admin API key is required")


def create_retailer(name: str, now: datetime) -> NewRetailer:
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationError("name must be 1 to 120 characters", field="name")
    retailer = Retailer(id="rt_" + secrets.token_hex(8), name=name, created_at=iso(now))
    api_key, key = new_api_key(retailer.created_at)
    retailer_store.create(retailer, key.key_hash, key.key_prefix)
    return NewRetailer(retailer=retailer, api_key=api_key)


def new_api_key(created_at: str) -> tuple[str, ApiKey]:
    """A fresh key (256 random bits) and what is stored of it: its hash and a recognisable prefix."""
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return api_key, ApiKey(key_hash=hash_api_key(api_key), key_prefix=api_key[:10], created_at=created_at)


def key_id(key_hash: str) -> str:
    """A key's public name in the API: part of its hash, which says nothing about the key itself."""
    return key_hash[:16]


def describe_key(key: ApiKey, current_hash: str | None) -> dict[str, Any]:
    expires = datetime.fromtimestamp(key.expires_at, UTC).isoformat() if key.expires_at is not None else None
    return {
        "id": key_id(key.key_hash),
        "prefix": key.key_prefix,
        "created_at": key.created_at,
        "expires_at": expires,
        "current": key.key_hash == current_hash,
    }


def active_keys(keys: list[ApiKey], now: datetime) -> list[ApiKey]:
    return sorted(
        (key for key in keys if key.expires_at is None or key.expires_at > now.timestamp()),
        key=lambda key: key.created_at,
    )


def list_api_keys(retailer_id: str, current_key: str, now: datetime) -> list[dict[str, Any]]:
    current_hash = hash_api_key(current_key)
    return [describe_key(key, current_hash) for key in active_keys(retailer_store.keys_of(retailer_id), now)]


def issue_api_key(
    retailer_id: str, current_key: str | None, retire_current_after: timedelta | None, now: datetime
) -> tuple[str, dict[str, Any]]:
    """Rotation without downtime: a new key now, and the key making the request retired after a grace period.

    The grace never lengthens a life already set shorter. Returns (the key, shown once; its description).
    """
    keys = retailer_store.keys_of(retailer_id)
    if len(active_keys(keys, now)) >= MAX_ACTIVE_KEYS:
        raise Conflict(f"a retailer has at most {MAX_ACTIVE_KEYS} active keys; revoke one first", code="too_many_keys")
    api_key, key = new_api_key(iso(now))
    retire = None
    if current_key is not None and retire_current_after is not None:
        current_hash = hash_api_key(current_key)
        current = next((k for k in keys if k.key_hash == current_hash), None)
        expires = int((now + retire_current_after).timestamp())
        if current is not None and (current.expires_at is None or current.expires_at > expires):
            retire = (current_hash, expires)
    retailer_store.add_key(retailer_id, key, retire)
    return api_key, describe_key(key, None)


def revoke_api_key(retailer_id: str, revoked_id: str, now: datetime) -> None:
    """Revoke at once (a leaked key). The last active key cannot go: the retailer would lock itself out."""
    keys = active_keys(retailer_store.keys_of(retailer_id), now)
    target = next((key for key in keys if key_id(key.key_hash) == revoked_id), None)
    if target is None:
        raise NotFound(f"no active API key {revoked_id!r}", field="key_id")
    if len(keys) == 1:
        raise Conflict("this is the only active key; issue a new one before revoking it", code="last_key")
    retailer_store.delete_key(retailer_id, target.key_hash)


def webhook_url(retailer_id: str, source: str, secret: str) -> str:
    url = f"{settings().public_base_url}/v1/webhooks/{source}/{retailer_id}"
    # Shippo signs nothing: its secret travels in the URL we give it.
    return f"{url}?token={secret}" if source == "shippo" else url


def set_integration(retailer_id: str, source: str, secret: str | None) -> tuple[str, str]:
    """Store a source's secret (generating a strong one when none is given); returns (secret, webhook URL)."""
    if source not in SOURCES:
        raise NotFound(f"unknown webhook source {source!r}; use one of: {', '.join(SOURCES)}", code="unknown_source")
    if secret is None:
        secret = secrets.token_urlsafe(32)
    if not isinstance(secret, str) or not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise ValidationError(
            f"secret must be a string of {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters",
            field="secret",
        )
    if source == "shippo" and not secret.replace("-", "").replace("_", "").isalnum():
        raise ValidationError("a Shippo token travels in the URL: use letters, digits, '-' and '_'", field="secret")
    retailer_store.set_integration_secret(retailer_id, source, secret)
    return secret, webhook_url(retailer_id, source, secret)
