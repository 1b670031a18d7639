"""Work that runs on a clock: every minute in AWS, every few seconds in the local runtime."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from ..composition import deliver_due

logger = logging.getLogger("porchlight.scheduler")

#: Left of the Lambda's time when the scheduler stops starting batches: a batch in flight must finish.
SAFETY_SECONDS = 25.0
#: Sends in flight in the scheduled Lambda: provider calls are network-bound, so threads multiply throughput.
LAMBDA_WORKERS = 8
BATCH_PER_WORKER = 2


def run_scheduled_work(
    now: datetime | None = None,
    *,
    seconds_left: float | None = None,
    workers: int = 1,
    slice_seconds: float | None = None,
) -> dict[str, Any]:
    """Deliver what is due; with `seconds_left` (the Lambda's remaining time) it stops in time to finish cleanly,
    with `slice_seconds` it starts no batch after that long (the local drainer, so that Ctrl-C is never kept
    waiting behind a backlog: the next round carries on)."""
    deadline = None if seconds_left is None else time.monotonic() + max(0.0, seconds_left - SAFETY_SECONDS)
    if slice_seconds is not None:
        deadline = time.monotonic() + slice_seconds
    # Small batches with many workers: even a batch of provider timeouts ends well inside the safety margin.
    limit = 100 if workers == 1 else BATCH_PER_WORKER * workers
    outcomes = deliver_due(now or datetime.now(UTC), limit, deadline=deadline, workers=workers)
    if outcomes:
        logger.info("scheduled deliveries", extra={"deliveries": outcomes})
    return {"deliveries": outcomes}
