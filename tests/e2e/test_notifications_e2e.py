"""A webhook over real HTTP makes the real Twilio and SendGrid SDKs, inside the devserver, call our capture server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from chalicelib.simulator import daytime_zone
from tests.capture import CaptureServer
from tests.e2e.conftest import TWILIO_TOKEN, LocalServer, post_native, start_server, stop_server, wait_for
from tests.payloads import native_event

pytestmark = pytest.mark.e2e


def test_webhook_to_out_for_delivery_reaches_twilio_and_sendgrid(
    wired_server: LocalServer, capture: CaptureServer
) -> None:
    base = wired_server.base_url
    zone = daytime_zone()
    created = requests.post(
        f"{base}/v1/shipments",
        headers=wired_server.auth,
        json={
            "order_id": "E2E-77",
            "carrier": "ups",
            "tracking_number": "1ZE2E0000000000077",
            "customer": {
                "name": "Kim Lee",
                "phone": "+14155550177",
                "email": "kim@example.com",
                "sms_consent": True,
                "time_zone": zone,
            },
        },
        timeout=10,
    ).json()
    event = native_event("e2e-1", "out_for_delivery", "2026-11-20T10:00:00+00:00", tracking_number="1ZE2E0000000000077")
    accepted = post_native(wired_server, [event])
    assert accepted.json() == {"accepted": 1, "duplicates": 0}
    [text] = wait_for(lambda: capture.of("twilio"))
    [mail] = wait_for(lambda: capture.of("sendgrid"))
    assert text.form["To"] == "+14155550177" and "E2E-77 is out for delivery" in text.form["Body"]
    assert text.form["StatusCallback"] == f"{base}/v1/twilio/status"
    assert mail.json["personalizations"][0]["to"] == [{"email": "kim@example.com"}]
    assert mail.json["subject"] == "Out for delivery: Demo Outfitters order E2E-77"

    def sent() -> dict | None:
        detail = requests.get(f"{base}/v1/shipments/{created['id']}", headers=wired_server.auth, timeout=10).json()
        statuses = {(n["kind"], n["channel"]): n for n in detail["notifications"]}
        return statuses if all(n["status"] == "sent" for n in statuses.values()) else None

    statuses = wait_for(sent)
    sid = statuses[("out_for_delivery", "sms")]["provider_message_id"]

    # Twilio then reports delivery to the public status URL, signed with the account's auth token.
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{base}/v1/twilio/status", params)
    callback = requests.post(
        f"{base}/v1/twilio/status",
        data=urlencode(params),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert callback.status_code == 200 and callback.json()["changed"] is True

    # A STOP reply over HTTP, as Twilio would post it.
    stop = {"MessageSid": "SM" + "2" * 32, "From": "+14155550177", "To": "+15005550006", "Body": "Stop"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{base}/v1/twilio/inbound", stop)
    reply = requests.post(
        f"{base}/v1/twilio/inbound",
        data=urlencode(stop),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    # A STOP to the shared number ends every retailer's texts from it (D30), and says how to come back.
    assert reply.status_code == 200 and "unsubscribed from delivery texts from this number" in reply.text
    assert "Reply START" in reply.text


def test_without_credentials_the_outbox_page_shows_messages(local_server: LocalServer) -> None:
    base = local_server.base_url
    requests.post(
        f"{base}/v1/shipments",
        headers=local_server.auth,
        json={
            "order_id": "OUTBOX-1",
            "carrier": "ups",
            "tracking_number": "1ZOUTBOX1",
            "customer": {
                "name": "Ana",
                "email": "ana@example.com",
                "phone": "+14155550111",
                "sms_consent": True,
                "time_zone": daytime_zone(),
            },
        },
        timeout=10,
    )
    post_native(
        local_server, [native_event("ob-1", "shipped", "2026-11-20T10:00:00+00:00", tracking_number="1ZOUTBOX1")]
    )

    def outbox_page() -> str | None:
        page = requests.get(f"{base}/dev/outbox", timeout=10).text
        return page if "OUTBOX-1 has shipped" in page else None

    page = wait_for(outbox_page)
    assert "Your Demo Outfitters order OUTBOX-1 has shipped" in page


def test_devserver_without_provider_keys_reports_the_outbox(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--no-seed")
    try:
        assert "/dev/outbox" in server.banner  # type: ignore[attr-defined]
    finally:
        assert stop_server(server)[0] == 0


def test_status_changes_reach_the_retailers_own_endpoint_signed(
    wired_server: LocalServer, capture: CaptureServer
) -> None:
    import json

    from chalicelib.carriers.native import sign

    base = wired_server.base_url
    hook = f"{capture.url}/hooks/e2e-status"
    settings = requests.put(
        f"{base}/v1/settings",
        headers=wired_server.auth,
        json={"webhooks": {"url": hook, "statuses": ["shipped", "delivered"]}},
        timeout=10,
    ).json()
    secret = settings["webhooks"]["secret"]
    created = requests.post(
        f"{base}/v1/shipments",
        headers=wired_server.auth,
        json={"order_id": "E2E-88", "carrier": "ups", "tracking_number": "1ZE2E88", "customer": {"name": "Lu Chen"}},
        timeout=10,
    ).json()
    for n, status in enumerate(("shipped", "out_for_delivery", "delivered")):
        scan = native_event(f"e2e-88-{n}", status, f"2026-11-2{n}T10:00:00+00:00", tracking_number="1ZE2E88")
        assert post_native(wired_server, [scan]).status_code == 200

    def status_calls() -> list | None:
        found = [request for request in capture.of("retailer") if request.path == "/hooks/e2e-status"]
        return found if len(found) >= 2 else None

    calls = wait_for(status_calls)
    payloads = sorted((json.loads(call.body) for call in calls), key=lambda p: p["data"]["version"])
    assert [p["data"]["status"] for p in payloads] == ["shipped", "delivered"]
    assert {p["data"]["shipment_id"] for p in payloads} == {created["id"]}
    for call in calls:
        stamp = int(call.headers["X-Porchlight-Signature"].split(",")[0].removeprefix("t="))
        assert call.headers["X-Porchlight-Signature"] == sign(secret, call.body, stamp)
