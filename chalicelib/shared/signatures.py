"""Verifying a signed webhook against the retailer's secret for its source: scans and driver positions alike."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from ..errors import InvalidSignature
from ..store import retailers as retailer_store


class Verifier(Protocol):
    def __call__(
        self, raw_body: bytes, headers: Mapping[str, str], query: Mapping[str, str], secret: str, now: float
    ) -> None: ...


def verify_for_retailer(
    verify: Verifier,
    source: str,
    retailer_id: str,
    raw_body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    now: datetime,
) -> None:
    """Unknown retailer and bad signature get the same answer, so ids cannot be probed: without a secret the request
    is checked against one nobody holds, and fails for the same reason (missing header, stale timestamp, mismatch)
    a known retailer's would."""
    denied = InvalidSignature("signature verification failed")
    for fresh in (False, True):  # a cached profile may predate a rotated secret: retry once from the table
        retailer = retailer_store.get(retailer_id, fresh=fresh)
        secret = retailer.integrations.get(source) if retailer else None
        try:
            verify(raw_body, headers, query, secret or _NOBODYS_SECRET, now.timestamp())
        except InvalidSignature as exc:
            denied = InvalidSignature(f"signature verification failed: {exc.message}")
            continue
        if secret is not None:
            return
    raise denied


#: Drawn per process and never stored or sent: a signature made with it cannot exist.
_NOBODYS_SECRET = secrets.token_urlsafe(32)
