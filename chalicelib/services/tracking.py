"""The shopper's view of a shipment (DESIGN 3.4): what the tracking page and its JSON show, and nothing more.

Privacy rules live here, in one place: first names only, no phone numbers, e-mails or street addresses, places at
city level, carrier-written text redacted (domain.redaction), proof-of-delivery media only behind the token.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..domain import milestones as ms
from ..domain.carrier_names import display_name
from ..domain.events import TrackingEvent, is_news_for_shopper, iso
from ..domain.lateness import is_silent, promise_broken
from ..errors import NotFound
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord, TrackedShipment
from ..web.i18n import format_day, format_moment

if TYPE_CHECKING:
    from ..domain.redaction import Redactor

from .retailer_profile import brand, notification_settings, shopper_zone, silent_after_days

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STEPS = (ms.PROCESSED, ms.SHIPPED, ms.OUT_FOR_DELIVERY, ms.DELIVERED)
STEP_REACHED = {
    ms.PENDING: -1,
    ms.PROCESSED: 0,
    ms.SHIPPED: 1,
    ms.EXCEPTION: 1,
    ms.RETURNED: 1,
    ms.CANCELLED: -1,
    ms.ATTEMPT_FAILED: 2,
    ms.OUT_FOR_DELIVERY: 2,
    ms.AVAILABLE_FOR_PICKUP: 2,
    ms.DELIVERED: 3,
}
BANNERS = {ms.ATTEMPT_FAILED, ms.AVAILABLE_FOR_PICKUP, ms.RETURNED, ms.EXCEPTION, ms.CANCELLED}
CARRIER_LINKS = {
    "ups": "https://www.ups.com/track?tracknum={tn}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={tn}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={tn}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={tn}",
    "dhlexpress": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={tn}",
    "dhlecommerce": "https://webtrack.dhlecs.com/?trackingnumber={tn}",
    "canadapost": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{tn}",
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{tn}",
    "ontrac": "https://www.ontrac.com/tracking/?number={tn}",
}


def first_word(value: Any) -> str:
    """A first name (or initial) only: never a surname on a public page. Carriers that write 'GARCIA, MARIA' put
    the given name after the comma."""
    text = str(value or "")
    if "," in text:
        family, _, given = text.partition(",")
        text = given if given.strip() else family
    words = text.split()
    return words[0] if words else ""


def shopper_redactor(record: ShipmentRecord, events: list[TrackingEvent]) -> Redactor:
    # Imported here, not at the top: its patterns compile on import, and webhooks import this module too.
    from ..domain.redaction import Redactor

    """Whose details carrier text must not show: the shopper's name, street, phone and e-mail, and whoever signed.
    Built from what the view already read (no storage call)."""
    recipients = {
        str(pod.get("recipient_name"))
        for pod in [record.progress.proof_of_delivery, *(event.proof_of_delivery for event in events)]
        if pod and pod.get("recipient_name")
    }
    customer = record.customer or {}
    return Redactor.for_shipment(
        customer.get("name"),
        record.destination,
        sorted(recipients),
        phone=customer.get("phone"),
        email=customer.get("email"),
    )


def _place(event: TrackingEvent, redactor: Redactor) -> str:
    if not event.location:
        return ""
    parts = [event.location.city, event.location.region, event.location.country]  # never the postal code
    # Some carriers write a street into the city field ("Oderweg 2, AMSTERDAM"): the redactor keeps the town.
    place = redactor.place(", ".join(p for p in parts if p))
    return ", ".join(p.title() if p.isupper() and len(p) > 3 else p for p in place.split(", ") if p)


def resolve(token: str) -> tuple[ShipmentRecord, TrackedShipment]:
    if not TOKEN_PATTERN.match(token or ""):
        raise NotFound("no shipment for this tracking link", code="unknown_token")
    tracked = shipment_store.find_by_token(token)
    if tracked.record is None:
        raise NotFound("no shipment for this tracking link", code="unknown_token")
    return tracked.record, tracked


def public_view(token: str, requested_locale: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    record, tracked = resolve(token)
    retailer = retailer_store.get(record.retailer_id)
    if retailer is None:
        raise NotFound("no shipment for this tracking link", code="unknown_token")
    view = build_view(record, tracked.events, retailer, requested_locale, now or datetime.now(UTC))
    view["chat"] = chat_view(record, tracked, view["locale"], now or datetime.now(UTC))
    view["survey"] = survey_view(record, tracked)
    return view


def survey_view(record: ShipmentRecord, tracked: TrackedShipment) -> dict[str, Any] | None:
    """Delivered shipments ask for a rating on the page too; once rated anywhere, the page says thank you."""
    from ..domain.survey import REASONS

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
    from ..web.i18n import strings
    from .relay import is_open

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


def build_view(
    record: ShipmentRecord,
    events: list[TrackingEvent],
    retailer: Retailer,
    requested_locale: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything the page shows, from values only (the branding preview feeds it sample data)."""
    from ..domain.notifications import EMAIL, SMS
    from ..domain.policy import Recipient, choice_refusal
    from ..web.i18n import strings
    from ..web.templating import format_eta, resolve_locale

    brand_values = brand(retailer)
    customer = record.customer or {}
    reachable = Recipient(phone=customer.get("phone"), email=customer.get("email"))
    channel_config = notification_settings(retailer)
    locale = resolve_locale(requested_locale, customer.get("locale"), brand_values.get("default_locale"))
    words = strings(locale)
    zone = shopper_zone(customer, retailer)
    progress = record.progress
    status = progress.status
    reached = STEP_REACHED.get(status, -1)
    from ..web.i18n import status_label

    redactor = shopper_redactor(record, events)
    view: dict[str, Any] = {
        "token": record.tracking_token,
        "locale": locale,
        "status": status,
        "status_label": status_label(status, locale),
        "active": status not in ms.TERMINAL,
        "steps": [
            {
                "key": step,
                "label": status_label(step, locale),
                "state": "done"
                if index < reached or (index == reached == 3)
                else "current"
                if index == reached
                else "todo",
            }
            for index, step in enumerate(STEPS)
        ],
        "banner": None,
        "eta": None,
        "promised": None,
        "delivered_at": None,
        "order_id": record.order_id,
        "items": [
            {k: item[k] for k in ("name", "quantity", "image_url") if item.get(k) is not None}
            for item in (record.items or [])
        ],
        "carrier": record.carrier,
        "carrier_name": display_name(record.carrier),
        "carrier_url": CARRIER_LINKS[record.carrier].format(tn=record.tracking_number)
        if record.carrier in CARRIER_LINKS
        else None,
        "tracking_number": record.tracking_number,
        "events": [
            {
                "status": event.status,
                "label": status_label(event.status, locale),
                "description": redactor.text(event.description),
                "place": _place(event, redactor),
                "occurred_at": iso(event.occurred_at),
                "time": format_moment(event.occurred_at, zone, locale, wall_clock=event.time_zone_unknown),
            }
            for event in reversed(events)
            if is_news_for_shopper(event)
        ],
        "proof_of_delivery": None,
        "driver": None,
        "chat": None,
        "survey": None,
        "retailer": {
            "name": brand_values["display_name"],
            "logo_url": brand_values.get("logo_url"),
            "message": brand_values.get("message"),
            "support_email": brand_values.get("support_email"),
            "support_phone": brand_values.get("support_phone"),
            "support_url": brand_values.get("support_url"),
        },
        "shopper": {
            "first_name": first_word(customer.get("name")),
            "notify": (record.shopper or {}).get("notify"),
            "instructions": (record.shopper or {}).get("instructions") or "",
            # only the choices that can reach the shopper are offered (the form refuses the others too)
            "can_text": choice_refusal(SMS, reachable, channel_config) is None,
            "can_email": choice_refusal(EMAIL, reachable, channel_config) is None,
        },
        "updated_at": record.updated_at,
        "time_zone": str(zone),
        "retailer_id": record.retailer_id,
    }
    late = now is not None and (
        promise_broken(record.promised_date, status, now, zone) or is_silent(progress, silent_after_days(retailer), now)
    )
    if status in BANNERS or ((progress.latest_delayed or late) and status not in ms.TERMINAL):
        kind = status if status in BANNERS else ms.DELAYED
        view["banner"] = {"kind": kind, "text": words[f"next_{kind}"]}
    if progress.eta and status != ms.DELIVERED:
        view["eta"] = {"text": format_eta(progress.eta, zone, locale), **progress.eta}
    elif record.promised_date and status not in ms.TERMINAL:
        promised = date.fromisoformat(str(record.promised_date)[:10])
        view["promised"] = format_day(promised, locale)
    if status == ms.DELIVERED and progress.status_key:
        view["delivered_at"] = format_moment(datetime.fromisoformat(progress.status_key[0]), zone, locale)
    pod = progress.proof_of_delivery or {}
    if pod and status == ms.DELIVERED:
        view["proof_of_delivery"] = {
            "recipient_name": first_word(pod.get("recipient_name")),
            "note": redactor.text(pod.get("note")),
            "photo": bool(_https(pod.get("photo_url"))),
            "signature": bool(_https(pod.get("signature_url"))),
        }
    if progress.driver and status == ms.OUT_FOR_DELIVERY:
        view["driver"] = {"name": first_word(progress.driver.get("name"))}
    view["colors"] = {
        "primary": brand_values["primary_color"],
        "on_primary": brand_values["text_on_primary"],
        "accent": brand_values["accent_color"],
        "on_accent": brand_values["text_on_accent"],
        "link": brand_values["link_color"],
        "graphic": brand_values["graphic_color"],
        "accent_graphic": brand_values["accent_graphic_color"],
        "font_stack": brand_values["font_stack"],
    }
    return view


def _https(url: Any) -> str | None:
    return url if isinstance(url, str) and url.startswith("https://") else None


def proof_media_url(token: str, kind: str) -> str:
    """The carrier's media URL, reachable only by someone holding the token."""
    record, _ = resolve(token)
    pod = record.progress.proof_of_delivery or {}
    url = _https(pod.get({"photo": "photo_url", "signature": "signature_url"}.get(kind, "")))
    if record.progress.status != ms.DELIVERED or url is None:
        raise NotFound("no such proof of delivery")
    return url


MAX_INSTRUCTIONS = 500
NOTIFY_CHOICES = ("sms", "email", "none")


def save_shopper_choices(token: str, notify: str | None, instructions: str | None, now: datetime) -> None:
    """The shopper's notification choice and delivery instructions, written with the shipment's version check."""
    from dataclasses import replace

    from ..errors import ValidationError
    from .shipments import with_retries

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
    from ..domain.policy import Recipient, choice_refusal
    from ..errors import Conflict

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
    from . import stats

    stats.count(view["retailer_id"], datetime.now(UTC), {"views": 1})
