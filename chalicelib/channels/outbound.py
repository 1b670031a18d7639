"""Which sender a message goes through: Twilio or SendGrid when their credentials are set, else the local outbox that
development, demos and small installations read (one choice for every use case that texts or e-mails)."""

from __future__ import annotations

from datetime import datetime

from ..config import settings
from . import EmailMessage, SendResult, SmsMessage, local_outbox


def send_text(to: str, body: str, now: datetime, from_number: str = "") -> SendResult:
    """A text whose delivery receipts come back to our Twilio status callback."""
    config = settings()
    message = SmsMessage(
        to=to, body=body, status_callback=f"{config.public_base_url}/v1/twilio/status", from_number=from_number
    )
    if config.twilio_configured:
        # twilio: only a real SMS send needs the SDK
        from . import twilio_sms

        return twilio_sms.send(message)
    return local_outbox.send_sms(message, now)


def send_email(message: EmailMessage, now: datetime) -> SendResult:
    if settings().sendgrid_configured:
        # sendgrid: only a real e-mail send needs the SDK
        from . import sendgrid_email

        return sendgrid_email.send(message)
    return local_outbox.send_email(message, now)
