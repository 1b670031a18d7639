"""The shopper's view of a shipment (DESIGN 3.4) as values: what the tracking page and its JSON show, and nothing
more; built for the tracking use case and for the branding preview (which feeds it sample data).

Privacy rules live here, in one place: first names only, no phone numbers, e-mails or street addresses, places at
city level, carrier-written text redacted (domain.redaction), proof-of-delivery media only behind the token.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..domain import live as live_rules
from ..domain import milestones as ms
from ..domain import pickup as pickup_rules
from ..domain import returns as return_rules
from ..domain.carrier_names import display_name
from ..domain.events import TrackingEvent, is_news_for_shopper, iso
from ..domain.lateness import is_silent, promise_broken
from ..domain.live import StoredPosition
from ..domain.notifications import EMAIL, SMS, eta_slipped
from ..domain.policy import Recipient, choice_refusal
from ..domain.promise import current_eta
from ..errors import NotFound
from ..store import shipments as shipment_store
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord, TrackedShipment
from ..web.i18n import format_clock, format_day, format_moment, status_label, strings
from .retailer_profile import (
    brand,
    live_position_mode,
    notification_settings,
    pickup_settings,
    shopper_zone,
    silent_after_days,
)

if TYPE_CHECKING:
    from ..domain.redaction import Redactor


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
    """Whose details carrier text must not show: the shopper's name, street, phone and e-mail, and whoever signed.
    Built from what the view already read (no storage call)."""
    # domain.redaction: its patterns compile on import (~10 ms), and the webhook path imports this module too.
    from ..domain.redaction import Redactor

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


def destination_area(destination: dict[str, Any] | None) -> dict[str, float] | None:
    """Where the parcel goes as an area (2 decimals, about 1 km), never the address; None when not given."""
    destination = destination or {}
    lat, lng = destination.get("lat"), destination.get("lng")
    if not live_rules.valid_coordinates(lat, lng):
        return None
    assert isinstance(lat, int | float) and isinstance(lng, int | float)  # what valid_coordinates checked
    return {"lat": round(float(lat), live_rules.AREA_DECIMALS), "lng": round(float(lng), live_rules.AREA_DECIMALS)}


def live_summary(stops: int | None, arrival: str | None, words: dict[str, str]) -> str:
    """ "3 stops before yours, arriving about 14:20" in the shopper's words, or the part of it that is known."""
    if stops is None:
        stop_text = ""
    elif stops == 0:
        stop_text = words["live_next"]
    elif stops == 1:
        stop_text = words["live_stops_one"]
    else:
        stop_text = words["live_stops"].format(count=stops)
    if arrival and stop_text:
        return f"{stop_text}, {words['live_arriving'].format(time=arrival)}"
    if arrival:
        return words["live_arriving_alone"].format(time=arrival)
    return stop_text


def live_block(
    record: ShipmentRecord,
    position: StoredPosition | None,
    retailer: Retailer,
    locale: str,
    zone: ZoneInfo,
    now: datetime,
) -> dict[str, Any] | None:
    """The `live` block (DESIGN 3.8) with the page's words: only while out for delivery."""
    progress = record.progress
    carrier_eta = current_eta(progress.status, progress.status_at, progress.eta, zone)
    live = live_rules.live_view(progress.status, position, live_position_mode(retailer), carrier_eta, now)
    if live is None:
        return None
    eta = live["eta"]
    moment = live_rules.arrival_moment(eta, zone)
    # "arriving about 18:28" at 20:28 would be false: a time already past is not shown (the stops still are)
    arrival = format_clock(moment, zone, locale) if moment is not None and moment > now else None
    if eta and arrival:
        live["eta"] = {**eta, "clock": arrival}
    live["destination_area"] = destination_area(record.destination)
    live["summary"] = live_summary(live["stops_before"], arrival, strings(locale))
    return live


def build_view(
    record: ShipmentRecord,
    events: list[TrackingEvent],
    retailer: Retailer,
    requested_locale: str | None = None,
    now: datetime | None = None,
    position: StoredPosition | None = None,
) -> dict[str, Any]:
    """Everything the page shows, from values only (the branding preview feeds it sample data)."""
    # jinja2 (via web.templating): off the webhook path, which imports this module too.
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
    steps = return_rules.STEPS if record.is_return else STEPS
    if record.is_return:
        reached = steps.index(status) if status in steps else (-1 if status in (ms.PENDING, ms.CANCELLED) else 1)

    def label(key: str) -> str:
        """A return's steps in its own words (label created, on its way, received), else the milestone's."""
        if record.is_return and key in return_rules.STEPS:
            return words[f"return_{key}"]
        return status_label(key, locale)

    redactor = shopper_redactor(record, events)
    view: dict[str, Any] = {
        "token": record.tracking_token,
        "locale": locale,
        "status": status,
        "status_label": label(status),
        "active": status not in ms.TERMINAL,
        "direction": record.direction,
        "return_of": None,
        "returns": [],
        "steps": [
            {
                "key": step,
                "label": label(step),
                "state": "done"
                if index < reached or (index == reached == len(steps) - 1)
                else "current"
                if index == reached
                else "todo",
            }
            for index, step in enumerate(steps)
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
                "label": label(event.status),
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
    # the same causes analytics count a parcel late for (D21): the carrier said so, its ETA is after the promise,
    # the promise passed, or no news for too long
    late = eta_slipped(progress.eta, record.promised_date) or (
        now is not None
        and (
            promise_broken(record.promised_date, status, now, zone)
            or is_silent(progress, silent_after_days(retailer), now)
        )
    )
    if status in BANNERS or ((progress.latest_delayed or late) and status not in ms.TERMINAL):
        kind = status if status in BANNERS else ms.DELAYED
        view["banner"] = {"kind": kind, "text": words[f"next_{kind}"]}
    eta = current_eta(status, progress.status_at, progress.eta, zone)
    if eta:
        view["eta"] = {"text": format_eta(eta, zone, locale), **eta}
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
            "photo": bool(https_url(pod.get("photo_url"))),
            "signature": bool(https_url(pod.get("signature_url"))),
        }
    view["pickup"] = pickup_block(record, retailer, locale, zone, redactor)
    if status == ms.RETURNED and ms.AVAILABLE_FOR_PICKUP in record.notified and view["banner"]:
        view["banner"]["text"] = words["next_uncollected"]
    if progress.driver and status == ms.OUT_FOR_DELIVERY:
        view["driver"] = {"name": first_word(progress.driver.get("name"))}
    view["live"] = live_block(record, position, retailer, locale, zone, now or datetime.now(UTC))
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


def pickup_block(
    record: ShipmentRecord, retailer: Retailer, locale: str, zone: ZoneInfo, redactor: Redactor
) -> dict[str, Any] | None:
    """Where a waiting parcel can be collected and until when (D48), while it waits: the point's name, area,
    opening hours and public address only; whether a code exists, never the code (services.pickup reveals it)."""
    progress = record.progress
    if progress.status != ms.AVAILABLE_FOR_PICKUP:
        return None
    facts = pickup_rules.public_facts(progress.pickup) or {
        "name": None,
        "area": None,
        "address": None,
        "opening_hours": None,
        "has_code": False,
    }
    hold_days, _ = pickup_settings(retailer)
    until = pickup_rules.deadline(progress.pickup, progress.status_at, hold_days)
    note = (progress.pickup or {}).get("note")
    return {
        **facts,
        # Carrier text, like scan descriptions: the shopper's own details never show (DESIGN 3.4).
        "name": redactor.text(facts["name"]) if facts["name"] else None,
        "area": redactor.text(facts["area"]) if facts["area"] else None,
        "note": redactor.text(note) if note else None,
        "until": until,
        "until_text": format_moment(datetime.fromisoformat(until), zone, locale) if until else None,
    }


def https_url(url: Any) -> str | None:
    return url if isinstance(url, str) and url.startswith("https://") else None
