"""What the delivery-change use case shares with the tracking page and the webhook ingest (D47): the rules a
shipment is under now, the page's view of them, the one-time code's secret, and an answer applied to a record
with the notice it calls for (planned in the caller's one transaction)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from ..config import settings
from ..domain import delivery_changes as dc
from ..domain.events import iso
from ..domain.notifications import EMAIL, SMS, Intent
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from ..web.i18n import format_day
from .retailer_profile import change_rules, settings_document, shopper_recipient, shopper_zone

#: Outbox kinds: `change:<id>:code` (the one-time code), `change:<id>:hook` (the retailer's webhook),
#: `change:<id>:outcome` (the shopper told the answer).
PREFIX = dc.OUTBOX_PREFIX
CODE, HOOK, OUTCOME = "code", "hook", "outcome"
WEBHOOK = "webhook"
EVENT = "shipment.delivery_change_requested"


def outbox_kind(change_id: str, what: str) -> str:
    return f"{PREFIX}{change_id}:{what}"


def parse_kind(kind: str) -> tuple[str, str] | None:
    change_id, _, what = kind.removeprefix(PREFIX).rpartition(":")
    return (change_id, what) if kind.startswith(PREFIX) and change_id and what in (CODE, HOOK, OUTCOME) else None


def code_secret() -> bytes:
    """The key codes are derived and hashed with: CHANGE_CODE_SECRET, else one derived from the admin key (so a
    table read alone never yields a code)."""
    config = settings()
    if config.change_code_secret:
        return config.change_code_secret.encode()
    return hashlib.sha256(f"porchlight-change-codes:{config.admin_api_key}".encode()).digest()


def delivery_day(record: ShipmentRecord, retailer: Retailer | None) -> date | None:
    """The day the parcel is expected, in the shopper's zone: the carrier's ETA, else the promised date."""
    start = (record.progress.eta or {}).get("start")
    if start:
        try:
            return datetime.fromisoformat(start).astimezone(shopper_zone(record.customer, retailer)).date()
        except ValueError:
            pass
    if record.promised_date:
        try:
            return date.fromisoformat(record.promised_date[:10])
        except ValueError:
            return None
    return None


def situation(
    record: ShipmentRecord, retailer: Retailer, now: datetime
) -> tuple[dc.CarrierRules, date | None, datetime]:
    """The rules for this parcel's carrier, its delivery day and the shopper's local time."""
    local = now.astimezone(shopper_zone(record.customer, retailer))
    rules = dc.with_carrier_options(change_rules(retailer, record.carrier), record.change_options)
    return rules, delivery_day(record, retailer), local


def page_view(record: ShipmentRecord, retailer: Retailer, now: datetime, locale: str = "en") -> dict[str, Any] | None:
    """The page's form (only what may be asked now) and the shopper's latest request; None when nothing is offered
    and nothing was ever asked."""
    rules, day, local = situation(record, retailer, now)
    latest = dc.current(list(record.delivery_changes))
    shown = None
    if latest is not None:
        status = latest["status"]
        if status == dc.AWAITING_CODE and now >= datetime.fromisoformat(latest["code_expires_at"]):
            status = dc.EXPIRED
        shown = {**dc.public(latest), "status": status}
        if latest.get("details", {}).get("date"):
            shown["day_label"] = format_day(date.fromisoformat(latest["details"]["date"]), locale)
    offered = dc.offered_now(rules, record.progress.status, day, local) if record.claimed else ()
    if not rules.kinds and shown is None:
        return None
    busy = shown is not None and shown["status"] in dc.OPEN
    return {
        "offered": [] if busy else list(offered),
        "blocked": dc.blocked(rules, record.progress.status, day, local) if rules.kinds else None,
        "needs_code": sorted(kind for kind in offered if rules.needs_code(kind)),
        "windows": list(rules.windows),
        "days": [
            {"value": later.isoformat(), "label": format_day(later, locale)}
            for later in dc.reschedule_days(rules, day, local.date())
        ],
        "safe_places": list(rules.safe_places),
        "pickup_points": [{"id": p["id"], "name": p.get("name") or p["id"]} for p in rules.pickup_points],
        "request": shown,
    }


def outcome_channel(record: ShipmentRecord) -> str | None:
    """The one channel the shopper hears the answer by: their own choice, else a text if they agreed to texts,
    else e-mail; None when there is no way to reach them."""
    recipient = shopper_recipient(record.customer, record.shopper, record.destination)
    if recipient.preferred == "none":
        return None
    if recipient.preferred in (SMS, EMAIL):
        return recipient.preferred
    if recipient.phone and recipient.sms_consent:
        return SMS
    if recipient.email:
        return EMAIL
    return SMS if recipient.phone else None


def code_channel(record: ShipmentRecord) -> str | None:
    """Where the one-time code goes: the shopper's phone on file, else their e-mail (never anything typed on the
    page); None when there is neither (nothing is sent, and the page says the same as when something is)."""
    customer = record.customer or {}
    if customer.get("phone"):
        return SMS
    if customer.get("email"):
        return EMAIL
    return None


def hook_intent(record: ShipmentRecord, retailer: Retailer | None, change_id: str) -> list[Intent]:
    """The signed `shipment.delivery_change_requested` call, when the retailer has a webhook endpoint."""
    if retailer is None or "outbound" not in retailer.integrations:
        return []
    if not settings_document(retailer)["webhooks"].get("url"):
        return []
    return [Intent(outbox_kind(change_id, HOOK), WEBHOOK)]


def apply_answer(
    record: ShipmentRecord, change_id: str, status: str, note: str | None, by: str, now: datetime
) -> tuple[dc.Answer, tuple[dict[str, Any], ...], list[Intent]]:
    """An answer applied to the record's requests (the caller writes them in its own transaction, with the state's
    version) and the shopper's notice it calls for, once: the notice's outbox key names the request, so a replay
    can never plan it again."""
    result, changes = dc.answer(list(record.delivery_changes), change_id, status, note, by, iso(now))
    if result.outcome != "applied":
        return result, record.delivery_changes, []
    channel = outcome_channel(record)
    intents = [Intent(outbox_kind(change_id, OUTCOME), channel)] if channel else []
    return result, tuple(changes), intents
