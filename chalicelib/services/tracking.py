"""The shopper's tracking page use cases (DESIGN 3.4): the page and its JSON, the chat and survey on it, proof of
delivery behind the token, the shopper's own choices. The view itself, and its privacy rules, are built in
shared/tracking_view.py (the branding preview builds it too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from msgspec.structs import replace

from ..domain import milestones as ms
from ..domain.events import iso
from ..domain.policy import Recipient, choice_refusal
from ..domain.survey import REASONS
from ..errors import Conflict, NotFound, ValidationError
from ..shared import engagement, stats
from ..shared.delivery_changes import page_view as delivery_change_view
from ..shared.links import tracking_url
from ..shared.planning import is_open
from ..shared.retailer_profile import notification_settings
from ..shared.retries import with_retries
from ..shared.tracking_view import build_view, first_word, https_url, resolve
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.shipments import ShipmentRecord, TrackedShipment
from ..web.i18n import format_moment, status_label, strings


def public_view(token: str, requested_locale: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    record, tracked = resolve(token)
    return _view(record, tracked, requested_locale, now)


def visited_page(
    token: str, requested_locale: str | None, marker: str | None, from_text: bool, now: datetime
) -> dict[str, Any]:
    """The page view, crediting the visit to the message that brought the shopper (once per message, D45)."""
    record, tracked = resolve(token)
    view = _view(record, tracked, requested_locale, now)
    engagement.visited(record, marker, from_text, now)
    return view


def _view(
    record: ShipmentRecord, tracked: TrackedShipment, requested_locale: str | None, now: datetime | None
) -> dict[str, Any]:
    retailer = retailer_store.get(record.retailer_id)
    if retailer is None:
        raise NotFound("no shipment for this tracking link", code="unknown_token")
    view = build_view(
        record, tracked.events, retailer, requested_locale, now or datetime.now(UTC), position=tracked.position
    )
    view["chat"] = chat_view(record, tracked, view["locale"], now or datetime.now(UTC))
    view["survey"] = survey_view(record, tracked)
    linked_views(record, view)
    view["delivery_change"] = delivery_change_view(record, retailer, now or datetime.now(UTC), view["locale"])
    return view


MAX_LINKED = 5


def linked_views(record: ShipmentRecord, view: dict[str, Any]) -> None:
    """A delivery and its returns link to each other's pages (D48): one read per linked shipment, at most
    MAX_LINKED, only for shipments that have them. Their tokens are the same shopper's own links."""
    if record.outbound_id:
        outbound = shipment_store.get(record.outbound_id)
        if outbound is not None and outbound.retailer_id == record.retailer_id:
            view["return_of"] = {"order_id": outbound.order_id, "url": tracking_url(outbound.tracking_token)}
    for return_id in record.return_ids[:MAX_LINKED]:
        linked = shipment_store.get(return_id)
        if linked is not None and linked.retailer_id == record.retailer_id:
            status = linked.progress.status
            words = strings(view["locale"])
            shown = words[f"return_{status}"] if f"return_{status}" in words else status_label(status, view["locale"])
            view["returns"].append(
                {"status": status, "status_label": shown, "url": tracking_url(linked.tracking_token)}
            )


def survey_view(record: ShipmentRecord, tracked: TrackedShipment) -> dict[str, Any] | None:
    """Delivered shipments ask for a rating on the page too; once rated anywhere, the page says thank you."""
    if record.progress.status != ms.DELIVERED:
        return None
    survey = tracked.survey or {}
    return {
        "answered": "score" in survey,
        "score": int(survey["score"]) if "score" in survey else None,
        "follow_up_done": "follow_up_at" in survey,
        "reasons": list(REASONS),
    }


def chat_view(record: ShipmentRecord, tracked: TrackedShipment, locale: str, now: datetime) -> dict[str, Any] | None:
    """The conversation with the driver as the shopper sees it: roles and words, never numbers."""
    if not tracked.relay_open:
        return None

    zone = ZoneInfo((record.customer or {}).get("time_zone") or "UTC")
    driver = first_word((record.progress.driver or {}).get("name")) or strings(locale)["driver"]
    return {
        "open": is_open(record, now),
        "driver_name": driver,
        "messages": [
            {
                "from": item.doc.get("from"),
                "body": item.doc.get("body", ""),
                "media": item.doc.get("media", []),
                "time": format_moment(datetime.fromisoformat(item.created_at), zone, locale),
                "relayed": item.status not in ("not_relayed",),
            }
            for item in tracked.chat
        ],
    }


def proof_media_url(token: str, kind: str) -> str:
    """The carrier's media URL, reachable only by someone holding the token."""
    record, _ = resolve(token)
    pod = record.progress.proof_of_delivery or {}
    url = https_url(pod.get({"photo": "photo_url", "signature": "signature_url"}.get(kind, "")))
    if record.progress.status != ms.DELIVERED or url is None:
        raise NotFound("no such proof of delivery")
    return url


MAX_INSTRUCTIONS = 500
NOTIFY_CHOICES = ("sms", "email", "none")


def save_shopper_choices(token: str, notify: str | None, instructions: str | None, now: datetime) -> None:
    """The shopper's notification choice and delivery instructions, written with the shipment's version check."""
    if notify is not None and notify not in NOTIFY_CHOICES:
        raise ValidationError("notify must be sms, email or none", field="notify", code="invalid_choice")
    if instructions is not None:
        instructions = " ".join(instructions.replace("\r", "").split("\n")).strip()
        if len(instructions) > MAX_INSTRUCTIONS:
            raise ValidationError(
                f"instructions are limited to {MAX_INSTRUCTIONS} characters",
                field="instructions",
                code="instructions_too_long",
            )
    found, _ = resolve(token)
    if notify is not None:
        _check_reachable(found, notify)

    def attempt() -> None:
        current = shipment_store.get(found.id)
        if current is None:
            raise NotFound("no shipment for this tracking link", code="unknown_token")
        shopper = dict(current.shopper or {})
        if notify is not None:
            shopper["notify"] = notify
        if instructions is not None:
            shopper["instructions"] = instructions
            shopper["instructions_updated_at"] = iso(now)
        after = replace(current, shopper=shopper, version=current.version + 1, updated_at=iso(now))
        shipment_store.save(current, after, now=iso(now))

    with_retries(attempt)


def _check_reachable(record: ShipmentRecord, notify: str) -> None:
    """A choice that would leave the shopper hearing nothing (texts without a phone, e-mail without an address, a
    channel the retailer never uses) is refused rather than saved."""
    customer = record.customer or {}
    retailer = retailer_store.get(record.retailer_id)
    config = notification_settings(retailer) if retailer else None
    recipient = Recipient(phone=customer.get("phone"), email=customer.get("email"))
    reason = choice_refusal(notify, recipient, config) if config else None
    if reason:
        raise Conflict(
            {
                "no_phone": "there is no phone number for this shipment to text",
                "no_email": "there is no e-mail address for this shipment",
                "channel_off": f"the retailer sends no notifications by {notify}",
            }[reason],
            field="notify",
            code=reason,
        )


def count_view(view: dict[str, Any]) -> None:
    """One page view in the retailer's daily counters ("where is my order" anxiety, per shipment)."""
    stats.count(view["retailer_id"], datetime.now(UTC), {"views": 1})
