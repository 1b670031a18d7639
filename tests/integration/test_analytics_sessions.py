"""The analytics page's sign-in: a server-side session whose cookie holds only a random id, never the API key."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlencode

from tests.conftest import Api, Retailer
from tests.integration.test_retailer_api import scan_table

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def sign_in(api: Api, api_key: str, **headers: str) -> Any:
    return api.http.post("/analytics/login", headers={**FORM, **headers}, body=urlencode({"api_key": api_key}))


def session_cookie(api: Api, api_key: str) -> str:
    answer = sign_in(api, api_key, Origin="https://track.example.test")
    assert answer.status_code == 303, answer.body
    return str(answer.headers["Set-Cookie"]).split(";")[0]


def signed_in(api: Api, cookie: str) -> bool:
    page = api.http.get("/analytics", headers={"Cookie": cookie})
    assert page.status_code == 200
    body = page.body.decode()
    assert ('name="api_key"' in body) != ("/analytics/logout" in body)
    return "/analytics/logout" in body


def later(hours: float) -> mock._patch:
    """The analytics page's clock moved forward."""
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return mock.patch("chalicelib.api.analytics_api.utcnow", return_value=moment)


def test_signing_in_sets_a_cookie_with_a_random_session_id_that_holds_no_key(api: Api, retailer: Retailer) -> None:
    answer = sign_in(api, retailer.api_key)
    header = str(answer.headers["Set-Cookie"])
    name, _, session_id = header.split(";")[0].partition("=")
    assert name == "pl_session" and len(session_id) >= 43  # 256 bits, URL-safe base64
    key_hash = hashlib.sha256(retailer.api_key.encode()).hexdigest()
    for secret in (retailer.api_key, retailer.api_key[3:13], key_hash, key_hash[:16]):
        assert secret not in header
    attributes = [part.strip() for part in header.split(";")[1:]]
    assert {"HttpOnly", "SameSite=Strict", "Secure", "Path=/analytics", "Max-Age=28800"} <= set(attributes)
    assert signed_in(api, f"pl_session={session_id}")

    stored = [item for item in scan_table() if item["pk"]["S"].startswith("SESSION#")]
    [item] = stored
    assert item["pk"]["S"] == "SESSION#" + hashlib.sha256(session_id.encode()).hexdigest()
    assert session_id not in json.dumps(stored) and retailer.api_key not in json.dumps(stored)
    assert 0 < int(item["expires_at"]["N"]) - datetime.now(UTC).timestamp() <= 8 * 3600

    again = session_cookie(api, retailer.api_key)
    assert again != f"pl_session={session_id}"  # every sign-in opens a new session


def test_an_api_key_in_a_cookie_opens_nothing(api: Api, retailer: Retailer) -> None:
    for cookie in (f"pl_key={retailer.api_key}", f"pl_session={retailer.api_key}"):
        assert not signed_in(api, cookie)
        assert api.http.get("/analytics/export.csv", headers={"Cookie": cookie}).status_code == 401


def test_signing_out_ends_the_session_on_the_server(api: Api, retailer: Retailer) -> None:
    cookie, other = session_cookie(api, retailer.api_key), session_cookie(api, retailer.api_key)
    assert api.http.get("/analytics/export.csv", headers={"Cookie": cookie}).status_code == 200
    out = api.http.post("/analytics/logout", headers={**FORM, "Cookie": cookie}, body="")
    assert out.status_code == 303 and "Max-Age=0" in out.headers["Set-Cookie"]
    assert not signed_in(api, cookie)  # a copy of the cookie kept elsewhere is worth nothing now
    assert api.http.get("/analytics/export.csv", headers={"Cookie": cookie}).status_code == 401
    assert signed_in(api, other)  # another browser's session stays
    assert not [
        i for i in scan_table() if i["pk"]["S"] == "SESSION#" + hashlib.sha256(cookie[11:].encode()).hexdigest()
    ]


def test_revoking_the_key_ends_the_sessions_it_opened(api: Api, retailer: Retailer) -> None:
    cookie = session_cookie(api, retailer.api_key)
    issued = api.http.post("/v1/api-keys", headers=retailer.auth, body=json.dumps({"keep_current": True})).json_body
    new_cookie = session_cookie(api, issued["api_key"])
    old_id = next(
        k["id"] for k in api.http.get("/v1/api-keys", headers=retailer.auth).json_body["api_keys"] if k["current"]
    )
    revoked = api.http.delete(f"/v1/api-keys/{old_id}", headers={"Authorization": f"Bearer {issued['api_key']}"})
    assert revoked.status_code == 204, revoked.body
    assert not signed_in(api, cookie)
    assert api.http.get("/analytics/export.csv", headers={"Cookie": cookie}).status_code == 401
    assert signed_in(api, new_cookie)


def test_a_key_rotated_away_ends_its_sessions_when_it_retires(api: Api, retailer: Retailer) -> None:
    rotated = api.http.post("/v1/api-keys", headers=retailer.auth, body="")  # the old key retires in 24 hours
    assert rotated.status_code == 201
    with later(20):
        cookie = session_cookie(api, retailer.api_key)  # a session opened in the grace period ...
        assert signed_in(api, cookie)
    with later(24.01):
        assert not signed_in(api, cookie)  # ... ends with its key, hours before its own eight are up

    new_key = rotated.json_body["api_key"]
    cookie = session_cookie(api, new_key)
    at_once = api.http.post(
        "/v1/api-keys",
        headers={"Authorization": f"Bearer {new_key}", "Content-Type": "application/json"},
        body=json.dumps({"retire_current_after_hours": 0}),
    )
    assert at_once.status_code == 201, at_once.body
    assert not signed_in(api, cookie)
    assert signed_in(api, session_cookie(api, at_once.json_body["api_key"]))


def test_a_session_ends_after_eight_hours(api: Api, retailer: Retailer) -> None:
    cookie = session_cookie(api, retailer.api_key)
    with later(7.9):
        assert signed_in(api, cookie)
    with later(8.01):
        assert not signed_in(api, cookie)


def test_sign_in_accepts_only_our_exact_origin(api: Api, retailer: Retailer) -> None:
    # Under "no-referrer" a browser's own same-origin form post carries `Origin: null` (Fetch standard, "serializing
    # a request origin"); the sign-in page asks for "same-origin" so the real origin arrives and null can be refused.
    assert api.http.get("/analytics").headers["Referrer-Policy"] == "same-origin"
    for origin in (
        "null",
        "https://track.example",
        "https://track.example.test.evil.example",
        "https://track.example.test:8443",
        "http://track.example.test",
        "https://evil.example",
    ):
        refused = sign_in(api, retailer.api_key, Origin=origin)
        assert refused.status_code == 403, origin
        assert "Set-Cookie" not in refused.headers and "Cross-site sign-in" in refused.body.decode()
    cross = sign_in(api, retailer.api_key, **{"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert sign_in(api, retailer.api_key, Origin="https://track.example.test").status_code == 303
    assert sign_in(api, retailer.api_key).status_code == 303  # no Origin: not a browser, nothing to forge
    assert len([i for i in scan_table() if i["pk"]["S"].startswith("SESSION#")]) == 2  # refused ones opened none
