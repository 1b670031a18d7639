"""Optimistic concurrency for every use case that writes a shipment: re-read and re-apply within one budget."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import Busy
from ..observability import metric
from ..store.shipments import VersionConflict

#: How long one request keeps re-reading and re-applying a write that lost a race: inside API Gateway's 29 s and the
#: Lambda's 30 s with 9 s to spare for the rest of the request, and longer than 48 concurrent scans on one parcel take
#: to land one after another against the embedded moto server on a loaded machine (about 16 s; DynamoDB: ~1 s).
WRITE_BUDGET_SECONDS = 20.0
MAX_BACKOFF_SECONDS = 0.25
#: What a sender is told to wait when the budget is spent (503 + Retry-After): long enough for a burst to pass.
BUSY_RETRY_AFTER_SECONDS = 2
T = TypeVar("T")


def write_deadline() -> float:
    """When a request's write budget ends (time.monotonic); one per request, shared by all its writes."""
    return time.monotonic() + WRITE_BUDGET_SECONDS


def with_retries(operation: Callable[[], T], deadline: float | None = None) -> T:
    """Optimistic concurrency: re-read and re-apply when another writer won the version race (or held an item in a
    transaction), with jittered exponential backoff, until the request's write budget (`deadline`) is spent. Then
    503 with Retry-After: an answer carriers retry, where a 409 is one many treat as final."""
    deadline = write_deadline() if deadline is None else deadline
    attempt = 0
    while True:
        try:
            return operation()
        except VersionConflict:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # Full jitter, exponential: n writers racing on one shipment finish in about n rounds.
            pause = random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.005 * 2**attempt))  # noqa: S311
            time.sleep(min(pause, left))
            attempt += 1
    metric("WriteBudgetSpent")
    raise Busy(
        "the shipment is being updated by many writers at once; retry shortly",
        retry_after=BUSY_RETRY_AFTER_SECONDS,
        code="write_conflict",
    )
