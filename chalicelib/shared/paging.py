"""Opaque cursors for listings read from the `by_retailer` index: a DynamoDB start key, bound to one listing."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import ValidationError


def encode_cursor(start_key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(start_key).encode()).decode() if start_key else None


def decode_cursor(cursor: str | None, listing: str) -> dict[str, Any] | None:
    """The start key a cursor carries, refused unless it came from this listing (another retailer's, say)."""
    if not cursor:
        return None
    try:
        start = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not valid", field="cursor") from exc
    if not isinstance(start, dict) or (start.get("retailer_index") or {}).get("S") != listing:
        raise ValidationError("cursor is not valid", field="cursor")
    return start
