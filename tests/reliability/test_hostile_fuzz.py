"""Every route the app serves, driven with hostile values in its path, query, headers and body: never a 5xx
(issue 15, item 3).

Schemathesis (test_api_fuzz.py) explores what the published schema describes; this explores what it does not: the
values that broke parsers before (non-ASCII digits, 400-digit numbers, 50,000 levels of JSON, the year 9999 with an
offset, control characters, absurd lengths), on every route Chalice registers, documented or not (shopper pages,
provider callbacks, the analytics sign-in). The native webhook's body is signed with the retailer's real secret, so
hostile bodies reach the parser instead of stopping at the signature check. In-process (chalice.test.Client + moto)
to stay cheap; RELIABILITY_FULL=1 draws more cases with fresh seeds.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.carriers import native
from tests.conftest import Api, Retailer
from tests.payloads import native_event

FULL = bool(os.environ.get("RELIABILITY_FULL"))

DEEP = "[" * 50_000 + "]" * 50_000
HOSTILE_TEXT = [
    "²",
    "١٢٣",
    "1" * 400,
    "9" * 5000,
    "-1",
    "0",
    "",
    " ",
    "\x00",
    "\u202e\u200b",
    "%00%C2%B2",
    "../../../etc/passwd",
    "9999-12-31",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "NaN",
    "Infinity",
    "1e309",
    "t=²,v1=00",
    "t=" + "1" * 400 + ",v1=ab",
    "Bearer ²",
    "x" * 20_000,
    "🚚" * 300,
    "null",
    'W/"' + "a" * 5000 + '"',
    DEEP[:2000],
]
#: JSON values put in place of a body field (or as the whole body).
HOSTILE_JSON: list[Any] = [
    *HOSTILE_TEXT,
    10**400,
    -(10**400),
    1e308,
    -0.0,
    True,
    None,
    [],
    {},
    ["²"] * 600,
    {"²": "²"},
]
HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Porchlight-Signature",
    "X-Hmac-Signature",
    "aftership-hmac-sha256",
    "X-Twilio-Signature",
    "X-Twilio-Email-Event-Webhook-Signature",
    "X-Twilio-Email-Event-Webhook-Timestamp",
    "If-None-Match",
    "Origin",
    "Cookie",
    "Accept-Language",
    "Content-Length",
]
QUERY = ["limit", "cursor", "lang", "since", "changed_since", "status", "from", "to", "format", "score_min", "token"]
FIELDS = [
    "order_id",
    "carrier",
    "tracking_number",
    "customer",
    "promised_date",
    "items",
    "events",
    "contact",
    "name",
    "secret",
    "body",
    "subject",
    "channels",
    "quiet_hours",
    "webhooks",
    "notify",
    "score",
]


@dataclass
class World:
    api: Api
    retailer: Retailer
    values: dict[str, str]


@pytest.fixture
def world(api: Api, retailer: Retailer) -> Iterator[World]:
    shipment = api.register(retailer, promised_date="2026-12-24").json_body
    api.native(retailer, {"events": [native_event("e1", "out_for_delivery", "2026-11-20T10:00:00+00:00")]})
    values = {
        "retailer_id": retailer.id,
        "shipment_id": shipment["id"],
        "token": shipment["tracking_token"],
        "source": "native",
        "kind": "out_for_delivery",
        "channel": "sms",
        "locale": "en",
        "key_id": "key_0",
        "score": "5",
        "address": "maria%40example.com",
        "change_id": "chg_unknown",
    }
    yield World(api, retailer, values)


def request_for(world: World, route: tuple[str, str], target: str, text: str, value: Any) -> tuple[str, dict, bytes]:
    path = route[0]
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    filled = {name: world.values[name] for name in names}
    query: dict[str, str] = {}
    headers = {**world.retailer.auth}
    body_value: Any = {
        "events": [native_event("f1", "shipped", "2026-11-20T09:00:00+00:00")],
        "order_id": "ORD-1001",
        "contact": "maria@example.com",
    }
    raw: bytes | None = None
    kind, _, name = target.partition(":")
    if kind == "path":
        filled[name] = text
    elif kind == "query":
        query[name] = text
    elif kind == "field":
        body_value[name] = value
    elif target == "body:deep":
        raw = DEEP.encode()
    elif target == "body:value":
        raw = json.dumps(value).encode()
    elif target == "body:text":
        raw = text.encode("utf-8", "surrogatepass")
    url = path
    for key, given_value in filled.items():
        url = url.replace("{" + key + "}", quote(given_value, safe=""))
    if query:
        url += "?" + urlencode(query)
    if raw is None:
        raw = json.dumps(body_value).encode()
    if path.startswith("/v1/webhooks/"):
        headers["X-Porchlight-Signature"] = native.sign(world.retailer.secrets["native"], raw, int(time.time()))
    if kind == "header":
        headers[name] = text
    return url, headers, raw


@functools.cache  # the document takes 0.8 s to build; drawn once per example, it was 95% of this file's time
def targets_for(path: str, method: str) -> list[str]:
    """What can be made hostile on one route: its path parameters, the query parameters the published document
    names for it (a generic set for undocumented routes), every header, the body's fields and the body itself."""
    from chalicelib.api.openapi import document

    operation = document()["paths"].get(path, {}).get(method.lower(), {})
    documented = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    return (
        [f"path:{name}" for name in names]
        + [f"query:{name}" for name in documented or QUERY]
        + [f"header:{name}" for name in HEADERS]
        + [f"field:{name}" for name in FIELDS]
        + ["body:deep", "body:value", "body:text"]
    )


def all_routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((path, method) for path, methods in app.routes.items() for method in methods)


@pytest.mark.parametrize("route", all_routes(), ids=lambda route: f"{route[1]} {route[0]}")
@settings(
    max_examples=200 if FULL else 20,
    deadline=None,
    derandomize=not FULL,
    suppress_health_check=list(HealthCheck),
)
@given(
    data=st.data(),
    text=st.one_of(st.sampled_from(HOSTILE_TEXT), st.sampled_from(HOSTILE_TEXT), st.text(max_size=40)),
    value=st.one_of(st.sampled_from(HOSTILE_JSON), st.text(max_size=40), st.integers()),
)
def test_no_route_answers_a_hostile_value_with_a_server_error(
    world: World, route: tuple[str, str], data: st.DataObject, text: str, value: Any
) -> None:
    target = data.draw(st.sampled_from(targets_for(*route)), label="target")
    url, headers, raw = request_for(world, route, target, text, value)
    response = world.api.http.request(route[1], url, headers=headers, body=raw)
    assert response.status_code < 500, (target, text[:80], repr(value)[:80], response.body[:300])
