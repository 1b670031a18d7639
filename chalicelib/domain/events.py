"""The normalised tracking event every carrier adapter produces."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from msgspec import Struct, field
from msgspec.structs import asdict, replace

from .milestones import UNKNOWN

#: How far past the moment we receive it a scan may be dated (carrier clocks drift, batches arrive late). A scan
#: dated later than that is recorded at its receipt time, with the carrier's time kept in `reported_at`: a year-ahead
#: `exception` would otherwise outrank every real scan after it and freeze the shipment (docs/decisions.md D29).
FUTURE_TOLERANCE = timedelta(minutes=15)


class Location(Struct, frozen=True):
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Location | None:
        if not data:
            return None
        return cls(**{k: data.get(k) for k in ("city", "region", "postal_code", "country")})


class TrackingEvent(Struct, frozen=True):
    """One carrier scan, in our vocabulary. `fingerprint` identifies it across replays and full histories."""

    source: str
    carrier: str
    tracking_number: str
    status: str
    occurred_at: datetime
    fingerprint: str
    carrier_status: str = ""
    description: str = ""
    location: Location | None = None
    delayed: bool = False
    #: The carrier gave a wall-clock time with no offset; it was read as UTC (see docs/decisions.md).
    time_zone_unknown: bool = False
    eta: dict[str, str] | None = None
    driver: dict[str, str] | None = None
    proof_of_delivery: dict[str, str] | None = None
    #: Where the parcel waits for collection (domain.pickup.FIELDS, plus `address_public`), when the carrier says.
    pickup: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The time the carrier gave, when it lay beyond FUTURE_TOLERANCE and `occurred_at` is our receipt time instead.
    reported_at: str | None = None

    def sort_key(self) -> tuple[str, str]:
        return (iso(self.occurred_at), self.fingerprint)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "status": self.status,
            "occurred_at": iso(self.occurred_at),
            "fingerprint": self.fingerprint,
            "carrier_status": self.carrier_status,
            "description": self.description,
            "delayed": self.delayed,
            "time_zone_unknown": self.time_zone_unknown,
        }
        if self.reported_at:
            out["reported_at"] = self.reported_at
        if self.location and self.location.to_dict():
            out["location"] = self.location.to_dict()
        for name in ("eta", "driver", "proof_of_delivery", "pickup"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackingEvent:
        return cls(
            source=data["source"],
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            status=data["status"],
            occurred_at=parse_iso(data["occurred_at"]),
            fingerprint=data["fingerprint"],
            carrier_status=data.get("carrier_status", ""),
            description=data.get("description", ""),
            location=Location.from_dict(data.get("location")),
            delayed=bool(data.get("delayed")),
            time_zone_unknown=bool(data.get("time_zone_unknown")),
            eta=data.get("eta"),
            driver=data.get("driver"),
            proof_of_delivery=data.get("proof_of_delivery"),
            pickup=data.get("pickup"),
            reported_at=data.get("reported_at"),
        )


#: Events the retailer makes itself (a cancellation, a driver assignment) rather than a carrier.
RETAILER_SOURCE = "retailer"


def is_news_for_shopper(event: TrackingEvent) -> bool:
    """Whether the event belongs in the shopper's history. A driver assignment is stored as an event (so that the
    driver, like everything else, is the fold of the events) but says nothing about where the parcel is: it carries
    no status of its own, unlike a carrier's scan or the retailer's cancellation."""
    return not (event.source == RETAILER_SOURCE and event.status == UNKNOWN)


def clamp_future(events: Iterable[TrackingEvent], received_at: datetime) -> list[TrackingEvent]:
    """Scans dated more than FUTURE_TOLERANCE after `received_at` are recorded at `received_at`, flagged with the
    time the carrier gave. Their fingerprint is unchanged, so a replay is still recognised."""
    limit = received_at + FUTURE_TOLERANCE
    return [
        replace(event, occurred_at=received_at.astimezone(UTC), reported_at=iso(event.occurred_at))
        if event.occurred_at > limit
        else event
        for event in events
    ]


def iso(moment: datetime) -> str:
    """Canonical UTC text for a moment: sortable, second precision kept, always with +00:00."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def normalise_carrier(carrier: str) -> str:
    """One spelling per carrier across sources: 'FedEx', 'fedex', 'dhl-ecommerce', 'DHLeCommerce' line up."""
    return "".join(ch for ch in carrier.lower() if ch.isalnum())


def normalise_tracking_number(tracking_number: str) -> str:
    return "".join(tracking_number.split()).upper()


def fingerprint(*parts: object) -> str:
    """A short stable id for a scan built from the fields a carrier does not rewrite between deliveries."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]  # 64 bits: no collision within a shipment
