"""Carrier and aggregator webhooks: `POST /v1/webhooks/{source}/{retailer_id}` (DESIGN 3.2)."""

from __future__ import annotations

import logging
from typing import Any

from chalice import Blueprint, Response

from ..carriers import SOURCES
from ..errors import PorchlightError
from ..observability import metric
from ..services.ingest import Webhook, handle_webhook
from ..services.positions import PositionBatch, handle_positions
from .http import body_bytes, json_response, utcnow
from .operations import documented

webhooks = Blueprint(__name__)
logger = logging.getLogger("porchlight.webhooks")

#: Carriers are not consistent about content types; the body is read raw whatever they claim.
WEBHOOK_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
]


@webhooks.route("/v1/webhooks/native/{retailer_id}/positions", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
@documented(
    "Driver positions for parcels out for delivery (at most 500), signed exactly like native scans; an older "
    "position never replaces a newer one, and nothing is kept from a batch with any invalid item",
    "webhooks",
    "PositionsResult",
    request="PositionsBody",
    security=None,
    errors=(400, 401, 413, 415),
)
def receive_positions(retailer_id: str) -> Response:
    request = webhooks.current_request
    try:
        result = handle_positions(
            PositionBatch(
                retailer_id=retailer_id,
                raw_body=body_bytes(request),
                headers=request.headers,
                query=request.query_params or {},
            ),
            utcnow(),
        )
    except PorchlightError as error:
        logger.warning("positions rejected", extra={"retailer_id": retailer_id, "reason": error.code})
        metric("PositionsRejected", reason=error.code)
        raise
    metric("PositionsAccepted", result.accepted)
    metric("PositionsWritten", result.written)
    return json_response({"accepted": result.accepted, "stale": result.stale, "unmatched": result.unmatched})


@webhooks.route("/v1/webhooks/{source}/{retailer_id}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
@documented(
    "Carrier and aggregator status webhooks, verified by each source's signature scheme (see README)",
    "webhooks",
    "WebhookResult",
    request="WebhookBody",
    security=None,
    errors=(400, 401, 404, 409, 413, 415),
)
def receive_webhook(source: str, retailer_id: str) -> Response:
    request = webhooks.current_request
    try:
        return _receive(source, retailer_id, request)
    except PorchlightError as error:
        known = source if source in SOURCES else "unknown"
        logger.warning("webhook rejected", extra={"source": known, "retailer_id": retailer_id, "reason": error.code})
        metric("WebhooksRejected", source=known, reason=error.code)
        raise


def _receive(source: str, retailer_id: str, request: Any) -> Response:
    result = handle_webhook(
        Webhook(
            source=source,
            retailer_id=retailer_id,
            raw_body=body_bytes(request),
            headers=request.headers,
            query=request.query_params or {},
        ),
        utcnow(),
    )
    logger.info(
        "webhook accepted",
        extra={"source": source, "retailer_id": retailer_id, "accepted": result.accepted},
    )
    metric("WebhooksAccepted", source=source)
    if result.accepted:
        metric("ScansAccepted", result.accepted, source=source)
    if result.ignored:
        metric("WebhooksIgnored", source=source)
    return json_response(result.to_json())
