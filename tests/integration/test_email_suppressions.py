"""SendGrid events read as SendGrid documents them: blocks and deferrals are retried, only an invalid address is
suppressed for every retailer, a retailer lifts its own suppressions with a reason (audited), and a signed batch
must be fresh (issue 20.7, D32). Events are SendGrid's published examples (tests/fixtures/sendgrid/SOURCES.md)."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time, twilio_headers
from tests.integration.test_notifications import CUSTOMER, NY, notes, register, sendgrid_post, ship

EXAMPLES = json.loads((Path(__file__).parents[1] / "fixtures/sendgrid/event_webhook_examples.json").read_text())
EVENT_IDS = itertools.count(1)
EMAIL = CUSTOMER["email"]


def event_about(api: Api, retailer: Retailer, shipment_id: str, kind: str, example: str, **changes) -> dict:
    """SendGrid's example event, about the e-mail we sent (its message id, our custom args)."""
    sent = notes(api, retailer, shipment_id)[(kind, "email")]
    event = dict(EXAMPLES[example])
    suffix = event["sg_message_id"].split(".filter", 1)[1]
    event.update(
        email=EMAIL,
        sg_message_id=f"{sent.get('provider_message_id', 'gone')}.filter{suffix}",
        sg_event_id=f"ev-{next(EVENT_IDS)}",
        pl_shipment=shipment_id,
        pl_kind=kind,
        pl_retailer=retailer.id,
        **changes,
    )
    return event


def shipped_email(api: Api, retailer: Retailer, **customer) -> str:
    shipment = register(api, retailer, **customer)
    ship(api, retailer, "shipped", f"s-{retailer.id}")
    drain(local_time(NY, 12))
    assert notes(api, retailer, shipment["id"])[("shipped", "email")]["status"] == "sent"
    return shipment["id"]


def emails_to_maria(providers: Providers) -> int:
    return sum(1 for r in providers.capture.of("sendgrid") if r.json["personalizations"][0]["to"][0]["email"] == EMAIL)


def suppressions(api: Api, retailer: Retailer, contact: str = EMAIL):
    return api.http.get(f"/v1/suppressions?contact={quote(contact)}", headers=retailer.auth)


def lift(api: Api, retailer: Retailer, body: dict | None, address: str = EMAIL):
    payload = json.dumps(body) if body is not None else ""
    return api.http.delete(f"/v1/suppressions/{quote(address, safe='')}", headers=retailer.auth, body=payload)


def test_a_blocked_or_deferred_email_is_sent_again_later_and_suppresses_nothing(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment_id = shipped_email(api, retailer)
    assert (
        sendgrid_post(api, providers, [event_about(api, retailer, shipment_id, "shipped", "blocked")]).status_code
        == 200
    )
    shipped = notes(api, retailer, shipment_id)[("shipped", "email")]
    assert shipped["status"] == "retry" and "blocked" in shipped["reason"]
    assert suppressions(api, retailer).json_body["suppressed"] is False

    drain(local_time(NY, 13))  # after the backoff: sent again, a new message
    again = notes(api, retailer, shipment_id)[("shipped", "email")]
    assert again["status"] == "sent" and emails_to_maria(providers) == 2
    deferred = event_about(api, retailer, shipment_id, "shipped", "deferred")
    sendgrid_post(api, providers, [deferred])
    assert notes(api, retailer, shipment_id)[("shipped", "email")]["status"] == "retry"
    # The same deferral reported again, or one about the earlier message, moves nothing.
    stale = {**deferred, "sg_event_id": f"ev-{next(EVENT_IDS)}"}
    drain(local_time(NY, 14))
    sendgrid_post(api, providers, [stale])
    assert notes(api, retailer, shipment_id)[("shipped", "email")]["status"] == "sent"

    ship(api, retailer, "out_for_delivery", "ofd-1", "2026-11-20T11:00:00+00:00")
    drain(local_time(NY, 14))
    assert notes(api, retailer, shipment_id)[("out_for_delivery", "email")]["status"] == "sent"


def test_blocks_count_against_the_attempt_limit(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch
) -> None:
    from chalicelib.shared import sending

    monkeypatch.setattr(sending, "MAX_ATTEMPTS", 2)
    shipment_id = shipped_email(api, retailer)
    sendgrid_post(api, providers, [event_about(api, retailer, shipment_id, "shipped", "blocked")])
    drain(local_time(NY, 13))
    sendgrid_post(api, providers, [event_about(api, retailer, shipment_id, "shipped", "deferred")])
    shipped = notes(api, retailer, shipment_id)[("shipped", "email")]
    assert shipped["status"] == "failed" and shipped["reason"].startswith("gave up after 2 attempts")
    failed = api.http.get("/v1/notifications/failed", headers=retailer.auth).json_body
    assert [(n["kind"], n["channel"]) for n in failed["notifications"]] == [("shipped", "email")]


def test_a_hard_bounce_suppresses_the_address_for_every_retailer_a_spam_report_for_one(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    other = api.create_retailer("Birch & Co")
    shipment_id = shipped_email(api, retailer)
    sendgrid_post(api, providers, [event_about(api, retailer, shipment_id, "shipped", "spamreport")])
    assert suppressions(api, retailer).json_body["suppressions"][0]["scope"] == "retailer"
    assert suppressions(api, other).json_body == {
        "contact": EMAIL,
        "channel": "email",
        "suppressed": False,
        "suppressions": [],
        "audit": [],
    }

    bounce = event_about(api, retailer, shipment_id, "shipped", "bounce")
    sendgrid_post(api, providers, [bounce])
    assert notes(api, retailer, shipment_id)[("shipped", "email")]["status"] == "bounced"
    seen_by_other = suppressions(api, other).json_body
    assert seen_by_other["suppressed"] is True
    assert [(s["scope"], s["reason"]) for s in seen_by_other["suppressions"]] == [("every_retailer", "invalid_address")]
    other_shipment = register(api, other)
    ship(api, other, "shipped", "b1")
    drain(local_time(NY, 12))
    assert notes(api, other, other_shipment["id"])[("shipped", "email")]["reason"] == "suppressed"


def test_a_drop_for_an_invalid_address_holds_for_everyone_a_drop_for_an_unsubscribe_for_the_sender(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    other = api.create_retailer("Birch & Co")
    shipment_id = shipped_email(api, retailer)
    sendgrid_post(
        api, providers, [event_about(api, retailer, shipment_id, "shipped", "dropped", reason="Unsubscribed Address")]
    )
    assert [s["scope"] for s in suppressions(api, retailer).json_body["suppressions"]] == ["retailer"]
    assert suppressions(api, other).json_body["suppressed"] is False
    sendgrid_post(api, providers, [event_about(api, retailer, shipment_id, "shipped", "dropped")])  # Bounced Address
    assert [s["scope"] for s in suppressions(api, other).json_body["suppressions"]] == ["every_retailer"]


def test_a_retailer_lifts_its_suppression_with_a_reason_and_the_lift_is_audited(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    other = api.create_retailer("Birch & Co")
    shipment_id = shipped_email(api, retailer)
    sendgrid_post(api, providers, [event_about(api, retailer, shipment_id, "shipped", "spamreport")])

    assert lift(api, retailer, None).json_body["error"]["field"] == "body"
    assert lift(api, retailer, {"reason": "  "}).json_body["error"]["field"] == "reason"
    assert lift(api, retailer, {"reason": "x"}, address="not-an-address").json_body["error"]["field"] == "address"
    refused = lift(api, other, {"reason": "not mine to lift"})
    assert refused.status_code == 404  # another retailer's suppression is invisible to it
    assert suppressions(api, retailer).json_body["suppressed"] is True

    lifted = lift(api, retailer, {"reason": "shopper asked by phone to get delivery e-mails again"})
    assert lifted.status_code == 200 and lifted.json_body["suppressed"] is False
    keys = api.http.get("/v1/api-keys", headers=retailer.auth).json_body["api_keys"]
    trail = suppressions(api, retailer).json_body["audit"]
    assert [line["action"] for line in trail] == ["suppressed", "lifted"]
    assert trail[1]["reason"] == "shopper asked by phone to get delivery e-mails again"
    assert trail[1]["lifted_reason"] == "spam_report" and trail[1]["at"]
    assert trail[1]["by"] == {"api_key_id": keys[0]["id"], "api_key_prefix": keys[0]["prefix"]}
    assert suppressions(api, other).json_body["audit"] == []
    assert lift(api, retailer, {"reason": "again"}).status_code == 404

    ship(api, retailer, "out_for_delivery", "ofd-1", "2026-11-20T11:00:00+00:00")
    drain(local_time(NY, 12))
    assert notes(api, retailer, shipment_id)[("out_for_delivery", "email")]["status"] == "sent"


def test_lifting_an_invalid_address_suppression_frees_only_the_lifting_retailers_sends(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    other = api.create_retailer("Birch & Co")
    shipment_id = shipped_email(api, retailer)
    sendgrid_post(api, providers, [event_about(api, retailer, shipment_id, "shipped", "bounce")])
    assert lift(api, retailer, {"reason": "the shopper fixed their mailbox"}).json_body["suppressed"] is False
    assert suppressions(api, other).json_body["suppressed"] is True
    trail = suppressions(api, retailer).json_body["audit"]
    assert [(line["action"], line["scope"]) for line in trail] == [
        ("suppressed", "every_retailer"),
        ("lifted", "every_retailer"),
    ]
    assert [line["action"] for line in suppressions(api, other).json_body["audit"]] == ["suppressed"]

    # A new invalid-address report is a new suppression: the old lift does not excuse it.
    again = event_about(api, retailer, shipment_id, "shipped", "bounce")
    sendgrid_post(api, providers, [again])
    assert suppressions(api, retailer).json_body["suppressed"] is True


def test_a_phones_opt_out_is_listed_but_only_the_shopper_can_lift_it(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    params = {"From": CUSTOMER["phone"], "To": "+15005550006", "Body": "STOP", "MessageSid": "SM1"}
    api.http.post("/v1/twilio/inbound", headers=twilio_headers("/v1/twilio/inbound", params), body=urlencode(params))
    state = suppressions(api, retailer, CUSTOMER["phone"]).json_body
    assert state["channel"] == "sms" and [s["scope"] for s in state["suppressions"]] == ["every_retailer"]
    refused = lift(api, retailer, {"reason": "retailer wants to text"}, address=CUSTOMER["phone"])
    assert refused.status_code == 409 and refused.json_body["error"]["code"] == "shopper_opt_out"
    assert api.http.get("/v1/suppressions", headers=retailer.auth).json_body["error"]["field"] == "contact"


def test_a_signed_batch_older_than_ten_minutes_is_refused(api: Api, retailer: Retailer, providers: Providers) -> None:
    payload = b'[{"event":"open","email":"maria@example.com","sg_event_id":"fresh-1"}]\r\n'
    stale = providers.sign_sendgrid(payload, timestamp=str(int(time.time()) - 11 * 60))
    refused = api.http.post("/v1/sendgrid/events", headers=stale, body=payload)
    assert refused.status_code == 403 and "10 minutes" in refused.json_body["error"]["message"]
    ahead = providers.sign_sendgrid(payload, timestamp=str(int(time.time()) + 11 * 60))
    assert api.http.post("/v1/sendgrid/events", headers=ahead, body=payload).status_code == 403
    recent = providers.sign_sendgrid(payload, timestamp=str(int(time.time()) - 9 * 60))
    assert api.http.post("/v1/sendgrid/events", headers=recent, body=payload).status_code == 200


def test_an_unknown_or_expired_unsubscribe_link_shows_a_page_in_the_shoppers_language(
    api: Api, retailer: Retailer, providers: Providers, monkeypatch
) -> None:
    unknown = api.http.get("/v1/unsubscribe/not-a-token", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith("text/html")
    assert "Dieser Abmeldelink funktioniert nicht mehr" in unknown.body.decode()
    assert '<html lang="de">' in unknown.body.decode()
    spanish = api.http.get("/v1/unsubscribe/not-a-token?lang=es")
    assert "Este enlace para darte de baja ya no funciona" in spanish.body.decode()

    shipped_email(api, retailer)
    link = providers.capture.of("sendgrid")[0].json["headers"]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://track.example.test")
    from datetime import timedelta

    from chalicelib.api import providers as provider_routes
    from chalicelib.config import settings

    # The link's retention runs from the send (shipped_email drains at tomorrow's noon in New York, up to 36 hours
    # ahead of the real clock), so "past its retention" is counted from there, whatever the hour the test runs.
    later = local_time(NY, 12) + timedelta(days=settings().retention_days + 1)
    monkeypatch.setattr(provider_routes, "utcnow", lambda: later)
    expired = api.http.get(path, headers={"Accept-Language": "fr"})
    assert expired.status_code == 410 and "Ce lien de désabonnement ne fonctionne plus" in expired.body.decode()
    posted = api.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body="")
    assert posted.status_code == 410 and "This unsubscribe link no longer works" in posted.body.decode()
    assert suppressions(api, retailer).json_body["suppressed"] is False
