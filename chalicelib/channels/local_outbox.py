"""With no provider credentials, messages are kept in the table for /dev/outbox to show as a person would see them."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from msgspec.structs import asdict

from ..store import kept_messages
from . import EmailMessage, SendResult, SmsMessage

PROVIDER = "local"
KEEP_DAYS = 7


def _keep(kind: str, payload: dict[str, Any], now: datetime) -> SendResult:
    message_id = f"local-{kind}-{secrets.token_hex(8)}"
    kept_messages.keep_dev_message(kind, message_id, payload, now, KEEP_DAYS)
    return SendResult(PROVIDER, message_id)


def send_sms(message: SmsMessage, now: datetime) -> SendResult:
    return _keep("sms", asdict(message), now)


def send_email(message: EmailMessage, now: datetime) -> SendResult:
    return _keep("email", asdict(message), now)


def recent(limit: int = 50) -> list[dict[str, Any]]:
    return kept_messages.recent_dev_messages(limit)
