"""Outbound channels: Twilio SMS, SendGrid email, and the local outbox used when no credentials are set."""

from __future__ import annotations

from msgspec import Struct


class SendResult(Struct, frozen=True):
    provider: str
    message_id: str


class SendError(Exception):
    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryableSendError(SendError):
    """Throttling (429), provider trouble (5xx) or the network: try again later with backoff."""


class PermanentSendError(SendError):
    """The provider refused this message for good (invalid number, opted out, bad address)."""


class SmsMessage(Struct, frozen=True):
    to: str
    body: str
    status_callback: str
    from_number: str = ""


class EmailMessage(Struct, frozen=True):
    to: str
    subject: str
    text: str
    html: str
    from_name: str
    unsubscribe_url: str
    tags: dict[str, str]
