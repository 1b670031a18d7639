"""Metrics and logs: EMF metrics and JSON logs in Lambda, a local tally elsewhere."""

from __future__ import annotations

import json

import pytest

from chalicelib import observability


def test_outside_lambda_metrics_are_tallied_not_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    observability.emitted.clear()
    observability.metric("WebhooksAccepted", source="native")
    observability.metric("WebhooksAccepted", source="native")
    assert observability.emitted["WebhooksAccepted|source=native"] == 2
    assert capsys.readouterr().out == ""


def test_in_lambda_metrics_are_embedded_metric_format(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "porchlight-dev")
    observability.metric("Notifications", channel="sms", outcome="sent")
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directive = record["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Porchlight" and directive["Metrics"][0]["Name"] == "Notifications"
    assert record["channel"] == "sms" and record["outcome"] == "sent" and record["Notifications"] == [1.0]


def test_in_lambda_logs_are_json_with_a_correlation_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "porchlight-dev")
    observability.logger.cache_clear()
    try:
        observability.set_correlation_id("req-123")
        logging.getLogger("porchlight.webhooks").warning("webhook rejected")
        line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert (
            line["message"] == "webhook rejected"
            and line["correlation_id"] == "req-123"
            and line["service"] == "porchlight"
        )
    finally:
        observability.logger.cache_clear()
