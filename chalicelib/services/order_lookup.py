"""A shopper without the tracking link finds their order by its number and the e-mail or phone they ordered with.

One query of the order's partition answers both "which shipments" and "how many failed guesses this hour"; a match
costs one batch read more. A wrong guess and an unknown order get the same answer, so neither can be probed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.events import iso
from ..domain.lookup import MAX_FAILED_LOOKUPS, matches, typed_contact_digest
from ..errors import NotFound, TooManyRequests
from ..observability import metric
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.retailers import Retailer
from .retailer_profile import brand
from .shipments import tracking_url
from .tracking import CARRIER_NAMES

MAX_RETAILER_ID_LENGTH = 64


def _store(retailer_id: str) -> Retailer:
    """The retailer whose orders are looked up; an unknown one is a 404 like an unknown tracking link."""
    retailer = retailer_store.get(retailer_id) if 0 < len(retailer_id) <= MAX_RETAILER_ID_LENGTH else None
    if retailer is None:
        raise NotFound("no such store", field="retailer_id", code="unknown_retailer")
    return retailer


def retailer_brand(retailer_id: str) -> dict[str, Any]:
    """The brand the lookup page wears."""
    values = brand(_store(retailer_id))
    return {
        "name": values["display_name"],
        "logo_url": values.get("logo_url"),
        "default_locale": values.get("default_locale"),
        "support_url": values.get("support_url"),
        "support_email": values.get("support_email"),
        "colors": {
            "primary": values["primary_color"],
            "on_primary": values["text_on_primary"],
            "graphic": values["graphic_color"],
            "font_stack": values["font_stack"],
        },
    }


def find_order(
    retailer_id: str, order_id: str, contact: str, now: datetime, locale: str = "en"
) -> list[dict[str, Any]]:
    """The order's shipments, newest first, when `contact` is the e-mail or phone it was registered with."""
    from ..web.i18n import status_label

    _store(retailer_id)
    stamp = iso(now)
    found = shipment_store.order_entries(retailer_id, order_id, stamp)
    if found.failed_this_hour >= MAX_FAILED_LOOKUPS:
        metric("OrderLookups", outcome="locked")
        raise TooManyRequests(
            "too many attempts for this order number; try again in an hour, or use the link in your text or e-mail",
            field="order_id",
            code="too_many_attempts",
        )
    typed = typed_contact_digest(retailer_id, contact)
    ids = [shipment_id for shipment_id, _token, digests in found.entries if matches(typed, digests)]
    records = [r for r in shipment_store.get_many(ids) if r.retailer_id == retailer_id and r.claimed] if ids else []
    if not records:
        shipment_store.count_failed_lookup(retailer_id, order_id, stamp)
        metric("OrderLookups", outcome="not_found")
        raise NotFound(
            "no order with this number and this e-mail or phone number", field="order_id", code="order_not_found"
        )
    records.sort(key=lambda record: record.created_at, reverse=True)
    metric("OrderLookups", outcome="found")
    return [
        {
            "tracking_token": record.tracking_token,
            "tracking_url": tracking_url(record.tracking_token),
            "order_id": record.order_id,
            "status": record.progress.status,
            "status_label": status_label(record.progress.status, locale),
            "carrier": record.carrier,
            "carrier_name": CARRIER_NAMES.get(record.carrier, record.carrier.upper()),
            "tracking_number": record.tracking_number,
            "last_event_at": record.progress.last_event_at,
        }
        for record in records
    ]
