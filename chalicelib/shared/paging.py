"""Opaque cursors for listings read from the `by_retailer` index, each bound to one listing: a DynamoDB start key
(a listing in one partition), or the sort key a sharded listing's page ended at (store.listings, D42)."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import ValidationError

#: Longer than any sort key we write (a time, ids and names of a few dozen characters each).
_MAX_POSITION = 512


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


def encode_position(after: str | None, listing: str) -> str | None:
    """The cursor of a sharded listing's next page: the sort key this page ended at, bound to the listing."""
    return encode_cursor({"retailer_index": {"S": listing}, "after": after}) if after is not None else None


def decode_position(cursor: str | None, listing: str) -> str | None:
    """The sort key a sharded listing's cursor resumes after. A cursor issued before the listing was sharded (the
    start key of its one partition, which carries that sort key) resumes at the same place."""
    start = decode_cursor(cursor, listing)
    if start is None:
        return None
    after = start["after"] if "after" in start else (start.get("retailer_sort") or {}).get("S")
    if not isinstance(after, str) or not after or len(after) > _MAX_POSITION:
        raise ValidationError("cursor is not valid", field="cursor")
    return after
