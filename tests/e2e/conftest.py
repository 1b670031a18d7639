"""The real local runtime as a child process (`python -m chalicelib.devserver`), spoken to over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from chalicelib.devserver import free_port
from tests.capture import CaptureServer

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalServer:
    base_url: str
    admin_key: str
    demo: dict[str, Any]
    demo_file: Path
    process: subprocess.Popen[str]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.demo['api_key']}"}


def start_server(
    tmp_path: Path, *extra: str, env_extra: dict[str, str] | None = None, port: int | None = None
) -> LocalServer:
    """A devserver on `port`, or on a free one: free_port() lets the port go before the child binds it, so under
    parallel workers (make test) another worker can take it in between; a start that loses that race is retried."""
    if port is not None:
        return _start_server(tmp_path, extra, env_extra, port)
    for _ in range(4):
        try:
            return _start_server(tmp_path, extra, env_extra, free_port())
        except PortTaken:
            continue
    return _start_server(tmp_path, extra, env_extra, free_port())


class PortTaken(AssertionError):
    """The devserver could not bind its port: another process took it first."""


def _start_server(tmp_path: Path, extra: tuple[str, ...], env_extra: dict[str, str] | None, port: int) -> LocalServer:
    demo_file = tmp_path / "demo.json"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TWILIO_", "SENDGRID_")) and k not in ("TABLE_NAME", "STAGE", "PUBLIC_BASE_URL")
    }
    env["ADMIN_API_KEY"] = "adm_e2e_0123456789abcdef"
    env.update(env_extra or {})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chalicelib.devserver",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--demo-file",
            str(demo_file),
            # a fresh table for every server unless the test keeps data on purpose (in its own --data-dir)
            *([] if "--data-dir" in extra else ["--ephemeral"]),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            output = "".join(banner)
            raise (PortTaken if "Address already in use" in output else AssertionError)(
                "devserver exited early:\n" + output
            )
        banner.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    else:
        process.kill()
        raise AssertionError("devserver did not start:\n" + "".join(banner))
    demo = json.loads(demo_file.read_text()) if demo_file.exists() else {}
    server = LocalServer(f"http://127.0.0.1:{port}", env["ADMIN_API_KEY"], demo, demo_file, process)
    server.banner = "".join(banner)  # type: ignore[attr-defined]
    # Keep reading the server's output: its request log would otherwise fill the pipe, and a server blocked
    # writing a log line stops answering (seen as a request hanging until its read timeout under load).
    server.log = []  # type: ignore[attr-defined]
    threading.Thread(target=_drain_output, args=(process, server.log), daemon=True).start()  # type: ignore[attr-defined]
    return server


def post_native(server: LocalServer, events: list[dict], http: Any = requests) -> requests.Response:
    """Signed native-format scans for the server's demo retailer, as a carrier posts them."""
    from chalicelib.carriers import native

    raw = json.dumps({"events": events}).encode()
    signature = native.sign(server.demo["integrations"]["native"]["secret"], raw, int(time.time()))
    return http.post(
        f"{server.base_url}/v1/webhooks/native/{server.demo['retailer_id']}",
        data=raw,
        headers={"Content-Type": "application/json", "X-Porchlight-Signature": signature},
        timeout=30,  # a devserver sharing two cores with parallel workers can take more than 10 s under a burst
    )


def _drain_output(process: subprocess.Popen[str], sink: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        sink.append(line)


def stop_server(server: LocalServer) -> tuple[int, str]:
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any("Porchlight stopped." in line for line in server.log):  # type: ignore[attr-defined]
        time.sleep(0.05)
    return server.process.returncode, "".join(server.log)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    server = start_server(tmp_path_factory.mktemp("devserver"))
    yield server
    if server.process.poll() is None:
        stop_server(server)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


TWILIO_TOKEN = "e2e-twilio-token-0123456789abcdef"
RELAY_NUMBERS = ("+15005550201", "+15005550202", "+15005550203")


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.fixture(scope="module")
def capture() -> Iterator[CaptureServer]:
    server = CaptureServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wired_server(tmp_path_factory: pytest.TempPathFactory, capture: CaptureServer) -> Iterator[LocalServer]:
    """The devserver with the real Twilio and SendGrid SDKs pointed at the capture server, and a relay pool."""
    env = {
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": capture.url,
        "TWILIO_RELAY_NUMBERS": ",".join(RELAY_NUMBERS),
        "RELAY_GRACE_MINUTES": "0",
        "SENDGRID_API_KEY": "SG.e2e",
        "SENDGRID_API_HOST": capture.url,
        "EMAIL_FROM": "updates@porchlight.example",
    }
    server = start_server(tmp_path_factory.mktemp("wired"), "--drain-interval", "0.2", env_extra=env)
    yield server
    stop_server(server)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's Chromium under Playwright (executable_path; `playwright install` cannot download here)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("CI must run the browser tests: `make browser` installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()
