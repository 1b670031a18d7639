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
    observability.reset()
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
        observability.reset()


def test_log_text_keeps_no_contact_token_or_key_in_full_but_keeps_our_own_ids() -> None:
    token, key = "Xk3vQ9mZ2pL7wR4tY8nB1c", "pl_3H7FyHsquOGI1wTqjadC1934Sy14JWkNZAAthltW118"
    text = (
        f"To +14155550123 and maria.garcia@example.com via /t/{token}?lang=de with {key}; "
        "Authorization: Bearer adm_test_0123456789abcdef; record c4ca4238a0b923820dcc509a6f75849b of rt_0123456789abcdef "
        "at 2026-11-20T09:00:00+00:00 in porchlight.stream"
    )
    scrubbed = observability.scrub(text)
    for secret in ("+14155550123", "maria.garcia", token, key, "adm_test_0123456789abcdef"):
        assert secret not in scrubbed
    assert "+…23" in scrubbed and "m…@example.com" in scrubbed and f"/t/{token[:4]}…?lang=de" in scrubbed
    for kept in (
        "c4ca4238a0b923820dcc509a6f75849b",
        "rt_0123456789abcdef",
        "2026-11-20T09:00:00+00:00",
        "porchlight.stream",
    ):
        assert kept in scrubbed


def test_log_text_cuts_phone_numbers_written_nationally_but_keeps_dates_times_and_tracking_numbers() -> None:
    for phone in (
        "4155550123",
        "14155550123",
        "(415) 555-0123",
        "(415)555-0123",
        "415-555-0123",
        "415.555.0123",
        "415 555 0123",
        "07700900123",
        "0612345678",
    ):
        scrubbed = observability.scrub(f"customer phone {phone} failed")
        assert phone not in scrubbed and scrubbed == f"customer phone …{phone[-2:]} failed"
    for kept in ("2026-11-20", "09:00:00", "794600000001", "1Z999AA10123456784", "shp_4155550123ab"):
        assert kept in observability.scrub(f"value {kept} here")
