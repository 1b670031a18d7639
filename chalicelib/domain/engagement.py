"""Engagement with the messages shoppers get (D45): what happened to each notification kind on each channel.

Counted once per message, as things happen, into the day counters as `eng:<kind>:<channel>:<metric>`: a message
is one outbox item (shipment, kind, channel), so "opened" is the number of messages opened at least once, however
many open events SendGrid sends or re-sends. Pure: the names, the link marker and the report's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .notifications import EMAIL, SMS
from .policy import SHOPPER_MESSAGE_KINDS

PREFIX = "eng:"
#: The kinds engagement is kept for: every message about the parcel (milestones, the survey invitation, "driver is
#: close", pickup reminders, return steps, a delivery change's outcome).
KINDS: tuple[str, ...] = SHOPPER_MESSAGE_KINDS
CHANNELS: tuple[str, ...] = (SMS, EMAIL)
SENT, DELIVERED, FAILED = "sent", "delivered", "failed"
OPENED, MACHINE_OPENED, CLICKED, VISITED = "opened", "machine_opened", "clicked", "visited"
UNSUBSCRIBED, SPAM_REPORTED, STOPPED = "unsubscribed", "spam_reported", "stopped"
#: Every metric, in the order the page and the CSV show them. `failed` includes bounces.
METRICS: tuple[str, ...] = (
    SENT,
    DELIVERED,
    FAILED,
    OPENED,
    MACHINE_OPENED,
    CLICKED,
    VISITED,
    UNSUBSCRIBED,
    SPAM_REPORTED,
    STOPPED,
)
#: Provider outcomes (store.notifications statuses) that count as one of the metrics above.
OUTCOMES = {"sent": SENT, "delivered": DELIVERED, "failed": FAILED, "bounced": FAILED}
#: The query parameter the e-mail's tracking link carries: `?m=<kind>`.
MARKER = "m"
#: A built-in text's link ends in `?s` (two characters: the worst-case text has three to spare in its one GSM-7
#: segment, no room for a kind): a visit with it is credited to the last text the shipment's phone got.
FROM_TEXT = "s"


def counter(kind: str, channel: str, metric: str) -> str | None:
    """The day-counter name, or None for a kind or channel engagement is not kept for (webhooks, chat, checks)."""
    if kind not in KINDS or channel not in CHANNELS or metric not in METRICS:
        return None
    return f"{PREFIX}{kind}:{channel}:{metric}"


def marked_link(url: str, kind: str) -> str:
    """The tracking link of an e-mail about `kind`, marked so the visit it brings is credited to that e-mail."""
    return f"{url}?{MARKER}={kind}" if kind in KINDS else url


def text_link(url: str) -> str:
    """The tracking link of a built-in text, marked as followed from a text."""
    return f"{url}?{FROM_TEXT}"


def kind_of_marker(value: str | None) -> str | None:
    """The kind a visit's marker names, or None for a missing or unknown one (never trusted beyond the list)."""
    return value if value in KINDS else None


def _rate(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def rows(totals: Mapping[str, float]) -> list[dict[str, Any]]:
    """One row per kind and channel that had any activity, from the summed day counters: counts and rates.

    Rates are per message sent (delivered, visited, unsubscribed/stopped), and opened/clicked per delivered e-mail
    (as e-mail tools report them), None where there is nothing to divide by or the channel has no such event."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for name, value in totals.items():
        if not name.startswith(PREFIX):
            continue
        kind, channel, metric = [*name.removeprefix(PREFIX).split(":", 2), "", ""][:3]
        if kind in KINDS and channel in CHANNELS and metric in METRICS:
            found.setdefault((kind, channel), dict.fromkeys(METRICS, 0))[metric] += int(value)
    order = {kind: n for n, kind in enumerate(KINDS)}
    result = []
    for (kind, channel), counts in sorted(found.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        sent, delivered = counts[SENT], counts[DELIVERED]
        email = channel == EMAIL
        result.append(
            {
                "kind": kind,
                "channel": channel,
                **counts,
                "delivery_rate": _rate(delivered, sent),
                "open_rate": _rate(counts[OPENED], delivered) if email else None,
                "click_rate": _rate(counts[CLICKED], delivered) if email else None,
                "visit_rate": _rate(counts[VISITED], sent),
                "opt_out_rate": _rate(counts[UNSUBSCRIBED] + counts[SPAM_REPORTED] + counts[STOPPED], sent),
            }
        )
    return result
