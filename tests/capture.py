"""A local stand-in for Twilio's and SendGrid's APIs: records every request the real SDKs make.

Responses follow the providers' documented shapes; a script of failures (status, body) can be queued per provider
to rehearse throttling, outages and permanent errors.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Captured:
    provider: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CaptureServer:
    requests: list[Captured] = field(default_factory=list)
    failures: dict[str, deque[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=lambda: {"twilio": deque(), "sendgrid": deque(), "retailer": deque()}
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def fail_next(
        self,
        provider: str,
        status: int,
        body: dict[str, Any] | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        for _ in range(times):
            self.failures[provider].append((status, body or {}, headers or {}))

    def of(self, provider: str) -> list[Captured]:
        with self.lock:
            return [r for r in self.requests if r.provider == provider]

    def start(self) -> CaptureServer:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if "/Messages.json" in self.path:
                    provider = "twilio"
                elif "/mail/send" in self.path:
                    provider = "sendgrid"
                elif self.path.startswith("/hooks"):
                    provider = "retailer"
                else:
                    provider = "other"
                with capture.lock:
                    capture.requests.append(Captured(provider, "POST", self.path, dict(self.headers), body))
                    failure = (
                        capture.failures.get(provider, deque()).popleft() if capture.failures.get(provider) else None
                    )
                if failure is not None:
                    status, payload, extra_headers = failure
                    self._reply(status, payload, extra_headers)
                elif provider == "twilio":
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    sid = "SM" + secrets.token_hex(16)
                    self._reply(
                        201,
                        {
                            "sid": sid,
                            "status": "queued",
                            "to": form.get("To"),
                            "from": form.get("From"),
                            "body": form.get("Body"),
                            "num_segments": "1",
                            "direction": "outbound-api",
                            "api_version": "2010-04-01",
                        },
                    )
                elif provider == "sendgrid":
                    self._reply(202, None, {"X-Message-Id": "sg" + secrets.token_hex(11)})
                elif provider == "retailer":
                    self._reply(200, {"ok": True})
                else:
                    self._reply(404, {"message": "not a provider path"})

            def _reply(
                self, status: int, payload: dict[str, Any] | None, headers: dict[str, str] | None = None
            ) -> None:
                raw = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
