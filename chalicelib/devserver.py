"""One-command local Porchlight (DESIGN 3.7): embedded moto DynamoDB, the table, a demo retailer, the app.

    python -m chalicelib.devserver --host 127.0.0.1 --port 8000 [--no-seed]

No AWS account, Docker or network is needed. SIGINT/SIGTERM stop everything cleanly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEMO_FILE = Path(".porchlight-demo.json")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def configure_environment(host: str, port: int, dynamodb_endpoint: str) -> dict[str, str]:
    """Environment for the embedded stack; values already set by the operator win, except the endpoint."""
    defaults = {
        "STAGE": "local",
        "ALLOW_PRIVATE_WEBHOOKS": "1",  # the local runtime posts to endpoints on this machine
        "TABLE_NAME": "porchlight-local",
        "PUBLIC_BASE_URL": f"http://{host}:{port}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials; nothing leaves this machine
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if not os.environ.get("ADMIN_API_KEY"):
        os.environ["ADMIN_API_KEY"] = "adm_" + secrets.token_urlsafe(24)
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint
    return {key: os.environ[key] for key in ("STAGE", "TABLE_NAME", "PUBLIC_BASE_URL", "ADMIN_API_KEY")}


def seed_demo_retailer() -> dict[str, Any]:
    from .carriers import SOURCES
    from .services import retailers

    created = retailers.create_retailer("Demo Outfitters", datetime.now(UTC))
    integrations = {}
    for source in SOURCES:
        secret, url = retailers.set_integration(created.retailer.id, source, None)
        integrations[source] = {"secret": secret, "webhook_url": url}
    return {"retailer_id": created.retailer.id, "api_key": created.api_key, "integrations": integrations}


#: Longest a drain round starts new batches: a backlog is worked through round after round, and a stop request
#: waits at most for the batch in flight.
DRAIN_SLICE_SECONDS = 2.0


def drain_outbox(stopping: threading.Event, interval: float) -> None:
    """The local stand-in for the table stream and the per-minute schedule: the same delivery code, in a loop."""
    from .services.scheduler import run_scheduled_work

    while not stopping.wait(interval):
        try:
            run_scheduled_work(slice_seconds=DRAIN_SLICE_SECONDS)
        except Exception:  # keep draining; the item was handed back for retry by the delivery code
            logging.getLogger("porchlight.devserver").exception("outbox drain failed")


def allowed_methods(url: str) -> str:
    """The `Allow` value of a 405 (RFC 9110: required there): the methods of the route the path matches, or none."""
    from chalice.local import RouteMatcher

    from app import app

    try:
        route = RouteMatcher(list(app.routes)).match_route(url).route
    except ValueError:
        return ""
    return ", ".join(sorted(app.routes[route]))


def build_server(host: str, port: int) -> Any:
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer, ThreadedHTTPServer

    from app import app

    from .api.http import error_body

    class Handler(ChaliceRequestHandler):
        """Methods API Gateway has no route for (TRACE, CONNECT, made-up ones) get a 405 in the documented error
        shape instead of http.server's HTML 501 page."""

        def __getattr__(self, name: str) -> Any:
            if not name.startswith("do_"):
                raise AttributeError(name)
            return self._refuse_method

        def _refuse_method(self) -> None:
            self._parse_payload()  # consume the body, or its bytes would be read as the next request
            body = json.dumps(error_body("method_not_allowed", f"Unsupported method: {self.command}"))
            headers = {"Content-Type": "application/json", "Allow": allowed_methods(self.path)}
            self._send_http_response(405, headers, body)

    class BusyServer(ThreadedHTTPServer):
        # socketserver listens with a backlog of 5: a burst of carriers overflows it and the kernel then silently
        # drops connections that clients believe are open (they hang until their read timeout).
        request_queue_size = 512
        daemon_threads = True

    config = Config.create(chalice_stage="local", app_name="porchlight", environment_variables={})
    return LocalDevServer(app, config, host, port, handler_cls=Handler, server_cls=BusyServer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--moto-port", type=int, default=0, help="port for the embedded DynamoDB (0 = any free)")
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo retailer")
    parser.add_argument("--demo-file", type=Path, default=DEMO_FILE, help="where to write the demo credentials")
    parser.add_argument("--drain-interval", type=float, default=0.25, help="seconds between outbox drains")
    args = parser.parse_args(argv)

    from .localdb import EmbeddedDynamoDB

    dynamodb = EmbeddedDynamoDB(port=args.moto_port)
    env = configure_environment(args.host, args.port, dynamodb.start())

    from .store.table import create_table

    create_table(stream=False)  # the drainer below is the local stream (see create_table)
    server = build_server(args.host, args.port)

    print(f"Porchlight is running at {env['PUBLIC_BASE_URL']}  (stage {env['STAGE']})")
    print(f"  embedded DynamoDB: {dynamodb.endpoint}  table {env['TABLE_NAME']}")
    print(f"  admin API key:     {env['ADMIN_API_KEY']}")
    print(f"  local outbox:      {env['PUBLIC_BASE_URL']}/dev/outbox  (messages, when no provider keys are set)")
    print(f"  API description:   {env['PUBLIC_BASE_URL']}/v1/openapi.json")
    if not args.no_seed:
        demo = seed_demo_retailer()
        args.demo_file.write_text(json.dumps({"base_url": env["PUBLIC_BASE_URL"], **demo}, indent=2))
        print(f"  demo retailer:     {demo['retailer_id']}")
        print(f"  demo API key:      {demo['api_key']}")
        print(f"  order lookup page: {env['PUBLIC_BASE_URL']}/track/{demo['retailer_id']}")
        for source, info in demo["integrations"].items():
            print(f"  {source:<9} webhook: {info['webhook_url']}  secret {info['secret']}")
        print(f"  (saved to {args.demo_file}; try: make simulate)")

    stopping = threading.Event()
    drainer = threading.Thread(target=drain_outbox, args=(stopping, args.drain_interval), name="drainer", daemon=True)
    drainer.start()

    def stop(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.server.serve_forever(poll_interval=0.2)
    finally:
        stopping.set()
        drainer.join(timeout=10)
        server.server.server_close()
        dynamodb.stop()
        print("Porchlight stopped.", flush=True)
    return 0


if __name__ == "__main__":
    exit_code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is stopped and the embedded table lives in memory: skip the interpreter's teardown, which after a
    # long session spends tens of seconds collecting moto's objects one by one (measured: stopped in 0.8 s after
    # 2,000 webhooks, then over 20 s more before the process exited).
    os._exit(exit_code)
