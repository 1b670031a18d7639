"""Status webhooks to the retailer: one per change of a shipment's status, to the statuses it subscribed to, and
(opt-in) one `shipment.delayed` when a parcel becomes late.

The outbox kind names the status the shipment reached and the state version that reached it, so every change has
its own item (a shipment can pass through a status twice) and a replayed scan, which changes nothing, adds none.
"""

from __future__ import annotations

from . import milestones as ms
from .notifications import Intent

WEBHOOK = "webhook"
STATUS_CHANGED = "shipment.status_changed"
DELAYED = "shipment.delayed"
TEST = "webhook.test"
PREFIX = "status:"
#: The statuses a retailer gets by default: every status a shipment can move to.
STATUSES: tuple[str, ...] = tuple(status for status in ms.MILESTONES if status != ms.PENDING)
#: What a retailer can subscribe to: the statuses, and `delayed` (opt-in: a separate event type, `shipment.delayed`).
SUBSCRIBABLE: tuple[str, ...] = (*STATUSES, ms.DELAYED, "stalled")  # stalled: `shipment.stalled`, domain.stalls
#: Recorded in a shipment's `notified` once its delay has been posted: one `shipment.delayed` per shipment.
DELAY_POSTED = f"{PREFIX}{ms.DELAYED}"


def kind_for(status: str, version: int) -> str:
    return f"{PREFIX}{status}:{version}"


def parse_kind(kind: str) -> tuple[str, int] | None:
    """(status, version) of a status webhook's outbox kind; None for any other kind."""
    if not kind.startswith(PREFIX):
        return None
    status, _, version = kind.removeprefix(PREFIX).rpartition(":")
    return (status, int(version)) if status in SUBSCRIBABLE and version.isdigit() else None


def plan_status_hook(before: str, after: str, version: int, subscribed: frozenset[str] | None) -> Intent | None:
    """The webhook a change from `before` to `after` calls for, if the retailer subscribed to `after`."""
    if subscribed is None or before == after or after not in subscribed:
        return None
    return Intent(kind_for(after, version), WEBHOOK)


def plan_delay_hook(version: int, notified: frozenset[str], subscribed: frozenset[str] | None) -> Intent | None:
    """The `shipment.delayed` webhook for a parcel that has just become late, once per shipment, if subscribed."""
    if subscribed is None or ms.DELAYED not in subscribed or DELAY_POSTED in notified:
        return None
    return Intent(kind_for(ms.DELAYED, version), WEBHOOK)
