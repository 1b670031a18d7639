"""Suppressions a retailer can see and lift (issue 20.7, D32)."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..services import retailers as retailer_service
from ..services import suppressions
from ..shared import api_keys
from .http import bearer_token, body_bytes, json_response, read_json_object, utcnow
from .operations import STRING, Query, documented

suppressions_api = Blueprint(__name__)


@suppressions_api.route("/v1/suppressions", methods=["GET"])
@documented(
    "What holds messages to an e-mail address or phone for your sends, and its audit trail",
    "configuration",
    "SuppressionState",
    query=(Query("contact", STRING, required=True, description="an e-mail address or E.164 phone number"),),
    errors=(400, 401),
)
def get_suppressions() -> Response:
    """What stops messages to `contact` (an e-mail address or E.164 phone) for this retailer, and its history."""
    request = suppressions_api.current_request
    retailer_id = api_keys.authenticate(bearer_token(request.headers), utcnow())
    return json_response(suppressions.state(retailer_id, dict(request.query_params or {}).get("contact")))


@suppressions_api.route("/v1/suppressions/{address}", methods=["DELETE"], content_types=["application/json"])
@documented(
    "Lift an e-mail suppression for your sends, with a reason (audited); a shopper's STOP is refused (409)",
    "configuration",
    "SuppressionState",
    request="SuppressionLiftRequest",
    errors=(400, 401, 404, 409, 413, 415),
)
def lift_suppression(address: str) -> Response:
    """Lift what suppresses `address` for this retailer's sends, with a reason; audited with the calling key."""
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import SuppressionLiftRequest, validate

    request = suppressions_api.current_request
    key = bearer_token(request.headers)
    retailer_id = api_keys.authenticate(key, utcnow())
    body = validate(SuppressionLiftRequest, read_json_object(body_bytes(request)))
    key_id = retailer_service.key_id(api_keys.hash_api_key(key or ""))
    return json_response(suppressions.lift(retailer_id, address, body, key_id, (key or "")[:10], utcnow()))
