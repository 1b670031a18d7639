"""One-time codes (D48): pk SHIP#<id>, sk OTP#<purpose>, one item per shipment and purpose, gone with its TTL.

Issuing replaces the item conditionally on the one read (two concurrent sends cannot both pass the resend limits);
a guess first takes an attempt with an atomic conditional ADD and is judged on the item that update returns, so
concurrent guesses can never get more than MAX_ATTEMPTS tries between them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from msgspec import Struct
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from ..domain.events import iso
from .models import OneTimeCode, ttl


class IssuedCode(Struct, frozen=True):
    digest: str
    salt: str
    channel: str
    issued_at: str
    valid_until: str
    attempts: int
    sends: int


def _key(shipment_id: str, purpose: str) -> tuple[str, str]:
    return f"SHIP#{shipment_id}", f"OTP#{purpose}"


def _issued(item: OneTimeCode) -> IssuedCode:
    return IssuedCode(
        digest=item.digest,
        salt=item.salt,
        channel=item.channel,
        issued_at=item.issued_at,
        valid_until=item.valid_until,
        attempts=int(item.attempts or 0),
        sends=int(item.sends or 0),
    )


def get(shipment_id: str, purpose: str) -> IssuedCode | None:
    try:
        return _issued(OneTimeCode.get(*_key(shipment_id, purpose), consistent_read=True))
    except DoesNotExist:
        return None


def issue(
    shipment_id: str,
    purpose: str,
    before: IssuedCode | None,
    *,
    digest: str,
    salt: str,
    channel: str,
    now: datetime,
    valid_until: datetime,
    days: int,
) -> bool:
    """Store a new code in place of `before` (None: there was none). False when another send got there first."""
    item = OneTimeCode(
        *_key(shipment_id, purpose),
        digest=digest,
        salt=salt,
        channel=channel,
        issued_at=iso(now),
        valid_until=iso(valid_until),
        attempts=0,
        sends=(before.sends if before else 0) + 1,
        expires_at=ttl(iso(now), days),
    )
    condition = OneTimeCode.pk.does_not_exist() if before is None else OneTimeCode.issued_at == before.issued_at
    try:
        item.save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def take_attempt(shipment_id: str, purpose: str, max_attempts: int) -> IssuedCode | None:
    """One more guess at the code, if any is left: the item after it, or None (no code, or no tries left)."""
    item = OneTimeCode(*_key(shipment_id, purpose))
    try:
        item.update(
            [OneTimeCode.attempts.add(1)],
            condition=OneTimeCode.pk.exists() & (OneTimeCode.attempts < max_attempts),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return _issued(item)


def spend(shipment_id: str, purpose: str, issued_at: str) -> bool:
    """The right code was entered: remove it, so it opens once. False when another guess spent it first."""
    try:
        OneTimeCode(*_key(shipment_id, purpose)).delete(condition=OneTimeCode.issued_at == issued_at)
    except DeleteError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def expired(code: IssuedCode, now: datetime) -> bool:
    return datetime.fromisoformat(code.valid_until) <= now.astimezone(UTC)
