"""SMS through Twilio's Messages API with the official SDK (imported on first send, not at cold start)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..config import settings
from . import PermanentSendError, RetryableSendError, SendResult, SmsMessage

PROVIDER = "twilio"
TIMEOUT_SECONDS = 10


#: Twilio's Messages resource under the API domain's 2010-04-01 version (what `Client.messages.create` posts to).
API_BASE_URL = "https://api.twilio.com"
MESSAGES_URI = "/Accounts/{account_sid}/Messages.json"


@lru_cache(maxsize=1)
def _messages() -> tuple[Any, str]:
    """The SDK's own request path (client, domain, version: auth, headers, error parsing), without `Client.api`:
    that property imports every 2010-04-01 resource (~100 ms of CPU on a cold start) to reach one of them."""
    from twilio.base.domain import Domain
    from twilio.base.version import Version
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    config = settings()
    client = Client(
        config.twilio_account_sid, config.twilio_auth_token, http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS)
    )
    version = Version(Domain(client, config.twilio_api_base_url or API_BASE_URL), "2010-04-01")
    return version, MESSAGES_URI.format(account_sid=client.account_sid)


def reset() -> None:
    _messages.cache_clear()


def send(message: SmsMessage) -> SendResult:
    from requests import RequestException
    from twilio.base.exceptions import TwilioException, TwilioRestException

    version, uri = _messages()
    # Exactly what MessageList.create sends for these four parameters (the same form fields, in the same order).
    data = {
        "To": message.to,
        "StatusCallback": message.status_callback,
        "From": message.from_number or settings().twilio_from_number,
        "Body": message.body,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    try:
        created = version.create(method="POST", uri=uri, data=data, headers=headers)
    except TwilioRestException as exc:
        reason = f"twilio {exc.status} error {exc.code}: {exc.msg}"
        if exc.status == 429 or exc.status >= 500:
            raise RetryableSendError(reason, str(exc.code or exc.status)) from exc
        raise PermanentSendError(reason, str(exc.code or exc.status)) from exc
    except (RequestException, TwilioException, OSError) as exc:
        raise RetryableSendError(f"twilio unreachable: {exc.__class__.__name__}") from exc
    return SendResult(PROVIDER, str(created.get("sid")))
