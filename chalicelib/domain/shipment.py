"""Folding scans into a shipment's progress (DESIGN 3.1).

The progress keeps, for each derived field, the ordering key of the event that set it. Folding is therefore a
running maximum: the result depends only on the set of events, never on the order or number of deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace

from . import milestones as ms
from .events import TrackingEvent, iso

EventKey = tuple[str, int, str]


def _status_key(event: TrackingEvent) -> EventKey:
    return (iso(event.occurred_at), ms.PROGRESS_RANK.get(event.status, -1), event.fingerprint)


def _time_key(event: TrackingEvent) -> EventKey:
    return (iso(event.occurred_at), 0, event.fingerprint)


class Progress(Struct, frozen=True):
    status: str = ms.PENDING
    status_key: EventKey | None = None
    latest_key: EventKey | None = None
    latest_delayed: bool = False
    eta: dict[str, str] | None = None
    eta_key: EventKey | None = None
    driver: dict[str, str] | None = None
    driver_key: EventKey | None = None
    proof_of_delivery: dict[str, str] | None = None
    pod_key: EventKey | None = None
    #: The newest pickup point facts a carrier sent (domain.pickup), code included: never shown as they are.
    pickup: dict[str, Any] | None = None
    pickup_key: EventKey | None = None
    seen: frozenset[str] = field(default_factory=frozenset)

    @property
    def status_at(self) -> str | None:
        return self.status_key[0] if self.status_key else None

    @property
    def last_event_at(self) -> str | None:
        return self.latest_key[0] if self.latest_key else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_key": list(self.status_key) if self.status_key else None,
            "latest_key": list(self.latest_key) if self.latest_key else None,
            "latest_delayed": self.latest_delayed,
            "eta": self.eta,
            "eta_key": list(self.eta_key) if self.eta_key else None,
            "driver": self.driver,
            "driver_key": list(self.driver_key) if self.driver_key else None,
            "proof_of_delivery": self.proof_of_delivery,
            "pod_key": list(self.pod_key) if self.pod_key else None,
            **({"pickup": self.pickup, "pickup_key": list(self.pickup_key)} if self.pickup and self.pickup_key else {}),
            "seen": sorted(self.seen),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Progress:
        if not data:
            return cls()

        def key(name: str) -> EventKey | None:
            value = data.get(name)
            return (str(value[0]), int(value[1]), str(value[2])) if value else None

        return cls(
            status=data.get("status", ms.PENDING),
            status_key=key("status_key"),
            latest_key=key("latest_key"),
            latest_delayed=bool(data.get("latest_delayed")),
            eta=data.get("eta"),
            eta_key=key("eta_key"),
            driver=data.get("driver"),
            driver_key=key("driver_key"),
            proof_of_delivery=data.get("proof_of_delivery"),
            pod_key=key("pod_key"),
            pickup=data.get("pickup"),
            pickup_key=key("pickup_key"),
            seen=frozenset(data.get("seen", ())),
        )


def new_events(progress: Progress, events: Iterable[TrackingEvent]) -> list[TrackingEvent]:
    """The events not folded before, each once (a history may repeat a scan inside one delivery)."""
    fresh: dict[str, TrackingEvent] = {}
    for event in events:
        if event.fingerprint not in progress.seen and event.fingerprint not in fresh:
            fresh[event.fingerprint] = event
    return sorted(fresh.values(), key=TrackingEvent.sort_key)


def fold(progress: Progress, events: Iterable[TrackingEvent]) -> Progress:
    """Apply scans to a progress. `unknown` scans join the timeline but never set the status."""
    state = progress
    for event in events:
        if event.fingerprint in state.seen:
            continue
        changes: dict[str, Any] = {"seen": state.seen | {event.fingerprint}}
        time_key = _time_key(event)
        if state.latest_key is None or time_key > state.latest_key:
            changes["latest_key"] = time_key
            changes["latest_delayed"] = event.delayed
        if event.status in ms.MILESTONES:
            status_key = _status_key(event)
            if state.status_key is None or status_key > state.status_key:
                changes["status"] = event.status
                changes["status_key"] = status_key
        if event.eta and (state.eta_key is None or time_key > state.eta_key):
            changes["eta"] = event.eta
            changes["eta_key"] = time_key
        if event.driver and (state.driver_key is None or time_key > state.driver_key):
            changes["driver"] = event.driver
            changes["driver_key"] = time_key
        if event.proof_of_delivery and (state.pod_key is None or time_key > state.pod_key):
            changes["proof_of_delivery"] = event.proof_of_delivery
            changes["pod_key"] = time_key
        if event.pickup and (state.pickup_key is None or time_key > state.pickup_key):
            changes["pickup"] = event.pickup
            changes["pickup_key"] = time_key
        state = replace(state, **changes)
    return state
