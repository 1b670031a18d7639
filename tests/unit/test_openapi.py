"""The published OpenAPI document and the Chalice routes must not drift apart (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

from app import app
from chalicelib.api.openapi import OPERATIONS, document
from chalicelib.api.operations import SIGNED_BODIES

ROOT = Path(__file__).resolve().parents[2]

#: /v1 routes deliberately left out of the document, each with the reason. Anything else must be documented.
UNDOCUMENTED = {
    ("/v1/twilio/inbound", "POST"): "Twilio's own form protocol, signed by Twilio",
    ("/v1/twilio/status", "POST"): "Twilio's status callback protocol",
    ("/v1/sendgrid/events", "POST"): "SendGrid's Event Webhook protocol",
    ("/v1/unsubscribe/{token}", "GET"): "a page for people, linked from e-mails",
    ("/v1/unsubscribe/{token}", "POST"): "RFC 8058 one-click unsubscribe, sent by mail clients",
    ("/v1/tracking/{token}", "OPTIONS"): "CORS preflight, answered for browsers",
    ("/v1/track/{retailer_id}", "OPTIONS"): "CORS preflight, answered for browsers",
}


def routed_operations() -> set[tuple[str, str]]:
    return {(path, method) for path, methods in app.routes.items() if path.startswith("/v1/") for method in methods}


def documented_operations() -> set[tuple[str, str]]:
    spec = document()
    return {(path, method.upper()) for path, item in spec["paths"].items() for method in item}


def test_every_v1_route_is_documented_and_every_documented_operation_is_routed() -> None:
    routed = routed_operations()
    assert set(UNDOCUMENTED) <= routed, "an exclusion names a route that no longer exists"
    assert routed - set(UNDOCUMENTED) == documented_operations()


def test_path_parameters_match_the_route_arguments() -> None:
    spec = document()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            documented = [p["name"] for p in operation["parameters"] if p["in"] == "path"]
            assert documented == app.routes[path][method.upper()].view_args, (method, path)


def test_documented_request_body_is_the_model_the_route_validates_with() -> None:
    for operation in (op for op in OPERATIONS if op.method != "get"):  # one view serves GET and POST preview
        view = app.routes[operation.path][operation.method.upper()].view_function
        code_names = set(getattr(view, "__wrapped__", view).__code__.co_names)
        models = {name for name in code_names if name.endswith("Request")}
        expected = {operation.request} if operation.request and operation.request not in SIGNED_BODIES else set()
        assert models == expected, (operation.method, operation.path)


def test_the_document_is_valid_openapi_and_every_error_has_the_error_shape() -> None:
    spec = document()
    validate(spec)
    for item in spec["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_committed_copy_is_current() -> None:
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == document(), "docs/openapi.json is stale: run make openapi"


def test_webhook_subscriptions_accept_exactly_the_statuses_a_shipment_can_move_to() -> None:
    from typing import get_args

    from chalicelib.api.schemas import StatusName
    from chalicelib.domain.hooks import STATUSES

    assert list(get_args(StatusName)) == list(STATUSES)


def test_request_bodies_take_json_types_as_the_schema_says_not_lookalikes() -> None:
    """A number is not a boolean and a string is not an integer, though pydantic's lax mode would convert them."""
    from chalicelib.api.schemas import ApiKeyRequest, SettingsRequest, ShipmentRequest, validate
    from chalicelib.errors import ValidationError

    for model, body, field in (
        (ApiKeyRequest, {"keep_current": 0.0}, "keep_current"),
        (ApiKeyRequest, {"retire_current_after_hours": "24"}, "retire_current_after_hours"),
        (SettingsRequest, {"email_fallback": 1}, "email_fallback"),
        (SettingsRequest, {"silent_after_days": "5"}, "silent_after_days"),
        (
            ShipmentRequest,
            {
                "order_id": "O",
                "carrier": "ups",
                "tracking_number": "1Z",
                "customer": {"name": "A", "sms_consent": "yes"},
            },
            "customer.sms_consent",
        ),
    ):
        try:
            validate(model, body)
        except ValidationError as error:
            assert error.field == field, (body, error.field)
        else:
            raise AssertionError(f"{model.__name__} accepted {body}")
