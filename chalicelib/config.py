"""Settings read once from the environment (DESIGN 3.6); secrets never come from code or the repo."""

from __future__ import annotations

import os
from functools import lru_cache

from msgspec import Struct

PRODUCTION_STAGES = frozenset({"prod", "production"})


class Settings(Struct, frozen=True):
    stage: str
    table_name: str
    public_base_url: str
    admin_api_key: str
    region: str
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_relay_numbers: tuple[str, ...] = ()
    #: Where the Twilio SDK sends API calls; set only to point it at a stand-in (tests, local capture).
    twilio_api_base_url: str = ""
    sendgrid_api_key: str = ""
    sendgrid_webhook_public_key: str = ""
    #: Where the SendGrid SDK sends API calls (default https://api.sendgrid.com).
    sendgrid_api_host: str = ""
    email_from: str = "deliveries@porchlight.local"
    relay_grace_minutes: int = 120
    #: Shipments, scans, messages and survey answers expire (DynamoDB TTL) this long after their last change.
    retention_days: int = 180
    #: A header a trusted proxy in front of API Gateway sets to the client's address (X-Forwarded-For,
    #: CloudFront-Viewer-Address); empty (the default): the client is API Gateway's source IP, and such headers,
    #: which anyone can send, are ignored.
    trusted_client_ip_header: str = ""
    #: How many trusted proxies append to that header: the client is the entry this many places from the right.
    trusted_proxy_hops: int = 1
    #: Retailer webhooks may go to plain http and private addresses: only the local runtime and the tests set
    #: ALLOW_PRIVATE_WEBHOOKS=1. Every deployed stage, whatever its name, keeps the guard (docs/decisions.md D29).
    allow_private_webhooks: bool = False
    #: An OpenStreetMap-compatible tile URL template (`https://tiles.example/{z}/{x}/{y}.png`) for the live map on
    #: the tracking page; its host is the only image host the page's CSP adds. Empty: a self-drawn SVG map.
    map_tile_url: str = ""
    #: The key shoppers' one-time codes (delivery changes, D47) are derived and hashed with; empty: derived from
    #: ADMIN_API_KEY. A secret: a Secrets Manager reference in deployed stages.
    change_code_secret: str = ""

    @property
    def is_production(self) -> bool:
        return self.stage.lower() in PRODUCTION_STAGES

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def sendgrid_configured(self) -> bool:
        return bool(self.sendgrid_api_key)


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings; tests call `settings.cache_clear()` after changing the environment."""
    env = os.environ
    return Settings(
        stage=env.get("STAGE", "local"),
        table_name=env.get("TABLE_NAME", "porchlight-local"),
        public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        admin_api_key=env.get("ADMIN_API_KEY", ""),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
        twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
        twilio_relay_numbers=tuple(n.strip() for n in env.get("TWILIO_RELAY_NUMBERS", "").split(",") if n.strip()),
        twilio_api_base_url=env.get("TWILIO_API_BASE_URL", "").rstrip("/"),
        sendgrid_api_key=env.get("SENDGRID_API_KEY", ""),
        sendgrid_webhook_public_key=env.get("SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
        sendgrid_api_host=env.get("SENDGRID_API_HOST", "").rstrip("/"),
        email_from=env.get("EMAIL_FROM", "deliveries@porchlight.local"),
        relay_grace_minutes=int(env.get("RELAY_GRACE_MINUTES", "120") or 120),
        retention_days=int(env.get("RETENTION_DAYS", "180") or 180),
        trusted_client_ip_header=env.get("TRUSTED_CLIENT_IP_HEADER", "").strip().lower(),
        trusted_proxy_hops=max(1, int(env.get("TRUSTED_PROXY_HOPS", "1") or 1)),
        allow_private_webhooks=env.get("ALLOW_PRIVATE_WEBHOOKS", "") == "1",
        map_tile_url=_tile_url(env.get("MAP_TILE_URL", "")),
        change_code_secret=env.get("CHANGE_CODE_SECRET", ""),
    )


def _tile_url(value: str) -> str:
    """Only an https template naming {z}, {x} and {y} is used; anything else means the self-drawn map."""
    value = value.strip()
    if not value.startswith("https://") or not all(part in value for part in ("{z}", "{x}", "{y}")):
        return ""
    return value
