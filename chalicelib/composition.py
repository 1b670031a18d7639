"""Where use cases meet: the one table saying which use case delivers which outbox kind, built once at import.

services.deliver claims, retries and records every outbox item but imports no other use case; this module, above
services/, hands it the table (`OUTBOX_ROUTES`). Only the delivering entry points import it (workers/, the local
drainer through workers.scheduler): the API Lambda never does, so its cold start carries none of this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .domain import hooks
from .domain.delivery_changes import OUTBOX_PREFIX as CHANGE_PREFIX
from .domain.notifications import CHECK_PREFIX
from .domain.relay import CHAT_OPENED, RELAY_OPEN
from .domain.stalls import WATCH as STALL_WATCH
from .domain.survey import COMMENT_PREFIX, ESCALATION, SURVEY
from .services import deliver as delivery
from .services import delivery_changes, lateness, relay, retailer_webhooks, stalls, surveys
from .services.deliver import OutboxRoutes
from .store.notifications import OutboxItem, OutboxKey
from .store.retailers import Retailer
from .store.shipments import ShipmentRecord

Outcome = tuple[str, dict[str, Any]]


def _open_relay(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Outcome:
    return relay.open_session(record, retailer, now)


def _tell_driver_chat_opened(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Outcome:
    return relay.tell_driver_chat_opened(record, retailer, now)


def _relay_chat(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Outcome:
    return relay.deliver_chat(item, record, now)


def _escalate(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Outcome:
    return surveys.deliver_escalation(record, retailer, now)


def _watch_stall(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Outcome:
    return stalls.watch(item, record, retailer, now)


def _run_check(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> Outcome:
    return lateness.run_check(item.key.kind, record.id, retailer, now)


OUTBOX_ROUTES = OutboxRoutes(
    kinds={
        RELAY_OPEN: _open_relay,
        CHAT_OPENED: _tell_driver_chat_opened,
        ESCALATION: _escalate,
        STALL_WATCH: _watch_stall,  # before the late checks' prefix, which its kind shares
    },
    prefixes=(
        (COMMENT_PREFIX, surveys.deliver_comment_added),
        (CHECK_PREFIX, _run_check),
        (hooks.PREFIX, retailer_webhooks.deliver_status_change),
        (CHANGE_PREFIX, delivery_changes.deliver),  # code, retailer webhook and notice of a shopper's change
    ),
    otherwise=_relay_chat,
    senders={SURVEY: surveys.send_survey},
    holds={SURVEY: surveys.due_after_arrival_text},
)


def deliver(key: OutboxKey, now: datetime) -> str:
    """One outbox item (a stream record announced it), through the table."""
    return delivery.deliver(key, now, OUTBOX_ROUTES)


def deliver_due(now: datetime, limit: int = 100, *, deadline: float | None = None, workers: int = 1) -> dict[str, int]:
    """Everything whose time has come (services.deliver.deliver_due), through the table."""
    return delivery.deliver_due(now, OUTBOX_ROUTES, limit, deadline=deadline, workers=workers)
