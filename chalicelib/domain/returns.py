"""Returns (issue 18, D48): a shipment the shopper sends back, registered with `direction: "return"`.

Its scans use the one milestone vocabulary (DESIGN 3.1) and read as the return's own steps: `processed` is the
return label created, the first `shipped` scan is the drop-off (the carrier has it) and later ones are in transit,
`delivered` is the return received by the retailer. The shopper is told at the steps the retailer enables
(`returns.notify`), each once, in words of their own (outbox kinds `return_*`, never the delivery's texts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import milestones as ms
from .notifications import RETURN_MILESTONE, Contact, Intent, channels_for

OUTBOUND, RETURN = "outbound", "return"
DIRECTIONS = (OUTBOUND, RETURN)
#: The return's steps, by the milestone that marks them, and the outbox kind that tells the shopper.
MILESTONE_OF: dict[str, str] = RETURN_MILESTONE
KINDS: dict[str, str] = {milestone: kind for kind, milestone in MILESTONE_OF.items()}
NOTIFIABLE: tuple[str, ...] = tuple(KINDS)
DEFAULT_NOTIFY: tuple[str, ...] = (ms.PROCESSED, ms.SHIPPED, ms.DELIVERED)
#: The return's steps as the tracking page draws them.
STEPS: tuple[str, ...] = (ms.PROCESSED, ms.SHIPPED, ms.DELIVERED)
ORDER: tuple[str, ...] = (ms.PROCESSED, ms.SHIPPED, ms.DELIVERED)


def is_return_kind(kind: str) -> bool:
    return kind in MILESTONE_OF


def plan(
    before_status: str,
    after_status: str,
    notified: frozenset[str],
    contact: Contact | None,
    notify: Iterable[str],
    enabled: Mapping[str, frozenset[str]] | None = None,
) -> list[Intent]:
    """The one return message this change calls for: the step reached now, if the retailer enables it, not told
    before, and no later step told already (a late-arriving drop-off scan after "received" says nothing)."""
    kind = KINDS.get(after_status)
    if contact is None or kind is None or after_status == before_status or after_status not in set(notify):
        return []
    later = ORDER[ORDER.index(after_status) + 1 :]
    if kind in notified or any(KINDS[step] in notified for step in later):
        return []
    del enabled  # return messages have no per-kind channel switch: every channel the shopper can be reached by
    return [Intent(kind, channel) for channel in channels_for(contact)]
