"""The delivery Lambda: DynamoDB stream records of new outbox items, delivered with the shared service code."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ..composition import deliver
from ..observability import set_correlation_id
from ..shared import stats
from ..store.notifications import PENDING, OutboxKey

logger = logging.getLogger("porchlight.stream")


def outbox_key_of(record: dict[str, Any]) -> OutboxKey | None:
    """The outbox item a stream record announces, if it is one waiting to be sent."""
    if record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    image = record.get("dynamodb", {}).get("NewImage") or {}
    sk = image.get("sk", {}).get("S", "")
    if not sk.startswith("OUTBOX#") or image.get("status", {}).get("S") != PENDING:
        return None
    _, kind, channel = sk.split("#", 2)
    return OutboxKey(image["pk"]["S"].removeprefix("SHIP#"), kind, channel)


def handle_stream_batch(event: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Partial batch response: only records that failed are retried (and go to the DLQ after the retries). Each
    record's log lines carry its own stream event id as correlation id."""
    failures = []
    with stats.added_up():  # one counter update per retailer for the batch
        for record in event.get("Records", []):
            sequence = record.get("dynamodb", {}).get("SequenceNumber", "")
            set_correlation_id(record.get("eventID") or sequence)
            try:
                key = outbox_key_of(record)
                if key is None:
                    continue
                outcome = deliver(key, now or datetime.now(UTC))
            except Exception:
                logger.exception("stream delivery failed", extra={"sequence_number": sequence})
                failures.append({"itemIdentifier": sequence})
                continue
            logger.info("stream record delivered", extra={"kind": key.kind, "channel": key.channel, "outcome": outcome})
    return {"batchItemFailures": failures}
