"""PUT /v1/branding says what it adjusted for contrast, and the pages use the adjusted colours."""

from __future__ import annotations

import json
import re

from chalicelib.domain.colors import SURFACES, contrast_ratio
from tests.conftest import Api, Retailer


def put_brand(api: Api, retailer: Retailer, **fields: str) -> dict:
    response = api.http.put("/v1/branding", headers=retailer.auth, body=json.dumps(fields))
    assert response.status_code == 200, response.body
    return response.json_body


def css_vars(html: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):(#[0-9a-f]{6})", html))


def test_a_white_primary_is_answered_with_warnings_and_the_page_keeps_a_visible_progress_bar(
    api: Api, retailer: Retailer
) -> None:
    brand = put_brand(api, retailer, primary_color="#FFFFFF", accent_color="#0d47a1")
    uses = {(w["field"], w["use"]) for w in brand["warnings"]}
    assert uses == {("primary_color", "link text"), ("primary_color", "progress bar, chart bars and button edges")}
    for warning in brand["warnings"]:
        assert warning["given"] == "#ffffff" and warning["contrast_used"] >= warning["minimum"] > 1.0
        assert "#ffffff" in warning["message"] and warning["used"] in warning["message"]
    created = api.register(retailer).json_body
    colours = css_vars(api.http.get(f"/t/{created['tracking_token']}").body.decode())
    assert (
        colours["p"] == "#ffffff" and colours["link"] == brand["link_color"] and colours["ui"] == brand["graphic_color"]
    )
    assert contrast_ratio(colours["ui"], SURFACES["progress bar track"]) >= 3
    for surface in ("page background", "card", "chat bubble"):
        assert contrast_ratio(colours["link"], SURFACES[surface]) >= 4.5


def test_white_text_on_a_777777_primary_is_reported_and_replaced(api: Api, retailer: Retailer) -> None:
    brand = put_brand(api, retailer, primary_color="#777777")
    assert brand["text_on_primary"] == "#000000"
    [text] = [w for w in brand["warnings"] if w["use"] == "text on it"]
    assert (text["given"], text["used"], text["contrast_given"]) == ("#ffffff", "#000000", 4.48)
    assert api.http.get("/v1/branding", headers=retailer.auth).json_body["warnings"] == brand["warnings"]


def test_a_colour_that_passes_everywhere_has_no_warnings(api: Api, retailer: Retailer) -> None:
    brand = put_brand(api, retailer, primary_color="#1f4b99", accent_color="#8a1538")
    assert brand["warnings"] == [] and brand["link_color"] == "#1f4b99"


def test_the_analytics_page_wears_the_brand_with_readable_colours(api: Api, retailer: Retailer) -> None:
    put_brand(api, retailer, primary_color="#ffeb3b")
    signed_in = api.http.post(
        "/analytics/login",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=f"api_key={retailer.api_key}",
    )
    cookie = signed_in.headers["Set-Cookie"].split(";")[0]
    colours = css_vars(api.http.get("/analytics", headers={"Cookie": cookie}).body.decode())
    assert colours["p"] == "#ffeb3b" and contrast_ratio(colours["p"], colours["on-p"]) >= 4.5
    assert contrast_ratio(colours["ui"], SURFACES["card"]) >= 3


def test_the_default_brand_passes_its_own_contrast_check(api: Api, retailer: Retailer) -> None:
    assert api.http.get("/v1/branding", headers=retailer.auth).json_body["warnings"] == []
    # a brand that sets only its primary colour hears only about what it set
    brand = api.http.put("/v1/branding", headers=retailer.auth, body=json.dumps({"primary_color": "#0b6e4f"}))
    assert brand.json_body["warnings"] == []
