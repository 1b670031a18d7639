"""One-time codes sent to the shopper's own phone or e-mail (D48): a forwarded tracking link alone proves nothing,
the code proves the holder reads the contact the retailer gave. Pure rules; the store keeps only a salted digest.

The item is keyed by shipment and purpose (`pickup_code` here), so another purpose (an address-changing delivery
request) can share the same store and rules with a purpose of its own.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

PICKUP_CODE = "pickup_code"
DIGITS = 6
VALID_FOR = timedelta(minutes=10)
#: Wrong guesses allowed per code: the sixth try refuses even the right code (a new code must be asked for).
MAX_ATTEMPTS = 5
#: A new code no sooner than this after the last, and at most MAX_SENDS per purpose while the item lives (a day).
RESEND_AFTER = timedelta(seconds=30)
MAX_SENDS = 5
ITEM_DAYS = 1


def digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}\x1f{code}".encode()).hexdigest()


def normalise(entered: str | None) -> str:
    """What the shopper typed, without spaces or dashes ("123 456" is "123456")."""
    return "".join(ch for ch in (entered or "") if ch not in " -\t")


def well_formed(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matches(stored_digest: str, salt: str, entered: str) -> bool:
    """Constant-time comparison of the entered code's digest with the stored one."""
    return hmac.compare_digest(stored_digest.encode(), digest(salt, entered).encode())
