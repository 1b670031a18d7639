"""Analytics page sign-in: an API key opens a server-side session; the browser holds only the session's random id.

The id (256 random bits) is stored as its SHA-256, so a read of the table yields no usable cookie. Each use reads
the session and then the key it was opened with, strongly consistent: signing out, revoking the key or the key's
retirement after a rotation ends the session at once, with nothing to clean up (TTL removes the item later).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from ..domain.events import iso
from ..errors import Unauthorized
from ..shared.api_keys import authenticate, hash_api_key
from ..store import retailers as retailer_store
from ..store import sessions as session_store
from ..store.sessions import Session

SESSION_LIFETIME = timedelta(hours=8)
MAX_SESSION_ID_LENGTH = 64


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _usable(session_id: str | None) -> bool:
    return bool(session_id) and len(session_id or "") <= MAX_SESSION_ID_LENGTH


def sign_in(api_key: str | None, now: datetime) -> str:
    """A new session for the key's retailer (Unauthorized for a bad key); returns the id, shown only to the browser."""
    retailer_id = authenticate(api_key, now)
    session_id = secrets.token_urlsafe(32)
    session = Session(
        retailer_id=retailer_id,
        key_hash=hash_api_key(api_key or ""),
        created_at=iso(now),
        expires_at=int((now + SESSION_LIFETIME).timestamp()),
    )
    session_store.create(_hash(session_id), session)
    return session_id


def retailer_for(session_id: str | None, now: datetime) -> str:
    """The retailer a live session belongs to; Unauthorized when it is unknown, signed out, expired, or its key was
    revoked or retired."""
    session = session_store.get(_hash(session_id or "")) if _usable(session_id) else None
    if session is None or session.expires_at <= now.timestamp():
        raise Unauthorized("sign in again: this session has ended")
    if retailer_store.retailer_id_for_key(session.key_hash, now.timestamp()) != session.retailer_id:
        raise Unauthorized("sign in again: the API key of this session is no longer valid")
    return session.retailer_id


def sign_out(session_id: str | None) -> None:
    if _usable(session_id):
        session_store.delete(_hash(session_id or ""))
