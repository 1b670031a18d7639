"""Logs and metrics. In Lambda: Powertools structured JSON logs, one line per log call, each with a correlation id,
and CloudWatch metrics in Embedded Metric Format. Elsewhere: plain logging and an in-process tally.

Every module logs through a stdlib logger named `porchlight.<area>`. In Lambda the Powertools logger *is* the
`porchlight` logger (Powertools names its logger after the service), so the children's records reach its one JSON
handler and stop there: Chalice adds no handler of its own (`configure_logs=False` in app.py) and nothing propagates
to the Lambda runtime's root handler, which would print each line a second time as plain text.

Powertools is imported only inside Lambda and only on first use, so local runs and tests never pay for it.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import defaultdict
from functools import lru_cache
from typing import Any

NAMESPACE = "Porchlight"
SERVICE = "porchlight"
#: Local tally of emitted metrics ("Name|dim=value,..." -> count), for tests and the devserver.
emitted: defaultdict[str, float] = defaultdict(float)

#: Fields of a log line that are identifiers we wrote ourselves, never shopper data or secrets.
_OWN_FIELDS = frozenset({"level", "location", "timestamp", "service", "correlation_id", "cold_start", "name"})
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_PHONE = re.compile(r"\+\d{6,13}(\d{2})\b")
#: A phone number written nationally: grouped as (415) 555-0123, 415-555-0123, 415.555.0123 or 415 555 0123, or a
#: bare run of 10-11 digits (US with or without its leading 1, UK, FR, DE mobiles). Runs inside a word (hex ids,
#: rt_/shp_ ids, UPS numbers) and 12+ digit tracking numbers are left alone.
_NATIONAL_PHONE = re.compile(r"(?<![\w+])(?:(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{2}(\d{2})|\d{8,9}(\d{2}))(?![\w-])")
#: A tracking token, API key, session id or signing secret: url-safe base64 of 16+ random bytes, which mixes upper
#: and lower case with digits; kept to its first four characters. (Hex ids such as stream event ids do not match.)
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*\d)"
    r"([A-Za-z0-9_-]{4})[A-Za-z0-9_-]{16,}"
)
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def scrub(text: str) -> str:
    """A log text with e-mail addresses, phone numbers, tokens and keys cut short: enough to tell two apart, never
    the whole value."""
    text = _BEARER.sub(r"\1…", text)
    text = _EMAIL.sub(r"\1…@\2", text)
    text = _PHONE.sub(r"+…\1", text)
    text = _NATIONAL_PHONE.sub(lambda match: "…" + (match.group(1) or match.group(2)), text)
    return _TOKEN.sub(r"\1…", text)


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))  # an exception object in a stack trace, a datetime, ...: as the JSON would show it


def _serialize(record: dict[str, Any]) -> str:
    safe = {key: value if key in _OWN_FIELDS else _scrubbed(value) for key, value in record.items()}
    return json.dumps(safe, default=str, separators=(",", ":"), ensure_ascii=False)


def in_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@lru_cache(maxsize=1)
def logger() -> Any:
    if in_lambda():
        from aws_lambda_powertools import Logger

        powertools = Logger(service=SERVICE, json_serializer=_serialize)
        powertools.append_keys(name="%(name)s")  # which module logged: porchlight.stream, porchlight.api, ...
        logging.getLogger(SERVICE).propagate = False
        return powertools
    return logging.getLogger(SERVICE)


def reset() -> None:
    """Forget the logging set-up (tests switch between Lambda and local modes in one process)."""
    global _cold
    porchlight = logging.getLogger(SERVICE)
    for handler in list(porchlight.handlers):
        porchlight.removeHandler(handler)
    for handler in logging.getLogger().handlers:  # Powertools' filter against records bubbling up to the root
        for log_filter in list(handler.filters):
            if type(log_filter).__module__.startswith("aws_lambda_powertools"):
                handler.removeFilter(log_filter)
    for attribute in ("init", "powertools_handler", "powertools_buffer_config", "powertools_buffer_cache"):
        if hasattr(porchlight, attribute):
            delattr(porchlight, attribute)
    porchlight.propagate = True
    porchlight.setLevel(logging.NOTSET)
    logger.cache_clear()
    _cold = True


_cold = True


def begin_invocation(correlation_id: str | None, context: Any = None) -> None:
    """The start of one Lambda invocation: until the next one, every line carries `correlation_id` (the Lambda
    request id when there is none) and the invocation's request id. Outside Lambda: nothing to do."""
    global _cold
    if not in_lambda():
        return
    request_id = getattr(context, "aws_request_id", None)
    logger().append_keys(
        correlation_id=correlation_id or request_id,
        function_request_id=request_id,
        cold_start=_cold,
    )
    _cold = False


def begin(event: Any) -> None:
    """`begin_invocation` for any Chalice event object: an HTTP request (API Gateway's request id), a scheduled
    event (EventBridge's event id) or a plain Lambda event (the Lambda request id; the stream handler sets each
    record's own id as it goes)."""
    if not in_lambda():
        return
    if hasattr(event, "lambda_context"):  # chalice.app.Request
        begin_invocation((event.context or {}).get("requestId"), event.lambda_context)
    else:  # CloudWatchEvent (schedule) has event_id; LambdaFunctionEvent has none
        begin_invocation(getattr(event, "event_id", None), getattr(event, "context", None))


def set_correlation_id(value: str | None) -> None:
    if in_lambda() and value:
        logger().set_correlation_id(value)


def metric(name: str, value: float = 1, **dimensions: str) -> None:
    """One metric data point, flushed at once (no per-request bookkeeping needed)."""
    key = name + "|" + ",".join(f"{k}={v}" for k, v in sorted(dimensions.items()))
    emitted[key] += value
    if not in_lambda():
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as point:
        for dimension, dimension_value in dimensions.items():
            point.add_dimension(name=dimension, value=str(dimension_value))
