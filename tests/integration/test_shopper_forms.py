"""Every form a shopper can post (under /t/ and /track/) answers a refusal with the page itself, a sentence in the
shopper's language and the status the refusal deserves; never the API's JSON."""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.simulator import daytime_zone
from chalicelib.web.i18n import STRINGS
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, reset_channels
from tests.payloads import native_event

FORM = "application/x-www-form-urlencoded"
RELAY_NUMBER, DRIVER = "+15005550101", "+14155551001"
UNKNOWN_TOKEN = "A" * 32


@pytest.fixture
def relay(providers: Providers) -> Iterator[Providers]:
    os.environ["TWILIO_RELAY_NUMBERS"] = RELAY_NUMBER
    reset_channels()
    yield providers
    os.environ.pop("TWILIO_RELAY_NUMBERS", None)
    reset_channels()


def shopper_form_routes() -> set[str]:
    """Every POST route under /t/ and /track/, read from the app itself, so a new form cannot go untested."""
    import app

    return {
        path for path, methods in app.app.routes.items() if path.startswith(("/t/", "/track/")) and "POST" in methods
    }


def shipment(api: Api, retailer: Retailer, name: str, locale: str, *statuses: str, **customer: Any) -> dict:
    tn = f"1ZFORMS{name.upper()}{locale.upper()}"
    details = {"name": "Pat Example", "locale": locale, "time_zone": daytime_zone(), "sms_consent": True, **customer}
    created = api.register(retailer, order_id=f"F-{name}", tracking_number=tn, customer=details)
    assert created.status_code == 201, created.body
    now = datetime.now(UTC)
    for n, status in enumerate(statuses):
        extra: dict[str, Any] = (
            {"driver": {"name": "Sam Rivera", "phone": DRIVER}} if status == "out_for_delivery" else {}
        )
        if status == "available_for_pickup":
            extra = {"pickup": {"name": "Locker Riverside", "code": "483920"}}
        when = (now - timedelta(hours=len(statuses) - n)).isoformat()
        assert (
            api.native(
                retailer, {"events": [native_event(f"{tn}-{n}", status, when, tracking_number=tn, **extra)]}
            ).status_code
            == 200
        )
    return created.json_body


class Shopper:
    """A browser holding a tracking page: its csrf cookie, and how it posts the page's forms."""

    def __init__(self, api: Api, path: str) -> None:
        self.api = api
        page = api.http.get(path)
        assert page.status_code == 200
        self.cookie = page.headers["Set-Cookie"].split(";")[0] if "Set-Cookie" in page.headers else ""
        self.csrf = self.cookie.split("=", 1)[1] if self.cookie else ""

    def post(
        self, path: str, fields: str | bytes, *, cookie: bool = True, origin: str | None = None, kind: str = FORM
    ) -> Any:
        headers = {"Content-Type": kind}
        if cookie and self.cookie:
            headers["Cookie"] = self.cookie
        if origin:
            headers["Origin"] = origin
        return self.api.http.post(path, headers=headers, body=fields)


def assert_page_says(response: Any, status: int, key: str, locale: str) -> None:
    assert response.status_code == status, (status, response.status_code, response.body[:300])
    assert response.headers["Content-Type"].startswith("text/html"), response.headers
    body = html.unescape(response.body.decode())
    assert body.lstrip().startswith("<!doctype html>") and '"error": {' not in body
    assert STRINGS[locale][key] in body, (key, locale, body[:2000])


Case = tuple[str, Callable[[], Any], int, str]


def cases_for(api: Api, retailer: Retailer, locale: str) -> dict[str, list[Case]]:
    moving = shipment(api, retailer, "moving", locale, "shipped", phone="+14155552001", email="pat@example.com")
    driving = shipment(api, retailer, "driving", locale, "shipped", "out_for_delivery", phone="+14155552002")
    arrived = shipment(api, retailer, "arrived", locale, "shipped", "delivered", phone="+14155552003")
    drain(datetime.now(UTC) + timedelta(seconds=2))  # opens the chat with the driver
    api.http.put("/v1/branding", headers=retailer.auth, body=json.dumps({"default_locale": locale}))
    offered = {"delivery_changes": {"carriers": {"ups": {"kinds": ["hold", "safe_place"]}}}}
    assert api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(offered)).status_code == 200
    lang = f"&lang={locale}"
    big = "x=" + "y" * 17_000
    broken = b"csrf=\xff\xfe&message=\xc3"

    def page_of(record: dict) -> tuple[Shopper, str]:
        return Shopper(api, f"/t/{record['tracking_token']}"), f"/t/{record['tracking_token']}"

    prefs, prefs_path = page_of(moving)
    chat, chat_base = page_of(driving)
    survey, survey_base = page_of(arrived)
    locker_record = shipment(api, retailer, "locker", locale, "shipped", "available_for_pickup", phone="+14155552004")
    locker, locker_base = page_of(locker_record)
    not_yet, not_yet_base = page_of(moving)
    lookup = Shopper(api, f"/track/{retailer.id}")
    track = f"/track/{retailer.id}"

    def flood() -> Any:
        """Messages until the limit answers (every message stored counts, relayed or not)."""
        for n in range(11):
            answer = chat.post(f"{chat_base}/chat", f"csrf={chat.csrf}&message=ring+{n}{lang}")
            if answer.status_code != 303:
                return answer
        raise AssertionError("eleven messages in a minute were all accepted")

    def common(shopper: Shopper, path: str, fields: str) -> list[Case]:
        return [
            (
                "no csrf cookie",
                lambda: shopper.post(path, f"csrf={shopper.csrf}&{fields}{lang}", cookie=False),
                403,
                "error_expired",
            ),
            ("stale csrf field", lambda: shopper.post(path, f"csrf=stale&{fields}{lang}"), 403, "error_expired"),
            (
                "posted from another site",
                lambda: shopper.post(path, f"csrf={shopper.csrf}&{fields}{lang}", origin="https://evil.example"),
                403,
                "error_cross_site",
            ),
            (
                "posted from a sandboxed frame (Origin: null)",
                lambda: shopper.post(path, f"csrf={shopper.csrf}&{fields}{lang}", origin="null"),
                403,
                "error_cross_site",
            ),
            (
                "posted from an origin that is a prefix of ours",
                lambda: shopper.post(path, f"csrf={shopper.csrf}&{fields}{lang}", origin="https://track.example"),
                403,
                "error_cross_site",
            ),
            ("larger than a form", lambda: shopper.post(path, big), 413, "error_too_large"),
            ("not UTF-8", lambda: shopper.post(path, broken), 400, "error_not_a_form"),
            (
                "JSON instead of a form",
                lambda: shopper.post(path, "{}", kind="application/json"),
                415,
                "error_not_a_form",
            ),
            (
                "unknown link",
                lambda: shopper.post(
                    re.sub(r"/t/[^/]+", f"/t/{UNKNOWN_TOKEN}", path), f"csrf={shopper.csrf}&{fields}{lang}"
                ),
                404,
                "not_found_title",
            ),
        ]

    return {
        "/t/{token}/preferences": [
            *common(prefs, f"{prefs_path}/preferences", "notify=email"),
            (
                "a choice not offered",
                lambda: prefs.post(f"{prefs_path}/preferences", f"csrf={prefs.csrf}&notify=pigeon{lang}"),
                400,
                "error_invalid_choice",
            ),
            (
                "instructions too long",
                lambda: prefs.post(f"{prefs_path}/preferences", f"csrf={prefs.csrf}&instructions={'x' * 501}{lang}"),
                400,
                "error_instructions_too_long",
            ),
        ],
        "/t/{token}/delivery-change": [
            *common(prefs, f"{prefs_path}/delivery-change", "kind=hold"),
            (
                "a change not offered",
                lambda: prefs.post(f"{prefs_path}/delivery-change", f"csrf={prefs.csrf}&kind=teleport{lang}"),
                400,
                "error_invalid_choice",
            ),
            (
                "a place not offered",
                lambda: prefs.post(
                    f"{prefs_path}/delivery-change", f"csrf={prefs.csrf}&kind=safe_place&place=roof{lang}"
                ),
                400,
                "error_invalid_choice",
            ),
            (
                "out for delivery",
                lambda: chat.post(f"{chat_base}/delivery-change", f"csrf={chat.csrf}&kind=hold{lang}"),
                409,
                "error_out_for_delivery",
            ),
            (
                "arrived",
                lambda: survey.post(f"{survey_base}/delivery-change", f"csrf={survey.csrf}&kind=hold{lang}"),
                409,
                "error_finished",
            ),
        ],
        "/t/{token}/delivery-change/code": [
            *common(prefs, f"{prefs_path}/delivery-change/code", "code=123456"),
            (
                "no change waiting for a code",
                lambda: prefs.post(f"{prefs_path}/delivery-change/code", f"csrf={prefs.csrf}&code=123456{lang}"),
                409,
                "error_no_code_expected",
            ),
        ],
        "/t/{token}/chat": [
            *common(chat, f"{chat_base}/chat", "message=hello"),
            (
                "chat not open",
                lambda: not_yet.post(f"{not_yet_base}/chat", f"csrf={not_yet.csrf}&message=hello{lang}"),
                409,
                "error_chat_closed",
            ),
            (
                "empty message",
                lambda: chat.post(f"{chat_base}/chat", f"csrf={chat.csrf}&message=+{lang}"),
                400,
                "error_empty_message",
            ),
            (
                "message too long",
                lambda: chat.post(f"{chat_base}/chat", f"csrf={chat.csrf}&message={'x' * 601}{lang}"),
                400,
                "error_message_too_long",
            ),
            ("too many messages", flood, 429, "error_rate_limited"),
        ],
        "/t/{token}/survey": [
            *common(survey, f"{survey_base}/survey", "score=5"),
            (
                "score out of range",
                lambda: survey.post(f"{survey_base}/survey", f"csrf={survey.csrf}&score=9{lang}"),
                400,
                "error_invalid_score",
            ),
            (
                "score not a number",
                lambda: survey.post(f"{survey_base}/survey", f"csrf={survey.csrf}&score=great{lang}"),
                400,
                "error_invalid_score",
            ),
            (
                "score a superscript two (isdigit() says yes, int() says no)",
                lambda: survey.post(f"{survey_base}/survey", f"csrf={survey.csrf}&score=%C2%B2{lang}"),
                400,
                "error_invalid_score",
            ),
            (
                "score an Arabic-Indic three",
                lambda: survey.post(f"{survey_base}/survey", f"csrf={survey.csrf}&score=%D9%A3{lang}"),
                400,
                "error_invalid_score",
            ),
            (
                "not delivered yet",
                lambda: not_yet.post(f"{not_yet_base}/survey", f"csrf={not_yet.csrf}&score=5{lang}"),
                409,
                "error_not_delivered",
            ),
        ],
        "/t/{token}/survey/follow-up": [
            *common(survey, f"{survey_base}/survey/follow-up", "comment=ok"),
            (
                "unknown reason",
                lambda: survey.post(f"{survey_base}/survey/follow-up", f"csrf={survey.csrf}&reasons=teleported{lang}"),
                400,
                "error_invalid_choice",
            ),
            (
                "comment too long",
                lambda: survey.post(
                    f"{survey_base}/survey/follow-up", f"csrf={survey.csrf}&comment={'x' * 1001}{lang}"
                ),
                400,
                "error_comment_too_long",
            ),
        ],
        "/t/{token}/pickup/send": [
            *common(locker, f"{locker_base}/pickup/send", "x=1"),
            (
                "a parcel that is not waiting at a pickup point",
                lambda: prefs.post(f"{prefs_path}/pickup/send", f"csrf={prefs.csrf}{lang}"),
                409,
                "error_no_pickup_code",
            ),
        ],
        "/t/{token}/pickup/reveal": [
            *common(locker, f"{locker_base}/pickup/reveal", "code=123456"),
            (
                "not six digits",
                lambda: locker.post(f"{locker_base}/pickup/reveal", f"csrf={locker.csrf}&code=12%C2%B2456{lang}"),
                400,
                "error_otp_malformed",
            ),
            (
                "no code was sent",
                lambda: locker.post(f"{locker_base}/pickup/reveal", f"csrf={locker.csrf}&code=123456{lang}"),
                429,
                "error_otp_spent",
            ),
        ],
        "/track/{retailer_id}": [
            ("larger than a form", lambda: lookup.post(track, big), 413, "error_too_large"),
            ("not UTF-8", lambda: lookup.post(track, broken), 400, "error_not_a_form"),
            (
                "JSON instead of a form",
                lambda: lookup.post(track, "{}", kind="application/json"),
                415,
                "error_not_a_form",
            ),
            ("fields missing", lambda: lookup.post(track, f"order_id=F-moving{lang}"), 400, "lookup_missing"),
            (
                "no such order",
                lambda: lookup.post(track, f"order_id=F-none&contact=pat%40example.com{lang}"),
                404,
                "lookup_not_found",
            ),
            (
                "unknown store",
                lambda: lookup.post("/track/no-such-store", f"order_id=F-moving&contact=pat%40example.com{lang}"),
                404,
                "not_found_title",
            ),
        ],
    }


@pytest.mark.parametrize("locale", ["en", "es", "fr", "de"])
def test_every_shopper_form_refuses_bad_input_with_the_page_a_localised_message_and_a_precise_status(
    api: Api, retailer: Retailer, relay: Providers, locale: str
) -> None:
    cases = cases_for(api, retailer, locale)
    assert set(cases) == shopper_form_routes()
    for route, route_cases in cases.items():
        for name, send, status, key in route_cases:
            try:
                assert_page_says(send(), status, key, locale)
            except AssertionError as failure:
                raise AssertionError(f"{route}: {name}: {failure}") from failure


def test_an_expired_form_comes_back_ready_to_send_again(api: Api, retailer: Retailer) -> None:
    record = shipment(api, retailer, "again", "en", "shipped", email="pat@example.com")
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)
    shopper.cookie = "pl_csrf=from-yesterday"  # the page was left open while the cookie changed
    refused = shopper.post(f"{path}/preferences", "csrf=older-still&notify=email")
    assert_page_says(refused, 403, "error_expired", "en")
    fresh = re.search(r'name="csrf" value="([^"]+)"', refused.body.decode()).group(1)
    assert fresh == "from-yesterday"  # the page's forms carry the cookie the browser holds
    assert shopper.post(f"{path}/preferences", f"csrf={fresh}&notify=email").status_code == 303


@pytest.mark.parametrize(
    ("customer", "choice", "key"),
    [
        ({"email": "pat@example.com"}, "sms", "error_no_phone"),
        ({"phone": "+14155552010"}, "email", "error_no_email"),
    ],
)
def test_a_choice_that_would_leave_the_shopper_with_no_channel_is_refused_with_a_message(
    api: Api, retailer: Retailer, customer: dict, choice: str, key: str
) -> None:
    record = shipment(api, retailer, f"only{choice}", "fr", "shipped", **customer)
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)
    page = api.http.get(path).body.decode()
    assert f'value="{choice}"' not in page  # the page does not offer it
    refused = shopper.post(f"{path}/preferences", f"csrf={shopper.csrf}&notify={choice}&lang=fr")
    assert_page_says(refused, 409, key, "fr")
    assert api.shipment(retailer, record["id"]).json_body["shopper"] == {}  # nothing saved


def test_texts_are_refused_when_the_retailer_sends_none(api: Api, retailer: Retailer) -> None:
    from chalicelib.domain.policy import NOTIFICATION_KINDS

    email_only = {"channels": {kind: ["email"] for kind in NOTIFICATION_KINDS}}
    assert api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(email_only)).status_code == 200
    record = shipment(api, retailer, "nosms", "de", "shipped", phone="+14155552011", email="pat@example.com")
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)
    assert 'value="sms"' not in api.http.get(path).body.decode()
    refused = shopper.post(f"{path}/preferences", f"csrf={shopper.csrf}&notify=sms")
    assert_page_says(refused, 409, "error_channel_off", "de")
    assert shopper.post(f"{path}/preferences", f"csrf={shopper.csrf}&notify=email").status_code == 303


def test_a_form_that_fails_on_the_table_answers_its_own_error_not_a_second_failure(
    api: Api, retailer: Retailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.store import shipments as shipment_store

    record = shipment(api, retailer, "throttled", "en", "shipped", email="pat@example.com")
    path = f"/t/{record['tracking_token']}"
    shopper = Shopper(api, path)

    def throttled(*args: Any, **kwargs: Any) -> Any:
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"}
        raise ClientError({"Error": error}, "Query")

    monkeypatch.setattr(shipment_store, "find_by_token", throttled)
    answer = shopper.post(f"{path}/preferences", f"csrf={shopper.csrf}&notify=email")
    assert answer.status_code == 500
    assert json.loads(answer.body) == {
        "error": {"code": "internal_error", "message": "An internal server error occurred."}
    }
    # A refusal Chalice answers itself (415) still becomes the page, and if that page cannot be drawn either
    # (the table is still failing), the 415 stands.
    refused = shopper.post(f"{path}/preferences", "{}", kind="application/json")
    assert refused.status_code == 415 and "error" in json.loads(refused.body)
