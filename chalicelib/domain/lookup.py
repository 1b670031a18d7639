"""Finding an order without the tracking link: the order number plus the e-mail or phone given when ordering.

Only salted digests of the contact are kept beside the order number, so the lookup entry holds nothing personal,
and a typed contact matches however it is written ("Maria@Example.com ", "(415) 555-0123", "+1 415 555 0123").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

#: Failed attempts on one order number per hour before lookups of it are refused (guessing the contact).
MAX_FAILED_LOOKUPS = 10
#: Phone numbers compare on their last digits: enough to tell people apart, loose about country-code spelling.
PHONE_DIGITS = 9


def normalise_order_id(order_id: str) -> str:
    """How shoppers type order numbers: any case, with or without spaces, dashes or a '#' ("#ord 1001", "ORD-1001")."""
    return "".join(ch for ch in order_id.upper() if ch.isalnum())


def _digest(retailer_id: str, kind: str, value: str) -> str:
    return hashlib.sha256(f"{retailer_id}\x1f{kind}\x1f{value}".encode()).hexdigest()[:32]


def contact_digests(retailer_id: str, email: str | None, phone: str | None) -> frozenset[str]:
    """What a registered order keeps to recognise its shopper."""
    digests = set()
    if email and "@" in email:
        digests.add(_digest(retailer_id, "email", email.strip().lower()))
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) >= PHONE_DIGITS:
        digests.add(_digest(retailer_id, "phone", digits[-PHONE_DIGITS:]))
    return frozenset(digests)


def typed_contact_digest(retailer_id: str, typed: str) -> str | None:
    """The digest of what the shopper typed, read as an e-mail when it has an '@', else as a phone number."""
    text = typed.strip()
    if "@" in text:
        return _digest(retailer_id, "email", text.lower())
    digits = "".join(ch for ch in text if ch.isdigit())
    return _digest(retailer_id, "phone", digits[-PHONE_DIGITS:]) if len(digits) >= PHONE_DIGITS else None


def matches(typed: str | None, registered: Iterable[str]) -> bool:
    """Constant-time comparison against each registered digest."""
    found = False
    for digest in registered:
        found |= typed is not None and hmac.compare_digest(typed, digest)
    return found
