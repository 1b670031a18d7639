"""Pickup points and lockers on the shopper's page (D48): the pickup code behind a one-time code sent to the
shopper's own phone or e-mail. A forwarded tracking link shows where and until when, never the code.

The one-time code lives in store/one_time_codes.py under a purpose (`pickup_code`), so another proof of the
shopper's contact (an address-changing delivery request) can share its store and its rules (domain.one_time_codes).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from ..channels import PermanentSendError, RetryableSendError
from ..channels.outbound import send_email, send_text
from ..domain import milestones as ms
from ..domain import one_time_codes as otp
from ..domain.notifications import EMAIL, SMS
from ..errors import Conflict, NotFound, TooManyRequests, ValidationError
from ..shared.messages import message_context
from ..shared.retailer_profile import brand
from ..shared.sending import shopper_email
from ..shared.tracking_view import resolve
from ..store import one_time_codes as code_store
from ..store import retailers as retailer_store
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord

logger = logging.getLogger("porchlight.pickup")
PURPOSE = otp.PICKUP_CODE
OTP_KIND = "pickup_otp"


def _waiting_with_code(token: str) -> tuple[ShipmentRecord, Retailer, str]:
    record, _ = resolve(token)
    retailer = retailer_store.get(record.retailer_id)
    if retailer is None:
        raise NotFound("no shipment for this tracking link", code="unknown_token")
    code = (record.progress.pickup or {}).get("code")
    if record.progress.status != ms.AVAILABLE_FOR_PICKUP or not code:
        raise Conflict("this parcel has no pickup code to show", code="no_pickup_code")
    return record, retailer, str(code)


def send_code(token: str, now: datetime) -> str:
    """Send a one-time code to the shopper's phone (else e-mail); the channel it went by. At most one every
    RESEND_AFTER and MAX_SENDS a day; the page never names the number or address."""
    record, retailer, _ = _waiting_with_code(token)
    customer = record.customer or {}
    channel = SMS if customer.get("phone") else EMAIL if customer.get("email") else None
    if channel is None:
        raise Conflict("we have no phone or e-mail to send a code to", code="no_contact")
    before = code_store.get(record.id, PURPOSE)
    if before is not None:
        if before.sends >= otp.MAX_SENDS:
            raise TooManyRequests("too many codes were sent for this parcel today", code="otp_send_limit")
        if now - datetime.fromisoformat(before.issued_at) < otp.RESEND_AFTER:
            raise TooManyRequests("a code was sent moments ago", code="otp_too_soon", retry_after=30)
    code = "".join(secrets.choice("0123456789") for _ in range(otp.DIGITS))
    salt = secrets.token_hex(16)
    stored = code_store.issue(
        record.id,
        PURPOSE,
        before,
        digest=otp.digest(salt, code),
        salt=salt,
        channel=channel,
        now=now,
        valid_until=now + otp.VALID_FOR,
        days=otp.ITEM_DAYS,
    )
    if not stored:
        raise TooManyRequests("a code was sent moments ago", code="otp_too_soon", retry_after=30)
    try:
        _deliver(record, retailer, channel, code, now)
    except (RetryableSendError, PermanentSendError) as error:
        logger.warning("one-time code not sent", extra={"retailer_id": record.retailer_id, "reason": error.reason})
        raise Conflict("the code could not be sent just now: try again shortly", code="otp_not_sent") from error
    return channel


def reveal(token: str, entered: str | None, now: datetime) -> str:
    """The pickup code, for the right one-time code: each guess takes one of MAX_ATTEMPTS tries (atomically), and
    the right code opens once. Every refusal says the same of the contact: nothing."""
    record, _, pickup_code = _waiting_with_code(token)
    typed = otp.normalise(entered)
    if not otp.well_formed(typed):
        raise ValidationError(f"enter the {otp.DIGITS}-digit code we sent", field="code", code="otp_malformed")
    issued = code_store.take_attempt(record.id, PURPOSE, otp.MAX_ATTEMPTS)
    if issued is None:
        raise TooManyRequests("no code is waiting, or its tries are used up: ask for a new one", code="otp_spent")
    if code_store.expired(issued, now):
        raise ValidationError("this code has expired: ask for a new one", field="code", code="otp_expired")
    if not otp.matches(issued.digest, issued.salt, typed):
        raise ValidationError("that code is not right", field="code", code="otp_wrong")
    if not code_store.spend(record.id, PURPOSE, issued.issued_at):
        raise TooManyRequests("no code is waiting, or its tries are used up: ask for a new one", code="otp_spent")
    return pickup_code


def _deliver(record: ShipmentRecord, retailer: Retailer, channel: str, code: str, now: datetime) -> None:
    """Sent at once (the shopper is waiting on the page): a reply to their own request, not a notification, so no
    quiet hours; the code is in the message only, never on the outbox or in a log."""
    # jinja2 (via web.templating) and the providers' SDKs: only sending a code needs them
    from ..web.templating import render_email, render_sms, resolve_locale

    customer = record.customer or {}
    locale = resolve_locale(customer.get("locale"), brand(retailer).get("default_locale"))
    context: dict[str, Any] = {**message_context(record, retailer, locale), "code": code}
    if channel == SMS:
        body = render_sms(OTP_KIND, locale, context).body
        send_text(customer["phone"], body, now)
        return
    email = render_email(OTP_KIND, locale, context)
    send_email(shopper_email(record, retailer, OTP_KIND, customer["email"], email, context["retailer"], ""), now)
