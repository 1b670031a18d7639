"""What every bench module shares: the test environment, an in-memory app with one retailer, signed webhooks, and
the `Report` each module adds its figures to (printed as they are measured, written as JSON by the runner)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
TEST_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "STAGE": "bench",
    "TABLE_NAME": "porchlight-bench",
    "PUBLIC_BASE_URL": "https://track.example.test",
    "ADMIN_API_KEY": "adm_bench_0123456789",
}


@dataclass(frozen=True)
class Figure:
    """One measured figure: its value, the baseline measured beside it, and the budget it must meet (if any)."""

    name: str  # module.figure, stable: the README table and anyone reading the JSON key on it
    label: str  # what it is, for a reader
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    budget: str | None = None  # e.g. "<= 2.25" (on the value) or "ratio <= 1.25"
    ok: bool | None = None  # None when there is no budget
    detail: str = ""  # a short qualifier for the README table


@dataclass
class Report:
    """The figures of one run, in the order they were measured."""

    figures: list[Figure] = field(default_factory=list)

    def add(
        self,
        name: str,
        label: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        ratio: float | None = None,
        at_most: float | None = None,
        at_least: float | None = None,
        on: Literal["value", "ratio"] = "value",
        detail: str = "",
    ) -> Figure:
        budget, ok = None, None
        measured = value if on == "value" else ratio
        if at_most is not None or at_least is not None:
            assert measured is not None, f"{name}: a budget on the {on} needs a {on}"
            limit = at_most if at_most is not None else at_least
            budget = ("ratio " if on == "ratio" else "") + ("<= " if at_most is not None else ">= ") + f"{limit:g}"
            ok = measured <= at_most if at_most is not None else measured >= (at_least or 0.0)
        figure = Figure(name, label, value, unit, baseline, ratio, budget, ok, detail)
        self.figures.append(figure)
        return figure

    def broken(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.ok is False]

    def to_json(self) -> dict[str, Any]:
        return {
            "figures": [asdict(figure) for figure in self.figures],
            "ok": not self.broken(),
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def native_body(n: int, tracking_number: str = "1ZBENCH") -> bytes:
    moment = datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=n)
    status = "shipped" if n % 10 else "out_for_delivery"
    event = {
        "event_id": f"bench-{n}",
        "tracking_number": tracking_number,
        "carrier": "ups",
        "status": status,
        "occurred_at": moment.isoformat(),
        "description": "Arrived at facility",
        "location": {"city": "Oakland", "region": "CA", "country": "US"},
    }
    return json.dumps({"events": [event]}).encode()


def setup_in_memory() -> tuple[Any, dict[str, str]]:
    """App + in-memory moto with one retailer, one registered shipment; returns (client, ids and secret)."""
    from chalice.test import Client

    from app import app
    from chalicelib.store.table import create_table

    create_table()
    client = Client(app, stage_name="bench")  # no stage environment from .chalice/config.json
    created = client.http.post(
        "/v1/admin/retailers",
        headers={"Authorization": f"Bearer {TEST_ENV['ADMIN_API_KEY']}", "Content-Type": "application/json"},
        body='{"name": "Bench"}',
    ).json_body
    auth = {"Authorization": f"Bearer {created['api_key']}", "Content-Type": "application/json"}
    secret = client.http.put("/v1/integrations/native", headers=auth, body="").json_body["secret"]
    shipment = register_shipment(client, auth, "B1", "1ZBENCH", {"name": "B", "phone": "+14155550123"})
    return client, {
        "retailer_id": created["id"],
        "secret": secret,
        "shipment_id": shipment["id"],
        "api_key": created["api_key"],
    }


def post_webhook(client: Any, ids: dict[str, str], raw: bytes) -> None:
    from chalicelib.carriers.native import sign

    response = client.http.post(
        f"/v1/webhooks/native/{ids['retailer_id']}",
        headers={
            "Content-Type": "application/json",
            "X-Porchlight-Signature": sign(ids["secret"], raw, int(time.time())),
        },
        body=raw,
    )
    assert response.status_code == 200, response.body


def register_shipment(
    client: Any,
    auth: dict[str, str],
    order_id: str,
    tracking_number: str,
    customer: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`POST /v1/shipments` for a UPS shipment, as the retailer would; the shipment summary."""
    body = {"order_id": order_id, "carrier": "ups", "tracking_number": tracking_number, "customer": customer}
    body.update(extra or {})
    response = client.http.post("/v1/shipments", headers=auth, body=json.dumps(body))
    assert response.status_code in (200, 201), response.body
    return response.json_body


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB item size: attribute name bytes + value bytes (strings/numbers/booleans as stored here)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        kind, inner = next(iter(value.items()))
        size += len(str(inner).encode()) if kind in ("S", "N") else 1 if kind == "BOOL" else len(json.dumps(inner))
    return size


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


#: The journey every shipment of a load burst is scanned through (one `shipped` twice, as carriers do).
BURST_JOURNEY = ("processed", "shipped", "shipped", "out_for_delivery", "delivered")


def burst_histories(count: int, start: datetime, prefix: str = "1ZLOAD") -> dict[str, list[dict[str, Any]]]:
    """Each burst shipment's whole history, in order: tracking number -> native scans (tests/reliability/test_load.py
    and bench/burst.py post the same)."""
    scans: dict[str, list[dict[str, Any]]] = {}
    for n in range(count):
        tn = f"{prefix}{n:05d}"
        scans[tn] = [
            {
                "event_id": f"{tn}-{i}",
                "tracking_number": tn,
                "carrier": "ups",
                "status": status,
                "occurred_at": (start + timedelta(hours=i * 3 + n % 5)).isoformat(),
            }
            for i, status in enumerate(BURST_JOURNEY)
        ]
    return scans


def burst_bodies(scans: dict[str, list[dict[str, Any]]], count: int, rng: Any) -> list[bytes]:
    """`count` webhook bodies: single scans, duplicates and whole histories in random order, shuffled across
    shipments (`rng` a seeded `random.Random`)."""
    bodies: list[bytes] = []
    while len(bodies) < count:
        tn = rng.choice(list(scans))
        history = scans[tn]
        shape = rng.random()
        if shape < 0.5:
            events = [rng.choice(history)]
        elif shape < 0.8:
            events = rng.sample(history, k=rng.randint(2, len(history)))
        else:
            events = list(reversed(history))
        bodies.append(json.dumps({"events": events}).encode())
    return bodies


def burst_received(scans: dict[str, list[dict[str, Any]]], bodies: list[bytes]) -> dict[str, set[str]]:
    """The event ids each shipment was sent (scans never posted are not expected in its state)."""
    received: dict[str, set[str]] = {tn: set() for tn in scans}
    for raw in bodies:
        for event in json.loads(raw)["events"]:
            received[event["tracking_number"]].add(event["event_id"])
    return received


def serial_fold(tn: str, history: list[dict[str, Any]], received: set[str]) -> Any:
    """The `Progress` a serial, in-order run of the scans received for `tn` ends in."""
    from chalicelib.domain.events import TrackingEvent, fingerprint
    from chalicelib.domain.shipment import Progress, fold

    return fold(
        Progress(),
        [
            TrackingEvent(
                source="native",
                carrier="ups",
                tracking_number=tn,
                status=e["status"],
                occurred_at=datetime.fromisoformat(e["occurred_at"]),
                fingerprint=fingerprint("native", e["event_id"]),
            )
            for e in history
            if e["event_id"] in received
        ],
    )
