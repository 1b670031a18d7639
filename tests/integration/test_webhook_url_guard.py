"""The retailer-webhook guard (issue 15, item 9): https to public addresses on every deployed stage, whatever its
name; plain http and private addresses only where ALLOW_PRIVATE_WEBHOOKS=1 (the local runtime, the tests). Private
IPv4 addresses embedded in IPv6 forms (NAT64, IPv4-mapped, 6to4, Teredo) are private too."""

from __future__ import annotations

import json

import pytest

from chalicelib.config import settings
from tests.conftest import Api, Retailer

EMBEDDED_METADATA = [
    "64:ff9b::a9fe:a9fe",  # NAT64 (RFC 6052) of 169.254.169.254
    "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 (RFC 8215)
    "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo, client 10.0.0.1
]


@pytest.fixture
def deployed_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.delenv("ALLOW_PRIVATE_WEBHOOKS", raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


def put_url(api: Api, retailer: Retailer, url: str):
    body = json.dumps({"webhooks": {"url": url}})
    return api.http.put("/v1/settings", headers=retailer.auth, body=body)


@pytest.mark.parametrize(
    "url",
    [
        *(f"https://[{address}]/hooks" for address in EMBEDDED_METADATA),
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://[fe80::1%25eth0]/hooks",
        "https://localhost/hooks",
        "http://93.184.215.14/hooks",
    ],
)
def test_a_deployed_dev_stage_refuses_private_and_plain_http_webhook_urls(
    api: Api, retailer: Retailer, deployed_dev: None, url: str
) -> None:
    response = put_url(api, retailer, url)
    assert response.status_code == 400, (url, response.body)
    assert response.json_body["error"]["field"] == "webhooks.url"


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "64:ff9b::808:808", "93.184.215.14"])
def test_public_addresses_and_their_nat64_forms_are_accepted(
    api: Api, retailer: Retailer, deployed_dev: None, address: str
) -> None:
    host = f"[{address}]" if ":" in address else address
    response = put_url(api, retailer, f"https://{host}/hooks")
    assert response.status_code == 200, response.body


def test_the_local_runtime_setting_alone_allows_the_machine_itself(api: Api, retailer: Retailer) -> None:
    assert settings().allow_private_webhooks  # tests/conftest.py sets it, as the devserver does
    assert put_url(api, retailer, "http://127.0.0.1:9/hooks").status_code == 200
