"""Shared fixtures: an in-process moto DynamoDB, the Chalice test client, and a retailer API helper."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Configure before anything imports the app (DESIGN 6: the endpoint variable would bypass mock_aws).
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    STAGE="test",
    TABLE_NAME="porchlight-test",
    PUBLIC_BASE_URL="https://track.example.test",
    ADMIN_API_KEY="adm_test_0123456789abcdef",
    ALLOW_PRIVATE_WEBHOOKS="1",  # status webhooks go to the local capture server; the guard's own tests unset it
)

from chalicelib.carriers import aftership, easypost, native
from chalicelib.config import settings
from chalicelib.store import retailers as retailer_store
from chalicelib.store.table import create_table, reset_client


def _share_botocore_models() -> None:
    """Every test starts from a fresh DynamoDB client (reset_process_state), and each new boto3 session would parse
    botocore's model files again (70-100 ms of CPU per client). One loader per process keeps the parsed models, as
    the clients of one session share them; the devserver processes are not affected."""
    import functools

    import botocore.loaders
    import botocore.session

    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)  # keyed by AWS_DATA_PATH


_share_botocore_models()

ADMIN = {"Authorization": "Bearer adm_test_0123456789abcdef"}


def reset_process_state() -> None:
    settings.cache_clear()
    reset_client()
    retailer_store.clear_cache()


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    from chalicelib.localdb import install_fast_paths

    install_fast_paths()  # the local runtime's moto (D28): a transaction's cost no longer grows with the table
    with mock_aws():
        reset_process_state()
        create_table()
        yield
    reset_process_state()


@dataclass
class Retailer:
    id: str
    api_key: str
    secrets: dict[str, str]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}


class Api:
    """Talks to the app only through HTTP routes, as a retailer or a carrier would."""

    def __init__(self, client: Any) -> None:
        self.http = client.http

    def create_retailer(self, name: str = "Acme Outdoor") -> Retailer:
        response = self.http.post(
            "/v1/admin/retailers",
            headers={**ADMIN, "Content-Type": "application/json"},
            body=json.dumps({"name": name}),
        )
        assert response.status_code == 201, response.body
        retailer = Retailer(response.json_body["id"], response.json_body["api_key"], {})
        for source in ("native", "easypost", "aftership", "shippo"):
            secret = f"{source}-secret-{retailer.id}-0123456789"
            put = self.http.put(
                f"/v1/integrations/{source}", headers=retailer.auth, body=json.dumps({"secret": secret})
            )
            assert put.status_code == 200, put.body
            retailer.secrets[source] = secret
        return retailer

    def register(self, retailer: Retailer, **overrides: Any) -> Any:
        body = {
            "order_id": "ORD-1001",
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "customer": {"name": "Maria Garcia", "phone": "+14155550123", "email": "maria@example.com"},
            **overrides,
        }
        return self.http.post("/v1/shipments", headers=retailer.auth, body=json.dumps(body))

    def shipment(self, retailer: Retailer, shipment_id: str) -> Any:
        return self.http.get(f"/v1/shipments/{shipment_id}", headers=retailer.auth)

    def find(self, retailer: Retailer, tracking_number: str) -> Any:
        return self.http.get(f"/v1/shipments?tracking_number={tracking_number}", headers=retailer.auth)

    def native(self, retailer: Retailer, body: dict[str, Any] | bytes, *, secret: str | None = None, **kw: Any) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        stamp = kw.pop("timestamp", int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Porchlight-Signature": native.sign(secret or retailer.secrets["native"], raw, stamp),
        }
        return self.http.post(f"/v1/webhooks/native/{retailer.id}", headers=headers, body=raw)

    def easypost(self, retailer: Retailer, body: dict[str, Any]) -> Any:
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hmac-Signature": easypost.sign(retailer.secrets["easypost"], raw),
        }
        return self.http.post(f"/v1/webhooks/easypost/{retailer.id}", headers=headers, body=raw)

    def aftership(self, retailer: Retailer, body: dict[str, Any]) -> Any:
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            "aftership-hmac-sha256": aftership.sign(retailer.secrets["aftership"], raw),
        }
        return self.http.post(f"/v1/webhooks/aftership/{retailer.id}", headers=headers, body=raw)

    def shippo(self, retailer: Retailer, body: dict[str, Any]) -> Any:
        raw = json.dumps(body).encode()
        path = f"/v1/webhooks/shippo/{retailer.id}?token={retailer.secrets['shippo']}"
        return self.http.post(path, headers={"Content-Type": "application/json"}, body=raw)


@pytest.fixture
def api(aws: None) -> Iterator[Api]:
    from chalice.test import Client

    from app import app

    # A stage with no environment in .chalice/config.json: the test environment above stays in force.
    with Client(app, stage_name="test") as client:
        yield Api(client)


@pytest.fixture
def retailer(api: Api) -> Retailer:
    """A retailer with the silence watch and the stall watch (D45) off: many tests scan on fixed dates, and whether
    some days after such a scan falls before or after a test's drain would depend on the day the suite runs. Tests
    of the watches switch them on."""
    created = api.create_retailer()
    off = {"silent_after_days": 0, "alerts": {"no_first_scan_days": 0, "stuck_days": 0}}
    response = api.http.put("/v1/settings", headers=created.auth, body=json.dumps(off))
    assert response.status_code == 200, response.body
    return created
