"""The shopper's tracking page and its JSON: content, privacy, escaping, security headers, forms, branding."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import Api, Retailer
from tests.payloads import native_event

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
CUSTOMER = {
    "name": "Maria Garcia-Lopez",
    "phone": "+14155550123",
    "email": "maria.private@example.com",
    "time_zone": "America/Los_Angeles",
    "sms_consent": True,
}
DESTINATION = {"line1": "742 Evergreen Terrace", "city": "Springfield", "postal_code": "97477", "country": "US"}


def page(api: Api, token: str, query: str = "", headers: dict | None = None):
    return api.http.get(f"/t/{token}{query}", headers=headers or {})


def create(api: Api, retailer: Retailer, **overrides) -> dict:
    body = {
        "customer": CUSTOMER,
        "destination": DESTINATION,
        "items": [{"name": "Trail shoes", "quantity": 2}],
        **overrides,
    }
    response = api.register(retailer, **body)
    assert response.status_code == 201, response.body
    return response.json_body


def journey(api: Api, retailer: Retailer, *statuses: str, **extra) -> None:
    for n, status in enumerate(statuses):
        event = native_event(
            f"j{n}",
            status,
            f"2026-11-2{n}T16:0{n}:00+00:00",
            location={"city": "Oakland", "region": "CA", "postal_code": "94607", "country": "US"},
            **(extra if n == len(statuses) - 1 else {}),
        )
        assert api.native(retailer, {"events": [event]}).status_code == 200


def test_page_shows_status_progress_timeline_and_details(api: Api, retailer: Retailer) -> None:
    api.http.put(
        "/v1/branding",
        headers=retailer.auth,
        body=json.dumps({"support_email": "help@acme.example", "support_phone": "+1 415 555 0100"}),
    )
    shipment = create(api, retailer)
    journey(
        api,
        retailer,
        "processed",
        "shipped",
        "out_for_delivery",
        eta={"start": "2026-11-22T20:00:00Z", "end": "2026-11-22T22:00:00Z"},
        driver={"name": "Samuel Okafor", "phone": "+15550009999"},
    )
    response = page(api, shipment["tracking_token"])
    html = response.body.decode()
    assert response.status_code == 200
    assert '<h1 id="status">Out for delivery</h1>' in html
    assert 'aria-current="step">Out for delivery</li>' in html
    assert (
        html.index("Out for delivery</strong>") < html.index("Shipped</strong>") < html.index("Processed</strong>")
    )  # newest first
    assert "Nov 22, 8:02 AM" in html  # 16:02 UTC shown in the shopper's zone (Los Angeles)
    assert "Sun 12pm-2pm" in html  # the ETA window, local
    assert "Your driver: Samuel" in html and "Okafor" not in html
    assert "Trail shoes × 2" in html
    assert "https://www.ups.com/track?tracknum=1Z999AA10123456784" in html
    assert "help@acme.example" in html and "tel:+14155550100" in html
    assert "Maria · Order ORD-1001" in html


def test_public_page_and_json_never_show_contact_details_address_or_surname(api: Api, retailer: Retailer) -> None:
    shipment = create(api, retailer)
    journey(
        api,
        retailer,
        "shipped",
        "delivered",
        proof_of_delivery={
            "photo_url": "https://pod.example/p/123.jpg",
            "recipient_name": "Maria Garcia-Lopez",
            "note": "Front porch",
        },
    )
    html = page(api, shipment["tracking_token"]).body.decode()
    data = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").body.decode()
    for text in (html, data):
        for secret in (
            "Garcia",
            "Lopez",
            "+1415",
            "4155550123",
            "maria.private",
            "Evergreen",
            "742",
            "97477",
            "94607",
            "pod.example",
            "+15550009999",
        ):
            assert secret not in text, secret
    assert "Received by" in html and ">Maria<" in html and "Front porch" in html
    assert f'src="https://track.example.test/t/{shipment["tracking_token"]}/pod/photo"' in html


def test_proof_of_delivery_media_are_only_behind_the_token(api: Api, retailer: Retailer) -> None:
    shipment = create(api, retailer)
    token = shipment["tracking_token"]
    assert api.http.get(f"/t/{token}/pod/photo").status_code == 404  # not delivered yet
    journey(
        api,
        retailer,
        "delivered",
        proof_of_delivery={"photo_url": "https://pod.example/p/123.jpg", "signature_url": "http://insecure.example/s"},
    )
    photo = api.http.get(f"/t/{token}/pod/photo")
    assert photo.status_code == 302 and photo.headers["Location"] == "https://pod.example/p/123.jpg"
    assert photo.headers["Referrer-Policy"] == "no-referrer"
    assert api.http.get(f"/t/{token}/pod/signature").status_code == 404  # only https media are shown
    assert api.http.get(f"/t/{token}/pod/anything").status_code == 404
    assert api.http.get("/t/AAAAAAAAAAAAAAAAAAAAAA/pod/photo").status_code == 404


def test_every_retailer_and_carrier_field_is_escaped(api: Api, retailer: Retailer) -> None:
    api.http.put(
        "/v1/branding",
        headers=retailer.auth,
        body=json.dumps({"display_name": XSS[:80], "message": XSS, "support_email": "help@acme.example"}),
    )
    shipment = create(
        api,
        retailer,
        order_id="ORD<b>1</b>",
        customer={**CUSTOMER, "name": XSS[:200]},
        items=[{"name": XSS, "quantity": 1}],
    )
    event = native_event(
        "x1",
        "attempt_failed",
        "2026-11-20T10:00:00+00:00",
        description=XSS,
        location={"city": XSS, "region": "<i>CA</i>", "country": "US"},
        driver={"name": XSS},
    )
    api.native(retailer, {"events": [event]})
    token = shipment["tracking_token"]
    form = page(api, token)
    cookie = form.headers["Set-Cookie"].split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.body.decode()).group(1)
    api.http.post(
        f"/t/{token}/preferences",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        body=f"csrf={csrf}&instructions=%3Cscript%3Ealert(2)%3C%2Fscript%3E",
    )
    html = page(api, token, headers={"Cookie": cookie}).body.decode()
    assert (
        "<script>alert" not in html and "<img src=x" not in html and "<b>1</b>" not in html and "<i>CA</i>" not in html
    )
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    scripts = re.findall(r"<script[^>]*>", html)
    nonce = re.search(r"'nonce-([^']+)'", page(api, token).headers["Content-Security-Policy"])
    assert nonce and all("nonce=" in tag for tag in scripts)


def test_security_headers_and_nonce(api: Api, retailer: Retailer) -> None:
    shipment = create(api, retailer)
    response = page(api, shipment["tracking_token"])
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'nonce-([A-Za-z0-9_-]+)'", csp).group(1)
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert f'<script nonce="{nonce}">' in response.body.decode()
    assert (
        headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "same-origin"
    )  # the token never leaves our origin
    assert (
        "SameSite=Strict" in headers["Set-Cookie"]
        and "HttpOnly" in headers["Set-Cookie"]
        and "Secure" in headers["Set-Cookie"]
    )
    assert nonce not in page(api, shipment["tracking_token"]).body.decode()  # fresh per response


@pytest.mark.parametrize("token", ["AAAAAAAAAAAAAAAAAAAAAA", "short", "not.a.token!", "%3Cscript%3E", "a" * 200])
def test_unknown_or_malformed_tokens_get_a_friendly_404(api: Api, token: str) -> None:
    response = api.http.get(f"/t/{token}")
    assert response.status_code == 404
    html = response.body.decode()
    assert "find this tracking link</h1>" in html and "Traceback" not in html
    data = api.http.get(f"/v1/tracking/{token}")
    assert data.status_code == 404 and data.json_body["error"]["code"] == "unknown_token"
    assert data.headers["Access-Control-Allow-Origin"] == "*"


def test_json_twin_has_the_same_information_and_cors(api: Api, retailer: Retailer) -> None:
    shipment = create(api, retailer)
    journey(api, retailer, "processed", "shipped")
    response = api.http.get(f"/v1/tracking/{shipment['tracking_token']}?lang=de")
    body = response.json_body
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert body["status"] == "shipped" and body["status_label"] == "Versandt" and body["locale"] == "de"
    assert [e["status"] for e in body["events"]] == ["shipped", "processed"]
    assert body["retailer"]["name"] == "Acme Outdoor" and body["items"] == [{"name": "Trail shoes", "quantity": 2}]
    assert body["steps"][1] == {"key": "shipped", "label": "Versandt", "state": "current"}
    preflight = api.http.request(
        "OPTIONS", f"/v1/tracking/{shipment['tracking_token']}", headers={"Origin": "https://shop.example"}
    )
    assert preflight.status_code in (200, 204) and preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_language_switch_and_shopper_locale(api: Api, retailer: Retailer) -> None:
    shipment = create(api, retailer, customer={**CUSTOMER, "locale": "fr"})
    journey(api, retailer, "attempt_failed")
    html = page(api, shipment["tracking_token"]).body.decode()
    assert '<html lang="fr">' in html and "Tentative de livraison" in html and "fera un nouvel essai" in html
    spanish = page(api, shipment["tracking_token"], "?lang=es").body.decode()
    assert '<html lang="es">' in spanish and "Intento de entrega" in spanish
    assert page(api, shipment["tracking_token"], "?lang=xx").body.decode().count('<html lang="fr">') == 1


@pytest.mark.parametrize(
    ("status", "extra", "banner"),
    [
        ("attempt_failed", {}, "will try again"),
        ("available_for_pickup", {}, "Bring a photo ID"),
        ("returned", {}, "returned to the sender"),
        ("exception", {}, "looking into it"),
        ("unknown", {"delayed": True}, "running late"),
    ],
)
def test_exceptions_show_a_banner_with_what_to_do_next(
    api: Api, retailer: Retailer, status: str, extra: dict, banner: str
) -> None:
    shipment = create(api, retailer)
    journey(api, retailer, "shipped", status, **extra)
    html = page(api, shipment["tracking_token"]).body.decode()
    assert 'role="alert"' in html and banner in html


def form_post(api: Api, token: str, fields: str, cookie: str | None, origin: str | None = None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    if origin:
        headers["Origin"] = origin
    return api.http.post(f"/t/{token}/preferences", headers=headers, body=fields)


def test_preferences_and_instructions_are_saved_and_shown_to_the_retailer(api: Api, retailer: Retailer) -> None:
    shipment = create(api, retailer)
    token = shipment["tracking_token"]
    first = page(api, token)
    cookie = first.headers["Set-Cookie"].split(";")[0]
    csrf = cookie.split("=", 1)[1]
    assert f'name="csrf" value="{csrf}"' in first.body.decode()
    saved = form_post(
        api,
        token,
        f"csrf={csrf}&notify=email&instructions=Gate+code+4321%2C+leave+at+back+door&lang=es",
        cookie,
        origin="https://track.example.test",
    )
    assert (
        saved.status_code == 303
        and saved.headers["Location"] == f"https://track.example.test/t/{token}?saved=1&lang=es"
    )
    after = page(api, token, "?saved=1", {"Cookie": cookie}).body.decode()
    assert (
        'role="status"' in after and 'value="email" checked' in after and "Gate code 4321, leave at back door" in after
    )
    detail = api.shipment(retailer, shipment["id"]).json_body
    assert detail["shopper"] == {
        "notify": "email",
        "instructions": "Gate code 4321, leave at back door",
        "instructions_updated_at": detail["shopper"]["instructions_updated_at"],
    }


def test_forms_reject_cross_site_posts_and_bad_values(api: Api, retailer: Retailer) -> None:
    shipment = create(api, retailer)
    token = shipment["tracking_token"]
    cookie = page(api, token).headers["Set-Cookie"].split(";")[0]
    csrf = cookie.split("=", 1)[1]
    assert form_post(api, token, f"csrf={csrf}&notify=email", None).status_code == 403  # no cookie: another site
    assert form_post(api, token, "csrf=forged&notify=email", cookie).status_code == 403
    assert form_post(api, token, f"csrf={csrf}&notify=email", cookie, origin="https://evil.example").status_code == 403
    bad = form_post(api, token, f"csrf={csrf}&notify=pigeon", cookie)
    assert bad.status_code == 400 and "Please choose one of the options shown." in bad.body.decode()
    long = form_post(api, token, f"csrf={csrf}&instructions={'x' * 501}", cookie)
    assert long.status_code == 400 and "delivery instructions are too long" in long.body.decode()
    assert api.shipment(retailer, shipment["id"]).json_body["shopper"] == {}


def test_shopper_choosing_no_notifications_silences_them(api: Api, retailer: Retailer) -> None:
    from tests.integration.conftest import drain, local_time

    shipment = create(api, retailer)
    token = shipment["tracking_token"]
    cookie = page(api, token).headers["Set-Cookie"].split(";")[0]
    form_post(api, token, f"csrf={cookie.split('=', 1)[1]}&notify=none", cookie)
    journey(api, retailer, "shipped")
    drain(local_time("America/Los_Angeles", 12))
    notes = api.shipment(retailer, shipment["id"]).json_body["notifications"]
    assert {n["reason"] for n in notes} == {"shopper_preference"}


def test_branding_is_validated_and_kept_readable(api: Api, retailer: Retailer) -> None:
    for body, field in (
        ({"primary_color": "red"}, "primary_color"),
        ({"logo_url": "http://cdn.example/logo.png"}, "logo_url"),
        ({"font_stack": "Arial; } body { display:none"}, "font_stack"),
        ({"support_email": "nope"}, "support_email"),
        ({"default_locale": "it"}, "default_locale"),
        ({"logo_url": 'https://x.example/"onload="alert(1)'}, "logo_url"),
    ):
        response = api.http.put("/v1/branding", headers=retailer.auth, body=json.dumps(body))
        assert response.status_code == 400 and response.json_body["error"]["field"] == field, body
    brand = api.http.put(
        "/v1/branding",
        headers=retailer.auth,
        body=json.dumps(
            {
                "primary_color": "#FFEB3B",
                "accent_color": "#0d47a1",
                "logo_url": "https://cdn.example/logo.svg",
                "display_name": "Sunny",
            }
        ),
    ).json_body
    assert brand["primary_color"] == "#ffeb3b" and brand["text_on_primary"] == "#111111"
    assert brand["text_on_accent"] == "#ffffff"
    from chalicelib.domain.colors import contrast_ratio

    shipment = create(api, retailer)
    html = page(api, shipment["tracking_token"]).body.decode()
    link = re.search(r"--link:(#[0-9a-f]{6})", html).group(1)
    assert contrast_ratio(link, "#ffffff") >= 4.5 and contrast_ratio("#ffeb3b", "#111111") >= 4.5
    assert '<img src="https://cdn.example/logo.svg" alt="Sunny">' in html


def test_a_support_contact_set_in_the_brand_can_be_taken_off_again_with_null(api: Api, retailer: Retailer) -> None:
    contact = {"support_url": "https://help.example/", "support_phone": "+1 415 555 0100", "display_name": "Sunny"}
    assert api.http.put("/v1/branding", headers=retailer.auth, body=json.dumps(contact)).status_code == 200
    shipment = create(api, retailer)
    assert "https://help.example/" in page(api, shipment["tracking_token"]).body.decode()
    cleared = api.http.put(
        "/v1/branding", headers=retailer.auth, body=json.dumps({"support_url": None, "support_phone": None})
    ).json_body
    assert not cleared.get("support_url") and not cleared.get("support_phone") and cleared["display_name"] == "Sunny"
    html = page(api, shipment["tracking_token"]).body.decode()
    assert "https://help.example/" not in html and "555 0100" not in html
    empty = api.http.put("/v1/branding", headers=retailer.auth, body="{}")
    assert empty.status_code == 400 and empty.json_body["error"]["field"] == "body"


def test_branding_preview_shows_sample_data_before_going_live(api: Api, retailer: Retailer) -> None:
    draft = api.http.post(
        "/v1/branding/preview",
        headers=retailer.auth,
        body=json.dumps({"primary_color": "#0b6e4f", "display_name": "Draft Co"}),
    )
    html = draft.body.decode()
    assert draft.status_code == 200 and "Draft Co" in html and "--p:#0b6e4f" in html and "ORD-12345678" in html
    assert api.http.get("/v1/branding", headers=retailer.auth).json_body["display_name"] == "Acme Outdoor"  # not saved
    current = api.http.get("/v1/branding/preview?lang=de", headers=retailer.auth).body.decode()
    assert "Acme Outdoor" in current and '<html lang="de">' in current
    assert api.http.get("/v1/branding/preview").status_code == 401


def test_a_typical_page_is_small_and_costs_one_query(api: Api, retailer: Retailer) -> None:
    from chalicelib.store import table

    shipment = create(api, retailer)
    events = [
        native_event(
            f"long{n}",
            "shipped",
            f"2026-11-20T{n // 60:02d}:{n % 60:02d}:00+00:00",
            description="Arrived at sort facility",
            location={"city": "Oakland", "region": "CA", "country": "US"},
        )
        for n in range(40)
    ]
    api.native(retailer, {"events": events})
    page(api, shipment["tracking_token"])  # warm the retailer profile cache, as a busy Lambda would be
    table.usage.clear()
    response = page(api, shipment["tracking_token"])
    # one read; the only write is the page-view counter for analytics
    assert {k: v for k, v in table.usage.items() if k.startswith("calls.")} == {"calls.Query": 1, "calls.UpdateItem": 1}
    assert len(response.body) < 50 * 1024
    assert response.body.decode().count("Arrived at sort facility") == 40


def test_a_date_only_eta_shows_that_day_in_the_shoppers_zone_not_midnight_utc_moved(
    api: Api, retailer: Retailer
) -> None:
    shipment = create(api, retailer, customer={**CUSTOMER, "time_zone": "America/Los_Angeles"})
    # AfterShip's expected_delivery "2026-12-04" arrives as midnight UTC, which in Los Angeles is Thursday 4pm
    journey(api, retailer, "shipped", eta={"start": "2026-12-04T00:00:00Z", "end": "2026-12-04T00:00:00Z"})
    tracking = api.http.get(f"/v1/tracking/{shipment['tracking_token']}").json_body
    assert tracking["eta"]["text"] == "Fri 12/4"
    assert "Fri 12/4" in page(api, shipment["tracking_token"]).body.decode()
