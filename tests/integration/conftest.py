"""Fixtures for notification tests: provider credentials pointing at a local capture server, and a clock."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.capture import CaptureServer
from tests.conftest import reset_process_state

TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"


def local_time(zone: str, hour: int, minute: int = 0, days_ahead: int = 1) -> datetime:
    """A wall-clock time in the future (outbox items are stamped with the real clock), as UTC."""
    local_now = datetime.now(UTC).astimezone(ZoneInfo(zone))
    day = local_now.date() + timedelta(days=days_ahead)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass
class Providers:
    capture: CaptureServer
    sendgrid_private_key: Any

    def sign_sendgrid(self, payload: bytes, timestamp: str | None = None) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        stamp = timestamp or str(int(time.time()))
        signature = self.sendgrid_private_key.sign(stamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "Content-Type": "application/json",
        }


def twilio_headers(path: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> dict[str, str]:
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(token).compute_signature(f"https://track.example.test{path}", params)
    return {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}


def reset_channels() -> None:
    from chalicelib.channels import sendgrid_email, twilio_sms

    twilio_sms.reset()
    sendgrid_email.reset()
    reset_process_state()


@pytest.fixture
def providers(aws: None) -> Iterator[Providers]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    capture = CaptureServer().start()
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    env = {
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": capture.url,
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_API_HOST": capture.url,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": base64.b64encode(public).decode(),
        "EMAIL_FROM": "updates@porchlight.example",
    }
    os.environ.update(env)
    reset_channels()
    try:
        yield Providers(capture, key)
    finally:
        for name in env:
            os.environ.pop(name, None)
        reset_channels()
        capture.stop()


def drain(now: datetime) -> dict[str, Any]:
    from chalicelib.workers.scheduler import run_scheduled_work

    return run_scheduled_work(now)


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
