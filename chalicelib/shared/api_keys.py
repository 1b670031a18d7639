"""Retailer API keys: what is stored of one (its hash) and which retailer a bearer key belongs to."""

from __future__ import annotations

import hashlib
from datetime import datetime

from ..errors import Unauthorized
from ..store import retailers as retailer_store

API_KEY_PREFIX = "pl_"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def authenticate(api_key: str | None, now: datetime) -> str:
    """The retailer id a bearer key belongs to; only the key's hash is ever stored or looked up."""
    if not api_key or not api_key.startswith(API_KEY_PREFIX) or len(api_key) > 200:
        raise Unauthorized("a valid API key is required (Authorization: Bearer <key>)")
    retailer_id = retailer_store.retailer_id_for_key(hash_api_key(api_key), now.timestamp())
    if retailer_id is None:
        raise Unauthorized("a valid API key is required (Authorization: Bearer <key>)")
    return retailer_id
