"""Shopper pages (DESIGN 3.4): the branded tracking page, its JSON twin, the forms and proof-of-delivery media."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from chalice import Blueprint, Response

from ..config import settings
from ..domain.engagement import FROM_TEXT, MARKER
from ..errors import Forbidden, NotFound, PayloadTooLarge, PorchlightError, TooManyRequests, ValidationError
from ..services import delivery_changes, pickup, surveys, tracking
from ..services.order_lookup import find_order, retailer_brand
from ..services.relay import post_from_page
from ..web.i18n import LANGUAGE_NAMES, strings
from ..web.live_map import https_origin, live_map
from .http import body_bytes, client_address, json_response, posted_cross_site, read_json_object, utcnow
from .operations import LANG, documented

tracking_api = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8", "multipart/form-data"]
CSRF_COOKIE = "pl_csrf"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, OPTIONS", "Vary": "Origin"}
MAX_FORM_BYTES = 16 * 1024
#: The ratings a form or an email link may give, as written (ASCII digits only).
SCORES = {str(n): n for n in range(1, 6)}
logger = logging.getLogger("porchlight.api")
#: A refused form's error code -> the words the shopper reads instead (keys of web/i18n.py:PAGE_MESSAGES, translated
#: in every catalog).
FORM_MESSAGES = {
    "csrf": "error_expired",
    "cross_site": "error_cross_site",
    "payload_too_large": "error_too_large",
    "not_a_form": "error_not_a_form",
    "invalid_choice": "error_invalid_choice",
    "no_phone": "error_no_phone",
    "no_email": "error_no_email",
    "channel_off": "error_channel_off",
    "instructions_too_long": "error_instructions_too_long",
    "chat_closed": "error_chat_closed",
    "empty_message": "error_empty_message",
    "message_too_long": "error_message_too_long",
    "rate_limited": "error_rate_limited",
    "invalid_score": "error_invalid_score",
    "not_delivered": "error_not_delivered",
    "comment_too_long": "error_comment_too_long",
    **{
        code: f"error_{code}"
        for code in (
            "no_pickup_code",
            "no_contact",
            "otp_send_limit",
            "otp_too_soon",
            "otp_not_sent",
            "otp_malformed",
            "otp_expired",
            "otp_wrong",
            "otp_spent",
        )
    },
    "invalid_change": "error_invalid_choice",
    "not_offered": "error_not_offered",
    "finished": "error_finished",
    "out_for_delivery": "error_out_for_delivery",
    "past_cutoff": "error_past_cutoff",
    "change_pending": "error_change_pending",
    "too_many_codes": "error_too_many_codes",
    "wrong_code": "error_wrong_code",
    "code_locked": "change_locked",
    "code_expired": "change_expired",
    "no_code_expected": "error_no_code_expected",
}


def page_headers(nonce: str, image_sources: list[str] | None = None) -> dict[str, str | list[str]]:
    """`image_sources`: the only hosts the page may load images from (the tracking page names its own: the logo's,
    the items' and the map tiles'); without it, any https image (pages that show retailer-written markup)."""
    images = " ".join(["'self'", "data:", *image_sources]) if image_sources is not None else "'self' https: data:"
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        # The tracking token is in the URL, so no other site may see it as a referrer; "same-origin" still lets
        # the browser name our origin on the page's own form posts ("no-referrer" makes it send `Origin: null`,
        # which the exact origin check rightly refuses).
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            f"default-src 'none'; img-src {images}; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
    }


def _cookie(name: str) -> str | None:
    raw = tracking_api.current_request.headers.get("cookie") or ""
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def render_page(
    template: str,
    context: dict[str, Any],
    status: int = 200,
    csrf: str | None = None,
    image_sources: list[str] | None = None,
) -> Response:
    # jinja2 (via web.templating): only pages render, the webhook path never does
    from ..web.templating import builtin_environment

    nonce = secrets.token_urlsafe(16)
    html = builtin_environment().get_template(template).render({**context, "nonce": nonce})
    headers = page_headers(nonce, image_sources)
    if csrf:
        secure = "; Secure" if settings().public_base_url.startswith("https://") else ""
        headers["Set-Cookie"] = f"{CSRF_COOKIE}={csrf}; Path=/; HttpOnly; SameSite=Strict{secure}"
    return Response(body=html, status_code=status, headers=headers)


def not_found_page(locale: str | None = None) -> Response:
    # jinja2 (via web.templating): only pages render, the webhook path never does
    from ..web.templating import resolve_locale

    chosen = resolve_locale(locale)
    return render_page("pages/not_found.html.j2", {"t": strings(chosen), "locale": chosen}, status=404)


def tracking_page(
    view: dict[str, Any],
    saved: bool = False,
    chat_sent: bool = False,
    error: str | None = None,
    status: int = 200,
    code_sent: bool = False,
) -> Response:
    csrf = _cookie(CSRF_COOKIE) or secrets.token_urlsafe(16)
    tile_template = settings().map_tile_url
    context = {
        "v": view,
        "map": live_map(view.get("live"), tile_template),
        "t": strings(view["locale"]),
        "base": settings().public_base_url,
        "csrf": csrf,
        "saved": saved,
        "chat_sent": chat_sent,
        "code_sent": code_sent,
        "error": error,
        "languages": LANGUAGE_NAMES,
    }
    return render_page(
        "pages/tracking.html.j2", context, status=status, csrf=csrf, image_sources=image_sources(view, tile_template)
    )


def image_sources(view: dict[str, Any], tile_template: str) -> list[str]:
    """The hosts of the images the tracking page shows: the retailer's logo, the items' pictures, the map tiles
    (only the operator's tile host: DESIGN 3.8). Proof-of-delivery media come through our own origin."""
    urls = [view["retailer"].get("logo_url"), *(item.get("image_url") for item in view.get("items") or [])]
    origins = {https_origin(url) for url in urls if isinstance(url, str)}
    if tile_template:
        origins.add(https_origin(tile_template))
    return sorted(origin for origin in origins if origin)


def form_message(error: PorchlightError, locale: str) -> str:
    words = strings(locale)
    return words[FORM_MESSAGES.get(error.code, "error_generic")]


def _posted_lang() -> str | None:
    """The language the shopper was reading, from the query or the form, even when the form itself is refused."""
    request = tracking_api.current_request
    params: Mapping[str, str] = request.query_params or {}
    lang = params.get("lang")
    raw = body_bytes(request)
    if not lang and len(raw) <= MAX_FORM_BYTES:
        try:
            lang = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)).get("lang")
        except (UnicodeDecodeError, ValueError):
            lang = None
    return lang


def refused_on_page(token: str, error: PorchlightError) -> Response:
    """The tracking page again, with the status the refusal deserves and a sentence in the shopper's language."""
    lang = _posted_lang()
    try:
        view = tracking.public_view(token, lang, utcnow())
    except NotFound:
        return not_found_page(lang)
    return tracking_page(view, error=form_message(error, view["locale"]), status=error.status)


def shopper_error_page(event: Any, response: Response) -> Response:
    """Chalice refuses some requests itself (415 a body that is not a form, 405 a wrong method) in JSON; on the
    shopper's paths that answer is the page they were on too, with the same status.

    Only refusals (4xx) become a page: a 500 may have come from the table, and drawing the page reads it again. If
    the page cannot be drawn anyway, the original answer stands rather than a second failure."""
    body = response.body
    path = str(getattr(event, "path", "") or "")
    if not path.startswith(("/t/", "/track/")) or not 400 <= response.status_code < 500:
        return response
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    error = ValidationError(str(body["Message"]), code="not_a_form")
    error.status = response.status_code
    params = getattr(event, "uri_params", None) or {}
    try:
        if "token" in params:
            page = refused_on_page(params["token"], error)
        elif "retailer_id" in params:
            page = lookup_refused(params["retailer_id"], error)
        else:
            page = not_found_page()
    except Exception:
        logger.exception("the refusal page could not be drawn; answering %s as is", response.status_code)
        return response
    page.headers = {**response.headers, **page.headers}
    return page


@tracking_api.route("/t/{token}", methods=["GET"])
def shopper_page(token: str) -> Response:
    params: Mapping[str, str] = tracking_api.current_request.query_params or {}
    try:
        view = tracking.visited_page(token, params.get("lang"), params.get(MARKER), FROM_TEXT in params, utcnow())
    except NotFound:
        return not_found_page(params.get("lang"))
    tracking.count_view(view)
    return tracking_page(
        view,
        saved=params.get("saved") == "1",
        chat_sent=params.get("sent") == "1",
        code_sent=params.get("code_sent") == "1",
    )


@tracking_api.route("/v1/tracking/{token}", methods=["GET"])
@documented(
    "The shopper's tracking view as JSON, for embedding (CORS open, no credentials)",
    "tracking",
    "Tracking",
    security=None,
    query=(LANG,),
    errors=(404,),
    conditional=True,
)
def shopper_json(token: str) -> Response:
    """Its refusals carry the CORS headers too (chalicelib.api.refusals)."""
    params: Mapping[str, str] = tracking_api.current_request.query_params or {}
    view = tracking.public_view(token, params.get("lang"))
    view.pop("colors", None)
    view.pop("retailer_id", None)
    # The shopper's own typed instructions (gate codes, phone numbers, addresses) stay off this CORS-open JSON, which
    # retailers embed in their sites; the page, where the shopper edits them, shows them (D23).
    shopper = view["shopper"]
    shopper["has_instructions"] = bool(shopper.pop("instructions", ""))
    change = view.get("delivery_change")
    if change and change.get("request"):  # what was asked (a neighbour's name, say) stays on the page
        change["request"] = {key: change["request"].get(key) for key in ("id", "kind", "status")}
    tag = view_etag(view)
    headers: dict[str, str | list[str]] = {
        **CORS,
        "ETag": tag,
        "Cache-Control": "no-cache",
        "Access-Control-Expose-Headers": "ETag",
    }
    if etag_matches(tracking_api.current_request.headers.get("if-none-match"), tag):
        # The same one by_token query as a 200 was needed to know nothing changed: a 304 saves bytes, not reads.
        return Response(body="", status_code=304, headers=headers)
    return json_response(view, headers={k: str(v) for k, v in headers.items()})


def view_etag(view: dict[str, Any]) -> str:
    """A weak validator of what the shopper sees: everything but the position's age, which grows every second
    while the position stays (pollers count it on themselves; a position that ages out changes the view)."""
    live = view.get("live")
    if live and live.get("position"):
        live = {**live, "position": {k: v for k, v in live["position"].items() if k != "age_seconds"}}
    shown = {**view, "live": live}
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def etag_matches(header: str | None, tag: str) -> bool:
    """`If-None-Match` holds our tag (weak comparison, RFC 9110 13.1.2), or `*`."""
    if not header:
        return False
    opaque = tag.removeprefix("W/")
    return any(part.strip() == "*" or part.strip().removeprefix("W/") == opaque for part in header.split(",")[:20])


@tracking_api.route("/v1/tracking/{token}", methods=["OPTIONS"])
def shopper_json_preflight(token: str) -> Response:
    headers: dict[str, str | list[str]] = {
        **CORS,
        "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Headers": "If-None-Match",
    }
    return Response(body="", status_code=204, headers=headers)


def _form() -> dict[str, str]:
    raw = body_bytes(tracking_api.current_request)
    if len(raw) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"forms are limited to {MAX_FORM_BYTES} bytes")
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("not a form post", code="not_a_form") from exc


def _check_same_site(form: dict[str, str]) -> None:
    """Double-submit cookie plus Origin check: a page on another site can neither read the cookie nor fake Origin.

    The Origin must name the public origin exactly, as for the analytics sign-in (`null` and look-alikes such as
    `https://track.example` for `https://track.example.test` are refused)."""
    cookie, field = _cookie(CSRF_COOKIE), form.get("csrf", "")
    if not cookie or not field or not hmac.compare_digest(cookie.encode(), field.encode()):
        raise Forbidden("this form has expired: reload the page and try again", code="csrf")
    if posted_cross_site(tracking_api.current_request.headers, settings().public_base_url):
        raise Forbidden("cross-site form posts are not accepted", code="cross_site")


@tracking_api.route("/t/{token}/preferences", methods=["POST"], content_types=FORM)
def shopper_preferences(token: str) -> Response:
    form = _form()
    _check_same_site(form)
    try:
        tracking.save_shopper_choices(token, form.get("notify") or None, form.get("instructions"), utcnow())
    except NotFound:
        return not_found_page(form.get("lang"))
    lang = form.get("lang", "")
    query = f"?saved=1&lang={lang}" if lang.isalpha() and len(lang) == 2 else "?saved=1"
    return Response(body="", status_code=303, headers={"Location": f"{settings().public_base_url}/t/{token}{query}"})


@tracking_api.route("/t/{token}/pickup/send", methods=["POST"], content_types=FORM)
def shopper_pickup_send(token: str) -> Response:
    """A one-time code to the shopper's own phone or e-mail, which the pickup code is shown for (D48)."""
    form = _form()
    _check_same_site(form)
    try:
        pickup.send_code(token, utcnow())
    except NotFound:
        return not_found_page(form.get("lang"))
    return _back(token, form.get("lang", ""), "code_sent", "pickup")


@tracking_api.route("/t/{token}/pickup/reveal", methods=["POST"], content_types=FORM)
def shopper_pickup_reveal(token: str) -> Response:
    """The page with the pickup code shown, for the right one-time code; never a redirect (the code is in no URL)
    and never cached (the page's `no-store`)."""
    form = _form()
    _check_same_site(form)
    now = utcnow()
    try:
        code = pickup.reveal(token, form.get("code"), now)
        view = tracking.public_view(token, form.get("lang") or None, now)
    except NotFound:
        return not_found_page(form.get("lang"))
    if view.get("pickup"):
        view["pickup"]["code"] = code
    return tracking_page(view)


@tracking_api.route("/t/{token}/delivery-change", methods=["POST"], content_types=FORM)
def shopper_delivery_change(token: str) -> Response:
    """A delivery change asked on the page (D47): refused with a sentence on the page, or sent on; one that sends
    the parcel elsewhere waits for the code we send to the shopper's own phone or e-mail."""
    form = _form()
    _check_same_site(form)
    try:
        delivery_changes.request_from_page(token, form.get("kind", ""), form, utcnow())
    except NotFound:
        return not_found_page(form.get("lang"))
    return _back(token, form.get("lang", ""), "change", "change")


@tracking_api.route("/t/{token}/delivery-change/code", methods=["POST"], content_types=FORM)
def shopper_delivery_change_code(token: str) -> Response:
    form = _form()
    _check_same_site(form)
    try:
        delivery_changes.enter_code(token, form.get("code", ""), utcnow())
    except NotFound:
        return not_found_page(form.get("lang"))
    return _back(token, form.get("lang", ""), "change", "change")


@tracking_api.route("/t/{token}/pod/{kind}", methods=["GET"])
def proof_media(token: str, kind: str) -> Response:
    try:
        url = tracking.proof_media_url(token, kind)
    except NotFound:
        return not_found_page()
    return Response(
        body="",
        status_code=302,
        headers={"Location": url, "Referrer-Policy": "no-referrer", "Cache-Control": "private, max-age=300"},
    )


@tracking_api.route("/t/{token}/chat", methods=["POST"], content_types=FORM)
def shopper_chat(token: str) -> Response:
    """A message to the driver from the page: stored, then relayed by SMS from the session's relay number."""
    form = _form()
    _check_same_site(form)
    try:
        post_from_page(token, form.get("message", ""), utcnow())
    except NotFound:
        return not_found_page(form.get("lang"))
    lang = form.get("lang", "")
    query = f"?sent=1&lang={lang}" if lang.isalpha() and len(lang) == 2 else "?sent=1"
    return Response(
        body="", status_code=303, headers={"Location": f"{settings().public_base_url}/t/{token}{query}#chat"}
    )


def _form_lists() -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    raw = body_bytes(tracking_api.current_request)
    if len(raw) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"forms are limited to {MAX_FORM_BYTES} bytes")
    try:
        return parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("not a form post", code="not_a_form") from exc


def _back(token: str, lang: str, flag: str, anchor: str) -> Response:
    query = f"?{flag}=1&lang={lang}" if lang.isalpha() and len(lang) == 2 else f"?{flag}=1"
    return Response(
        body="", status_code=303, headers={"Location": f"{settings().public_base_url}/t/{token}{query}#{anchor}"}
    )


@tracking_api.route("/t/{token}/survey", methods=["POST"], content_types=FORM)
def shopper_rating(token: str) -> Response:
    """A 1-5 rating from the page or from an email's one-click link; the first answer anywhere wins."""
    form = _form()
    _check_same_site(form)
    score = SCORES.get(form.get("score", ""))  # exactly "1".."5": "²" or "٣" pass isdigit() but are no rating
    if score is None:
        raise ValidationError("score must be a number from 1 to 5", field="score", code="invalid_score")
    try:
        record = surveys.shipment_for_token(token)
    except NotFound:
        return not_found_page(form.get("lang"))
    surveys.answer(record, score, "page", utcnow())
    return _back(token, form.get("lang", ""), "rated", "survey")


@tracking_api.route("/t/{token}/survey/follow-up", methods=["POST"], content_types=FORM)
def shopper_follow_up(token: str) -> Response:
    lists = _form_lists()
    form = {key: values[0] for key, values in lists.items()}
    _check_same_site(form)
    try:
        record = surveys.shipment_for_token(token)
    except NotFound:
        return not_found_page(form.get("lang"))
    surveys.follow_up(record, form.get("comment"), lists.get("reasons", []), utcnow())
    return _back(token, form.get("lang", ""), "feedback", "survey")


@tracking_api.route("/t/{token}/rate/{score}", methods=["GET"])
def email_rating(token: str, score: str) -> Response:
    """An email's rating link. Link scanners fetch every link, so the GET records nothing: the page submits the
    rating by itself in a real browser (or with one tap without JavaScript)."""
    # jinja2 (via web.templating): only pages render, the webhook path never does
    from ..web.templating import resolve_locale

    params: Mapping[str, str] = tracking_api.current_request.query_params or {}
    if score not in SCORES:
        return not_found_page(params.get("lang"))
    try:
        view = tracking.public_view(token, params.get("lang"), utcnow())
    except NotFound:
        return not_found_page(params.get("lang"))
    locale = resolve_locale(view["locale"])
    csrf = _cookie(CSRF_COOKIE) or secrets.token_urlsafe(16)
    context = {
        "t": strings(locale),
        "locale": locale,
        "score": SCORES[score],
        "token": token,
        "csrf": csrf,
        "base": settings().public_base_url,
    }
    return render_page("pages/rate.html.j2", context, csrf=csrf)


LOOKUP_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Expose-Headers": "Retry-After",
    "Vary": "Origin",
}


def _lookup_page(
    retailer_id: str,
    brand: dict[str, Any],
    locale: str,
    *,
    status: int = 200,
    error: str | None = None,
    order_id: str = "",
    shipments: list[dict[str, Any]] | None = None,
    retry_after: int | None = None,
    problem: str | None = None,
) -> Response:
    context = {
        "b": brand,
        "t": strings(locale),
        "locale": locale,
        "base": settings().public_base_url,
        "retailer_id": retailer_id,
        "error": error,
        "order_id": order_id,
        "shipments": shipments,
        "problem": problem,
        "languages": LANGUAGE_NAMES,
        "retry_minutes": -(-retry_after // 60) if retry_after else None,
    }
    response = render_page("pages/lookup.html.j2", context, status=status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def lookup_refused(retailer_id: str, error: PorchlightError) -> Response:
    """The order lookup page again, with the status the refusal deserves and a sentence in the shopper's language."""
    lang = _posted_lang()
    try:
        brand = retailer_brand(retailer_id)
    except NotFound:
        return not_found_page(lang)
    locale = _lookup_locale(lang, brand)
    return _lookup_page(retailer_id, brand, locale, status=error.status, problem=form_message(error, locale))


def _lookup_locale(lang: str | None, brand: dict[str, Any]) -> str:
    # jinja2 (via web.templating): only pages render, the webhook path never does
    from ..web.templating import resolve_locale

    return resolve_locale(lang, brand.get("default_locale"))


@tracking_api.route("/track/{retailer_id}", methods=["GET"])
def order_lookup_page(retailer_id: str) -> Response:
    """The store's "find your order" page, for shoppers without the link from their text or e-mail."""
    params: Mapping[str, str] = tracking_api.current_request.query_params or {}
    try:
        brand = retailer_brand(retailer_id)
    except NotFound:
        return not_found_page(params.get("lang"))
    return _lookup_page(retailer_id, brand, _lookup_locale(params.get("lang"), brand))


@tracking_api.route("/track/{retailer_id}", methods=["POST"], content_types=FORM)
def order_lookup_form(retailer_id: str) -> Response:
    """One parcel: straight to its tracking page. Several: a list to choose from. None: the form again, saying so.

    Unlike the tracking page's forms this one changes nothing a shopper owns, so a store's own site may post to it
    (no same-site check); guessing is bounded per contact, client address and store by the service (D25).
    """
    form = _form()
    try:
        brand = retailer_brand(retailer_id)
    except NotFound:
        return not_found_page(form.get("lang"))
    locale = _lookup_locale(form.get("lang"), brand)
    order_id, contact = form.get("order_id", "").strip()[:200], form.get("contact", "").strip()[:254]
    if not order_id or len(contact) < 3:
        return _lookup_page(retailer_id, brand, locale, status=400, error="missing", order_id=order_id)
    client = client_address(tracking_api.current_request)
    try:
        shipments = find_order(retailer_id, order_id, contact, client, utcnow(), locale)
    except NotFound:
        return _lookup_page(retailer_id, brand, locale, status=404, error="not_found", order_id=order_id)
    except TooManyRequests as refused:
        return _lookup_page(
            retailer_id, brand, locale, status=429, error="too_many", order_id=order_id, retry_after=refused.retry_after
        )
    if len(shipments) > 1:
        return _lookup_page(retailer_id, brand, locale, shipments=shipments)
    return Response(body="", status_code=303, headers={"Location": f"{shipments[0]['tracking_url']}?lang={locale}"})


@tracking_api.route("/v1/track/{retailer_id}", methods=["POST"])
@documented(
    "A shopper finds an order by its number and the e-mail or phone it was placed with (CORS open, no "
    "credentials). Misses are limited per hour per contact (10), per client address (20) and per store; "
    "over a limit every lookup answers 429 too_many_attempts with Retry-After until the hour ends",
    "tracking",
    "OrderLookup",
    request="OrderLookupRequest",
    security=None,
    errors=(400, 404, 413, 415, 429),
)
def order_lookup_json(retailer_id: str) -> Response:
    """The lookup for a store's own site (CORS open, no credentials): the order's parcels and their tracking links."""
    # pydantic (via .schemas): only request bodies need it, the webhook path never does
    from .schemas import OrderLookupRequest, validate

    request = tracking_api.current_request
    body = validate(OrderLookupRequest, read_json_object(body_bytes(request)))
    client, locale = client_address(request), body.get("locale") or "en"
    shipments = find_order(retailer_id, body["order_id"], body["contact"], client, utcnow(), locale)
    return json_response({"shipments": shipments}, headers=LOOKUP_CORS)


@tracking_api.route("/v1/track/{retailer_id}", methods=["OPTIONS"])
def order_lookup_preflight(retailer_id: str) -> Response:
    return Response(body="", status_code=204, headers={**LOOKUP_CORS, "Access-Control-Max-Age": "600"})
