"""Request parsing and the one place typed errors become HTTP responses (DESIGN 3.3 error shape)."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from chalice import Response

from ..config import settings
from ..domain import json_text
from ..errors import Busy, PayloadTooLarge, PorchlightError, TooManyRequests, Unauthorized, ValidationError

MAX_API_BODY_BYTES = 1024 * 1024
logger = logging.getLogger("porchlight.api")

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


#: An error's message may quote what was sent ("no shipment 'shp_...'"): a 9,000-character id is not repeated whole.
MAX_ERROR_MESSAGE = 500


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    if len(message) > MAX_ERROR_MESSAGE:
        message = message[: MAX_ERROR_MESSAGE - 1] + "…"
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def error_response(error: PorchlightError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else {}
    if isinstance(error, TooManyRequests) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Busy):
        headers["Retry-After"] = str(error.retry_after)
    return json_response(error_body(error.code, error.message, error.field), error.status, headers)


CHALICE_ERROR_CODES = {
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "InternalServerError": "internal_error",
    "BadRequest": "invalid_request",
}


def in_error_shape(response: Response) -> Response:
    """Chalice answers some requests itself (415 wrong content type, 405 wrong method, 500 unhandled) with
    `{"Code", "Message"}`; clients get one error shape, so those are rewritten into ours."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        name = str(body["Code"])
        code = CHALICE_ERROR_CODES.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        response.body = json.dumps(error_body(code, str(body["Message"])))
        response.headers = {**response.headers, **JSON_HEADERS}
    return response


#: How a route answers a typed error, given the error and the route's path parameters.
Refusal = Callable[[PorchlightError, Mapping[str, str]], Response]


def json_refusal(error: PorchlightError, path_params: Mapping[str, str]) -> Response:
    return error_response(error)


def answering_errors(view: Callable[..., Response], refusal: Refusal) -> Callable[..., Response]:
    """The one place a typed error becomes an HTTP answer. The app applies it to every route it registers
    (chalicelib.api.application), so no route can forget it: Chalice answers a view's exceptions itself, as a 500,
    before any middleware sees them."""

    @functools.wraps(view)
    def route(**path_params: str) -> Response:
        try:
            return view(**path_params)
        except PorchlightError as error:
            if error.status >= 500 and not isinstance(error, Busy):
                logger.exception("request failed")
            return refusal(error, path_params)

    return route


def read_json_object(raw_body: bytes | None) -> dict[str, Any]:
    body = raw_body or b""
    if len(body) > MAX_API_BODY_BYTES:
        raise PayloadTooLarge(f"body is larger than {MAX_API_BODY_BYTES} bytes")
    if not body.strip():
        raise ValidationError("request body must be a JSON object", field="body")
    try:
        data = json_text.loads(body)
    except RecursionError as exc:  # nesting deeper than the parser goes: no real request looks like that
        raise ValidationError("request body is nested too deeply", field="body") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        # a number of thousands of digits is refused by Python's int() with advice about its own settings: say what
        # is wrong with the body instead
        reason = "a number has too many digits" if "int_max_str_digits" in str(exc) else str(exc)
        raise ValidationError(f"request body is not valid JSON: {reason}", field="body") from exc
    if not isinstance(data, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    return data


def read_optional_json_object(raw_body: bytes | None) -> dict[str, Any]:
    """For bodies that may be left out: empty means `{}` (every field at its default)."""
    return read_json_object(raw_body) if raw_body and raw_body.strip() else {}


def int_param(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    """An optional whole-number query parameter within bounds; empty means not given."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    # isdigit() alone admits '²' and Arabic-Indic digits, which int() refuses; the length check keeps int() cheap.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))) or not low <= int(raw) <= high:
        raise ValidationError(f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def timestamp_param(params: Mapping[str, str], name: str) -> datetime:
    """A required ISO 8601 date and time with its offset (`Z` or `+02:00`): a moment, never a local wall clock."""
    raw = (params.get(name) or "").strip().replace(" ", "+")  # a '+' left unencoded in a URL arrives as a space
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        moment.astimezone(UTC)  # year 1 or 9999 with an offset has no UTC equivalent
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError(
            f"{name} must be a date and time with an offset, such as 2026-11-23T09:00:00Z", field=name
        )
    return moment


def body_bytes(request: Any) -> bytes:
    raw = request.raw_body or b""
    return raw.encode("utf-8") if isinstance(raw, str) else raw


def bearer_token(headers: Any) -> str | None:
    value = headers.get("authorization") if headers else None
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _address(text: str, with_port: bool) -> str | None:
    """An IP address from a header entry: bare, "[v6]:port", or (with_port) "v4:port" / CloudFront's "v6:port"."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif with_port:
        text = text.rpartition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def forwarded_client(value: str | None, header: str, hops: int) -> str | None:
    """The client a trusted proxy reports in `header`, or None when the header is missing or malformed.

    X-Forwarded-For style lists grow to the right, each proxy appending the address it was reached from, so the entry
    `hops` places from the right was written by the first trusted proxy; whatever the sender put further left is
    ignored. A list shorter than that did not pass through every trusted proxy: None. CloudFront-Viewer-Address is
    one "address:port" (IPv6 unbracketed).
    """
    if not value:
        return None
    if header == "cloudfront-viewer-address":
        return _address(value, with_port=True)
    entries = [entry for entry in value.split(",") if entry.strip()]
    return _address(entries[-hops], with_port=False) if len(entries) >= hops else None


def client_address(request: Any) -> str:
    """Where a request came from: API Gateway's source IP (requestContext.identity.sourceIp), unless a trusted
    proxy's header is configured (TRUSTED_CLIENT_IP_HEADER) and present. Without that setting, forwarded headers
    are ignored: any client can write them."""
    config = settings()
    if config.trusted_client_ip_header:
        reported = forwarded_client(
            (request.headers or {}).get(config.trusted_client_ip_header),
            config.trusted_client_ip_header,
            config.trusted_proxy_hops,
        )
        if reported:
            return reported
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "")


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, default ports filled in; None when it has no usable origin."""
    try:
        split = urlsplit(url)
        port = split.port or {"http": 80, "https": 443}.get(split.scheme.lower())
    except ValueError:
        return None
    if not split.scheme or not split.hostname or port is None or split.username is not None:
        return None
    return split.scheme.lower(), split.hostname.lower(), port


def same_origin(origin: str | None, base_url: str) -> bool:
    """Whether an Origin header names exactly the origin (scheme, host, port) of `base_url`. "null" (sandboxed
    frames, no-referrer pages, data: documents) and anything that merely starts with the right text are not."""
    if not origin:
        return False
    split = urlsplit(origin)
    if split.path or split.query or split.fragment or origin != origin.strip():
        return False  # an Origin is scheme://host[:port] and nothing else
    given = _origin_of(origin)
    return given is not None and given == _origin_of(base_url)


def posted_cross_site(headers: Mapping[str, str], base_url: str) -> bool:
    """Whether a browser form POST came from another site. Browsers send Origin on every form POST; it must name
    `base_url`'s origin exactly (`null` and look-alikes are refused). Without Origin (a non-browser client)
    Sec-Fetch-Site, when present, must say same-origin."""
    origin = headers.get("origin")
    if origin is not None:
        return not same_origin(origin, base_url)
    return headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


HTML_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


def html_response(template: str, context: dict[str, Any], status: int = 200) -> Response:
    # jinja2 (via web.templating): only pages render, the webhook path never does
    from ..web.templating import builtin_environment

    body = builtin_environment().get_template(template).render(context)
    return Response(body=body, status_code=status, headers=HTML_HEADERS)
