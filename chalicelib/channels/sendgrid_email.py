"""Email through SendGrid's v3 Mail Send API with the official SDK (imported on first send)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..config import settings
from . import EmailMessage, PermanentSendError, RetryableSendError, SendResult

PROVIDER = "sendgrid"
TIMEOUT_SECONDS = 10


@lru_cache(maxsize=1)
def _client() -> Any:
    from sendgrid import SendGridAPIClient

    config = settings()
    client = SendGridAPIClient(config.sendgrid_api_key, host=config.sendgrid_api_host or "https://api.sendgrid.com")
    client.client.timeout = TIMEOUT_SECONDS
    return client


def reset() -> None:
    _client.cache_clear()


def build_mail(message: EmailMessage) -> Any:
    from sendgrid.helpers.mail import CustomArg, From, Header, Mail

    mail = Mail(
        from_email=From(settings().email_from, message.from_name),
        to_emails=message.to,
        subject=message.subject,
        plain_text_content=message.text,
        html_content=message.html,
    )
    # One-click unsubscribe (RFC 8058) that mail clients show next to the sender.
    mail.header = Header("List-Unsubscribe", f"<{message.unsubscribe_url}>")
    mail.header = Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    for key, value in message.tags.items():
        mail.custom_arg = CustomArg(key, value)
    return mail


def send(message: EmailMessage) -> SendResult:
    from python_http_client.exceptions import HTTPError

    try:
        response = _client().send(build_mail(message))
    except HTTPError as exc:
        status = int(getattr(exc, "status_code", 0) or 0)
        reason = f"sendgrid {status}: {str(getattr(exc, 'body', b''))[:200]}"
        if status == 429 or status >= 500:
            raise RetryableSendError(reason, str(status)) from exc
        raise PermanentSendError(reason, str(status)) from exc
    except OSError as exc:  # URLError, timeouts, refused connections
        raise RetryableSendError(f"sendgrid unreachable: {exc.__class__.__name__}") from exc
    message_id = response.headers.get("X-Message-Id") or response.headers.get("x-message-id") or ""
    return SendResult(PROVIDER, message_id)
