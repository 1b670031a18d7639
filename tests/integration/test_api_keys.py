"""API key rotation and revocation: a retailer replaces a key without downtime and cuts off a leaked one at once."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from unittest import mock

from tests.conftest import Api, Retailer
from tests.integration.test_retailer_api import scan_table


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


def keys(api: Api, api_key: str) -> list[dict]:
    response = api.http.get("/v1/api-keys", headers=bearer(api_key))
    assert response.status_code == 200, response.body
    return response.json_body["api_keys"]


def rotate(api: Api, api_key: str, body: str = "") -> object:
    return api.http.post("/v1/api-keys", headers=bearer(api_key), body=body)


def works(api: Api, api_key: str) -> bool:
    status = api.http.get("/v1/shipments?tracking_number=X", headers=bearer(api_key)).status_code
    assert status in (200, 401)
    return status == 200


def later(hours: float) -> mock._patch:
    """The retailer API's clock moved forward."""
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return mock.patch("chalicelib.api.retailer_api.utcnow", return_value=moment)


def test_rotation_gives_a_new_key_and_retires_the_old_one_after_a_day(api: Api, retailer: Retailer) -> None:
    [original] = keys(api, retailer.api_key)
    assert original["current"] is True and original["expires_at"] is None
    assert retailer.api_key.startswith(original["prefix"])

    response = rotate(api, retailer.api_key)
    assert response.status_code == 201, response.body
    new_key = response.json_body["api_key"]
    assert new_key.startswith("pl_") and new_key != retailer.api_key
    assert response.json_body["expires_at"] is None

    listed = {key["id"]: key for key in keys(api, new_key)}
    assert listed[response.json_body["id"]]["current"] is True
    retiring = listed[original["id"]]
    assert retiring["current"] is False
    expires = datetime.fromisoformat(retiring["expires_at"])
    assert timedelta(hours=23, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=24)
    assert works(api, retailer.api_key) and works(api, new_key)  # both work during the switch-over

    with later(24.01):
        assert not works(api, retailer.api_key)
        assert works(api, new_key)
        assert [key["id"] for key in keys(api, new_key)] == [response.json_body["id"]]
    # Only hashes are stored, never the key.
    dump = json.dumps(scan_table())
    assert new_key not in dump and hashlib.sha256(new_key.encode()).hexdigest() in dump


def test_grace_can_be_zero_or_the_old_key_can_stay(api: Api, retailer: Retailer) -> None:
    immediate = rotate(api, retailer.api_key, '{"retire_current_after_hours": 0}').json_body["api_key"]
    assert not works(api, retailer.api_key)
    kept = rotate(api, immediate, '{"keep_current": true}').json_body["api_key"]
    assert works(api, immediate) and works(api, kept)
    assert all(key["expires_at"] is None for key in keys(api, kept))


def test_rotating_again_never_lengthens_a_retiring_keys_life(api: Api, retailer: Retailer) -> None:
    rotate(api, retailer.api_key, '{"retire_current_after_hours": 1}')
    newest = rotate(api, retailer.api_key, '{"retire_current_after_hours": 48}').json_body["api_key"]
    with later(1.01):
        assert not works(api, retailer.api_key)
        assert works(api, newest)


def test_a_leaked_key_is_revoked_at_once_but_not_the_last_one(api: Api, retailer: Retailer) -> None:
    fresh = rotate(api, retailer.api_key, '{"keep_current": true}').json_body
    [leaked] = [key for key in keys(api, fresh["api_key"]) if key["id"] != fresh["id"]]
    response = api.http.delete(f"/v1/api-keys/{leaked['id']}", headers=bearer(fresh["api_key"]))
    assert response.status_code == 204
    assert not works(api, retailer.api_key)
    assert api.http.delete(f"/v1/api-keys/{leaked['id']}", headers=bearer(fresh["api_key"])).status_code == 404

    last = api.http.delete(f"/v1/api-keys/{fresh['id']}", headers=bearer(fresh["api_key"]))
    assert last.status_code == 409 and last.json_body["error"]["code"] == "last_key"
    assert works(api, fresh["api_key"])


def test_keys_are_private_to_their_retailer(api: Api, retailer: Retailer) -> None:
    other = api.create_retailer("Other Store")
    [theirs] = keys(api, other.api_key)
    rotate(api, retailer.api_key, '{"keep_current": true}')
    response = api.http.delete(f"/v1/api-keys/{theirs['id']}", headers=bearer(retailer.api_key))
    assert response.status_code == 404
    assert works(api, other.api_key)
    assert {key["id"] for key in keys(api, retailer.api_key)}.isdisjoint({theirs["id"]})


def test_bad_rotation_requests_are_rejected_and_issue_nothing(api: Api, retailer: Retailer) -> None:
    for body, field in (
        ('{"retire_current_after_hours": -1}', "retire_current_after_hours"),
        ('{"retire_current_after_hours": 721}', "retire_current_after_hours"),
        ('{"retire_current_after_hours": "soon"}', "retire_current_after_hours"),
        ('{"keep": true}', "keep"),
        ("[]", "body"),
    ):
        response = rotate(api, retailer.api_key, body)
        assert response.status_code == 400, (body, response.body)
        assert response.json_body["error"]["field"] == field
    assert rotate(api, "pl_not-a-key").status_code == 401
    assert len(keys(api, retailer.api_key)) == 1


def test_at_most_five_active_keys(api: Api, retailer: Retailer) -> None:
    for _ in range(4):
        assert rotate(api, retailer.api_key, '{"keep_current": true}').status_code == 201
    response = rotate(api, retailer.api_key, '{"keep_current": true}')
    assert response.status_code == 409 and response.json_body["error"]["code"] == "too_many_keys"
    assert len(keys(api, retailer.api_key)) == 5
