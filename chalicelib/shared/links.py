"""The addresses Porchlight hands out: a shipment's tracking token and page, an e-mail's unsubscribe link."""

from __future__ import annotations

import secrets
from datetime import datetime

from ..config import settings
from ..store import contacts
from ..store.notifications import OutboxItem
from ..store.retailers import Retailer


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)  # 128 random bits, 22 characters: short enough for one SMS


def tracking_url(token: str) -> str:
    return f"{settings().public_base_url}/t/{token}"


def unsubscribe_url(item: OutboxItem, retailer: Retailer, email: str, now: datetime, locale: str = "en") -> str:
    """The email's one-click unsubscribe link, under the token its outbox item holds (the same for every attempt,
    so erasing the shipment finds the link's record through the item); in the e-mail's language (`?lang=`), so
    the page it opens speaks it too."""
    contacts.save_unsubscribe_token(
        item.unsubscribe_token, retailer.id, email, now, shipment_id=item.key.shipment_id, kind=item.key.kind
    )
    language = f"?lang={locale}" if locale and locale != "en" else ""
    return f"{settings().public_base_url}/v1/unsubscribe/{item.unsubscribe_token}{language}"
