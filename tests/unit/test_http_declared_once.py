"""The HTTP edge is declared once (issue 16.4): typed errors are answered for every route without a decorator, the
document is generated from the routes' own records, and neither costs the webhook path an import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chalice.test import Client

from chalicelib.api import refusals, responses
from chalicelib.api.application import Chalice
from chalicelib.api.http import json_refusal
from chalicelib.errors import Busy, NotFound, ValidationError

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_route_answers_typed_errors_in_the_error_shape_with_nothing_to_remember() -> None:
    app = Chalice(app_name="edge", refusal_for=refusals.refusal_for)

    @app.route("/v1/things/{thing_id}")
    def thing(thing_id: str) -> None:
        if thing_id == "busy":
            raise Busy("the thing kept changing", retry_after=2)
        if thing_id == "odd":
            raise ValidationError("thing_id is odd", field="thing_id")
        raise NotFound("no such thing")

    with Client(app) as client:
        missing = client.http.get("/v1/things/x")
        odd = client.http.get("/v1/things/odd")
        busy = client.http.get("/v1/things/busy")
    assert missing.status_code == 404
    assert json.loads(missing.body) == {"error": {"code": "not_found", "message": "no such thing"}}
    assert odd.status_code == 400
    assert json.loads(odd.body)["error"] == {
        "code": "invalid_request",
        "message": "thing_id is odd",
        "field": "thing_id",
    }
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"


def test_shoppers_paths_answer_with_their_page_and_the_public_json_keeps_its_cors() -> None:
    assert refusals.refusal_for("/t/{token}/preferences") is refusals.refusal_for("/t/{token}")
    assert refusals.refusal_for("/track/{retailer_id}") is not json_refusal
    assert refusals.refusal_for("/t/{token}") is not json_refusal
    assert refusals.refusal_for("/v1/shipments") is json_refusal
    tracking_json = refusals.refusal_for("/v1/tracking/{token}")
    answer = tracking_json(NotFound("no such tracking"), {"token": "t"})
    assert answer.status_code == 404 and answer.headers["Access-Control-Allow-Origin"] == "*"


def test_every_published_shape_is_used_and_every_operation_names_a_published_shape() -> None:
    from chalicelib.api.openapi import OPERATIONS, document

    published = {shape.__name__ for shape in responses.PUBLISHED}
    named = {op.response for op in OPERATIONS if op.response}
    assert named <= published
    text = json.dumps(document())
    unused = {name for name in published if f'"#/components/schemas/{name}"' not in text}
    assert not unused, f"published but never referred to: {unused}"


def test_loading_the_app_loads_neither_pydantic_nor_the_generator() -> None:
    probe = (
        "import sys, app; "
        "print([m for m in ('pydantic', 'chalicelib.api.openapi', 'chalicelib.api.responses') if m in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
