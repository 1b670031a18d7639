"""One-command local Porchlight (DESIGN 3.7): embedded moto DynamoDB, the table, a demo retailer, the app.

    python -m chalicelib.devserver --host 127.0.0.1 --port 8000 [--no-seed] [--ephemeral]

No AWS account, Docker or network is needed. SIGINT/SIGTERM stop everything cleanly. The table is kept in
.porchlight-data/ (a snapshot written every 30 s when something changed and on a clean stop, loaded at start), so
retailers, keys and shipments survive a restart; a crash loses at most the last interval. --ephemeral starts empty
and saves nothing.
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
DATA_DIR = Path(".porchlight-data")
SNAPSHOT_SECONDS = 30.0


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


def seed_demo_retailer(demo_file: Path, base_url: str) -> dict[str, Any]:
    """The demo retailer: the one recorded in `demo_file` while the table still has it (kept data, a restart),
    else a new one. Its API key and secrets exist only in that file (the table keeps their hashes)."""
    from .carriers import SOURCES
    from .services import retailers
    from .store import retailers as retailer_store

    try:
        saved = json.loads(demo_file.read_text())
    except (OSError, ValueError):
        saved = None
    if isinstance(saved, dict) and saved.get("retailer_id") and retailer_store.get(saved["retailer_id"]) is not None:
        old_base = str(saved.get("base_url", ""))
        for info in saved.get("integrations", {}).values():  # the port may have changed since
            info["webhook_url"] = base_url + info["webhook_url"].removeprefix(old_base)
        return {key: saved[key] for key in ("retailer_id", "api_key", "integrations")}
    created = retailers.create_retailer("Demo Outfitters", datetime.now(UTC))
    integrations = {}
    for source in SOURCES:
        secret, url = retailers.set_integration(created.retailer.id, source, None)
        integrations[source] = {"secret": secret, "webhook_url": url}
    return {"retailer_id": created.retailer.id, "api_key": created.api_key, "integrations": integrations}


class Snapshots:
    """The embedded table kept on disk: loaded at start, saved every `interval` seconds when something changed and
    once more on a clean stop. A crash loses at most what changed since the last save."""

    def __init__(self, dynamodb: Any, table_name: str, path: Path, interval: float) -> None:
        self._dynamodb, self._table, self.path, self._interval = dynamodb, table_name, path, interval
        self._saved_at_writes = -1

    def load(self) -> int:
        loaded = self._dynamodb.load(self._table, self.path) if self.path.exists() else 0
        self._saved_at_writes = self._dynamodb.writes
        return loaded

    def save(self) -> None:
        writes = self._dynamodb.writes
        if writes != self._saved_at_writes:
            self._dynamodb.save(self._table, self.path)
            self._saved_at_writes = writes

    def keep_saving(self, stopping: threading.Event) -> None:
        while not stopping.wait(self._interval):
            try:
                self.save()
            except Exception:  # a full disk must not stop the runtime; the next round tries again
                logging.getLogger("porchlight.devserver").exception("snapshot failed")


#: Longest a drain round starts new batches: a backlog is worked through round after round, and a stop request
#: waits at most for the batch in flight.
DRAIN_SLICE_SECONDS = 2.0


def drain_outbox(stopping: threading.Event, interval: float) -> None:
    """The local stand-in for the table stream and the per-minute schedule: the same delivery code, in a loop."""
    from .workers.scheduler import run_scheduled_work

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

        # Headers and body leave as two writes; with Nagle's algorithm on, the body then waits for the client's
        # delayed ACK (40 ms on Linux) on every keep-alive response: a 1 ms answer took 48 ms over HTTP.
        disable_nagle_algorithm = True

        def _send_http_response_with_body(self, code: int, headers: Any, body: str | bytes) -> None:
            if self.command != "HEAD":
                super()._send_http_response_with_body(code, headers, body)
                return
            # A HEAD answer carries the length of the body it leaves out (RFC 9110 9.3.2); writing the body would
            # be read by a keep-alive client as the start of its next response.
            encoded = body if isinstance(body, bytes) else body.encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(encoded)))
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            self._send_headers(headers)

        def __getattr__(self, name: str) -> Any:
            if not name.startswith("do_"):
                raise AttributeError(name)
            return self._refuse_method

        def _generic_handle(self) -> None:
            try:
                super()._generic_handle()
            except UnicodeEncodeError:  # Chalice's own no-route answer quotes a non-ASCII Authorization header
                self._no_route()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

        def _send_error_response(self, error: Any) -> None:
            # API Gateway answers a path no route matches with 403 "Missing Authentication Token" (Chalice's local
            # gateway even quotes the caller's Authorization header back); the deployed API maps it to our 404
            # (infra GatewayResponses), and so does the local runtime.
            if error.CODE == 403 and error.headers.get("x-amzn-ErrorType") == "UnauthorizedException":
                self._no_route()
                return
            super()._send_error_response(error)

        def _no_route(self) -> None:
            body = json.dumps(error_body("not_found", "no such route"))
            self._send_http_response(404, {"Content-Type": "application/json"}, body)

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
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where the table is kept between runs")
    parser.add_argument("--ephemeral", action="store_true", help="start empty and keep nothing when stopped")
    parser.add_argument(
        "--snapshot-interval", type=float, default=SNAPSHOT_SECONDS, help="seconds between saves of the table"
    )
    args = parser.parse_args(argv)

    from .localdb import EmbeddedDynamoDB

    dynamodb = EmbeddedDynamoDB(port=args.moto_port)
    env = configure_environment(args.host, args.port, dynamodb.start())

    from .store.table import create_table

    create_table(stream=False)  # the drainer below is the local stream (see create_table)
    snapshots = None
    if not args.ephemeral:
        snapshots = Snapshots(
            dynamodb, env["TABLE_NAME"], args.data_dir / f"{env['TABLE_NAME']}.jsonl", args.snapshot_interval
        )
        loaded = snapshots.load()
    server = build_server(args.host, args.port)

    print(f"Porchlight is running at {env['PUBLIC_BASE_URL']}  (stage {env['STAGE']})")
    print(f"  embedded DynamoDB: {dynamodb.endpoint}  table {env['TABLE_NAME']}")
    if snapshots is None:
        print("  data:              kept in memory only (--ephemeral): gone when this stops")
    else:
        print(f"  data:              {snapshots.path} ({loaded} items loaded; saved every {args.snapshot_interval:g} s")
        print("                     and on Ctrl-C; delete it, or make clean-data, to start empty)")
    print(f"  admin API key:     {env['ADMIN_API_KEY']}")
    print(f"  local outbox:      {env['PUBLIC_BASE_URL']}/dev/outbox  (messages, when no provider keys are set)")
    print(f"  API description:   {env['PUBLIC_BASE_URL']}/v1/openapi.json")
    if not args.no_seed:
        # The kept table's demo credentials live beside it, so an --ephemeral run in between (which writes its own
        # throwaway retailer to --demo-file) never loses the key to the kept data.
        kept = args.data_dir / "demo.json" if snapshots is not None else None
        demo = seed_demo_retailer(
            kept if kept is not None and kept.exists() else args.demo_file, env["PUBLIC_BASE_URL"]
        )
        credentials = json.dumps({"base_url": env["PUBLIC_BASE_URL"], **demo}, indent=2)
        args.demo_file.write_text(credentials)
        if kept is not None:
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(credentials)
        print(f"  demo retailer:     {demo['retailer_id']}")
        print(f"  demo API key:      {demo['api_key']}")
        print(f"  order lookup page: {env['PUBLIC_BASE_URL']}/track/{demo['retailer_id']}")
        for source, info in demo["integrations"].items():
            print(f"  {source:<9} webhook: {info['webhook_url']}  secret {info['secret']}")
        print(f"  (saved to {args.demo_file}; try: make simulate)")

    stopping = threading.Event()
    drainer = threading.Thread(target=drain_outbox, args=(stopping, args.drain_interval), name="drainer", daemon=True)
    drainer.start()
    saver = None
    if snapshots is not None:
        saver = threading.Thread(target=snapshots.keep_saving, args=(stopping,), name="snapshots", daemon=True)
        saver.start()

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
        if saver is not None:
            saver.join(timeout=60)
        if snapshots is not None:
            snapshots.save()  # after the last request and the last drain: nothing changes any more
            print(f"  data saved to {snapshots.path}", flush=True)
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
