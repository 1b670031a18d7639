"""End to end over real HTTP: the devserver process, its embedded DynamoDB, the simulator, concurrent carriers."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from chalicelib.carriers import aftership, easypost
from tests.e2e.conftest import ROOT, LocalServer, post_native, start_server, stop_server
from tests.payloads import aftership_tracking_update, easypost_tracker_event, native_event, shippo_track_updated

pytestmark = pytest.mark.e2e


def register(server: LocalServer, http: requests.Session, tracking_number: str, carrier: str = "ups") -> dict:
    response = http.post(
        f"{server.base_url}/v1/shipments",
        headers=server.auth,
        json={
            "order_id": f"O-{tracking_number}",
            "carrier": carrier,
            "tracking_number": tracking_number,
            "customer": {"name": "Lee Park", "phone": "+14155550100", "email": "lee@example.com"},
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_banner_prints_what_a_newcomer_needs(local_server: LocalServer) -> None:
    banner = local_server.banner  # type: ignore[attr-defined]
    assert local_server.base_url in banner
    assert local_server.demo["api_key"] in banner
    assert "adm_e2e_0123456789abcdef" in banner
    assert f"{local_server.base_url}/v1/openapi.json" in banner
    for source in ("native", "easypost", "aftership", "shippo"):
        assert local_server.demo["integrations"][source]["webhook_url"] in banner


def test_admin_bootstrap_over_http(local_server: LocalServer, http: requests.Session) -> None:
    response = http.post(
        f"{local_server.base_url}/v1/admin/retailers",
        headers={"Authorization": f"Bearer {local_server.admin_key}"},
        json={"name": "Second Shop"},
        timeout=10,
    )
    assert response.status_code == 201
    key = response.json()["api_key"]
    lookup = http.get(
        f"{local_server.base_url}/v1/shipments?tracking_number=NONE",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert lookup.status_code == 200 and lookup.json() == {"shipments": [], "next_cursor": None}


def test_simulator_drives_a_shipment_to_delivered(local_server: LocalServer) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "chalicelib.simulator", "--demo-file", str(local_server.demo_file)),
            *("--delay", "0", "--ping-interval", "0"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Arrived" in result.stdout and "done" in result.stdout
    assert "next stop is yours -> accepted=1" in result.stdout  # the driver reached the door
    assert "1 stops" not in result.stdout
    shipment_id = result.stdout.split("registered order ")[1].split(" as ")[1].split(" ")[0]
    detail = requests.get(
        f"{local_server.base_url}/v1/shipments/{shipment_id}", headers=local_server.auth, timeout=10
    ).json()
    assert detail["status"] == "delivered"
    assert [e["status"] for e in detail["events"]] == [
        "processed",
        "shipped",
        "shipped",
        "out_for_delivery",
        "delivered",
    ]
    # the simulator delivers "now", so the post-delivery survey is planned as well; the driver came close once
    assert {n["kind"] for n in detail["notifications"]} == {
        "processed",
        "shipped",
        "out_for_delivery",
        "driver_close",
        "delivered",
        "survey",
    }
    # it arrived inside the window the driver's last ping gave: the first analytics a newcomer opens say so
    driver = requests.get(f"{local_server.base_url}/v1/analytics", headers=local_server.auth, timeout=10).json()
    assert driver["driver_eta"]["kept"] >= 1 and driver["driver_eta"]["early"] == 0


def test_every_source_over_real_http(local_server: LocalServer, http: requests.Session) -> None:
    retailer = local_server.demo["retailer_id"]
    integrations = local_server.demo["integrations"]
    scans = [("in_transit", "arrived_at_facility", "2026-11-20T20:00:00Z", "Arrived", "OAKLAND")]
    raw = json.dumps(easypost_tracker_event(scans, tracking_code="EP123")).encode()
    ep = http.post(
        f"{local_server.base_url}/v1/webhooks/easypost/{retailer}",
        data=raw,
        headers={
            "X-Hmac-Signature": easypost.sign(integrations["easypost"]["secret"], raw),
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert ep.json() == {"accepted": 1, "duplicates": 0}
    raw = json.dumps(
        aftership_tracking_update([("InTransit", "InTransit_001", "2026-11-20T08:00:00", "Picked up", "")])
    ).encode()
    af = http.post(
        f"{local_server.base_url}/v1/webhooks/aftership/{retailer}",
        data=raw,
        headers={"aftership-hmac-sha256": aftership.sign(integrations["aftership"]["secret"], raw)},
        timeout=10,
    )
    assert af.json() == {"accepted": 1, "duplicates": 0}
    body = shippo_track_updated([("TRANSIT", "package_accepted", "2026-11-20T20:00:00Z", "Accepted", "RENO")])
    sh = http.post(integrations["shippo"]["webhook_url"], json=body, timeout=10)
    assert sh.json() == {"accepted": 1, "duplicates": 1}
    bad = http.post(f"{local_server.base_url}/v1/webhooks/shippo/{retailer}?token=nope", json=body, timeout=10)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_signature"


def test_concurrent_carriers_lose_no_update(local_server: LocalServer) -> None:
    shipment = register(local_server, requests.Session(), "RACE0001")
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    events = [
        native_event(
            f"race-{n}",
            "shipped" if n < 23 else "out_for_delivery",
            (start + timedelta(minutes=n)).isoformat(),
            tracking_number="RACE0001",
        )
        for n in range(24)
    ]

    def send(event: dict) -> int:
        with requests.Session() as session:
            # Each scan arrives twice, as carriers retry: duplicates must be harmless.
            codes = [post_native(local_server, [event], session).status_code for _ in range(2)]
        return max(codes)

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(send, events))
    assert set(codes) == {200}
    detail = requests.get(
        f"{local_server.base_url}/v1/shipments/{shipment['id']}", headers=local_server.auth, timeout=10
    ).json()
    assert len(detail["events"]) == 24
    assert detail["status"] == "out_for_delivery"
    kinds = [(n["kind"], n["channel"]) for n in detail["notifications"]]
    assert len(kinds) == len(set(kinds))


def test_sigint_stops_everything_cleanly(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--no-seed")
    assert not server.demo_file.exists()  # --no-seed creates no demo retailer
    assert requests.get(f"{server.base_url}/v1/shipments?tracking_number=X", timeout=10).status_code == 401
    code, output = stop_server(server)
    assert code == 0
    assert "Porchlight stopped." in output
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.base_url}/v1/shipments", timeout=2)


def test_cli_creates_a_retailer_and_reissues_keys_that_work_over_http(local_server: LocalServer) -> None:
    import os

    endpoint = local_server.banner.split("embedded DynamoDB: ")[1].split()[0]  # type: ignore[attr-defined]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "TABLE_NAME": "porchlight-local",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "chalicelib.cli", *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    def works(api_key: str) -> bool:
        response = requests.get(
            f"{local_server.base_url}/v1/shipments?tracking_number=X",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=10,
        )
        return response.status_code == 200

    result = cli("create-retailer", "CLI Shop")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["name"] == "CLI Shop" and created["api_key"].startswith("pl_")
    assert works(created["api_key"])

    reissued = cli("issue-api-key", created["id"])
    assert reissued.returncode == 0, reissued.stderr
    second = json.loads(reissued.stdout)
    assert second["api_key"] != created["api_key"] and second["expires_at"] is None
    assert works(second["api_key"]) and works(created["api_key"])  # the operator adds; the retailer retires

    empty = cli("create-retailer", "  ")
    assert empty.returncode == 2 and "name must be" in empty.stderr
    unknown = cli("issue-api-key", "rt_doesnotexist")
    assert unknown.returncode == 2 and "no retailer" in unknown.stderr


def test_an_unknown_path_is_a_json_404_that_never_quotes_the_callers_key(local_server: LocalServer) -> None:
    for headers in ({}, {"Authorization": "Bearer pl_secret_key_0123456789"}, {"Authorization": "Bearer caf\u00e9"}):
        response = requests.get(f"{local_server.base_url}/v1/nope?x=1", headers=headers, timeout=10)
        assert response.status_code == 404, response.text
        assert response.json() == {"error": {"code": "not_found", "message": "no such route"}}  # as infra maps it
        assert "pl_secret" not in response.text


def test_unknown_methods_get_a_json_405_and_the_connection_stays_usable(local_server: LocalServer) -> None:
    host, port = local_server.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("TRACE", "/v1/shipments", body=b'["left", "over"]', headers={"Content-Type": "application/json"})
    refused = connection.getresponse()
    assert refused.status == 405 and refused.getheader("Allow") == "GET, POST"  # RFC 9110: a 405 names them
    assert json.loads(refused.read())["error"] == {"code": "method_not_allowed", "message": "Unsupported method: TRACE"}
    connection.request("GET", "/v1/openapi.json")  # same keep-alive connection: the TRACE body was consumed
    follow_up = connection.getresponse()
    assert follow_up.status == 200
    assert json.loads(follow_up.read())["openapi"].startswith("3.1")
    connection.close()


def test_a_head_request_gets_headers_only_and_the_connection_stays_usable(local_server: LocalServer) -> None:
    """A HEAD answer that carried its body was read by a keep-alive client as the start of its next response."""
    with requests.Session() as session:
        head = session.head(f"{local_server.base_url}/v1/openapi.json", timeout=10)
        assert head.status_code == 405 and head.content == b""
        assert int(head.headers["Content-Length"]) > 0  # the length of the body a GET gets
        follow_up = session.get(f"{local_server.base_url}/v1/openapi.json", timeout=10)  # the same connection
        assert follow_up.status_code == 200 and follow_up.json()["openapi"].startswith("3.1")


def test_concurrent_requests_of_two_retailers_never_see_each_others_data(
    local_server: LocalServer, http: requests.Session
) -> None:
    """Chalice keeps the request on the shared app object; the devserver serves each connection on its own thread.
    16 clients of two retailers read their shoppers' details and save their branding at the same time: every answer
    and every saved brand is the asker's own."""
    base = local_server.base_url
    second = http.post(
        f"{base}/v1/admin/retailers",
        headers={"Authorization": f"Bearer {local_server.admin_key}"},
        json={"name": "Other Shop"},
        timeout=10,
    ).json()
    tenants = {}
    for tag, key in (("first", local_server.demo["api_key"]), ("second", second["api_key"])):
        auth = {"Authorization": f"Bearer {key}"}
        response = http.post(
            f"{base}/v1/shipments",
            headers=auth,
            json={
                "order_id": f"ISO-{tag}",
                "carrier": "ups",
                "tracking_number": f"1ZISO{tag.upper()}",
                "customer": {"name": f"Shopper {tag}", "phone": "+14155550100", "email": f"{tag}@example.com"},
            },
            timeout=10,
        )
        assert response.status_code == 201, response.text
        tenants[tag] = {"auth": auth, "shipment": response.json()["id"]}
    rounds = 12
    leaks: list[str] = []

    def client(worker: int) -> None:
        tag = ("first", "second")[worker % 2]
        other = ("second", "first")[worker % 2]
        mine = tenants[tag]
        with requests.Session() as session:
            for n in range(rounds):
                read = session.get(f"{base}/v1/shipments/{mine['shipment']}", headers=mine["auth"], timeout=30)
                if read.status_code != 200 or read.json()["customer"]["name"] != f"Shopper {tag}":
                    leaks.append(f"{tag} read its shipment: {read.status_code} {read.text[:200]}")
                stranger = session.get(f"{base}/v1/shipments/{tenants[other]['shipment']}", timeout=30)
                if stranger.status_code != 401:
                    leaks.append(f"no key read {other}'s shipment: {stranger.status_code} {stranger.text[:200]}")
                crossed = session.get(
                    f"{base}/v1/shipments/{tenants[other]['shipment']}", headers=mine["auth"], timeout=30
                )
                if crossed.status_code != 404:
                    leaks.append(f"{tag} read {other}'s shipment: {crossed.status_code} {crossed.text[:200]}")
                name = f"{tag} w{worker} n{n}"
                saved = session.put(
                    f"{base}/v1/branding", headers=mine["auth"], json={"display_name": name}, timeout=30
                )
                if saved.status_code != 200 or not saved.json()["display_name"].startswith(f"{tag} "):
                    leaks.append(f"{tag} saved {name!r}, answer {saved.status_code} {saved.text[:200]}")
                back = session.get(f"{base}/v1/branding", headers=mine["auth"], timeout=30)
                if back.status_code != 200 or not back.json()["display_name"].startswith(f"{tag} "):
                    leaks.append(f"{tag} read back {back.status_code} {back.text[:200]}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(client, range(16)))
    assert leaks == [], f"{len(leaks)} of {16 * rounds * 5} answers crossed tenants, e.g. {leaks[:3]}"


def test_data_survives_a_restart_and_ephemeral_starts_empty(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_server(tmp_path, "--data-dir", str(data))
    assert str(data / "porchlight-local.jsonl") in first.banner  # type: ignore[attr-defined]
    with requests.Session() as http:
        shipment = register(first, http, "1ZKEEP0001")
        added = http.post(
            f"{first.base_url}/v1/api-keys", headers=first.auth, json={"keep_current": True}, timeout=10
        ).json()["api_key"]
    code, output = stop_server(first)
    assert code == 0 and f"data saved to {data / 'porchlight-local.jsonl'}" in output
    assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]  # written beside, then renamed

    again = start_server(tmp_path, "--data-dir", str(data))  # another port, the same data
    try:
        assert again.base_url != first.base_url
        assert again.demo["retailer_id"] == first.demo["retailer_id"]  # the demo retailer is not created twice
        assert again.demo["api_key"] == first.demo["api_key"]
        assert again.demo["integrations"]["native"]["webhook_url"].startswith(again.base_url)
        for key in (first.demo["api_key"], added):
            found = requests.get(
                f"{again.base_url}/v1/shipments?tracking_number=1ZKEEP0001",
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            ).json()["shipments"]
            assert [s["id"] for s in found] == [shipment["id"]]
        scan = native_event("keep-1", "shipped", "2026-11-20T09:00:00+00:00", tracking_number="1ZKEEP0001")
        assert post_native(again, [scan]).json() == {"accepted": 1, "duplicates": 0}  # the kept secret still signs
        listed = requests.get(f"{again.base_url}/v1/shipments?status=shipped", headers=again.auth, timeout=10).json()[
            "shipments"
        ]
        assert [s["id"] for s in listed] == [shipment["id"]]  # indexes answer for loaded items
        retailers = requests.post(
            f"{again.base_url}/v1/admin/retailers",
            headers={"Authorization": f"Bearer {again.admin_key}"},
            json={"name": "Another"},
            timeout=10,
        )
        assert retailers.status_code == 201
    finally:
        stop_server(again)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    throwaway = start_server(elsewhere)  # the tests' servers run with --ephemeral
    try:
        assert "kept in memory only" in throwaway.banner  # type: ignore[attr-defined]
        assert throwaway.demo["retailer_id"] != first.demo["retailer_id"]
        gone = requests.get(
            f"{throwaway.base_url}/v1/shipments?tracking_number=1ZKEEP0001", headers=first.auth, timeout=10
        )
        assert gone.status_code == 401  # nothing of the kept data: not even the key
    finally:
        stop_server(throwaway)


def test_an_ephemeral_run_in_between_never_loses_the_key_to_the_kept_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kept = start_server(tmp_path, "--data-dir", str(data))
    with requests.Session() as http:
        shipment = register(kept, http, "1ZKEEP0002")
    stop_server(kept)
    throwaway = start_server(tmp_path)  # --ephemeral, writing its own retailer to the same demo file
    assert throwaway.demo["retailer_id"] != kept.demo["retailer_id"]
    stop_server(throwaway)
    again = start_server(tmp_path, "--data-dir", str(data))
    try:
        assert (again.demo["retailer_id"], again.demo["api_key"]) == (kept.demo["retailer_id"], kept.demo["api_key"])
        found = requests.get(
            f"{again.base_url}/v1/shipments?tracking_number=1ZKEEP0002", headers=again.auth, timeout=10
        ).json()["shipments"]
        assert [s["id"] for s in found] == [shipment["id"]]
    finally:
        stop_server(again)


def test_a_crash_loses_at_most_the_last_snapshot_interval(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(tmp_path, "--data-dir", str(data), "--snapshot-interval", "0.5")
    with requests.Session() as http:
        register(server, http, "1ZSNAP0001")
        deadline = time.monotonic() + 15
        snapshot = data / "porchlight-local.jsonl"
        while time.monotonic() < deadline and b"1ZSNAP0001" not in (
            snapshot.read_bytes() if snapshot.exists() else b""
        ):
            time.sleep(0.1)
    server.process.kill()  # no clean stop: only the periodic snapshot has the data
    server.process.wait(timeout=10)
    again = start_server(tmp_path, "--data-dir", str(data))
    try:
        found = requests.get(
            f"{again.base_url}/v1/shipments?tracking_number=1ZSNAP0001", headers=again.auth, timeout=10
        ).json()["shipments"]
        assert len(found) == 1
    finally:
        stop_server(again)
