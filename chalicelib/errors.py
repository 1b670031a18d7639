"""Typed errors raised by services and adapters; the API layer maps each to one HTTP status."""

from __future__ import annotations


class PorchlightError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationError(PorchlightError):
    status = 400
    code = "invalid_request"


class Unauthorized(PorchlightError):
    status = 401
    code = "unauthorized"


class InvalidSignature(Unauthorized):
    code = "invalid_signature"


class Forbidden(PorchlightError):
    status = 403
    code = "forbidden"


class NotFound(PorchlightError):
    status = 404
    code = "not_found"


class Conflict(PorchlightError):
    status = 409
    code = "conflict"


class PayloadTooLarge(PorchlightError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(PorchlightError):
    status = 429
    code = "too_many_requests"

    def __init__(
        self, message: str, *, field: str | None = None, code: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, field=field, code=code)
        #: Seconds until trying again can succeed (the Retry-After header), when known.
        self.retry_after = retry_after


class Busy(PorchlightError):
    """Retry later, after `retry_after` seconds (sent as `Retry-After`): a 5xx senders retry, not a final 4xx."""

    status = 503
    code = "busy"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
