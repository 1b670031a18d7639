"""A shopper without the tracking link finds their order by its number and the e-mail or phone they ordered with.

Every lookup first takes an attempt in three counters (per contact typed, per client address, per store) with an
atomic ADD and is decided on the counts it gets back, so parallel guesses cannot all slip under a limit; then one
query of the order's partition says which shipments it has and one batch read fetches the states of those the
contact matches. A hit or a refusal gives its attempt back, so only misses stay counted. A wrong guess and an
unknown order get the same answer, so neither can be probed; a sender over a limit gets 429 whatever it typed, so a
refused guess teaches nothing (D25).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..domain import lookup as rules
from ..domain.carrier_names import display_name
from ..domain.lookup import matches, typed_contact_digest
from ..errors import NotFound, TooManyRequests
from ..observability import metric
from ..shared.links import tracking_url
from ..shared.retailer_profile import brand
from ..store import limits as limit_store
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.retailers import Retailer
from ..web.i18n import status_label

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
    retailer_id: str, order_id: str, contact: str, client: str, now: datetime, locale: str = "en"
) -> list[dict[str, Any]]:
    """The order's shipments, newest first, when `contact` is the e-mail or phone it was registered with.

    `client` is the address the request came from. Misses are counted against it, the contact typed and the store;
    the order number itself is never locked, so strangers guessing at it cannot shut its shopper out.
    """
    _store(retailer_id)
    subjects = {
        rules.CLIENT: rules.client_scope(client),
        rules.CONTACT: f"{retailer_id}#{rules.contact_scope(retailer_id, contact)}",
        rules.RETAILER: retailer_id,
    }
    hour, expires_at = rules.window(now), int((now + timedelta(hours=2)).timestamp())
    counts = limit_store.take_attempt(subjects, hour, expires_at)
    # The counts include this attempt: it may go on while the misses before it are under every limit.
    refused = rules.refused_by({scope: count - 1 for scope, count in counts.items()}, rules.LIMITS)
    if refused is not None:
        limit_store.give_back(subjects, hour, expires_at)
        metric("OrderLookups", outcome="throttled", scope=refused)
        raise TooManyRequests(
            "too many attempts; try again later, or use the link in your text or e-mail",
            field="contact" if refused == rules.CONTACT else None,
            code="too_many_attempts",
            retry_after=rules.retry_after(now),
        )
    entries = shipment_store.order_entries(retailer_id, order_id)
    typed = typed_contact_digest(retailer_id, contact)
    ids = [shipment_id for shipment_id, _token, digests in entries if matches(typed, digests)]
    found = limit_store.states(ids) if ids else []
    records = [r for r in found if r.retailer_id == retailer_id and r.claimed]
    if not records:
        metric("OrderLookups", outcome="not_found")  # the attempt stays counted: a miss
        raise NotFound(
            "no order with this number and this e-mail or phone number", field="order_id", code="order_not_found"
        )
    limit_store.give_back(subjects, hour, expires_at)
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
            "carrier_name": display_name(record.carrier),
            "tracking_number": record.tracking_number,
            "last_event_at": record.progress.last_event_at,
        }
        for record in records
    ]
