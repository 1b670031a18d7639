"""Post-delivery surveys and analytics through the public routes, with a seeded data set of known answers."""

from __future__ import annotations

import json
import re
import statistics
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jsonschema

from chalicelib.api.openapi import document
from chalicelib.carriers.native import TOLERANCE_SECONDS, sign
from chalicelib.simulator import daytime_zone
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, twilio_headers
from tests.payloads import native_event

PHONE = "+14155557001"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="seconds")


def delivered_shipment(
    api: Api,
    retailer: Retailer,
    n: int = 0,
    *,
    carrier: str = "ups",
    driver: str = "Sam Rivera",
    phone: str | None = PHONE,
    email: str | None = None,
    consent: bool = True,
    promised: str | None = None,
    shipped_hours_ago: float = 26,
    delivered_hours_ago: float = 2,
    locale: str | None = None,
) -> dict:
    tn = f"1ZSURVEY{carrier.upper()}{n:04d}"
    customer = {"name": "Pat Example", "sms_consent": consent, "time_zone": daytime_zone()}
    if locale:
        customer["locale"] = locale
    if phone:
        customer["phone"] = phone
    if email:
        customer["email"] = email
    body = {"order_id": f"S-{n}", "carrier": carrier, "tracking_number": tn, "customer": customer}
    if promised:
        body["promised_date"] = promised
    created = api.http.post("/v1/shipments", headers=retailer.auth, body=json.dumps(body)).json_body
    events = [
        native_event(f"{tn}-s", "shipped", ago(hours=shipped_hours_ago), tracking_number=tn, carrier=carrier),
        native_event(
            f"{tn}-o",
            "out_for_delivery",
            ago(hours=delivered_hours_ago + 3),
            tracking_number=tn,
            carrier=carrier,
            driver={"name": driver, "phone": "+14155559999"},
        ),
        native_event(f"{tn}-d", "delivered", ago(hours=delivered_hours_ago), tracking_number=tn, carrier=carrier),
    ]
    assert api.native(retailer, {"events": events}).status_code == 200
    return created


def reply(api: Api, body: str, sender: str = PHONE) -> str:
    params = {"MessageSid": "SM" + str(datetime.now().timestamp()), "From": sender, "To": "+15005550006", "Body": body}
    response = api.http.post(
        "/v1/twilio/inbound", headers=twilio_headers("/v1/twilio/inbound", params), body=urlencode(params)
    )
    assert response.status_code == 200
    return response.body.decode()


def page_form(api: Api, token: str) -> tuple[str, str]:
    page = api.http.get(f"/t/{token}")
    cookie = page.headers["Set-Cookie"].split(";")[0]
    return cookie, cookie.split("=", 1)[1]


def post_form(api: Api, path: str, cookie: str, fields: str):
    return api.http.post(
        path, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, body=fields
    )


def surveys(api: Api, retailer: Retailer, query: str = "") -> dict:
    return api.http.get(f"/v1/surveys{query}", headers=retailer.auth).json_body


def test_sms_survey_is_sent_after_delivery_and_answered_as_people_write(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = delivered_shipment(api, retailer)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    texts = [r.form["Body"] for r in providers.capture.of("twilio")]
    assert any("how was the delivery of order S-0? Reply 1 (poor) to 5 (great)" in t for t in texts)
    assert "Thank you!" in reply(api, " 5 stars ")
    assert "Thanks for the feedback" in reply(api, "Driver was lovely")
    [answered] = surveys(api, retailer)["surveys"]
    assert answered["score"] == 5 and answered["answered_via"] == "sms" and answered["comment"] == "Driver was lovely"
    assert answered["carrier"] == "ups" and answered["driver"] == "Sam" and answered["shipment_id"] == shipment["id"]
    html = api.http.get(f"/t/{shipment['tracking_token']}").body.decode()
    assert "Thank you for rating your delivery!" in html and "5/5" in html


def test_unclear_replies_get_one_clarification_not_a_loop(api: Api, retailer: Retailer, providers: Providers) -> None:
    delivered_shipment(api, retailer)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    assert "reply with a number from 1 (poor) to 5 (great)" in reply(api, "it was ok I guess")
    second = reply(api, "meh")
    assert "number from 1" not in second
    assert "Thank you" in reply(api, "⭐⭐⭐⭐")
    assert surveys(api, retailer)["surveys"][0]["score"] == 4


def test_the_first_answer_wins_across_page_email_and_sms(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = delivered_shipment(api, retailer)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    cookie, csrf = page_form(api, shipment["tracking_token"])
    rated = post_form(api, f"/t/{shipment['tracking_token']}/survey", cookie, f"csrf={csrf}&score=4")
    assert rated.status_code == 303
    assert "already have your rating" in reply(api, "1")
    again = post_form(api, f"/t/{shipment['tracking_token']}/survey", cookie, f"csrf={csrf}&score=2")
    assert again.status_code == 303
    [answered] = surveys(api, retailer)["surveys"]
    assert answered["score"] == 4 and answered["answered_via"] == "page"


def test_email_survey_has_five_links_that_confirm_in_the_browser(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    shipment = delivered_shipment(api, retailer, phone=None, email="pat@example.com")
    drain(datetime.now(UTC) + timedelta(seconds=5))
    mail = next(
        r.json for r in providers.capture.of("sendgrid") if r.json["subject"].startswith("How was your delivery?")
    )
    html = next(c["value"] for c in mail["content"] if c["type"] == "text/html")
    links = re.findall(r'href="(https://track\.example\.test/t/[^/]+/rate/[1-5])"', html)
    assert [link[-1] for link in links] == ["1", "2", "3", "4", "5"]
    path = links[3].removeprefix("https://track.example.test")
    scanned = api.http.get(path)  # a link scanner fetching the URL records nothing
    assert scanned.status_code == 200 and surveys(api, retailer)["surveys"] == []
    body = scanned.body.decode()
    assert 'name="score" value="4"' in body and re.search(
        r'<script nonce="[^"]+">document.getElementById\("rate"\).submit', body
    )
    cookie = scanned.headers["Set-Cookie"].split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    assert post_form(api, f"/t/{shipment['tracking_token']}/survey", cookie, f"csrf={csrf}&score=4").status_code == 303
    assert surveys(api, retailer)["surveys"][0]["score"] == 4
    assert api.http.get(f"/t/{shipment['tracking_token']}/rate/9").status_code == 404


def test_page_survey_follow_up_and_validation(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = delivered_shipment(api, retailer, phone=None)
    token = shipment["tracking_token"]
    html = api.http.get(f"/t/{token}").body.decode()
    assert 'name="score" value="5"' in html
    cookie, csrf = page_form(api, token)
    for score in ("0", "6", "x", ""):
        bad = post_form(api, f"/t/{token}/survey", cookie, f"csrf={csrf}&score={score}")
        assert bad.status_code == 400 and "Please choose a rating from 1 to 5." in bad.body.decode()
    assert post_form(api, f"/t/{token}/survey", "pl_csrf=other", f"csrf={csrf}&score=5").status_code == 403
    assert post_form(api, f"/t/{token}/survey", cookie, f"csrf={csrf}&score=2").status_code == 303
    unknown = post_form(api, f"/t/{token}/survey/follow-up", cookie, f"csrf={csrf}&reasons=teleported")
    assert unknown.status_code == 400 and "Please choose one of the options shown." in unknown.body.decode()
    long = post_form(api, f"/t/{token}/survey/follow-up", cookie, f"csrf={csrf}&comment={'x' * 1001}")
    assert long.status_code == 400
    comment = "<script>alert(1)</script> left in the rain"
    ok = post_form(
        api,
        f"/t/{token}/survey/follow-up",
        cookie,
        urlencode({"csrf": csrf, "reasons": "late", "comment": comment}) + "&reasons=wrong_place",
    )
    assert ok.status_code == 303
    [answered] = surveys(api, retailer)["surveys"]
    assert (
        answered["comment"] == comment
        and answered["reasons"] == ["late", "wrong_place"]
        and answered["low_score"] is True
    )
    after = api.http.get(f"/t/{token}").body.decode()
    assert "2/5" in after and "<script>alert(1)" not in after and "passed your feedback on" in after


def test_no_survey_before_delivery_for_returns_or_opted_out_shoppers(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    pending = api.register(
        retailer, tracking_number="1ZNOTYET", customer={"name": "A", "phone": PHONE, "sms_consent": True}
    ).json_body
    cookie, csrf = page_form(api, pending["tracking_token"])
    early = post_form(api, f"/t/{pending['tracking_token']}/survey", cookie, f"csrf={csrf}&score=5")
    assert early.status_code == 409 and "once it has arrived" in early.body.decode()
    returned = delivered_shipment(api, retailer, 1)
    api.native(retailer, {"events": [native_event("ret", "returned", ago(hours=1), tracking_number="1ZSURVEYUPS0001")]})
    drain(datetime.now(UTC) + timedelta(seconds=5))
    notes = {
        n["kind"]: n for n in api.shipment(retailer, returned["id"]).json_body["notifications"] if n["channel"] == "sms"
    }
    assert notes["survey"]["status"] == "skipped" and notes["survey"]["reason"] == "superseded"
    reply(api, "STOP")
    opted = delivered_shipment(api, retailer, 2)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    notes = {
        n["kind"]: n for n in api.shipment(retailer, opted["id"]).json_body["notifications"] if n["channel"] == "sms"
    }
    assert notes["survey"]["reason"] == "opted_out"


def test_low_scores_are_escalated_with_a_signed_webhook_and_retried(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    hook = f"{providers.capture.url}/hooks/porchlight"
    settings = api.http.put(
        "/v1/settings", headers=retailer.auth, body=json.dumps({"survey": {"webhook_url": hook}})
    ).json_body
    secret = settings["survey"]["webhook_secret"]
    assert api.http.get("/v1/settings", headers=retailer.auth).json_body["survey"] == {
        "enabled": True,
        "delay_minutes": 60,
        "low_score_threshold": 2,
        "webhook_url": hook,
        "webhook_secret_configured": True,
    }
    bad = api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps({"survey": {"webhook_url": "ftp://x"}}))
    assert bad.status_code == 400
    shipment = delivered_shipment(api, retailer)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    providers.capture.fail_next("retailer", 500, {"error": "busy"})
    reply(api, "1")
    now = datetime.now(UTC) + timedelta(seconds=5)
    drain(now)
    assert len(providers.capture.of("retailer")) == 1
    assert surveys(api, retailer, "?score_max=2")["surveys"][0]["escalation"] == "pending"
    drain(now + timedelta(minutes=2))
    first, second = providers.capture.of("retailer")
    assert first.body == second.body
    payload = json.loads(second.body)
    assert payload["type"] == "survey.low_score" and payload["score"] == 1 and payload["shipment_id"] == shipment["id"]
    jsonschema.validate(payload, document()["components"]["schemas"]["LowScoreEvent"])
    header = second.headers["X-Porchlight-Signature"]
    stamp = int(header.split(",")[0].removeprefix("t="))
    assert abs(stamp - datetime.now(UTC).timestamp()) < TOLERANCE_SECONDS
    assert header == sign(secret, second.body, stamp)
    assert surveys(api, retailer, "?score_max=2")["surveys"][0]["escalation"] == "delivered"


def test_the_low_score_metric_uses_the_retailers_threshold_like_the_escalation(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib import observability

    changed = api.http.put(
        "/v1/settings", headers=retailer.auth, body=json.dumps({"survey": {"low_score_threshold": 3}})
    )
    assert changed.status_code == 200, changed.json_body
    delivered_shipment(api, retailer)
    drain(datetime.now(UTC) + timedelta(seconds=5))
    observability.emitted.clear()
    reply(api, "3")
    assert surveys(api, retailer)["surveys"][0]["escalation"] == "no_webhook_configured"  # low for this retailer
    assert observability.emitted["SurveysAnswered|low=yes,via=sms"] == 1
    assert observability.emitted["SurveysAnswered|low=no,via=sms"] == 0


def test_survey_listing_filters_and_paginates_within_one_retailer(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    scores = {
        0: ("ups", "Sam", 5),
        1: ("ups", "Lee", 2),
        2: ("fedex", "Sam", 4),
        3: ("fedex", "Kim", 1),
        4: ("ups", "Sam", 3),
    }
    for n, (carrier, driver, score) in scores.items():
        shipment = delivered_shipment(api, retailer, n, carrier=carrier, driver=f"{driver} Driver", phone=None)
        cookie, csrf = page_form(api, shipment["tracking_token"])
        post_form(api, f"/t/{shipment['tracking_token']}/survey", cookie, f"csrf={csrf}&score={score}")
    assert len(surveys(api, retailer)["surveys"]) == 5
    assert sorted(s["score"] for s in surveys(api, retailer, "?carrier=fedex")["surveys"]) == [1, 4]
    assert sorted(s["score"] for s in surveys(api, retailer, "?driver=sam")["surveys"]) == [3, 4, 5]
    assert sorted(s["score"] for s in surveys(api, retailer, "?score_min=4")["surveys"]) == [4, 5]
    page1 = surveys(api, retailer, "?limit=2")
    page2 = surveys(api, retailer, f"?limit=2&cursor={page1['next_cursor']}")
    page3 = surveys(api, retailer, f"?limit=2&cursor={page2['next_cursor']}")
    seen = [s["shipment_id"] for s in page1["surveys"] + page2["surveys"] + page3["surveys"]]
    assert len(seen) == len(set(seen)) == 5
    filters = ("carrier=ups", "carrier=fedex", "score_min=2", "score_max=3", "driver=sam")
    for query in (f"?{wanted}&limit={limit}" for wanted in filters for limit in (1, 2, 3)):
        # Filters drop some of each page; paging through must still return every match exactly once.
        expected = sorted(s["shipment_id"] for s in surveys(api, retailer, query.split("&limit")[0])["surveys"])
        collected, cursor = [], ""
        for _ in range(6):
            page = surveys(api, retailer, query + (f"&cursor={cursor}" if cursor else ""))
            collected += [s["shipment_id"] for s in page["surveys"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(collected) == expected, query
    for query, field in (("?score_min=9", "score_min"), ("?cursor=junk", "cursor"), ("?from=yesterday", "from")):
        bad = api.http.get(f"/v1/surveys{query}", headers=retailer.auth)
        assert bad.status_code == 400 and bad.json_body["error"]["field"] == field
    other = api.create_retailer("Other")
    assert surveys(api, other)["surveys"] == []
    assert api.http.get(f"/v1/surveys?cursor={page1['next_cursor']}", headers=other.auth).status_code == 400


def test_analytics_match_independently_computed_answers(api: Api, retailer: Retailer, providers: Providers) -> None:
    today = datetime.now(UTC).date()
    # promised dates count from the day of delivery (two hours ago) in the shopper's zone, whose calendar day is the
    # one a promised date names (it can differ from the UTC day)
    delivery_day = (datetime.now(UTC) - timedelta(hours=2)).astimezone(ZoneInfo(daytime_zone())).date()
    # (carrier, driver, promised in days from delivery, score or None, hours shipped->delivered)
    seeds = [
        ("ups", "Sam", +1, 5, 20),
        ("ups", "Sam", 0, 4, 30),
        ("ups", "Lee", -1, 2, 50),
        ("fedex", "Kim", +2, 5, 10),
        ("fedex", "Kim", -2, 1, 70),
        ("fedex", "Lee", 0, None, 25),
        ("usps", "Sam", None, 3, 40),
        ("usps", "Ann", +1, None, 15),
    ]
    for n, (carrier, driver, promised, score, hours) in enumerate(seeds):
        promised_date = (delivery_day + timedelta(days=promised)).isoformat() if promised is not None else None
        shipment = delivered_shipment(
            api,
            retailer,
            n,
            carrier=carrier,
            driver=f"{driver} X",
            phone=None,
            promised=promised_date,
            shipped_hours_ago=hours + 2 + 3,
            delivered_hours_ago=2,
        )
        if score is not None:
            cookie, csrf = page_form(api, shipment["tracking_token"])
            post_form(api, f"/t/{shipment['tracking_token']}/survey", cookie, f"csrf={csrf}&score={score}")
    data = api.http.get(
        f"/v1/analytics?from={(today - timedelta(days=7)).isoformat()}&to={today.isoformat()}", headers=retailer.auth
    ).json_body

    answered = [s for s in seeds if s[3] is not None]
    expected_csat = round(100 * sum(1 for s in answered if s[3] >= 4) / len(answered), 1)
    assert data["quality"]["csat"] == expected_csat == 50.0
    assert data["quality"]["average_score"] == round(statistics.mean(s[3] for s in answered), 2)
    timed = [s for s in seeds if s[2] is not None]
    expected_on_time = round(100 * sum(1 for s in timed if s[2] >= 0) / len(timed), 1)
    assert data["on_time"]["rate"] == expected_on_time
    assert data["shipments"] == {"registered": 8, "delivered": 8}
    by_carrier = {row["carrier"]: row for row in data["by_carrier"]}
    for carrier in ("ups", "fedex", "usps"):
        rows = [s for s in answered if s[0] == carrier]
        assert by_carrier[carrier]["answered"] == len(rows)
        assert by_carrier[carrier]["csat"] == round(100 * sum(1 for s in rows if s[3] >= 4) / len(rows), 1)
        assert by_carrier[carrier]["delivered"] == sum(1 for s in seeds if s[0] == carrier)
    by_driver = {row["driver"]: row for row in data["by_driver"]}
    assert by_driver["Sam"]["average_score"] == round(statistics.mean([5, 4, 3]), 2)
    assert by_driver["Kim"]["csat"] == 50.0 and "Ann" not in by_driver
    # time shipped -> out for delivery: hours + 2 (all inside one histogram bucket or another; median bound)
    from chalicelib.shared.stats import DURATION_BOUNDS

    shipped_minutes = sorted(s[4] * 60 for s in seeds)
    expected_bucket = min(b for b in DURATION_BOUNDS if b >= statistics.median_low(shipped_minutes))
    assert data["time_in_milestone"]["shipped"]["median_minutes"] == expected_bucket
    assert data["time_in_milestone"]["out_for_delivery"]["median_minutes"] == 240  # 3 hours on the van
    assert data["time_in_milestone"]["shipped"]["count"] == 8
    csv_text = api.http.get("/v1/analytics?format=csv", headers=retailer.auth).body.decode()
    assert "overall,all,csat,50.0" in csv_text and "carrier,fedex,answered,2" in csv_text


def test_analytics_page_login_charts_and_csv(api: Api, retailer: Retailer, providers: Providers) -> None:
    shipment = delivered_shipment(api, retailer, phone=None)
    cookie, csrf = page_form(api, shipment["tracking_token"])
    post_form(api, f"/t/{shipment['tracking_token']}/survey", cookie, f"csrf={csrf}&score=5")
    login = api.http.get("/analytics")
    assert login.status_code == 200 and 'name="api_key"' in login.body.decode()
    wrong = api.http.post(
        "/analytics/login", headers={"Content-Type": "application/x-www-form-urlencoded"}, body="api_key=pl_wrong"
    )
    assert wrong.status_code == 401 and "not valid" in wrong.body.decode()
    cross = api.http.post(
        "/analytics/login",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"},
        body=urlencode({"api_key": retailer.api_key}),
    )
    assert cross.status_code == 403
    ok = api.http.post(
        "/analytics/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"api_key": retailer.api_key}),
    )
    assert ok.status_code == 303
    session = ok.headers["Set-Cookie"]
    assert (
        "HttpOnly" in session and "SameSite=Strict" in session and "Secure" in session and "Path=/analytics" in session
    )
    cookie = session.split(";")[0]
    page = api.http.get("/analytics", headers={"Cookie": cookie}).body.decode()
    assert page.count("<svg") == 10 and "CSAT by carrier" in page and ">100%<" in page and "UPS" in page
    assert "Nothing waiting" in page
    missed = api.register(retailer, order_id="ORD-MISSED", tracking_number="1ZMISSED0001").json_body
    api.native(
        retailer,
        {"events": [native_event("m1", "attempt_failed", "2026-11-21T15:00:00+00:00", tracking_number="1ZMISSED0001")]},
    )
    page = api.http.get("/analytics", headers={"Cookie": cookie}).body.decode()
    assert "Needs attention now" in page and "ORD-MISSED" in page and "Delivery attempt failed" in page
    assert f"/t/{missed['tracking_token']}" in page and "2026-11-21 15:00" in page
    export = api.http.get("/analytics/export.csv", headers={"Cookie": cookie})
    assert (
        export.headers["Content-Type"].startswith("text/csv") and "attachment" in export.headers["Content-Disposition"]
    )
    assert export.body.decode().startswith("section,name,metric,value")
    assert api.http.get("/analytics/export.csv").status_code == 401
    out = api.http.post(
        "/analytics/logout", headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, body=""
    )
    assert "Max-Age=0" in out.headers["Set-Cookie"]


def test_analytics_reads_are_bounded_by_days_not_shipments(api: Api, retailer: Retailer) -> None:
    from chalicelib.store import table

    for n in range(6):
        delivered_shipment(api, retailer, n, phone=None)
    table.usage.clear()
    api.http.get("/v1/analytics", headers=retailer.auth)
    calls = {k: v for k, v in table.usage.items() if k.startswith("calls.")}
    from chalicelib.store.stats import COUNTER_SHARDS

    # The API key, one bounded query per day-counter shard (and the counters kept before the shards), one of the
    # latest 10 low scores and one of the latest 10 stalled parcels (needs attention, D45; a batch read only when
    # there are some): a number fixed by the key design, whatever the shipment count
    assert calls == {"calls.GetItem": 1, "calls.Query": 1 + COUNTER_SHARDS + 1 + 1}
    bad = api.http.get("/v1/analytics?from=2020-01-01&to=2026-01-01", headers=retailer.auth)
    assert bad.status_code == 400 and bad.json_body["error"]["field"] == "from"


def test_analytics_rejects_an_unknown_format_and_treats_empty_parameters_as_not_given(
    api: Api, retailer: Retailer
) -> None:
    wrong = api.http.get("/v1/analytics?format=xml", headers=retailer.auth)
    assert wrong.status_code == 400 and wrong.json_body["error"]["field"] == "format"
    cleared = api.http.get("/v1/analytics?from=&to=&format=", headers=retailer.auth)
    assert cleared.status_code == 200
    assert cleared.json_body["to"] == datetime.now(UTC).date().isoformat()
