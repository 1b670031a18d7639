"""Carrier webhooks that were accepted but yielded no scan, kept for the retailer to see (DESIGN 3.1).

One item per such delivery, written only then (the normal path writes nothing here), listed newest first through
the `by_retailer` index and expired by TTL like everything else.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .models import IgnoredWebhook, ttl
from .table import index_page

#: Ignored deliveries are a diagnosis aid, not a record: a month is enough to notice a misconfigured source.
KEEP_DAYS = 30


def listing(retailer_id: str) -> str:
    """The `by_retailer` partition of a retailer's ignored webhook deliveries."""
    return f"WEBHOOKS#{retailer_id}#ignored"


def record(retailer_id: str, source: str, raw_body: bytes, reasons: list[dict[str, str]], stamp: str) -> None:
    """One item for one ignored delivery; the same body again at the same moment is the same item."""
    digest = hashlib.sha256(raw_body).hexdigest()[:16]
    sort = f"{stamp}#{digest}"
    IgnoredWebhook(
        f"RETAILER#{retailer_id}",
        f"IGNORED#{sort}",
        retailer_index=listing(retailer_id),
        retailer_sort=sort,
        source=source,
        received_at=stamp,
        reasons=reasons,
        body_sha256=digest,
        expires_at=ttl(stamp, KEEP_DAYS),
    ).save()


def page(
    retailer_id: str, start: dict[str, Any] | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of the retailer's ignored deliveries, newest first."""
    return index_page(listing(retailer_id), start, limit, newest_first=True)
