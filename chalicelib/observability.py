"""Logs and metrics. In Lambda: Powertools structured JSON logs (with the API Gateway request id as correlation id)
and CloudWatch metrics in Embedded Metric Format. Elsewhere: plain logging and an in-process tally.

Powertools is imported only inside Lambda and only on first use, so local runs and tests never pay for it.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from functools import lru_cache
from typing import Any

NAMESPACE = "Porchlight"
#: Local tally of emitted metrics ("Name|dim=value,..." -> count), for tests and the devserver.
emitted: defaultdict[str, float] = defaultdict(float)


def in_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@lru_cache(maxsize=1)
def logger() -> Any:
    if in_lambda():
        from aws_lambda_powertools import Logger

        powertools = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "porchlight"))
        # Modules log through stdlib loggers named porchlight.*; send them through Powertools' JSON formatter.
        from aws_lambda_powertools.logging import utils

        utils.copy_config_to_registered_loggers(source_logger=powertools, include={"porchlight"})
        return powertools
    return logging.getLogger("porchlight")


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
