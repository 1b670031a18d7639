"""Messages kept as they were: every text a shopper sends us, and what the local outbox captured instead of sending."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from ..domain.events import iso
from .models import DevOutboxMessage, InboundText, ttl
from .table import dumps

DEV_OUTBOX = "DEVOUTBOX"


def keep_inbound(
    phone: str, message_sid: str, retailer_id: str | None, to: str, content: dict[str, Any], now: datetime
) -> None:
    """One text from `phone` (its body, media and what was done with it), kept for the retention period."""
    InboundText(
        f"INBOUND#{phone}",
        f"{now.isoformat(timespec='seconds')}#{message_sid}",
        retailer_id=retailer_id or "",
        to=to,
        doc=dumps(content),
        expires_at=ttl(now.isoformat()),
    ).save()


def keep_dev_message(kind: str, message_id: str, payload: dict[str, Any], now: datetime, keep_days: int) -> None:
    DevOutboxMessage(
        DEV_OUTBOX,
        f"{iso(now)}#{message_id}",
        kind=kind,
        doc=dumps(payload),
        expires_at=now + timedelta(days=keep_days),
    ).save()


def recent_dev_messages(limit: int) -> list[dict[str, Any]]:
    """The newest messages the local outbox kept, newest first (one query)."""
    return [
        {"kind": kept.kind, "at": kept.sk.split("#", 1)[0], **json.loads(kept.doc)}
        for kept in DevOutboxMessage.query(DEV_OUTBOX, scan_index_forward=False, limit=limit)
    ]
