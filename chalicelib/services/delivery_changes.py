"""Shopper-requested delivery changes (DESIGN 3.9, D47): asked on the tracking page, guarded by a one-time code
when they send the parcel elsewhere, posted to the retailer, answered by the retailer (API) or the carrier (a native
event, applied by ingest through shared.delivery_changes), and told to the shopper once.

Each step is one read and one conditional transaction of the shipment: the request lives in the shipment's state,
its outbox items (code, webhook, notice) and the open-request listing entry are written with it.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from msgspec.structs import replace

from ..channels.outbound import send_email, send_text
from ..domain import delivery_changes as dc
from ..domain.events import iso
from ..domain.notifications import SMS, Intent
from ..domain.policy import DEFER, SKIP, decide
from ..errors import Conflict, NotFound, TooManyRequests, ValidationError
from ..shared import delivery_changes as shared
from ..shared.links import unsubscribe_url
from ..shared.messages import message_context
from ..shared.outbound_webhooks import post_signed, shipment_event, signing_secrets
from ..shared.paging import decode_cursor, encode_cursor
from ..shared.retailer_profile import brand, notification_settings, settings_document
from ..shared.retries import with_retries
from ..shared.sending import recipient_of, shopper_email
from ..shared.tracking_view import resolve
from ..store import contacts
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.notifications import OutboxItem
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord, VersionConflict

logger = logging.getLogger("porchlight.delivery_changes")


def _retailer_of(record: ShipmentRecord) -> Retailer:
    retailer = retailer_store.get(record.retailer_id)
    if retailer is None:
        raise NotFound("no shipment for this tracking link", code="unknown_token")
    return retailer


def _save(first: ShipmentRecord, change: Any) -> Any:
    """Apply `change(record) -> (after, intents, result)` to the state read first, then, after a lost race, to a
    fresh read: one read (the page's token query) and one transaction when nobody else writes."""
    current: list[ShipmentRecord | None] = [first]

    def attempt() -> Any:
        record = current[0]
        if record is None:
            record = shipment_store.get(first.id)
            if record is None:
                raise NotFound("no shipment for this tracking link", code="unknown_token")
        after, intents, result = change(record)
        if after is not record:
            try:
                shipment_store.save(record, after, intents=intents, now=after.updated_at)
            except VersionConflict:
                current[0] = None
                raise
        return result

    return with_retries(attempt)


def _refused(error: dc.ChangeRefused) -> Exception:
    if error.code == "invalid_change":
        return ValidationError(error.message, field=error.field, code=error.code)
    return Conflict(error.message, field=error.field, code=error.code)


def request_from_page(token: str, kind: str, form: dict[str, str], now: datetime) -> dict[str, Any]:
    """A shopper's request. Refusals: 400 `invalid_change`, 409 `not_offered` / `finished` / `out_for_delivery` /
    `past_cutoff` / `change_pending`, 429 `too_many_codes`. An address-changing one waits for its code."""
    found, _ = resolve(token)
    retailer = _retailer_of(found)
    if not found.claimed:
        raise Conflict("delivery changes are not offered for this parcel", code="not_offered")

    def change(record: ShipmentRecord) -> tuple[ShipmentRecord, list[Intent], dict[str, Any]]:
        rules, day, local = shared.situation(record, retailer, now)
        try:
            details = dc.checked_request(rules, kind, form, record.progress.status, day, local)
        except dc.ChangeRefused as error:
            raise _refused(error) from error
        changes = list(record.delivery_changes)
        if dc.open_change(changes) is not None:
            raise Conflict("a change is already waiting for an answer", code="change_pending")
        change_id = f"chg_{secrets.token_hex(6)}"
        base: dict[str, Any] = {"id": change_id, "kind": kind, "details": details, "requested_at": iso(now)}
        intents: list[Intent] = []
        if rules.needs_code(kind):
            if dc.codes_sent(changes) >= dc.MAX_CODES_PER_SHIPMENT:
                raise TooManyRequests(
                    "too many codes were asked for this parcel: contact the store", code="too_many_codes"
                )
            nonce = secrets.token_hex(8)
            code = dc.code_for(shared.code_secret(), change_id, nonce)
            entry = {
                **base,
                "status": dc.AWAITING_CODE,
                "code_sent": True,
                "code_nonce": nonce,
                "code_digest": dc.code_digest(shared.code_secret(), change_id, code),
                "code_expires_at": iso(now + dc.CODE_TTL),
                "code_attempts": 0,
            }
            channel = shared.code_channel(record)
            if channel:  # with no contact on file nothing is sent, and the page says the same thing
                intents.append(Intent(shared.outbox_kind(change_id, shared.CODE), channel))
        else:
            entry = {**base, "status": dc.PENDING}
            intents += shared.hook_intent(record, retailer, change_id)
        if changes and changes[-1]["status"] == dc.AWAITING_CODE:
            changes[-1] = {**changes[-1], "status": dc.EXPIRED}  # a new request replaces an unfinished one
        after = replace(record, delivery_changes=(*changes, entry), version=record.version + 1, updated_at=iso(now))
        return after, intents, dc.public(entry)

    result: dict[str, Any] = _save(found, change)
    return result


def enter_code(token: str, code: str, now: datetime) -> dict[str, Any]:
    """The shopper's code for their latest request. A wrong one: 400 `wrong_code`; the fifth wrong one, or any once
    locked: 429 `code_locked`; too late: 400 `code_expired`. Nothing says where the code went."""
    found, _ = resolve(token)
    retailer = _retailer_of(found)
    secret = shared.code_secret()

    def change(record: ShipmentRecord) -> tuple[ShipmentRecord, list[Intent], dc.CodeCheck]:
        changes = list(record.delivery_changes)
        latest = dc.current(changes)
        if latest is None:
            raise Conflict("there is no change waiting for a code", code="no_code_expected")
        if latest["status"] == dc.LOCKED:
            return record, [], dc.CodeCheck(dc.LOCKED, latest)
        checked = dc.check_code(secret, latest, code[:40], now)
        if checked.outcome == "not_awaiting":
            raise Conflict("there is no change waiting for a code", code="no_code_expected")
        intents = shared.hook_intent(record, retailer, latest["id"]) if checked.outcome == "ok" else []
        changes[-1] = checked.change
        after = replace(record, delivery_changes=tuple(changes), version=record.version + 1, updated_at=iso(now))
        return after, intents, checked

    checked: dc.CodeCheck = _save(found, change)
    if checked.outcome == "wrong":
        raise ValidationError("that code is not right: check it and try again", field="code", code="wrong_code")
    if checked.outcome == dc.LOCKED:
        raise TooManyRequests("too many wrong codes: ask for the change again", field="code", code="code_locked")
    if checked.outcome == dc.EXPIRED:
        raise ValidationError("that code has expired: ask for the change again", field="code", code="code_expired")
    return dc.public(checked.change)


def answer(retailer_id: str, shipment_id: str, change_id: str, status: str, note: str | None, now: datetime) -> Any:
    """The retailer's answer. A replay of the same answer: 200, nothing done; an unknown request: 404
    `unknown_change`; the opposite of a given answer, or an answer before the shopper's code: 409."""
    found = shipment_store.get(shipment_id)
    if found is None or found.retailer_id != retailer_id or not found.claimed:
        raise NotFound("shipment not found")

    def change(record: ShipmentRecord) -> tuple[ShipmentRecord, list[Intent], dc.Answer]:
        result, changes, intents = shared.apply_answer(record, change_id, status, note, "retailer", now)
        if result.outcome != "applied":
            return record, [], result
        after = replace(record, delivery_changes=changes, version=record.version + 1, updated_at=iso(now))
        return after, intents, result

    result: dc.Answer = _save(found, change)
    if result.outcome == "unknown":
        raise NotFound("no such delivery change for this shipment", field="change_id", code="unknown_change")
    if result.outcome == "conflict":
        raise Conflict(
            f"this change was already {result.change['status'] if result.change else 'answered'}",
            code="already_answered",
        )
    if result.outcome == "not_open":
        raise Conflict("this change is not waiting for an answer", code="change_not_open")
    assert result.change is not None
    return {"shipment_id": shipment_id, "replayed": result.outcome == "replayed", "change": dc.public(result.change)}


def list_open(retailer_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
    """Requests awaiting the retailer's or carrier's answer, oldest first (cursor paging)."""
    listing = shipment_store.open_changes_listing(retailer_id)
    records, end = shipment_store.list_open_changes(retailer_id, decode_cursor(cursor, listing), limit)
    items = []
    for record in records:
        pending = dc.open_change(list(record.delivery_changes))
        if pending is not None:
            items.append(_listed(record, pending))
    return {"delivery_changes": items, "next_cursor": encode_cursor(end)}


def _listed(record: ShipmentRecord, change: dict[str, Any]) -> dict[str, Any]:
    return {
        "shipment_id": record.id,
        "order_id": record.order_id,
        "carrier": record.carrier,
        "tracking_number": record.tracking_number,
        "change": dc.public(change),
    }


# Delivery of the outbox items (composition.OUTBOX_ROUTES hands them here).


def deliver(item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    parsed = shared.parse_kind(item.kind)
    change = next((c for c in record.delivery_changes if parsed and c.get("id") == parsed[0]), None)
    if parsed is None or change is None:
        return outbox.SKIPPED, {"reason": "unknown_change"}
    what = parsed[1]
    if what == shared.HOOK:
        return _post_hook(record, retailer, change, item, now)
    if what == shared.CODE:
        return _send_code(item, record, retailer, change, now)
    return _send_outcome(item, record, retailer, change, now)


def requested_payload(record: ShipmentRecord, change: dict[str, Any], created_at: str) -> dict[str, Any]:
    """The `shipment.delivery_change_requested` event: the request (kind, details, status) and the shipment."""
    details = {"status": record.progress.status, "change": {**dc.public(change), "status": dc.PENDING}}
    return shipment_event(record, shared.EVENT, f"{record.id}:{change['id']}", created_at, details)


def _post_hook(
    record: ShipmentRecord, retailer: Retailer, change: dict[str, Any], item: OutboxItem, now: datetime
) -> tuple[str, dict[str, Any]]:
    url = settings_document(retailer)["webhooks"].get("url")
    keys = signing_secrets(retailer, now)
    if not url or not keys:
        return outbox.SKIPPED, {"reason": "no_webhook_configured"}
    payload = requested_payload(record, change, item.created_at)
    answered = post_signed(url, keys, payload, payload["id"])
    return outbox.SENT, {"provider": "webhook", "reason": f"HTTP {answered}"}


def _locale(record: ShipmentRecord, retailer: Retailer) -> str:
    # jinja2 (via web.templating): only sending a text or an e-mail renders
    from ..web.templating import resolve_locale

    return resolve_locale((record.customer or {}).get("locale"), brand(retailer).get("default_locale"))


def _send_code(
    item: OutboxItem, record: ShipmentRecord, retailer: Retailer, change: dict[str, Any], now: datetime
) -> tuple[str, dict[str, Any]]:
    """The code goes at once (the shopper is waiting on the page), to the contact on file; it is never kept."""
    if change.get("status") != dc.AWAITING_CODE or now >= datetime.fromisoformat(change["code_expires_at"]):
        return outbox.SKIPPED, {"reason": "code_no_longer_needed"}
    recipient = replace(recipient_of(record), preferred=None)  # asked for just now, whatever updates they chose
    decision = decide(
        dc.CODE_KIND,
        item.channel,
        recipient,
        notification_settings(retailer),
        opted_out=False,
        suppressed=False,
        now=now,
    )
    if decision.action == SKIP:
        return outbox.SKIPPED, {"reason": decision.reason}
    code = dc.code_for(shared.code_secret(), change["id"], change["code_nonce"])
    return _send(item, record, retailer, "delivery_change_code", {"code": code}, now, preview=False)


def _send_outcome(
    item: OutboxItem, record: ShipmentRecord, retailer: Retailer, change: dict[str, Any], now: datetime
) -> tuple[str, dict[str, Any]]:
    """The answer, once, through the shopper policy (consent, opt-outs, quiet hours: deferred, never dropped)."""
    if change.get("status") not in dc.ANSWERS:
        return outbox.SKIPPED, {"reason": "not_answered"}
    recipient = recipient_of(record)
    config = notification_settings(retailer)
    opted_out = (
        item.channel == SMS and bool(recipient.phone) and contacts.is_opted_out(recipient.phone or "", retailer.id)
    )
    suppressed = (
        item.channel != SMS and bool(recipient.email) and contacts.is_suppressed(recipient.email or "", retailer.id)
    )
    decision = decide(
        dc.NOTICE_KIND, item.channel, recipient, config, opted_out=opted_out, suppressed=suppressed, now=now
    )
    if decision.action == SKIP:
        return outbox.SKIPPED, {"reason": decision.reason}
    if decision.action == DEFER:
        return outbox.DEFERRED, {"reason": decision.reason, "not_before": decision.not_before}
    block = f"delivery_change_{change['status']}"
    return _send(item, record, retailer, block, {"note": change.get("note") or ""}, now, preview=True)


def _send(
    item: OutboxItem,
    record: ShipmentRecord,
    retailer: Retailer,
    block: str,
    extra: dict[str, Any],
    now: datetime,
    *,
    preview: bool,
) -> tuple[str, dict[str, Any]]:
    # jinja2 (via web.templating): only sending a text or an e-mail renders
    from ..web.templating import render_email, render_sms

    locale = _locale(record, retailer)
    recipient = recipient_of(record)
    if item.channel == SMS:
        if not recipient.phone:
            return outbox.SKIPPED, {"reason": "no_phone"}
        context = {**message_context(record, retailer, locale), **extra}
        sms = render_sms(block, locale, context, None)
        result = send_text(recipient.phone, sms.body, now)
        shown = {"body": sms.body, "locale": locale} if preview else {"locale": locale}
    else:
        if not recipient.email:
            return outbox.SKIPPED, {"reason": "no_email"}
        unsubscribe = unsubscribe_url(item, retailer, recipient.email, now, locale)
        context = {**message_context(record, retailer, locale, unsubscribe), **extra}
        email = render_email(block, locale, context, None)
        mail = shopper_email(record, retailer, block, recipient.email, email, context["retailer"], unsubscribe)
        result = send_email(mail, now)
        shown = {"subject": email.subject, "locale": locale}
    return outbox.SENT, {"provider": result.provider, "provider_message_id": result.message_id, "preview": shown}
