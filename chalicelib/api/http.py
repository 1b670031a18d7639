"""Request parsing and the one place typed errors become HTTP responses (DESIGN 3.3 error shape)."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from chalice import Response

from ..errors import Busy, PayloadTooLarge, PorchlightError, Unauthorized, ValidationError

MAX_API_BODY_BYTES = 1024 * 1024
logger = logging.getLogger("porchlight.api")

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def error_response(error: PorchlightError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    if isinstance(error, Busy):
        headers = {"Retry-After": str(error.retry_after)}
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


def handles_errors(route: Callable[..., Response]) -> Callable[..., Response]:
    """Chalice answers exceptions before middleware sees them, so each route is wrapped here instead."""

    @functools.wraps(route)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return route(*args, **kwargs)
        except PorchlightError as error:
            if error.status >= 500 and not isinstance(error, Busy):
                logger.exception("request failed")
            return error_response(error)

    return wrapper


def read_json_object(raw_body: bytes | None) -> dict[str, Any]:
    body = raw_body or b""
    if len(body) > MAX_API_BODY_BYTES:
        raise PayloadTooLarge(f"body is larger than {MAX_API_BODY_BYTES} bytes")
    if not body.strip():
        raise ValidationError("request body must be a JSON object", field="body")
    try:
        data = json.loads(body)
    except RecursionError as exc:  # nesting deeper than the parser goes: no real request looks like that
        raise ValidationError("request body is nested too deeply", field="body") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"request body is not valid JSON: {exc}", field="body") from exc
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


HTML_HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}


def html_response(template: str, context: dict[str, Any], status: int = 200) -> Response:
    from ..web.templating import builtin_environment

    body = builtin_environment().get_template(template).render(context)
    return Response(body=body, status_code=status, headers=HTML_HEADERS)
