"""The values every shopper message template is rendered with (notifications, surveys, template previews)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import milestones as ms
from ..domain import pickup as pickup_rules
from ..domain.carrier_names import display_name
from ..domain.notifications import delay_reason
from ..domain.policy import zone_for
from ..domain.promise import current_eta
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from ..web.i18n import format_day, status_label
from .links import tracking_url
from .retailer_profile import brand, notification_settings, pickup_settings
from .sending import recipient_of


def message_context(
    record: ShipmentRecord, retailer: Retailer, locale: str, unsubscribe_url: str = ""
) -> dict[str, Any]:
    # jinja2 (via web.templating): only sending and previews need it, and the API's cold start imports this module.
    from ..web.templating import format_eta, opt_out_text

    brand_values = brand(retailer)
    customer = record.customer or {}
    zone = zone_for(recipient_of(record), notification_settings(retailer))
    delivered = record.progress.status == ms.DELIVERED
    where, until = pickup_words(record, retailer, locale, zone)
    return {
        "retailer": brand_values["display_name"],
        "order_id": record.order_id or record.tracking_number,
        "first_name": (customer.get("name") or "").split(" ")[0] or "there",
        "status_label": status_label(record.progress.status, locale),  # the shopper's words, not the API's (D38)
        "eta": format_eta(
            current_eta(record.progress.status, record.progress.status_at, record.progress.eta, zone), zone, locale
        ),
        "tracking_url": tracking_url(record.tracking_token),
        "carrier": display_name(record.carrier),
        "tracking_number": record.tracking_number,
        "support_phone": brand_values.get("support_phone") or "",
        "support_email": brand_values.get("support_email") or "",
        "opt_out": opt_out_text(locale),
        "brand": brand_values,
        "locale": locale,
        "unsubscribe_url": unsubscribe_url,
        "delay_reason": delay_reason(record.progress, record.promised_date, record.notified),
        "delivery_note": delivery_note(record) if delivered else "",
        # Where and until when a parcel waits for collection (D48); the code is never in a notification.
        "pickup_name": where,
        "pickup_until": until,
        # It went back to the sender after waiting at a pickup point: the returned message says it was not collected.
        "uncollected": record.progress.status == ms.RETURNED and ms.AVAILABLE_FOR_PICKUP in record.notified,
    }


def delivery_note(record: ShipmentRecord) -> str:
    """The carrier's note on the proof of delivery ("Left at front door"), redacted like on the tracking page
    (DESIGN 3.4); without its closing full stop, which the template writes."""
    pod = record.progress.proof_of_delivery or {}
    if not pod.get("note"):
        return ""
    # domain.redaction compiles its patterns on import (~4 ms): only a message quoting carrier text needs them.
    from ..domain.redaction import Redactor

    customer = record.customer or {}
    redactor = Redactor.for_shipment(
        customer.get("name"),
        record.destination,
        [pod.get("recipient_name")],
        phone=customer.get("phone"),
        email=customer.get("email"),
    )
    return redactor.text(pod.get("note")).rstrip(" .")


PICKUP_NAME_CHARS = 40


def pickup_words(record: ShipmentRecord, retailer: Retailer, locale: str, zone: Any) -> tuple[str, str]:
    """The pickup point's name (shortened) and its deadline as a day in the shopper's words, or empty strings."""
    progress = record.progress
    pickup = progress.pickup or {}
    if progress.status != ms.AVAILABLE_FOR_PICKUP and not pickup:
        return "", ""
    hold_days, _ = pickup_settings(retailer)
    until = pickup_rules.deadline(pickup, progress.status_at, hold_days) if progress.status_at else None
    day = format_day(datetime.fromisoformat(until).astimezone(zone).date(), locale) if until else ""
    return str(pickup.get("name") or "")[:PICKUP_NAME_CHARS], day
