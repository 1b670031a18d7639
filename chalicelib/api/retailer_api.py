"""Retailer API: admin bootstrap, shipments and integrations (DESIGN 3.3)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from chalice import Blueprint, Response

from ..config import settings
from ..errors import ValidationError
from ..services import delivery_changes, ingest, notifications
from ..services import retailers as retailer_service
from ..services import shipments as shipment_service
from ..services.privacy import erase_shipment as erase
from ..services.relay import retailer_transcript
from ..shared import api_keys, shipment_views
from .http import (
    bearer_token,
    body_bytes,
    int_param,
    json_response,
    read_json_object,
    read_optional_json_object,
    timestamp_param,
    utcnow,
)
from .operations import STATUS, STRING, TIMESTAMP, WITH_BODY, Query, documented, page_size

retailer_api = Blueprint(__name__)


def _retailer_id() -> str:
    return api_keys.authenticate(bearer_token(retailer_api.current_request.headers), utcnow())


@retailer_api.route("/v1/admin/retailers", methods=["POST"])
@documented(
    "Create a retailer and its API key (operator only)",
    "admin",
    "CreatedRetailer",
    201,
    request="RetailerRequest",
    security="adminKey",
    errors=(400, 401, 413, 415),
)
def create_retailer() -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import RetailerRequest, validate

    retailer_service.check_admin_key(bearer_token(retailer_api.current_request.headers))
    body = validate(RetailerRequest, read_json_object(body_bytes(retailer_api.current_request)))
    created = retailer_service.create_retailer(body["name"], utcnow())
    return json_response(
        {"id": created.retailer.id, "name": created.retailer.name, "api_key": created.api_key}, status=201
    )


@retailer_api.route("/v1/shipments", methods=["POST"])
@documented(
    "Register a shipment (idempotent on carrier + tracking number; 200 when it already existed); a shopper's "
    'return with `direction: "return"` and its delivery\'s `outbound_shipment_id` (404 when that is not yours)',
    "shipments",
    "ShipmentSummary",
    201,
    request="ShipmentRequest",
    errors=(400, 401, 404, 409, 413, 415),
    also_succeeds=(200, "Already registered"),
)
def register_shipment() -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import ShipmentRequest, validate

    retailer_id = _retailer_id()
    body = validate(ShipmentRequest, read_json_object(body_bytes(retailer_api.current_request)))
    registration = shipment_service.register(retailer_id, body, utcnow())
    summary = shipment_views.summary(registration.record)
    warnings = shipment_service.registration_warnings(body)
    return json_response(
        {**summary, **({"warnings": warnings} if warnings else {})}, status=201 if registration.created else 200
    )


@retailer_api.route("/v1/shipments/batch", methods=["POST"])
@documented(
    "Register up to 100 shipments; each entry has its own outcome (201, 200 or its error)",
    "shipments",
    "ShipmentBatch",
    request="ShipmentBatchRequest",
    errors=(400, 401, 413, 415),
)
def register_shipments() -> Response:
    """Backfills and busy days: every entry registered (or found) on its own, each with its own outcome."""
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import ShipmentBatchRequest, parse_batch_entry, validate

    retailer_id = _retailer_id()
    batch = validate(ShipmentBatchRequest, read_json_object(body_bytes(retailer_api.current_request)))
    return json_response(shipment_service.register_many(retailer_id, batch["shipments"], parse_batch_entry, utcnow()))


@retailer_api.route("/v1/shipments", methods=["GET"])
@documented(
    "Find shipments by tracking number or order, list those in one status (latest arrivals first, by "
    "pages), or follow status changes since a moment",
    "shipments",
    "ShipmentList",
    query=(
        Query(
            "tracking_number",
            STRING,
            description="as printed; spaces and case ignored (this, order_id, status or changed_since is required)",
        ),
        Query(
            "order_id", STRING, description="every parcel registered for this order; case, spaces and dashes ignored"
        ),
        Query("carrier", STRING, description="with tracking_number: narrow to one carrier"),
        Query(
            "status", STATUS, description="list registered shipments now in this status (with tracking_number: narrow)"
        ),
        Query(
            "changed_since",
            TIMESTAMP,
            description="on its own: shipments whose status changed at or after this moment, oldest change first, "
            "each once (at its latest change); resume from a minute before `latest_change_at`",
        ),
        Query("limit", page_size(100), description="with status or changed_since: page size (50)"),
        Query("cursor", STRING, description="with status or changed_since: next_cursor of the previous page"),
    ),
    errors=(400, 401),
)
def find_shipments() -> Response:
    """By tracking number (every carrier's, or one), by order, page by page by current status, or as a feed of
    status changes since a moment (for keeping another system in step)."""
    retailer_id = _retailer_id()
    params: Mapping[str, str] = retailer_api.current_request.query_params or {}
    tracking_number = (params.get("tracking_number") or "").strip()
    order_id = (params.get("order_id") or "").strip()
    status = (params.get("status") or "").strip()
    limit = int_param(params, "limit", 1, 100) or 50
    if tracking_number and order_id:
        raise ValidationError("give a tracking_number or an order_id, not both", field="order_id")
    if "changed_since" in params:
        if tracking_number or order_id or status:
            raise ValidationError("changed_since lists every status: use it on its own", field="changed_since")
        since = timestamp_param(params, "changed_since")
        return json_response(shipment_service.changed_since(retailer_id, since, params.get("cursor"), limit))
    if tracking_number:
        shipments = shipment_service.find(retailer_id, tracking_number, params.get("carrier"), status or None)
        return json_response({"shipments": shipments, "next_cursor": None})
    if order_id:
        shipments = shipment_service.find_by_order(retailer_id, order_id[:200], status or None)
        return json_response({"shipments": shipments, "next_cursor": None})
    if status:
        return json_response(shipment_service.list_in_status(retailer_id, status, params.get("cursor"), limit))
    raise ValidationError(
        "give a tracking_number, an order_id, a status or changed_since to list", field="tracking_number"
    )


@retailer_api.route("/v1/notifications/failed", methods=["GET"])
@documented(
    "Notifications that never arrived (failed or bounced), latest failure first, each with its shipment",
    "notifications",
    "FailedNotificationList",
    query=(
        Query("since", TIMESTAMP, description="only those that failed at or after this moment"),
        Query("channel", "notification_channel", description="only this channel's"),
        Query("limit", page_size(100), description="page size (50)"),
        Query("cursor", STRING, description="next_cursor of the previous page"),
    ),
    errors=(400, 401),
)
def failed_notifications() -> Response:
    """Texts, emails and webhook calls that never arrived, latest failure first: what support should follow up."""
    retailer_id = _retailer_id()
    params: Mapping[str, str] = retailer_api.current_request.query_params or {}
    since = timestamp_param(params, "since") if "since" in params else None
    channel = (params.get("channel") or "").strip().lower() or None
    if channel is not None and channel not in notifications.CHANNELS:
        raise ValidationError(f"channel must be one of {', '.join(notifications.CHANNELS)}", field="channel")
    limit = int_param(params, "limit", 1, 100) or 50
    return json_response(notifications.list_failed(retailer_id, since, channel, params.get("cursor"), limit))


@retailer_api.route("/v1/webhooks/ignored", methods=["GET"])
@documented(
    "Carrier webhooks accepted but holding no scan (a batch event, a tracking still pending), newest "
    "first, with why; kept 30 days",
    "webhooks",
    "IgnoredWebhookList",
    query=(
        Query("limit", page_size(100), description="page size (50)"),
        Query("cursor", STRING, description="next_cursor of the previous page"),
    ),
    errors=(400, 401),
)
def ignored_webhooks() -> Response:
    """Carrier webhooks accepted but holding no scan (a batch event, a tracking still pending), newest first."""
    retailer_id = _retailer_id()
    params: Mapping[str, str] = retailer_api.current_request.query_params or {}
    limit = int_param(params, "limit", 1, 100) or 50
    return json_response(ingest.list_ignored(retailer_id, params.get("cursor"), limit))


@retailer_api.route("/v1/shipments/{shipment_id}/notifications/{kind}/{channel}/retry", methods=["POST"])
@documented(
    "Send a failed, bounced or skipped notification again (fix what stopped it first: the phone, the "
    "address, consent); 409 says why not when it cannot help: not_failed, superseded, retry_limit_reached "
    "(3), or the policy's reason (opted_out, suppressed, no_sms_consent, ...)",
    "notifications",
    "Notification",
    202,
    errors=(401, 404, 409),
)
def retry_notification(shipment_id: str, kind: str, channel: str) -> Response:
    """Send a failed notification again (after correcting the phone or address, say); 202: it is on its way."""
    from urllib.parse import unquote

    retailer_id = _retailer_id()
    retried = notifications.retry(retailer_id, shipment_id, unquote(kind), unquote(channel), utcnow())
    return json_response(retried, status=202)


@retailer_api.route("/v1/shipments/{shipment_id}", methods=["GET"])
@documented("A shipment with its events and notifications", "shipments", "ShipmentDetail")
def get_shipment(shipment_id: str) -> Response:
    return json_response(shipment_views.detail(_retailer_id(), shipment_id))


@retailer_api.route("/v1/shipments/{shipment_id}", methods=["PATCH"])
@documented(
    "Correct a registered shipment (fields left out stay, null clears, customer fields merge; destination "
    "is replaced whole; a new phone needs consent again)",
    "shipments",
    "ShipmentDetail",
    request="ShipmentChangeRequest",
    errors=(*WITH_BODY, 409),
)
def update_shipment(shipment_id: str) -> Response:
    """Corrections after registration: the shopper's contact details, order id, items, promised date."""
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import ShipmentChangeRequest, validate_changes

    retailer_id = _retailer_id()
    changes = validate_changes(ShipmentChangeRequest, read_json_object(body_bytes(retailer_api.current_request)))
    return json_response(shipment_service.update_details(retailer_id, shipment_id, changes, utcnow()))


@retailer_api.route("/v1/shipments/{shipment_id}/cancel", methods=["POST"])
@documented(
    "Cancel the order: pending texts are dropped and the chat closes (cancelling twice is harmless)",
    "shipments",
    "ShipmentDetail",
    request="CancelRequest",
    request_required=False,
    errors=(*WITH_BODY, 409),
)
def cancel_shipment(shipment_id: str) -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import CancelRequest, validate

    retailer_id = _retailer_id()
    body = validate(CancelRequest, read_optional_json_object(body_bytes(retailer_api.current_request)))
    return json_response(ingest.cancel(retailer_id, shipment_id, body.get("reason"), utcnow()))


@retailer_api.route("/v1/shipments/{shipment_id}/delivery-changes/{change_id}", methods=["POST"])
@documented(
    "Answer a shopper's delivery-change request: the shopper is told once, by their channel. The same answer "
    "again is harmless (200, `replayed`); 404 unknown_change; 409 already_answered (the opposite answer after one) "
    "or change_not_open (still awaiting the shopper's code, or ended)",
    "shipments",
    "DeliveryChangeAnswer",
    request="DeliveryChangeAnswerRequest",
    errors=(*WITH_BODY, 409),
)
def answer_delivery_change(shipment_id: str, change_id: str) -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import DeliveryChangeAnswerRequest, validate

    retailer_id = _retailer_id()
    body = validate(DeliveryChangeAnswerRequest, read_json_object(body_bytes(retailer_api.current_request)))
    answered = delivery_changes.answer(retailer_id, shipment_id, change_id, body["status"], body.get("note"), utcnow())
    return json_response(answered)


@retailer_api.route("/v1/delivery-changes", methods=["GET"])
@documented(
    "Delivery-change requests waiting for an answer (yours or the carrier's), oldest first",
    "shipments",
    "DeliveryChangeList",
    query=(
        Query("limit", page_size(100), description="page size (50)"),
        Query("cursor", STRING, description="next_cursor of the previous page"),
    ),
    errors=(400, 401),
)
def open_delivery_changes() -> Response:
    retailer_id = _retailer_id()
    params: Mapping[str, str] = retailer_api.current_request.query_params or {}
    limit = int_param(params, "limit", 1, 100) or 50
    return json_response(delivery_changes.list_open(retailer_id, params.get("cursor"), limit))


@retailer_api.route("/v1/integrations/{source}", methods=["PUT"])
@documented(
    "Set or rotate a webhook source's signing secret (omit `secret` to have one generated)",
    "configuration",
    "Integration",
    request="IntegrationRequest",
    request_required=False,
    errors=WITH_BODY,
)
def put_integration(source: str) -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import IntegrationRequest, validate

    retailer_id = _retailer_id()
    body = validate(IntegrationRequest, read_optional_json_object(body_bytes(retailer_api.current_request)))
    secret, url = retailer_service.set_integration(retailer_id, source, body.get("secret"))
    return json_response({"source": source, "webhook_url": url, "secret": secret})


@retailer_api.route("/v1/api-keys", methods=["GET"])
@documented("The retailer's active API keys (never the keys themselves)", "keys", "ApiKeyList", errors=(401,))
def list_api_keys() -> Response:
    """The retailer's active keys: id, prefix, creation and expiry; which one made this request. Never the keys."""
    key = bearer_token(retailer_api.current_request.headers)
    retailer_id = api_keys.authenticate(key, utcnow())
    return json_response({"api_keys": retailer_service.list_api_keys(retailer_id, key or "", utcnow())})


@retailer_api.route("/v1/api-keys", methods=["POST"])
@documented(
    "Rotate: a new key now, the calling key retired after a grace period (default 24 h)",
    "keys",
    "NewApiKey",
    201,
    request="ApiKeyRequest",
    request_required=False,
    errors=(400, 401, 409, 413, 415),
)
def issue_api_key() -> Response:
    """Rotate: a new key now; the key making the request keeps working for the grace period, then stops."""
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import ApiKeyRequest, validate

    key = bearer_token(retailer_api.current_request.headers)
    retailer_id = api_keys.authenticate(key, utcnow())
    body = validate(ApiKeyRequest, read_optional_json_object(body_bytes(retailer_api.current_request)))
    grace = None if body["keep_current"] else timedelta(hours=body["retire_current_after_hours"])
    api_key, described = retailer_service.issue_api_key(retailer_id, key, grace, utcnow())
    return json_response({**described, "api_key": api_key}, status=201)


@retailer_api.route("/v1/api-keys/{key_id}", methods=["DELETE"])
@documented("Revoke a key at once (not the last active one)", "keys", None, 204, errors=(401, 404, 409))
def revoke_api_key(key_id: str) -> Response:
    retailer_service.revoke_api_key(_retailer_id(), key_id, utcnow())
    return Response(body="", status_code=204)


@retailer_api.route("/v1/shipments/{shipment_id}/chat", methods=["GET"])
@documented("The driver chat transcript", "shipments", "ChatTranscript")
def shipment_chat(shipment_id: str) -> Response:
    """The relay transcript: every message with its time, sender role, delivery status and reason."""
    return json_response(retailer_transcript(_retailer_id(), shipment_id, utcnow()))


@retailer_api.route("/v1/shipments/{shipment_id}/driver", methods=["PUT"])
@documented(
    "Name the driver (opens the chat relay when out for delivery)",
    "shipments",
    "ShipmentDetail",
    request="DriverRequest",
    errors=(*WITH_BODY, 409),
)
def set_driver(shipment_id: str) -> Response:
    """The retailer names the driver (when the carrier does not): recorded as a scan, so it folds like one."""
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import DriverRequest, validate

    retailer_id = _retailer_id()
    body = validate(DriverRequest, read_json_object(body_bytes(retailer_api.current_request)))
    return json_response(ingest.assign_driver(retailer_id, shipment_id, body, utcnow()))


@retailer_api.route("/v1/shipments/{shipment_id}", methods=["DELETE"])
@documented("Erase a shipment and everything it left behind", "shipments", "Erasure")
def erase_shipment(shipment_id: str) -> Response:
    """Erase a shopper's data on request: the shipment and everything it left behind (see docs/decisions.md)."""
    return json_response({"deleted": erase(_retailer_id(), shipment_id, utcnow())})


@retailer_api.route("/v1/openapi.json", methods=["GET"])
@documented("This document", "meta", None, security=None, errors=())
def openapi_document() -> Response:
    """The API's OpenAPI document, with this deployment's public URL as its server."""
    # pydantic (via .openapi): only the document route builds it
    from .openapi import document

    base_url = settings().public_base_url
    spec = _published.get(base_url)
    if spec is None:  # built once per process: 0.1 s of CPU on an unauthenticated route, for a fixed answer
        spec = _published[base_url] = document(base_url, retailer_api.current_app.routes)
    return json_response(spec, headers={"Cache-Control": "public, max-age=300"})


#: The document by public base URL (the routes are fixed once the app is imported).
_published: dict[str, dict[str, Any]] = {}
