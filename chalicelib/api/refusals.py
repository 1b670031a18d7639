"""Which answer a route's typed errors get, chosen once per route when the app registers it (app.py passes
`refusal_for` to the app): a shopper's page answers with that page in their language, the public JSON keeps its CORS
headers, everything else answers with the JSON error shape (DESIGN 3.3)."""

from __future__ import annotations

from collections.abc import Mapping

from chalice import Response

from ..errors import PorchlightError
from .http import Refusal, error_response, json_refusal
from .tracking_api import CORS, LOOKUP_CORS, lookup_refused, refused_on_page


def _on_tracking_page(error: PorchlightError, path_params: Mapping[str, str]) -> Response:
    return refused_on_page(path_params["token"], error)


def _on_lookup_page(error: PorchlightError, path_params: Mapping[str, str]) -> Response:
    return lookup_refused(path_params["retailer_id"], error)


def _json_with(headers: dict[str, str]) -> Refusal:
    def refusal(error: PorchlightError, path_params: Mapping[str, str]) -> Response:
        response = error_response(error)
        response.headers.update(headers)
        return response

    return refusal


def refusal_for(path: str) -> Refusal:
    if path.startswith("/t/{token}"):
        return _on_tracking_page
    if path.startswith("/track/{retailer_id}"):
        return _on_lookup_page
    if path.startswith("/v1/tracking/"):
        return _json_with(CORS)
    if path.startswith("/v1/track/"):
        return _json_with(LOOKUP_CORS)
    return json_refusal
