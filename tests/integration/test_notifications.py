"""Notifications end to end inside the app: webhook -> outbox -> real Twilio/SendGrid SDK requests -> callbacks."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time, twilio_headers
from tests.payloads import native_event

NY = "America/New_York"
CUSTOMER = {
    "name": "Maria Garcia",
    "phone": "+14155550123",
    "email": "maria@example.com",
    "sms_consent": True,
    "time_zone": NY,
}


def ship(
    api: Api, retailer: Retailer, status: str, event_id: str, when: str = "2026-11-20T10:00:00+00:00", **extra
) -> None:
    response = api.native(retailer, {"events": [native_event(event_id, status, when, **extra)]})
    assert response.status_code == 200, response.body


def notes(api: Api, retailer: Retailer, shipment_id: str) -> dict[tuple[str, str], dict]:
    detail = api.shipment(retailer, shipment_id).json_body
    return {(n["kind"], n["channel"]): n for n in detail["notifications"]}


def register(api: Api, retailer: Retailer, **customer) -> dict:
    response = api.register(retailer, customer={**CUSTOMER, **customer})
    assert response.status_code == 201, response.body
    return response.json_body


def test_out_for_delivery_sends_through_the_real_sdks(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "out_for_delivery", "e1", eta={"start": "2026-11-20T19:00:00Z", "end": "2026-11-20T21:00:00Z"})
    assert drain(local_time(NY, 15))["deliveries"] == {"sent": 2}

    [sms] = providers.capture.of("twilio")
    assert sms.path == f"/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    form = sms.form
    assert form["To"] == "+14155550123" and form["From"] == "+15005550006"
    assert form["StatusCallback"] == "https://track.example.test/v1/twilio/status"
    assert "ORD-1001" in form["Body"] and "out for delivery" in form["Body"] and "STOP" in form["Body"]
    assert "https://track.example.test/t/" in form["Body"] and "Fri 2pm-4pm" in form["Body"]
    assert sms.headers["Authorization"].startswith("Basic ")

    [mail] = providers.capture.of("sendgrid")
    assert mail.path == "/v3/mail/send" and mail.headers["Authorization"] == "Bearer SG.test-key"
    body = mail.json
    assert body["personalizations"][0]["to"] == [{"email": "maria@example.com"}]
    assert body["from"] == {"email": "updates@porchlight.example", "name": "Acme Outdoor"}
    assert body["subject"] == "Out for delivery: Acme Outdoor order ORD-1001"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["headers"]["List-Unsubscribe"].startswith("<https://track.example.test/v1/unsubscribe/")
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["custom_args"]["pl_shipment"] == shipment["id"]

    sent = notes(api, retailer, shipment["id"])
    assert sent[("out_for_delivery", "sms")]["status"] == "sent"
    assert sent[("out_for_delivery", "sms")]["provider"] == "twilio"
    assert sent[("out_for_delivery", "sms")]["provider_message_id"].startswith("SM")
    assert sent[("out_for_delivery", "email")]["provider"] == "sendgrid"


def test_repeated_drains_and_stream_records_never_send_twice(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib.workers.stream import handle_stream_batch

    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    record = {
        "eventName": "INSERT",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/porchlight-test/stream/2026-11-23T00:00:00.000",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795000000,
            "SequenceNumber": "100",
            "NewImage": {
                "pk": {"S": f"SHIP#{shipment['id']}"},
                "sk": {"S": "OUTBOX#shipped#sms"},
                "status": {"S": "pending"},
            },
        },
    }
    noon = local_time(NY, 12)
    assert handle_stream_batch({"Records": [record, record]}, noon) == {"batchItemFailures": []}
    drain(noon)
    drain(noon)
    handle_stream_batch({"Records": [record, {"eventName": "REMOVE", "dynamodb": {}}]}, noon)
    assert len(providers.capture.of("twilio")) == 1
    assert len(providers.capture.of("sendgrid")) == 1


def test_a_drain_and_a_stream_batch_write_their_notification_counts_once_per_retailer(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib.store import table
    from chalicelib.workers.stream import handle_stream_batch

    for n in (1, 2, 3):
        assert api.register(retailer, customer=CUSTOMER, tracking_number=f"1ZCOUNTS{n}").status_code == 201
        ship(api, retailer, "shipped", f"e{n}", tracking_number=f"1ZCOUNTS{n}")
    noon = local_time(NY, 12)
    table.usage.clear()
    assert drain(noon)["deliveries"] == {"sent": 6}
    # Each notification's claim and its record of what happened, and one counter update for all six.
    assert table.usage["calls.UpdateItem"] == 6 * 2 + 1
    day = noon.date().isoformat()
    analytics = api.http.get(f"/v1/analytics?from={day}&to={day}", headers=retailer.auth).json_body
    assert analytics["notifications"] == {"email": {"sent": 3}, "sms": {"sent": 3}}

    assert api.register(retailer, customer=CUSTOMER, tracking_number="1ZCOUNTS4").status_code == 201
    streamed = api.find(retailer, "1ZCOUNTS4").json_body["shipments"][0]
    ship(api, retailer, "shipped", "e4", tracking_number="1ZCOUNTS4")
    records = [
        {
            "eventName": "INSERT",
            "dynamodb": {
                "SequenceNumber": str(n),
                "NewImage": {
                    "pk": {"S": f"SHIP#{streamed['id']}"},
                    "sk": {"S": f"OUTBOX#shipped#{channel}"},
                    "status": {"S": "pending"},
                },
            },
        }
        for n, channel in enumerate(("sms", "email"))
    ]
    table.usage.clear()
    assert handle_stream_batch({"Records": records}, noon) == {"batchItemFailures": []}
    assert table.usage["calls.UpdateItem"] == 2 * 2 + 1
    analytics = api.http.get(f"/v1/analytics?from={day}&to={day}", headers=retailer.auth).json_body
    assert analytics["notifications"] == {"email": {"sent": 4}, "sms": {"sent": 4}}
    assert len(providers.capture.of("twilio")) == len(providers.capture.of("sendgrid")) == 4


def test_quiet_hours_defer_texts_to_eight_local_and_never_email(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    assert drain(local_time(NY, 23))["deliveries"] == {"sent": 1, "deferred": 1}
    deferred = notes(api, retailer, shipment["id"])[("shipped", "sms")]
    assert deferred["status"] == "deferred" and deferred["reason"] == "quiet_hours"
    assert deferred["due_at"] == local_time(NY, 8, days_ahead=2).isoformat()
    assert drain(local_time(NY, 7, 59, days_ahead=2))["deliveries"] == {}
    assert providers.capture.of("twilio") == []
    assert drain(local_time(NY, 8, days_ahead=2))["deliveries"] == {"sent": 1}
    assert len(providers.capture.of("twilio")) == 1


def test_a_deferred_text_that_was_overtaken_is_not_sent(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "out_for_delivery", "e1", "2026-11-20T10:00:00+00:00")
    drain(local_time(NY, 22))
    ship(api, retailer, "delivered", "e2", "2026-11-20T11:00:00+00:00")
    drain(local_time(NY, 8, days_ahead=2))
    sent = notes(api, retailer, shipment["id"])
    assert sent[("out_for_delivery", "sms")]["status"] == "skipped"
    assert sent[("out_for_delivery", "sms")]["reason"] == "superseded"
    assert sent[("delivered", "sms")]["status"] == "sent"
    milestone_texts = [r.form["Body"] for r in providers.capture.of("twilio") if "Reply 1 (poor)" not in r.form["Body"]]
    assert ["has arrived" in body for body in milestone_texts] == [True]


def test_without_consent_only_the_out_for_delivery_text_goes(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer, sms_consent=False)
    noon = local_time(NY, 12)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(noon)
    ship(api, retailer, "out_for_delivery", "e2", "2026-11-20T11:00:00+00:00")
    drain(noon)
    ship(api, retailer, "delivered", "e3", "2026-11-20T12:00:00+00:00")
    drain(noon)
    sent = notes(api, retailer, shipment["id"])
    assert sent[("shipped", "sms")]["reason"] == "no_sms_consent"
    assert sent[("delivered", "sms")]["reason"] == "no_sms_consent"
    texts = providers.capture.of("twilio")
    assert len(texts) == 1 and "out for delivery" in texts[0].form["Body"]
    assert len(texts[0].form["Body"]) <= 160 and "STOP" in texts[0].form["Body"]
    subjects = [
        r.json["subject"] for r in providers.capture.of("sendgrid") if not r.json["subject"].startswith("How was")
    ]
    assert len(subjects) == 3


def test_throttling_and_outages_retry_with_backoff(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    providers.capture.fail_next("twilio", 429, {"code": 20429, "message": "Too Many Requests", "status": 429})
    providers.capture.fail_next("sendgrid", 503, {"errors": [{"message": "unavailable"}]})
    ship(api, retailer, "shipped", "e1")
    noon = local_time(NY, 12)
    assert drain(noon)["deliveries"] == {"retry": 2}
    waiting = notes(api, retailer, shipment["id"])
    assert waiting[("shipped", "sms")]["status"] == "retry" and "429" in waiting[("shipped", "sms")]["reason"]
    assert drain(noon)["deliveries"] == {}  # not due yet: backoff
    from datetime import timedelta

    assert drain(noon + timedelta(minutes=2))["deliveries"] == {"sent": 2}
    assert len(providers.capture.of("twilio")) == 2 and len(providers.capture.of("sendgrid")) == 2
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["attempts"] == 2


def test_permanent_sms_failure_is_recorded_and_falls_back_to_email(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"channels": {"shipped": ["sms"]}}))
    shipment = register(api, retailer)
    providers.capture.fail_next(
        "twilio", 400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
    )
    ship(api, retailer, "shipped", "e1")
    noon = local_time(NY, 12)
    assert drain(noon)["deliveries"] == {"failed": 1}
    assert drain(noon)["deliveries"] == {"sent": 1}
    sent = notes(api, retailer, shipment["id"])
    assert sent[("shipped", "sms")]["status"] == "failed" and "21211" in sent[("shipped", "sms")]["reason"]
    assert sent[("shipped", "email")]["fallback"] is True and sent[("shipped", "email")]["status"] == "sent"


def test_twilio_21610_records_an_opt_out(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    providers.capture.fail_next(
        "twilio", 400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
    )
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    noon = local_time(NY, 12)
    drain(noon)
    ship(api, retailer, "out_for_delivery", "e2", "2026-11-20T11:00:00+00:00")
    drain(noon)
    assert notes(api, retailer, shipment["id"])[("out_for_delivery", "sms")]["reason"] == "opted_out"
    assert len(providers.capture.of("twilio")) == 1


def inbound(api: Api, body: str, sender: str = "+14155550123", **extra: str):
    params = {"MessageSid": "SM" + "1" * 32, "From": sender, "To": "+15005550006", "Body": body, **extra}
    return api.http.post(
        "/v1/twilio/inbound", headers=twilio_headers("/v1/twilio/inbound", params), body=urlencode(params)
    )


@pytest.mark.parametrize("word", ["STOP", "stop", "  Unsubscribe ", "END", "quit", "REVOKE", "optout", "Cancel"])
def test_stop_keywords_end_every_text_from_the_shared_number_and_confirm_once(
    api: Api, retailer: Retailer, providers: Providers, word: str
) -> None:
    shipment = register(api, retailer)
    noon = local_time(NY, 12)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(noon)
    first = inbound(api, word)
    assert first.status_code == 200 and first.headers["Content-Type"] == "text/xml"
    assert "unsubscribed from delivery texts from this number" in first.body.decode()
    again = inbound(api, word)
    assert "<Message>" not in again.body.decode()  # confirmed once
    ship(api, retailer, "out_for_delivery", "e2", "2026-11-20T11:00:00+00:00")
    drain(noon)
    assert notes(api, retailer, shipment["id"])[("out_for_delivery", "sms")]["reason"] == "opted_out"
    assert len(providers.capture.of("twilio")) == 1
    # the shopper cannot tell whose text they answer on the shared number: another retailer's texts stop too (D30)
    other = api.create_retailer("Other Shop")
    other_shipment = api.register(other, customer=CUSTOMER).json_body
    ship(api, other, "shipped", "o1")
    drain(noon)
    assert notes(api, other, other_shipment["id"])[("shipped", "sms")]["reason"] == "opted_out"


def test_start_resubscribes_and_help_names_the_support_contact(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    api.http.put("/v1/branding", headers=retailer.auth, body=json.dumps({"support_phone": "+1 415 555 0100"}))
    api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"channels": {"processed": ["sms"]}}))
    shipment = register(api, retailer)
    noon = local_time(NY, 12)
    ship(api, retailer, "processed", "e0", "2026-11-20T09:00:00+00:00")
    drain(noon)
    inbound(api, "STOP")
    assert "resubscribed" in inbound(api, " yes ").body.decode()
    help_reply = inbound(api, "HELP").body.decode()
    assert "+1 415 555 0100" in help_reply and "STOP" in help_reply
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(noon)
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["status"] == "sent"


def test_stopall_from_an_unknown_phone_blocks_every_retailer(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    assert "unsubscribed" in inbound(api, "STOPALL", sender="+14155550123").body.decode()
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    drain(local_time(NY, 12))
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["reason"] == "opted_out"


def test_inbound_sms_signature_is_checked_and_unknown_params_are_fine(api: Api, providers: Providers) -> None:
    params = {"MessageSid": "SM1", "From": "+14155550123", "To": "+15005550006", "Body": "STOP"}
    forged = twilio_headers("/v1/twilio/inbound", params, token="wrong-token-000000000000")
    response = api.http.post("/v1/twilio/inbound", headers=forged, body=urlencode(params))
    assert response.status_code == 403 and response.json_body["error"]["code"] == "invalid_signature"
    unsigned = api.http.post(
        "/v1/twilio/inbound", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=urlencode(params)
    )
    assert unsigned.status_code == 403
    # the forged STOP changed nothing: a later valid one is the first and gets the confirmation
    novel = inbound(api, "STOP", AddOns='{"status":"successful"}', NewParamTwilioAddedLater="x", NumMedia="0")
    assert "unsubscribed" in novel.body.decode()


def status_callback(api: Api, sid: str, status: str, **extra: str):
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **extra}
    return api.http.post(
        "/v1/twilio/status", headers=twilio_headers("/v1/twilio/status", params), body=urlencode(params)
    )


def test_twilio_status_callbacks_only_move_forward(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    drain(local_time(NY, 12))
    sid = notes(api, retailer, shipment["id"])[("shipped", "sms")]["provider_message_id"]
    assert status_callback(api, sid, "delivered").json_body["changed"] is True
    late = status_callback(api, sid, "sent")  # arrives after delivered
    assert late.status_code == 200 and late.json_body["changed"] is False
    assert status_callback(api, sid, "delivered").json_body["changed"] is False  # duplicate
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["status"] == "delivered"
    unknown = status_callback(api, "SM" + "f" * 32, "delivered")
    assert unknown.status_code == 404 and unknown.json_body["error"]["field"] == "MessageSid"
    junk = status_callback(api, sid, "teleported")
    assert junk.status_code == 400 and junk.json_body["error"]["field"] == "MessageStatus"


def test_failed_text_reported_later_falls_back_to_email(api: Api, retailer: Retailer, providers: Providers) -> None:
    api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"channels": {"shipped": ["sms"]}}))
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    noon = local_time(NY, 12)
    drain(noon)
    sid = notes(api, retailer, shipment["id"])[("shipped", "sms")]["provider_message_id"]
    status_callback(api, sid, "undelivered", ErrorCode="30003")
    drain(noon)
    sent = notes(api, retailer, shipment["id"])
    assert sent[("shipped", "sms")]["status"] == "failed" and "30003" in sent[("shipped", "sms")]["reason"]
    assert sent[("shipped", "email")]["status"] == "sent"


def sendgrid_post(api: Api, providers: Providers, events: list[dict], **overrides):
    payload = (json.dumps(events) + "\r\n").encode()  # a real batch ends in CRLF
    headers = {**providers.sign_sendgrid(payload), **overrides}
    return api.http.post("/v1/sendgrid/events", headers=headers, body=payload)


def test_sendgrid_events_update_status_and_suppress_bounces(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    noon = local_time(NY, 12)
    drain(noon)
    tags = {"pl_shipment": shipment["id"], "pl_kind": "shipped", "pl_retailer": retailer.id}
    batch = [
        {"email": "maria@example.com", "event": "processed", "sg_event_id": "ev1", "timestamp": 1795000000, **tags},
        {"email": "maria@example.com", "event": "delivered", "sg_event_id": "ev2", "timestamp": 1795000001, **tags},
        {"email": "maria@example.com", "event": "open", "sg_event_id": "ev3", "timestamp": 1795000002, **tags},
    ]
    response = sendgrid_post(api, providers, batch)
    # the open is counted too (D45: engagement), so nothing in the batch is ignored
    assert response.status_code == 200 and response.json_body == {"processed": 3, "duplicates": 0, "ignored": 0}
    assert sendgrid_post(api, providers, batch).json_body == {"processed": 0, "duplicates": 3, "ignored": 0}
    assert notes(api, retailer, shipment["id"])[("shipped", "email")]["status"] == "delivered"

    bounce = [
        {
            "email": "maria@example.com",
            "event": "bounce",
            "type": "bounce",
            "reason": "550 no such user",
            "sg_event_id": "ev4",
            "timestamp": 1795000003,
            **tags,
        }
    ]
    sendgrid_post(api, providers, bounce)
    ship(api, retailer, "out_for_delivery", "e2", "2026-11-20T11:00:00+00:00")
    drain(noon)
    assert notes(api, retailer, shipment["id"])[("out_for_delivery", "email")]["reason"] == "suppressed"
    assert len(providers.capture.of("sendgrid")) == 1


def test_sendgrid_signature_is_checked_with_the_published_vector(api: Api, providers: Providers, monkeypatch) -> None:
    forged = sendgrid_post(api, providers, [{"event": "delivered"}], **{"X-Twilio-Email-Event-Webhook-Timestamp": "1"})
    assert forged.status_code == 403
    missing = api.http.post("/v1/sendgrid/events", headers={"Content-Type": "application/json"}, body="[]")
    assert missing.status_code == 403
    garbage = api.http.post(
        "/v1/sendgrid/events",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": "%%%not-base64",
            "X-Twilio-Email-Event-Webhook-Timestamp": "1",
        },
        body="[]",
    )
    assert garbage.status_code == 403
    # SendGrid's own published test vector verifies; its body is one object, not a batch, so it is a 400 after that.
    from chalicelib.config import settings

    monkeypatch.setenv(
        "SENDGRID_WEBHOOK_PUBLIC_KEY",
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==",
    )
    settings.cache_clear()
    from datetime import UTC, datetime

    from chalicelib.api import providers as provider_routes

    # The vector was signed in 2020: outside the 10-minute window today, so the clock is set to just after it.
    monkeypatch.setattr(provider_routes, "utcnow", lambda: datetime.fromtimestamp(1588788367 + 60, UTC))
    vector = api.http.post(
        "/v1/sendgrid/events",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=",
            "X-Twilio-Email-Event-Webhook-Timestamp": "1588788367",
            "Content-Type": "application/json",
        },
        body='{"category":"example_payload","event":"test_event","message_id":"message_id"}',
    )
    assert vector.status_code == 400 and vector.json_body["error"]["field"] == "body"


def test_unsubscribe_link_works_without_logging_in(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    noon = local_time(NY, 12)
    drain(noon)
    link = providers.capture.of("sendgrid")[0].json["headers"]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://track.example.test")
    page = api.http.get(path)
    assert page.status_code == 200 and "Stop delivery emails from Acme Outdoor?" in page.body.decode()
    assert "Content-Security-Policy" in page.headers
    assert (
        api.http.post(
            path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body="List-Unsubscribe=One-Click"
        ).status_code
        == 200
    )
    ship(api, retailer, "out_for_delivery", "e2", "2026-11-20T11:00:00+00:00")
    drain(noon)
    assert notes(api, retailer, shipment["id"])[("out_for_delivery", "email")]["reason"] == "suppressed"
    assert api.http.get("/v1/unsubscribe/not-a-token").status_code == 404


def test_the_unsubscribe_pages_speak_the_browsers_language(api: Api, retailer: Retailer, providers: Providers) -> None:
    register(api, retailer)
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(local_time(NY, 12))
    link = providers.capture.of("sendgrid")[0].json["headers"]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://track.example.test")
    question = api.http.get(path, headers={"Accept-Language": "es-MX,es;q=0.9"}).body.decode()
    assert "¿Dejar de recibir los correos de entrega de Acme Outdoor?" in question and 'lang="es"' in question
    assert "Darme de baja" in question and "Unsubscribe" not in question.split("<body", 1)[1]
    done = api.http.post(
        path + "?lang=de",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="List-Unsubscribe=One-Click",
    ).body.decode()
    assert "Sie sind abgemeldet" in done and "Acme Outdoor sendet keine Liefer-E-Mails mehr" in done


def test_retailer_template_override_is_validated_previewed_and_used(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    url = "/v1/templates/shipped/sms/en"
    bad = [
        ({"body": "{{ retailer "}, "body"),
        ({"body": "{{ secret_key }}"}, "body"),
        ({"body": "{{ ''.__class__.__mro__ }}"}, "body"),
        ({"body": "{{ tracking_url }} " + "x" * 200}, "body"),
        ({"body": "ok", "subject": "no subjects for texts"}, "subject"),
    ]
    for draft, field in bad:
        response = api.http.put(url, headers=retailer.auth, body=json.dumps(draft))
        assert response.status_code == 400, (draft, response.body)
        assert response.json_body["error"]["field"] == field
    assert api.http.get(url, headers=retailer.auth).status_code == 404
    draft = {"body": "Hey! {{ retailer }} order {{ order_id }} is rolling. {{ tracking_url }} {{ opt_out }}"}
    preview = api.http.post(url + "/preview", headers=retailer.auth, body=json.dumps(draft)).json_body
    assert (
        preview["body"].startswith("Hey! Acme Outdoor order ORD-12345678 is rolling.") and preview["fits_one_segment"]
    )
    saved = api.http.put(url, headers=retailer.auth, body=json.dumps(draft))
    assert saved.status_code == 200
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    drain(local_time(NY, 12))
    assert providers.capture.of("twilio")[0].form["Body"].startswith("Hey! Acme Outdoor order ORD-1001 is rolling.")
    assert notes(api, retailer, shipment["id"])[("shipped", "sms")]["preview"]["body"].startswith("Hey!")
    assert api.http.delete(url, headers=retailer.auth).status_code == 204
    assert api.http.delete(url, headers=retailer.auth).status_code == 404
    builtin = api.http.post(url + "/preview", headers=retailer.auth, body="").json_body
    assert builtin["source"] == "built-in" and "has shipped" in builtin["body"]
    assert (
        api.http.put("/v1/templates/teleported/sms/en", headers=retailer.auth, body=json.dumps(draft)).status_code
        == 404
    )
    email = api.http.post("/v1/templates/delayed/email/fr/preview", headers=retailer.auth, body="").json_body
    assert email["subject"].startswith("Retard") and '<html lang="fr">' in email["html"]


def test_delivery_reads_a_retailers_profile_and_templates_once_and_a_saved_template_goes_out_at_once(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.store import retailers as retailer_store

    for n in (1, 2):
        assert api.register(retailer, customer={**CUSTOMER}, tracking_number=f"1ZTEMPLATES{n}").status_code == 201
        ship(api, retailer, "shipped", f"e{n}", tracking_number=f"1ZTEMPLATES{n}")

    reads: list[tuple[str, str]] = []

    def counted(name, read):
        def reading(*args, **kwargs):
            reads.append((name, args[0]))
            return read(*args, **kwargs)

        return reading

    # Every way the store reads a retailer's profile or overrides.
    monkeypatch.setattr(retailer_store, "rows", counted("profile and overrides", retailer_store.rows))
    monkeypatch.setattr(retailer_store.RetailerProfile, "get", counted("profile", retailer_store.RetailerProfile.get))
    query = retailer_store.RetailerTemplate.query
    monkeypatch.setattr(retailer_store.RetailerTemplate, "query", counted("overrides", query))
    assert drain(local_time(NY, 12))["deliveries"] == {"sent": 4}
    # Two texts and two e-mails: one query for the retailer's profile and its overrides, not one per notification.
    assert reads == [("profile and overrides", f"RETAILER#{retailer.id}")]
    draft = {"body": "Hey! {{ retailer }} order {{ order_id }} is on its way. {{ tracking_url }} {{ opt_out }}"}
    saved = api.http.put("/v1/templates/shipped/sms/en", headers=retailer.auth, body=json.dumps(draft))
    assert saved.status_code == 200, saved.body
    assert api.register(retailer, customer={**CUSTOMER}, tracking_number="1ZTEMPLATES3").status_code == 201
    ship(api, retailer, "shipped", "e3", tracking_number="1ZTEMPLATES3")
    assert drain(local_time(NY, 12))["deliveries"] == {"sent": 2}
    # The saved override, not the copy read a moment before it.
    assert providers.capture.of("twilio")[-1].form["Body"].startswith("Hey! Acme Outdoor order ORD-1001 is on")
    assert api.http.delete("/v1/templates/shipped/sms/en", headers=retailer.auth).status_code == 204
    assert api.register(retailer, customer={**CUSTOMER}, tracking_number="1ZTEMPLATES4").status_code == 201
    ship(api, retailer, "shipped", "e4", tracking_number="1ZTEMPLATES4")
    assert drain(local_time(NY, 12))["deliveries"] == {"sent": 2}
    assert "has shipped" in providers.capture.of("twilio")[-1].form["Body"]


def test_settings_choose_channels_per_milestone(api: Api, retailer: Retailer, providers: Providers) -> None:
    defaults = api.http.get("/v1/settings", headers=retailer.auth).json_body
    assert defaults["quiet_hours"] == {"enabled": True, "start": "21:00", "end": "08:00"}
    assert defaults["channels"]["processed"] == ["email"] and defaults["channels"]["shipped"] == ["sms", "email"]
    updated = api.http.put(
        "/v1/settings",
        headers=retailer.auth,
        body=json.dumps({"channels": {"shipped": ["email"]}, "time_zone": "Europe/Berlin"}),
    ).json_body
    assert updated["channels"]["shipped"] == ["email"] and updated["channels"]["delivered"] == ["sms", "email"]
    assert updated["time_zone"] == "Europe/Berlin"
    for body, field in (
        ({"time_zone": "Nowhere/Land"}, "time_zone"),
        ({"channels": {"shipped": ["fax"]}}, "channels.shipped.0"),
        ({"quiet_hours": {"start": "25:00"}}, "quiet_hours.start"),
    ):
        bad = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(body))
        assert bad.status_code == 400 and bad.json_body["error"]["field"] == field
    shipment = register(api, retailer)
    ship(api, retailer, "shipped", "e1")
    assert set(notes(api, retailer, shipment["id"])) == {("shipped", "email")}


def test_spanish_shopper_gets_spanish_messages(api: Api, retailer: Retailer, providers: Providers) -> None:
    register(api, retailer, locale="es-MX")
    ship(api, retailer, "shipped", "e1")
    drain(local_time(NY, 12))
    assert "va en camino" in providers.capture.of("twilio")[0].form["Body"]
    assert providers.capture.of("sendgrid")[0].json["subject"].startswith("Tu pedido ORD-1001")


def test_without_credentials_messages_land_in_the_local_outbox(api: Api, retailer: Retailer, monkeypatch) -> None:
    register(api, retailer)
    ship(api, retailer, "out_for_delivery", "e1")
    drain(local_time(NY, 12))
    page = api.http.get("/dev/outbox")
    html = page.body.decode()
    assert page.status_code == 200 and html.count("<article>") == 2
    assert 'class="bubble">Acme Outdoor: order ORD-1001 is out for delivery.' in html
    assert "<iframe sandbox" in html and "Out for delivery: Acme Outdoor order ORD-1001" in html
    from chalicelib.config import settings

    monkeypatch.setenv("STAGE", "prod")
    settings.cache_clear()
    assert api.http.get("/dev/outbox").status_code == 404


def test_a_later_timed_shipped_scan_never_follows_out_for_delivery(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer)
    noon = local_time(NY, 12)
    ship(api, retailer, "out_for_delivery", "e1", "2026-11-20T10:00:00+00:00")
    drain(noon)
    ship(api, retailer, "shipped", "e2", "2026-11-20T11:00:00+00:00")  # a hub scan stamped after the van left
    drain(noon)
    assert ("shipped", "sms") not in notes(api, retailer, shipment["id"])
    assert [("has shipped" in r.form["Body"]) for r in providers.capture.of("twilio")] == [False]


def test_one_scan_sends_at_most_one_text(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = register(api, retailer)
    ship(
        api,
        retailer,
        "exception",
        "e1",
        "2026-11-20T10:00:00+00:00",
        delayed=True,
        description="Customer not available",
    )
    drain(local_time(NY, 12))
    kinds = {kind for kind, channel in notes(api, retailer, shipment["id"]) if channel == "sms"}
    assert kinds == {"attempt_failed"} and len(providers.capture.of("twilio")) == 1


def test_an_exception_scan_that_says_nobody_was_home_tells_the_shopper_we_missed_you_once(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    missed = register(api, retailer)
    ship(api, retailer, "exception", "e1", delayed=True, description="Customer not available or business closed")
    drain(local_time(NY, 12))
    [text] = providers.capture.of("twilio")
    assert "we missed you" in text.form["Body"] and "try again" in text.form["Body"]
    detail = api.shipment(retailer, missed["id"]).json_body
    assert detail["status"] == "attempt_failed"
    assert detail["events"][0]["description"] == "Customer not available or business closed"
    # the same scan again changes nothing and sends nothing
    ship(api, retailer, "exception", "e1", delayed=True, description="Customer not available or business closed")
    drain(local_time(NY, 12, 5))
    assert len(providers.capture.of("twilio")) == 1


def test_an_exception_that_is_not_a_missed_visit_stays_an_exception(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "exception", "e1", description="Package damaged in transit")
    drain(local_time(NY, 12))
    assert api.shipment(retailer, shipment["id"]).json_body["status"] == "exception"
    kinds = {kind for kind, channel in notes(api, retailer, shipment["id"]) if channel == "sms"}
    assert kinds == {"exception"}


def test_the_survey_keeps_its_delay_after_an_arrival_text_held_by_quiet_hours(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer)
    ship(api, retailer, "delivered", "e1", local_time(NY, 22).isoformat())
    drain(local_time(NY, 22, 30))
    drain(local_time(NY, 23, 30))
    assert providers.capture.of("twilio") == []
    drain(local_time(NY, 8, days_ahead=2))
    assert ["has arrived" in r.form["Body"] for r in providers.capture.of("twilio")] == [True]
    drain(local_time(NY, 8, 30, days_ahead=2))
    assert len(providers.capture.of("twilio")) == 1
    survey = notes(api, retailer, shipment["id"])[("survey", "sms")]
    assert survey["due_at"] == local_time(NY, 9, days_ahead=2).isoformat()
    drain(local_time(NY, 9, days_ahead=2))
    assert "Reply 1 (poor)" in providers.capture.of("twilio")[-1].form["Body"]


def test_quiet_hours_cannot_go_below_the_legal_floor_and_the_answer_says_what_was_clamped(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    def put(body: dict) -> dict:
        response = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(body))
        assert response.status_code == 200, response.body
        return response.json_body

    late = put({"quiet_hours": {"start": "23:00", "end": "06:00"}})
    assert late["quiet_hours"] == {"enabled": True, "start": "21:00", "end": "08:00"}
    assert any("21:00" in w for w in late["warnings"]) and any("08:00" in w for w in late["warnings"])
    off = put({"quiet_hours": {"enabled": False}})
    assert off["quiet_hours"]["enabled"] is True and "cannot be switched off" in off["warnings"][0]
    never = put({"quiet_hours": {"start": "07:00", "end": "07:00"}})
    assert never["quiet_hours"]["start"] == "21:00" and "never apply" in never["warnings"][0]
    put({"quiet_hours": {"start": "20:00", "end": "09:00"}})
    reset = put({"quiet_hours": None})  # an explicit null means the defaults, and the answer says so
    assert (
        reset["quiet_hours"] == {"enabled": True, "start": "21:00", "end": "08:00"}
        and "defaults" in reset["warnings"][0]
    )
    assert "warnings" not in api.http.get("/v1/settings", headers=retailer.auth).json_body


def test_a_text_to_a_florida_address_waits_for_8am_after_8pm(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    response = api.register(retailer, customer=CUSTOMER, destination={"city": "Miami", "region": "FL", "country": "US"})
    assert response.status_code == 201, response.body
    ship(api, retailer, "shipped", "e1")
    drain(local_time(NY, 20, 30))
    assert providers.capture.of("twilio") == []
    assert notes(api, retailer, response.json_body["id"])[("shipped", "sms")]["status"] == "deferred"
    drain(local_time(NY, 8, 5, days_ahead=2))
    assert len(providers.capture.of("twilio")) == 1


def test_locales_written_fr_or_de_underscore_de_register_and_pick_their_language(api: Api, retailer: Retailer) -> None:
    for number, (written, stored) in enumerate((("FR", "fr"), ("de_DE", "de-DE"), ("fr-fr", "fr-FR"))):
        response = api.register(
            retailer,
            customer={**CUSTOMER, "locale": written},
            order_id=f"ORD-{stored}",
            carrier="USPS",
            tracking_number=f"9400111899223197428{490 + number}",
        )
        assert response.status_code == 201, (written, response.body)
        detail = api.shipment(retailer, response.json_body["id"]).json_body
        assert detail["customer"]["locale"] == stored


def test_a_stale_carrier_eta_is_never_repeated_once_out_for_delivery_or_arrived(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = register(api, retailer)
    # the shipping scan promised Friday; the parcel went out on Wednesday, and arrived that day
    ship(api, retailer, "shipped", "s1", "2026-11-18T10:00:00+00:00", eta={"start": "2026-11-20", "end": "2026-11-20"})
    ship(api, retailer, "out_for_delivery", "o1", "2026-11-18T13:00:00+00:00")
    drain(local_time(NY, 15))
    out = [r.form["Body"] for r in providers.capture.of("twilio") if "out for delivery" in r.form["Body"]]
    assert out and all("ETA" not in body and "Fri" not in body for body in out), out
    out_mail = [r.json for r in providers.capture.of("sendgrid") if r.json["subject"].startswith("Out for delivery")]
    assert out_mail and "Estimated delivery" not in out_mail[0]["content"][0]["value"]
    view = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert view["eta"] is None  # the page says "out for delivery", not "Friday"
    ship(api, retailer, "delivered", "d1", "2026-11-18T16:00:00+00:00")
    drain(local_time(NY, 15))
    arrived = [r.json for r in providers.capture.of("sendgrid") if r.json["subject"].startswith("Arrived")]
    assert arrived and "Estimated delivery" not in arrived[0]["content"][0]["value"]


def test_a_spanish_emails_unsubscribe_link_opens_its_pages_in_spanish(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    register(api, retailer, locale="es")
    ship(api, retailer, "shipped", "e1", "2026-11-20T10:00:00+00:00")
    drain(local_time(NY, 12))
    link = providers.capture.of("sendgrid")[0].json["headers"]["List-Unsubscribe"].strip("<>")
    assert link.endswith("?lang=es")
    path = link.removeprefix("https://track.example.test")
    question = api.http.get(path).body.decode()  # a browser that asks for English gets the e-mail's language
    assert 'lang="es"' in question and "¿Dejar de recibir los correos de entrega de Acme Outdoor?" in question
    assert 'action="https://track.example.test/v1/unsubscribe/' in question and "?lang=es" in question
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    done = api.http.post(path, headers=form, body="List-Unsubscribe=One-Click").body.decode()
    assert 'lang="es"' in done and "You're unsubscribed" not in done
