"""Contact details shown masked (the notification log and its CSV): enough to tell which number or address a
message went to, not enough to copy it out of an export."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
#: A phone-like run: 7 or more digits, with the spaces, dots, dashes and brackets people write between them.
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[ .()-]{0,2}\d){6,}(?!\w)")


def phone(number: str | None) -> str | None:
    """'+14155550123' -> '*********23' (no leading '+': a spreadsheet would read it as the start of a formula)."""
    if not number:
        return None
    digits = re.sub(r"\D", "", number)
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def email(address: str | None) -> str | None:
    """'maria@example.com' -> 'm***@example.com' (the domain says which provider answered)."""
    if not address or "@" not in address:
        return None
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def text(words: str | None) -> str | None:
    """Free text (a provider's reason for a failure) with any e-mail address or phone number in it masked."""
    if not words:
        return words
    masked = _EMAIL.sub(lambda match: email(match.group(0)) or "", words)
    return _PHONE.sub(lambda match: phone(match.group(0)) or "", masked)
