"""Worded survey replies, follow-up notes and what reaches the retailer, through POST /v1/twilio/inbound, the page's
follow-up form and the retailer's survey webhook; and the survey figures the analytics JSON and page show."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import jsonschema

from chalicelib.api.openapi import document
from chalicelib.carriers.native import sign
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain
from tests.integration.test_surveys import ago, delivered_shipment, page_form, post_form, reply, surveys

SCHEMAS = document()["components"]["schemas"]


def sent_survey(api: Api, retailer: Retailer, n: int = 0, phone: str = "+14155557001", **kwargs) -> dict:
    shipment = delivered_shipment(api, retailer, n, phone=phone, **kwargs)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    return shipment


def survey_hook(api: Api, retailer: Retailer, providers: Providers) -> str:
    hook = f"{providers.capture.url}/hooks/porchlight"
    settings = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"survey": {"webhook_url": hook}}))
    return settings.json_body["survey"]["webhook_secret"]


def retailer_calls(providers: Providers) -> list[tuple[dict, dict]]:
    return [(json.loads(call.body), call.headers) for call in providers.capture.of("retailer")]


def test_a_worded_reply_records_the_score_and_the_words_as_the_comment(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    replies = {
        "+14155557101": ("1 - package was wet", 1, "package was wet"),
        "+14155557102": ("4 stars, great driver", 4, "great driver"),
        "+14155557103": ("Cuatro estrellas, muy amable", 4, "muy amable"),
        "+14155557104": ("Quatre étoiles, livreur sympa", 4, "livreur sympa"),
        "+14155557105": ("Vier Sterne, alles gut", 4, "alles gut"),
        "+14155557106": ("⭐⭐⭐⭐⭐ Super fast", 5, "Super fast"),
    }
    for n, phone in enumerate(replies):
        sent_survey(api, retailer, n, phone=phone)
    for phone, (text, _, _) in replies.items():
        answer = reply(api, text, sender=phone)
        assert "Thank you for your rating and your note!" in answer and "didn't get that" not in answer
    answered = {s["order_id"]: s for s in surveys(api, retailer)["surveys"]}
    for n, (_, score, comment) in enumerate(replies.values()):
        assert answered[f"S-{n}"]["score"] == score and answered[f"S-{n}"]["comment"] == comment
        assert answered[f"S-{n}"]["answered_via"] == "sms"


def test_a_count_is_not_a_rating_and_gets_the_one_clarifying_reply(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    sent_survey(api, retailer)
    assert "reply with a number from 1 (poor) to 5 (great)" in reply(api, "One box was crushed")
    assert "Thank you" in reply(api, "2: one box was crushed")
    [answered] = surveys(api, retailer)["surveys"]
    assert answered["score"] == 2 and answered["comment"] == "one box was crushed"


def test_survey_replies_speak_the_shoppers_language(api: Api, retailer: Retailer, providers: Providers) -> None:
    sent_survey(api, retailer, 0, phone="+14155557201", locale="fr-FR")
    sent_survey(api, retailer, 1, phone="+14155557202", locale="de")
    assert "Répondez par un chiffre de 1 (mauvais) à 5 (excellent)" in reply(api, "Hmm", sender="+14155557201")
    assert "Merci ! Quelque chose à nous signaler ?" in reply(api, "4", sender="+14155557201")
    assert "Merci pour votre retour" in reply(api, "Livreur sympa", sender="+14155557201")
    assert "Danke für Ihre Bewertung und Ihre Nachricht" in reply(api, "5 alles gut", sender="+14155557202")
    assert "Ihre Bewertung dieser Lieferung liegt uns schon vor" in reply(api, "5", sender="+14155557202")


def test_texts_within_a_day_of_the_score_join_the_comment_and_later_ones_do_not(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib.store import surveys as survey_store

    shipment = sent_survey(api, retailer)
    assert "Thank you" in reply(api, "4 stars, great driver")
    assert "Thanks for the feedback" in reply(api, "He even rang twice")
    assert "Thanks for the feedback" in reply(api, "Box a bit dented though")
    assert "already have your rating" in reply(api, "5")  # a bare score is not a note
    [answered] = surveys(api, retailer)["surveys"]
    assert answered["score"] == 4
    assert answered["comment"] == "great driver\nHe even rang twice\nBox a bit dented though"
    # The score was given 25 hours ago: a text now is not part of this survey any more.
    survey_store.mark(shipment["id"], answered_at=ago(hours=25))
    late = reply(api, "Also the box was open")
    assert "Thanks for the feedback" not in late
    assert surveys(api, retailer)["surveys"][0]["comment"] == answered["comment"]


def test_the_page_form_comment_joins_a_texted_comment_instead_of_replacing_it(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = sent_survey(api, retailer)
    reply(api, "2 - late")
    cookie, csrf = page_form(api, shipment["tracking_token"])
    form = urlencode({"csrf": csrf, "reasons": "late", "comment": "and left in the rain"})
    assert post_form(api, f"/t/{shipment['tracking_token']}/survey/follow-up", cookie, form).status_code == 303
    [answered] = surveys(api, retailer)["surveys"]
    assert answered["comment"] == "late\nand left in the rain" and answered["reasons"] == ["late"]


def test_the_low_score_escalation_carries_the_words_written_with_the_score(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    secret = survey_hook(api, retailer, providers)
    shipment = sent_survey(api, retailer)
    reply(api, "1 - package was wet")
    drain(datetime.now(UTC) + timedelta(seconds=5))
    [(payload, headers)] = retailer_calls(providers)
    assert payload["type"] == "survey.low_score" and payload["shipment_id"] == shipment["id"]
    assert payload["score"] == 1 and payload["comment"] == "package was wet" and payload["comment_revision"] == 1
    jsonschema.validate(payload, SCHEMAS["LowScoreEvent"])
    raw = providers.capture.of("retailer")[0].body
    stamp = int(headers["X-Porchlight-Signature"].split(",")[0].removeprefix("t="))
    assert headers["X-Porchlight-Signature"] == sign(secret, raw, stamp)


def test_a_note_after_the_escalation_reaches_the_retailer_as_comment_added(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    secret = survey_hook(api, retailer, providers)
    shipment = sent_survey(api, retailer)
    reply(api, "1")
    drain(datetime.now(UTC) + timedelta(seconds=5))
    [(low, _)] = retailer_calls(providers)
    assert low["type"] == "survey.low_score" and low["comment"] is None and low["comment_revision"] == 0
    reply(api, "The box was soaked and the shoes inside too")
    providers.capture.fail_next("retailer", 503, {"error": "busy"})  # retried like every call to the retailer
    now = datetime.now(UTC) + timedelta(seconds=5)
    drain(now)
    drain(now + timedelta(minutes=2))
    calls = providers.capture.of("retailer")
    assert len(calls) == 3 and calls[1].body == calls[2].body
    added = json.loads(calls[2].body)
    assert added["type"] == "survey.comment_added" and added["shipment_id"] == shipment["id"]
    assert added["score"] == 1 and added["comment"] == "The box was soaked and the shoes inside too"
    assert added["comment_revision"] == 1 and added["commented_at"]
    jsonschema.validate(added, SCHEMAS["SurveyCommentEvent"])
    headers = calls[2].headers
    assert headers["X-Porchlight-Event-Id"] == f"{shipment['id']}:survey:comment:1"
    stamp = int(headers["X-Porchlight-Signature"].split(",")[0].removeprefix("t="))
    assert headers["X-Porchlight-Signature"] == sign(secret, calls[2].body, stamp)
    # A second note follows with the whole comment so far.
    reply(api, "Sizes 42, both pairs")
    drain(now + timedelta(minutes=3))
    last = json.loads(providers.capture.of("retailer")[-1].body)
    assert last["comment_revision"] == 2
    assert last["comment"] == "The box was soaked and the shoes inside too\nSizes 42, both pairs"
    notes = {n["kind"]: n for n in api.shipment(retailer, shipment["id"]).json_body["notifications"]}
    assert notes["survey_comment:1"]["status"] == "sent" and notes["survey_comment:2"]["status"] == "sent"


def test_a_note_that_arrives_before_the_escalation_goes_out_travels_with_it_once(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    survey_hook(api, retailer, providers)
    shipment = sent_survey(api, retailer)
    reply(api, "2")
    reply(api, "Driver threw it over the fence")
    drain(datetime.now(UTC) + timedelta(seconds=5))
    drain(datetime.now(UTC) + timedelta(minutes=5))
    [(payload, _)] = retailer_calls(providers)
    assert payload["type"] == "survey.low_score" and payload["comment"] == "Driver threw it over the fence"
    notes = {n["kind"]: n for n in api.shipment(retailer, shipment["id"]).json_body["notifications"]}
    assert notes["survey_comment:1"]["status"] == "skipped"
    assert notes["survey_comment:1"]["reason"] == "sent_with_low_score"


def test_drivers_surveys_sent_count_every_survey_that_went_out_to_their_shoppers(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    # Hand-built history: Sam delivered three parcels (two surveys by text, one by email), Lee one (by text).
    sent_survey(api, retailer, 0, phone="+14155557201", driver="Sam Rivera")
    sent_survey(api, retailer, 1, phone="+14155557202", driver="Sam Rivera")
    sent_survey(api, retailer, 2, phone=None, email="pat@example.com", driver="Sam Rivera")
    sent_survey(api, retailer, 3, phone="+14155557203", driver="Lee Chen")
    reply(api, "5", sender="+14155557201")
    reply(api, "4 - fine", sender="+14155557203")
    data = api.http.get("/v1/analytics", headers=retailer.auth).json_body
    drivers = {row["driver"]: row for row in data["by_driver"]}
    assert drivers["Sam"]["surveys_sent"] == 3 and drivers["Sam"]["answered"] == 1
    assert drivers["Sam"]["response_rate"] == round(100 / 3, 1)
    assert drivers["Lee"]["surveys_sent"] == 1 and drivers["Lee"]["response_rate"] == 100.0
    assert data["quality"]["surveys_sent"] == 4
    csv_text = api.http.get("/v1/analytics?format=csv", headers=retailer.auth).body.decode()
    assert "driver,Sam,surveys_sent,3" in csv_text


def test_low_scores_with_their_comment_need_attention_in_the_analytics_json_and_page(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    low = sent_survey(api, retailer, 0, phone="+14155557301")
    sent_survey(api, retailer, 1, phone="+14155557302")
    reply(api, "1 - package was wet", sender="+14155557301")
    reply(api, "5 great", sender="+14155557302")
    reply(api, "and the box was torn", sender="+14155557301")
    data = api.http.get("/v1/analytics", headers=retailer.auth).json_body
    jsonschema.validate(data, SCHEMAS["Analytics"])
    [entry] = data["needs_attention"]["low_scores"]
    assert entry["shipment_id"] == low["id"] and entry["order_id"] == "S-0" and entry["score"] == 1
    assert entry["comment"] == "package was wet\nand the box was torn"
    assert entry["driver"] == "Sam" and entry["carrier"] == "ups" and entry["tracking_url"] == low["tracking_url"]
    flat = json.dumps(data["needs_attention"])
    assert "+1415555" not in flat and "Pat" not in flat and "Example" not in flat and "@" not in flat
    login = api.http.post(
        "/analytics/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"api_key": retailer.api_key}),
    )
    cookie = login.headers["Set-Cookie"].split(";")[0]
    page = api.http.get("/analytics", headers={"Cookie": cookie}).body.decode()
    attention = page.split('id="attention"')[1].split("</section>")[0]
    assert "Low survey scores" in attention and "1/5" in attention and "S-0" in attention
    assert "package was wet" in attention and "and the box was torn" in attention
    assert f"/t/{low['tracking_token']}" in attention and "Nothing waiting" not in attention
    assert "+1415555" not in attention and "Pat Example" not in attention
    # the download from the page lists the same low score, with what the shopper wrote
    export = api.http.get("/analytics/export.csv", headers={"Cookie": cookie}).body.decode()
    cells = {(s, n, m): v for s, n, m, v in list(csv.reader(io.StringIO(export)))[1:]}
    assert cells[("low_score", low["id"], "score")] == "1" and cells[("low_score", low["id"], "order_id")] == "S-0"
    assert cells[("low_score", low["id"], "comment")] == "package was wet\nand the box was torn"
    assert "+1415555" not in export and "Pat Example" not in export
    # Erasing the shipment takes its low score off the list too.
    assert api.http.delete(f"/v1/shipments/{low['id']}", headers=retailer.auth).status_code == 200
    assert api.http.get("/v1/analytics", headers=retailer.auth).json_body["needs_attention"]["low_scores"] == []


def test_the_survey_email_after_delivery_shows_no_eta(api: Api, retailer: Retailer, providers: Providers) -> None:
    from tests.payloads import native_event

    tn = "1ZSURVEYETA0001"
    api.http.post(
        "/v1/shipments",
        headers=retailer.auth,
        body=json.dumps(
            {
                "order_id": "ETA-1",
                "carrier": "ups",
                "tracking_number": tn,
                "customer": {"name": "Pat Example", "email": "pat@example.com", "time_zone": "UTC"},
            }
        ),
    )
    window = {"start": ago(hours=3), "end": ago(hours=1)}
    events = [
        native_event("eta-o", "out_for_delivery", ago(hours=4), tracking_number=tn, eta=window),
        native_event("eta-d", "delivered", ago(hours=2), tracking_number=tn),
    ]
    assert api.native(retailer, {"events": events}).status_code == 200
    drain(datetime.now(UTC) + timedelta(seconds=5))
    mail = next(
        r.json for r in providers.capture.of("sendgrid") if r.json["subject"].startswith("How was your delivery?")
    )
    parts = {c["type"]: c["value"] for c in mail["content"]}
    assert "/rate/5" in parts["text/html"]  # the survey itself
    for part in parts.values():
        assert "Estimated delivery" not in part
