"""Retailer configuration routes: notification settings, brand, templates and their preview (DESIGN 3.3)."""

from __future__ import annotations

from collections.abc import Mapping

from chalice import Blueprint, Response

from ..services import configuration
from ..services.retailer_webhooks import rotate_secret, send_test
from ..shared import api_keys
from .http import (
    bearer_token,
    body_bytes,
    json_response,
    read_json_object,
    read_optional_json_object,
    utcnow,
)
from .operations import LANG, WITH_BODY, documented
from .tracking_api import tracking_page

configuration_api = Blueprint(__name__)
TEMPLATE_PATH = "/v1/templates/{kind}/{channel}/{locale}"


def _retailer_id() -> str:
    return api_keys.authenticate(bearer_token(configuration_api.current_request.headers), utcnow())


def _body() -> dict:
    return read_json_object(body_bytes(configuration_api.current_request))


@configuration_api.route("/v1/settings", methods=["GET"])
@documented("Notification settings", "configuration", "Settings", errors=(401,))
def get_settings() -> Response:
    return json_response(configuration.get_settings(_retailer_id()))


@configuration_api.route("/v1/settings", methods=["PUT"])
@documented(
    "Change notification settings (fields left out keep their value)",
    "configuration",
    "Settings",
    request="SettingsRequest",
    errors=(400, 401, 413, 415),
)
def put_settings() -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import SettingsRequest, validate

    retailer_id = _retailer_id()
    body = _body()
    changes = validate(SettingsRequest, body)
    if "quiet_hours" in body and body["quiet_hours"] is None:  # explicit null: back to the defaults (said so)
        changes["quiet_hours"] = None
    return json_response(configuration.update_settings(retailer_id, changes))


@configuration_api.route("/v1/settings/webhooks/test", methods=["POST"])
@documented(
    "Send a signed webhook.test event to webhooks.url now and report the endpoint's answer",
    "configuration",
    "WebhookTest",
    errors=(401, 409),
)
def test_webhook() -> Response:
    """Send a signed `webhook.test` event to the configured URL now and report how the endpoint answered."""
    return json_response(send_test(_retailer_id(), utcnow()))


@configuration_api.route("/v1/settings/webhooks/secret", methods=["POST"])
@documented(
    "Rotate the secret that signs our calls to you; the old one co-signs for a grace period (default 24 h)",
    "configuration",
    "RotatedSecret",
    201,
    request="SecretRotationRequest",
    request_required=False,
    errors=(400, 401, 413, 415),
)
def rotate_webhook_secret() -> Response:
    """A new secret for the calls we make to the retailer, shown once; the old one co-signs for a grace period."""
    from datetime import timedelta

    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import SecretRotationRequest, validate

    retailer_id = _retailer_id()
    body = validate(SecretRotationRequest, read_optional_json_object(body_bytes(configuration_api.current_request)))
    grace = timedelta(hours=body["keep_previous_for_hours"])
    return json_response(rotate_secret(retailer_id, grace, utcnow()), status=201)


@configuration_api.route("/v1/branding", methods=["GET"])
@documented("The tracking page's brand", "configuration", "Branding", errors=(401,))
def get_branding() -> Response:
    return json_response(configuration.get_branding(_retailer_id()))


@configuration_api.route("/v1/branding", methods=["PUT"])
@documented(
    "Change the brand (fields left out keep their value; null puts one back to its default)",
    "configuration",
    "Branding",
    request="BrandingRequest",
    errors=(400, 401, 413, 415),
)
def put_branding() -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import BrandingRequest, validate_changes

    retailer_id = _retailer_id()
    return json_response(configuration.update_branding(retailer_id, validate_changes(BrandingRequest, _body())))


@configuration_api.route(TEMPLATE_PATH, methods=["GET"])
@documented("A custom template", "templates", "Template")
def get_template(kind: str, channel: str, locale: str) -> Response:
    return json_response(configuration.get_template(_retailer_id(), kind, channel, locale))


@configuration_api.route(TEMPLATE_PATH, methods=["PUT"])
@documented(
    "Save a custom template (checked for syntax, unknown variables and SMS length)",
    "templates",
    "Template",
    request="TemplateRequest",
    errors=WITH_BODY,
)
def put_template(kind: str, channel: str, locale: str) -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import TemplateRequest, validate

    retailer_id = _retailer_id()
    draft = validate(TemplateRequest, _body())
    return json_response(configuration.save_template(retailer_id, kind, channel, locale, draft, utcnow()))


@configuration_api.route(TEMPLATE_PATH, methods=["DELETE"])
@documented("Go back to the built-in template", "templates", None, 204)
def delete_template(kind: str, channel: str, locale: str) -> Response:
    configuration.delete_template(_retailer_id(), kind, channel, locale)
    return Response(body="", status_code=204)


@configuration_api.route(TEMPLATE_PATH + "/preview", methods=["POST"])
@documented(
    "Render the template in force, or a draft, with sample data",
    "templates",
    "TemplatePreview",
    request="TemplateRequest",
    request_required=False,
    errors=WITH_BODY,
)
def preview_template(kind: str, channel: str, locale: str) -> Response:
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import TemplateRequest, validate

    retailer_id = _retailer_id()
    raw = body_bytes(configuration_api.current_request)
    draft = validate(TemplateRequest, read_json_object(raw)) if raw.strip() else None
    return json_response(configuration.preview(retailer_id, kind, channel, locale, draft))


@configuration_api.route("/v1/branding/preview", methods=["GET", "POST"])
@documented(
    "The tracking page with sample data in the current brand",
    "configuration",
    None,
    method="get",
    query=(LANG,),
    errors=(401,),
    media_type="text/html",
)
@documented(
    "The tracking page with sample data in a draft brand",
    "configuration",
    None,
    method="post",
    request="BrandingRequest",
    request_required=False,
    query=(LANG,),
    errors=(400, 401, 413, 415),
    media_type="text/html",
)
def preview_branding() -> Response:
    """The tracking page with sample data and the current brand (GET) or a draft (POST), before it goes live."""
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import BrandingRequest, validate

    retailer_id = _retailer_id()
    request = configuration_api.current_request
    raw = body_bytes(request)
    draft = validate(BrandingRequest, read_json_object(raw)) if request.method == "POST" and raw.strip() else None
    params: Mapping[str, str] = request.query_params or {}
    return tracking_page(configuration.branding_preview(retailer_id, draft, params.get("lang")))
