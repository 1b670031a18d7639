"""Retailer bootstrap, API-key authentication and webhook integrations."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from ..carriers import SOURCES
from ..config import settings
from ..domain.events import iso
from ..errors import NotFound, Unauthorized, ValidationError
from ..store import retailers as retailer_store
from ..store.retailers import Retailer

API_KEY_PREFIX = "pl_"
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 256


@dataclass(frozen=True)
class NewRetailer:
    retailer: Retailer
    api_key: str


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


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
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    retailer_store.create(retailer, hash_api_key(api_key), api_key[:10])
    return NewRetailer(retailer=retailer, api_key=api_key)


def authenticate(api_key: str | None) -> str:
    """The retailer id a bearer key belongs to; only the key's hash is ever stored or looked up."""
    if not api_key or not api_key.startswith(API_KEY_PREFIX) or len(api_key) > 200:
        raise Unauthorized("a valid API key is required (Authorization: Bearer <key>)")
    retailer_id = retailer_store.retailer_id_for_key(hash_api_key(api_key))
    if retailer_id is None:
        raise Unauthorized("a valid API key is required (Authorization: Bearer <key>)")
    return retailer_id


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
