"""Work that runs on a clock: every minute in AWS, every few seconds in the local runtime."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .deliver import deliver_due


def run_scheduled_work(now: datetime | None = None) -> dict[str, Any]:
    return {"deliveries": deliver_due(now or datetime.now(UTC))}
