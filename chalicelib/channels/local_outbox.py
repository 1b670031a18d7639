"""With no provider credentials, messages are kept in the table for /dev/outbox to show as a person would see them."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from ..domain.events import iso
from ..store.table import client, dumps, from_item, table_name, to_item
from . import EmailMessage, SendResult, SmsMessage

PROVIDER = "local"
KEEP_DAYS = 7


def _keep(kind: str, payload: dict[str, Any], now: datetime) -> SendResult:
    message_id = f"local-{kind}-{secrets.token_hex(8)}"
    client().put_item(
        TableName=table_name(),
        Item=to_item(
            {
                "pk": "DEVOUTBOX",
                "sk": f"{iso(now)}#{message_id}",
                "kind": kind,
                "doc": dumps(payload),
                "expires_at": int((now + timedelta(days=KEEP_DAYS)).timestamp()),
            }
        ),
    )
    return SendResult(PROVIDER, message_id)


def send_sms(message: SmsMessage, now: datetime) -> SendResult:
    return _keep("sms", asdict(message), now)


def send_email(message: EmailMessage, now: datetime) -> SendResult:
    return _keep("email", asdict(message), now)


def recent(limit: int = 50) -> list[dict[str, Any]]:
    import json

    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": "DEVOUTBOX"}),
        ScanIndexForward=False,
        Limit=limit,
    )
    out = []
    for raw in page.get("Items", []):
        data = from_item(raw)
        out.append({"kind": data["kind"], "at": data["sk"].split("#", 1)[0], **json.loads(data["doc"])})
    return out
