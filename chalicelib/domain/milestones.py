"""The one milestone vocabulary every carrier status is normalised to (DESIGN 3.1)."""

from __future__ import annotations

PENDING = "pending"
PROCESSED = "processed"
SHIPPED = "shipped"
OUT_FOR_DELIVERY = "out_for_delivery"
DELIVERED = "delivered"
AVAILABLE_FOR_PICKUP = "available_for_pickup"
ATTEMPT_FAILED = "attempt_failed"
EXCEPTION = "exception"
RETURNED = "returned"
CANCELLED = "cancelled"

#: A carrier scan whose meaning we cannot tell. It is stored in the timeline but never sets the status.
UNKNOWN = "unknown"

MILESTONES: tuple[str, ...] = (
    PENDING,
    PROCESSED,
    SHIPPED,
    OUT_FOR_DELIVERY,
    DELIVERED,
    AVAILABLE_FOR_PICKUP,
    ATTEMPT_FAILED,
    EXCEPTION,
    RETURNED,
    CANCELLED,
)
SCAN_STATUSES = frozenset(MILESTONES) - {PENDING} | {UNKNOWN}

#: `delayed` is a notification kind, not a status (ETA slipped or a carrier delay detail).
DELAYED = "delayed"

#: Terminal milestones stay until a later-timed event says otherwise.
TERMINAL = frozenset({DELIVERED, RETURNED, CANCELLED})

#: Milestones a shopper is told about, and the exception-style notification kinds.
NOTIFYING = frozenset(
    {
        PROCESSED,
        SHIPPED,
        OUT_FOR_DELIVERY,
        DELIVERED,
        AVAILABLE_FOR_PICKUP,
        ATTEMPT_FAILED,
        EXCEPTION,
        RETURNED,
    }
)

#: How far along the journey a milestone is; breaks ties between scans stamped with the same instant.
PROGRESS_RANK: dict[str, int] = {
    PENDING: 0,
    PROCESSED: 1,
    SHIPPED: 2,
    EXCEPTION: 3,
    ATTEMPT_FAILED: 4,
    OUT_FOR_DELIVERY: 5,
    AVAILABLE_FOR_PICKUP: 6,
    DELIVERED: 7,
    RETURNED: 8,
    CANCELLED: 9,
    UNKNOWN: -1,
}

LABELS: dict[str, str] = {
    PENDING: "Order received",
    PROCESSED: "Processed",
    SHIPPED: "Shipped",
    OUT_FOR_DELIVERY: "Out for delivery",
    DELIVERED: "Arrived",
    AVAILABLE_FOR_PICKUP: "Ready for pickup",
    ATTEMPT_FAILED: "Delivery attempt failed",
    EXCEPTION: "Delivery problem",
    RETURNED: "Returned to sender",
    CANCELLED: "Cancelled",
    UNKNOWN: "Update",
}


def label(status: str) -> str:
    return LABELS.get(status, status.replace("_", " ").capitalize())
