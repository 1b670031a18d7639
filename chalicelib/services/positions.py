"""Driver positions from carriers and fleets: `POST /v1/webhooks/native/{retailer_id}/positions` (DESIGN 3.8).

Signed exactly like native scans (same secret, header and raw body). Every position is validated before any is
kept, so a bad batch stores nothing; the rest is shared/live.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import Struct

from ..carriers import native
from ..errors import PayloadTooLarge
from ..shared.live import Recorded, record_positions
from ..shared.signatures import verify_for_retailer

MAX_BODY_BYTES = 1024 * 1024


class PositionBatch(Struct, frozen=True):
    retailer_id: str
    raw_body: bytes
    headers: Any
    query: Any


def handle_positions(batch: PositionBatch, now: datetime) -> Recorded:
    """Size, signature, then every item, then the writes: nothing is kept from a batch that fails any check."""
    if len(batch.raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
    verify_for_retailer(
        native.verify, native.SOURCE, batch.retailer_id, batch.raw_body, batch.headers, batch.query, now
    )
    positions = native.parse_positions(batch.raw_body, now)
    return record_positions(batch.retailer_id, positions, now)
