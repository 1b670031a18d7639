"""Email through SendGrid's v3 Mail Send API, with SendGrid's own HTTP client (`python_http_client`, D49).

The request is the one `SendGridAPIClient(key).send(Mail(...))` makes: the same URL, the same headers and the same
JSON body (tests/integration/test_sendgrid_request.py sends both for the same messages and compares them). Only the
`sendgrid` package itself is left out: its `__init__` imports every helper, the signed event webhook's
`cryptography` among them, about 110 ms of a cold `deliver_outbox` that sending never uses. The API's event webhook
check still uses the SDK's `EventWebhook` (api/providers.py).
"""

from __future__ import annotations

import importlib.util
import re
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..config import settings
from . import EmailMessage, PermanentSendError, RetryableSendError, SendResult

PROVIDER = "sendgrid"
TIMEOUT_SECONDS = 10
DEFAULT_HOST = "https://api.sendgrid.com"


@lru_cache(maxsize=1)
def sdk_version() -> str:
    """The installed SDK's version, from its `version.py` (what its User-Agent carries), without importing the
    package (find_spec of a top-level package runs none of its code)."""
    spec = importlib.util.find_spec("sendgrid")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        found = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", (Path(location) / "version.py").read_text())
        if found:
            return found.group(1)
    raise RuntimeError("the sendgrid package is not installed (requirements.txt)")


def request_headers(api_key: str) -> dict[str, str]:
    """The headers SendGridAPIClient sends with every call."""
    return {
        "Authorization": f"Bearer {api_key}",
        "User-Agent": f"sendgrid/{sdk_version()};python",
        "Accept": "application/json",
    }


@lru_cache(maxsize=1)
def _client() -> Any:
    from python_http_client import Client

    config = settings()
    return Client(
        host=config.sendgrid_api_host or DEFAULT_HOST,
        request_headers=request_headers(config.sendgrid_api_key),
        version=3,
        timeout=TIMEOUT_SECONDS,
    )


def reset() -> None:
    _client.cache_clear()


def _address(value: str, name: str = "") -> dict[str, str]:
    """An address as the SDK's `Email(value, name)` writes it: with a name given, both; without one, a value in the
    "Name <address>" form is read as name and address."""
    if name:
        return {"name": name, "email": value}
    parsed_name, address = parseaddr(value)
    if "@" not in address:
        parsed_name, address = address, ""
    return {
        **({"name": parsed_name} if parsed_name else {}),
        **({"email": address} if address else {}),
    }


def mail_body(message: EmailMessage) -> dict[str, Any]:
    """The v3 Mail Send body: one recipient, the text and HTML parts, one-click unsubscribe (RFC 8058) when the
    message has an unsubscribe link, and our tags as custom args (they come back on SendGrid's events)."""
    body: dict[str, Any] = {
        "from": _address(settings().email_from, message.from_name),
        "subject": message.subject,
        "personalizations": [{"to": [_address(message.to)]}],
        "content": [{"type": "text/plain", "value": message.text}, {"type": "text/html", "value": message.html}],
    }
    if message.unsubscribe_url:
        body["headers"] = {
            "List-Unsubscribe": f"<{message.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    if message.tags:
        body["custom_args"] = dict(message.tags)
    return body


def send(message: EmailMessage) -> SendResult:
    from python_http_client.exceptions import HTTPError

    try:
        response = _client().mail.send.post(request_body=mail_body(message))
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
