"""Provider callbacks (DESIGN 3.5) and the shopper's email unsubscribe link."""

from __future__ import annotations

import binascii
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from chalice import Blueprint, Response

from ..config import settings
from ..domain import json_text
from ..errors import Forbidden, NotFound, ValidationError
from ..services import provider_events, surveys
from ..services.relay import handle_relay_inbound
from ..web.i18n import LOCALES, strings
from .http import body_bytes, html_response, json_response, utcnow

providers = Blueprint(__name__)
logger = logging.getLogger("porchlight.providers")
#: Twilio attaches at most ten media to one message.
MAX_MEDIA = 10
FORM = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8"]
ANY_BODY = [*FORM, "application/json", "text/plain", "multipart/form-data"]
#: SendGrid signs the timestamp with the body; a signed batch older (or newer) than this is refused as a replay.
SENDGRID_TIMESTAMP_TOLERANCE_SECONDS = 600


def _twilio_params() -> dict[str, str]:
    """Form parameters exactly as Twilio posted them, then checked against X-Twilio-Signature."""
    request = providers.current_request
    raw = body_bytes(request)
    try:
        params = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw)))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Forbidden("request is not a signed Twilio form post") from exc
    config = settings()
    signature = request.headers.get("x-twilio-signature")
    if not config.twilio_auth_token:
        raise Forbidden("Twilio is not configured (TWILIO_AUTH_TOKEN)")
    path = request.context.get("resourcePath", "")
    query: Mapping[str, str] = request.query_params or {}
    url = config.public_base_url + path
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(dict(query))
    from twilio.request_validator import RequestValidator

    if not signature or not RequestValidator(config.twilio_auth_token).validate(url, params, signature):
        raise Forbidden("X-Twilio-Signature does not match", code="invalid_signature")
    return params


def _twiml(reply: str | None) -> Response:
    from twilio.twiml.messaging_response import MessagingResponse

    response = MessagingResponse()
    if reply:
        response.message(reply)
    return Response(body=str(response), status_code=200, headers={"Content-Type": "text/xml"})


@providers.route("/v1/twilio/inbound", methods=["POST"], content_types=ANY_BODY)
def twilio_inbound() -> Response:
    params = _twilio_params()
    sender, body = params.get("From", ""), params.get("Body", "")
    if not sender:
        raise ValidationError("From is required", field="From")
    # Twilio attaches at most ten media (MediaUrl0..9); reading them by name needs no trust in NumMedia, which
    # int() could not read when it is "²" (isdigit() yet no int) and which could ask for a billion-step loop.
    media = tuple(params[f"MediaUrl{i}"] for i in range(MAX_MEDIA) if f"MediaUrl{i}" in params)
    message = provider_events.InboundSms(
        message_sid=params.get("MessageSid", params.get("SmsSid", "")),
        from_number=sender,
        to_number=params.get("To", ""),
        body=body,
        media_urls=media,
    )
    if message.to_number in settings().twilio_relay_numbers:
        reply = handle_relay_inbound(message.to_number, message.from_number, message.body, message.media_urls, utcnow())
        return _twiml(reply)
    return _twiml(provider_events.handle_inbound_sms(message, utcnow(), surveys.handle_sms_reply))


@providers.route("/v1/twilio/status", methods=["POST"], content_types=ANY_BODY)
def twilio_status() -> Response:
    return json_response(provider_events.apply_twilio_status(_twilio_params(), utcnow()))


def _fresh(timestamp: str) -> bool:
    """The signed timestamp is within the tolerance of our clock (either way, for clock skew)."""
    try:
        signed_at = int(timestamp.strip())
    except ValueError:
        return False
    return abs(utcnow().timestamp() - signed_at) <= SENDGRID_TIMESTAMP_TOLERANCE_SECONDS


@providers.route("/v1/sendgrid/events", methods=["POST"], content_types=ANY_BODY)
def sendgrid_events() -> Response:
    request = providers.current_request
    raw = body_bytes(request)
    key = settings().sendgrid_webhook_public_key
    if not key:
        raise Forbidden("SendGrid event verification is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)")
    signature = request.headers.get("x-twilio-email-event-webhook-signature")
    timestamp = request.headers.get("x-twilio-email-event-webhook-timestamp")
    if not signature or not timestamp:
        raise Forbidden("missing SendGrid signature headers", code="invalid_signature")
    from sendgrid.helpers.eventwebhook import EventWebhook

    try:
        payload = raw.decode("utf-8")  # verified exactly as received, trailing CRLF included
        verifier = EventWebhook()
        valid = verifier.verify_signature(payload, signature, timestamp, verifier.convert_public_key_to_ecdsa(key))
    except (UnicodeDecodeError, binascii.Error, ValueError):
        valid = False
    if not valid:
        raise Forbidden("SendGrid signature does not match", code="invalid_signature")
    if not _fresh(timestamp):
        raise Forbidden(
            "X-Twilio-Email-Event-Webhook-Timestamp is more than "
            f"{SENDGRID_TIMESTAMP_TOLERANCE_SECONDS // 60} minutes from now (a replayed or delayed batch)",
            code="invalid_signature",
        )
    try:
        events: Any = json_text.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValidationError("body is not valid JSON", field="body") from exc
    return json_response(provider_events.apply_sendgrid_events(events, utcnow()))


def _page_language() -> str:
    """?lang=, else the browser's Accept-Language (first supported language), else English."""
    request = providers.current_request
    wanted = [dict(request.query_params or {}).get("lang") or ""]
    wanted += [part.split(";")[0].strip() for part in (request.headers.get("accept-language") or "").split(",")]
    for choice in wanted:
        language = choice.split("-")[0].lower()
        if language in LOCALES:
            return language
    return "en"


def _link_refused(error: NotFound) -> Response:
    """The shopper's page when an unsubscribe link no longer works, in their language (404 unknown, 410 expired)."""
    language = _page_language()
    words = strings(language)
    return html_response(
        "pages/message.html.j2",
        {"title": words["unsubscribe_gone_title"], "text": words["unsubscribe_gone_text"], "lang": language},
        status=error.status,
    )


@providers.route("/v1/unsubscribe/{token}", methods=["GET"])
def unsubscribe_page(token: str) -> Response:
    """Link scanners follow GETs, so the link only asks; the button (or the mail client's one-click) unsubscribes."""
    try:
        target = provider_events.unsubscribe_preview(token, utcnow())
    except NotFound as error:
        return _link_refused(error)
    language = _page_language()
    words = strings(language)
    return html_response(
        "pages/message.html.j2",
        {
            "title": words["unsubscribe_question"].format(retailer=target["retailer"]),
            "text": words["unsubscribe_keep_tracking"],
            "form_action": f"{settings().public_base_url}/v1/unsubscribe/{token}"
            + (f"?lang={language}" if language != "en" else ""),
            "button": words["unsubscribe_button"],
            "lang": language,
        },
    )


@providers.route("/v1/unsubscribe/{token}", methods=["POST"], content_types=ANY_BODY)
def unsubscribe(token: str) -> Response:
    try:
        done = provider_events.unsubscribe(token, utcnow())
    except NotFound as error:
        return _link_refused(error)
    language = _page_language()
    words = strings(language)
    return html_response(
        "pages/message.html.j2",
        {
            "title": words["unsubscribed_title"],
            "text": words["unsubscribed_text"].format(retailer=done["retailer"]),
            "lang": language,
        },
    )
