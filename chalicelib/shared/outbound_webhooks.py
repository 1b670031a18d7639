"""Calling a retailer's webhook: the URL safety check, the signing secrets and the signed POST."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ..carriers.native import sign_all
from ..channels import PermanentSendError, RetryableSendError
from ..config import settings as app_settings
from ..errors import ValidationError
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from .links import tracking_url

USER_AGENT = "Porchlight-Webhooks/1"


def shipment_event(
    record: ShipmentRecord,
    event_type: str,
    event_id: str,
    created_at: str,
    details: dict[str, Any],
    version: int | None = None,
) -> dict[str, Any]:
    """The envelope and shipment identity every shipment event carries; `details` says what happened. Receivers
    dedupe on `id`; `version` (when the event follows a state change) lets them order what they were sent."""
    data = {
        "shipment_id": record.id,
        "order_id": record.order_id,
        "carrier": record.carrier,
        "tracking_number": record.tracking_number,
        **details,
    }
    if version is not None:
        data["version"] = version
    data["tracking_url"] = tracking_url(record.tracking_token)
    return {
        "id": event_id,
        "type": event_type,
        "created_at": created_at,
        "retailer_id": record.retailer_id,
        "data": data,
    }


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer is the endpoint's final answer, never a new destination for a signed request."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def previous_secret_until(retailer: Retailer, now: datetime) -> int | None:
    """While a rotation's grace period runs: the epoch second the previous outbound secret stops signing."""
    until = retailer.integrations.get("outbound_previous_until", "")
    if not retailer.integrations.get("outbound_previous") or not until.isdigit() or int(until) <= now.timestamp():
        return None
    return int(until)


def signing_secrets(retailer: Retailer, now: datetime) -> list[str]:
    """The retailer's outbound secret, and during a rotation's grace period the previous one too."""
    current = retailer.integrations.get("outbound")
    previous = retailer.integrations.get("outbound_previous") if previous_secret_until(retailer, now) else None
    return [secret for secret in (current, previous) if secret]


def post_signed(url: str, secrets: list[str], payload: dict[str, Any], event_id: str) -> int:
    """POST the JSON payload; the HTTP status on 2xx. 429/5xx/unreachable are retryable, other answers are not.

    The URL is checked again at sending (its host may resolve elsewhere than when it was saved) and redirects are
    never followed: either could aim our signed request at a private address. The signature's timestamp is the wall
    clock at sending (the receiver checks freshness against its own).
    """
    try:
        check_webhook_url(url, "url")
    except ValidationError as exc:
        if exc.code == UNRESOLVED:  # DNS can fail for a while; the next attempt may resolve
            raise RetryableSendError(f"retailer webhook {exc.message}") from exc
        raise PermanentSendError(f"retailer webhook refused: {exc.message}", "url") from exc
    opener = urllib.request.build_opener(NoRedirects)
    body = json.dumps(payload, separators=(",", ":")).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - https (or local in dev), validated
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", USER_AGENT)
    request.add_header("X-Porchlight-Event-Id", event_id)
    request.add_header("X-Porchlight-Signature", sign_all(secrets, body, int(time.time())))
    try:
        with opener.open(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise RetryableSendError(f"retailer webhook answered {exc.code}", str(exc.code)) from exc
        unfollowed = "; redirects are not followed" if 300 <= exc.code < 400 else ""
        raise PermanentSendError(f"retailer webhook answered {exc.code}{unfollowed}", str(exc.code)) from exc
    except OSError as exc:
        raise RetryableSendError(f"retailer webhook unreachable: {exc.__class__.__name__}") from exc


UNRESOLVED = "webhook_host_unresolved"


def check_webhook_url(url: str, field: str) -> None:
    """Retailer webhooks go to the public internet over https, on every deployed stage; plain http and private
    addresses only where ALLOW_PRIVATE_WEBHOOKS=1 says so (the local runtime and the tests)."""
    parts = urlsplit(url)
    local = app_settings().allow_private_webhooks
    if parts.scheme != "https" and (not local or parts.scheme != "http"):
        raise ValidationError(f"{field} must use https", field=field)
    if not parts.hostname:
        raise ValidationError(f"{field} needs a host", field=field)
    if not local:
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, None)}
        except (OSError, UnicodeError) as exc:
            raise ValidationError(f"{field} host does not resolve", field=field, code=UNRESOLVED) from exc
        if not all(public_address(address) for address in addresses):
            raise ValidationError(f"{field} must be a public address", field=field)


def public_address(text: str) -> bool:
    """A global address, and so is every IPv4 address it carries: an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible,
    6to4 (2002::/16), Teredo or NAT64 (64:ff9b::/96) form of 169.254.169.254 reaches the metadata service as surely
    as the address itself, and Python's `is_global` looks only at the outer address."""
    address = ipaddress.ip_address(text.split("%", 1)[0])  # a scope id (fe80::1%eth0) is no part of the address
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    carried: list[ipaddress.IPv4Address] = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo:
        carried.extend(address.teredo)
    if any(address in ipaddress.ip_network(prefix) for prefix in NAT64) or int(address) >> 32 == 0:
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return all(inner.is_global for inner in carried)


#: NAT64 prefixes (RFC 6052 well-known, RFC 8215 local use): the last 32 bits are an IPv4 address.
NAT64 = ("64:ff9b::/96", "64:ff9b:1::/48")
