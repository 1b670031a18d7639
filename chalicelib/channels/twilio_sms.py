"""SMS through Twilio's Messages API with the official SDK (imported on first send, not at cold start)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..config import settings
from . import PermanentSendError, RetryableSendError, SendResult, SmsMessage

PROVIDER = "twilio"
TIMEOUT_SECONDS = 10


@lru_cache(maxsize=1)
def _client() -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    config = settings()
    client = Client(
        config.twilio_account_sid, config.twilio_auth_token, http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS)
    )
    if config.twilio_api_base_url:
        client.api.base_url = config.twilio_api_base_url
    return client


def reset() -> None:
    _client.cache_clear()


def send(message: SmsMessage) -> SendResult:
    from requests import RequestException
    from twilio.base.exceptions import TwilioException, TwilioRestException

    try:
        created = _client().messages.create(
            to=message.to,
            from_=message.from_number or settings().twilio_from_number,
            body=message.body,
            status_callback=message.status_callback,
        )
    except TwilioRestException as exc:
        reason = f"twilio {exc.status} error {exc.code}: {exc.msg}"
        if exc.status == 429 or exc.status >= 500:
            raise RetryableSendError(reason, str(exc.code or exc.status)) from exc
        raise PermanentSendError(reason, str(exc.code or exc.status)) from exc
    except (RequestException, TwilioException, OSError) as exc:
        raise RetryableSendError(f"twilio unreachable: {exc.__class__.__name__}") from exc
    return SendResult(PROVIDER, str(created.sid))
