"""Finding an order without the tracking link: the order number plus the e-mail or phone given when ordering.

Only salted digests of the contact are kept beside the order number, so the lookup entry holds nothing personal,
and a typed contact matches however it is written ("Maria@Example.com ", "(415) 555-0123", "+1 415 555 0123").

Guessing is bounded by counting misses per hour in three scopes: the contact typed (one e-mail tried against many
order numbers), the client address (one sender trying anything) and the store (many senders at once). No scope is
the order number: strangers guessing contacts for an order never lock its shopper out (D25).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from msgspec import Struct

CLIENT, CONTACT, RETAILER = "client", "contact", "retailer"
SCOPES = (CLIENT, CONTACT, RETAILER)


class LookupLimits(Struct, frozen=True):
    """Misses allowed per hour before lookups are refused (429) for the rest of that hour."""

    #: One address: a shopper mistyping a few times stays far below it; a scanner does not.
    per_client: int = 20
    #: One typed e-mail or phone tried against order numbers (whoever sends it).
    per_contact: int = 10
    #: Every miss at one store: above it, many addresses are guessing at once ...
    per_retailer: int = 500
    #: ... and each address then gets only this many misses (a shopper's first tries still go through).
    per_client_while_retailer_busy: int = 3


LIMITS = LookupLimits()
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


def refused_by(misses: Mapping[str, int], limits: LookupLimits = LIMITS) -> str | None:
    """The scope whose misses this hour refuse the next lookup, or None. Applies whatever was typed, so a refused
    sender learns nothing (a right guess and a wrong one get the same 429)."""
    client = misses.get(CLIENT, 0)
    if client >= limits.per_client:
        return CLIENT
    if misses.get(CONTACT, 0) >= limits.per_contact:
        return CONTACT
    if misses.get(RETAILER, 0) >= limits.per_retailer and client >= limits.per_client_while_retailer_busy:
        return RETAILER
    return None


def window(now: datetime) -> str:
    """The hour misses are counted in (UTC)."""
    return now.strftime("%Y-%m-%dT%H")


def retry_after(now: datetime) -> int:
    """Seconds until the counting hour ends (the Retry-After of a refusal)."""
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return max(1, int((next_hour - now).total_seconds() + 0.999))


def client_scope(address: str) -> str:
    """What one client is counted as: its IPv4 address, or its IPv6 /64 (one subscriber's whole network), hashed
    so the counters hold no address. Anything unparseable counts as one shared unknown client."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return _digest("", CLIENT, "unknown")
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    network = str(ipaddress.ip_network(f"{parsed}/64", strict=False)) if parsed.version == 6 else str(parsed)
    return _digest("", CLIENT, network)


def contact_scope(retailer_id: str, typed: str) -> str:
    """What one typed contact is counted as: its digest, or (neither e-mail nor phone) a digest of the text."""
    return typed_contact_digest(retailer_id, typed) or _digest(retailer_id, "typed", typed.strip().lower())
