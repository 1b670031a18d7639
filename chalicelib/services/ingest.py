"""Carrier webhook ingest: verify, parse, fold, and make state + events + outbox durable in one transaction."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from ..carriers import adapter_for, native
from ..domain import milestones as ms
from ..domain import returns as return_rules
from ..domain import stalls
from ..domain.attempts import read_missed_visit
from ..domain.events import RETAILER_SOURCE, TrackingEvent, clamp_future, fingerprint, iso
from ..domain.generations import generation_for, recycled_by
from ..domain.hooks import DELAY_POSTED, plan_delay_hook, plan_status_hook
from ..domain.notifications import DELAY_COUNTED, Intent, delay_news, plan
from ..domain.promise import lane_label
from ..domain.relay import RELAY_CHANNEL, RELAY_OPEN
from ..domain.shipment import Progress, fold, new_events
from ..errors import Conflict, NotFound, PayloadTooLarge
from ..shared import stats
from ..shared.delivery_changes import apply_answer
from ..shared.links import new_tracking_token
from ..shared.live import record_positions
from ..shared.paging import decode_cursor, encode_cursor
from ..shared.planning import (
    contact_of,
    enabled_channels,
    open_generation,
    pickup_reminders,
    plan_survey,
    shipment_id_for,
    silence_check,
    wants_session,
)
from ..shared.retailer_profile import return_steps_notified, shopper_zone, status_subscriptions
from ..shared.retries import with_retries, write_deadline
from ..shared.shipment_views import detail, owned
from ..shared.signatures import verify_for_retailer
from ..store import ignored as ignored_store
from ..store import live as live_store
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store.shipments import MAX_TRANSACTION_ITEMS, ShipmentRecord

MAX_BODY_BYTES = 1024 * 1024
logger = logging.getLogger("porchlight.ingest")


class IngestResult(Struct, frozen=True):
    accepted: int
    duplicates: int
    #: Why the delivery yielded no scan (each reason a dict: reason, detail, carrier?, tracking_number?).
    ignored: tuple[dict[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The webhook answer: `ignored` and its reasons only when something was (DESIGN 3.1: never silent)."""
        out: dict[str, Any] = {"accepted": self.accepted, "duplicates": self.duplicates}
        if self.ignored:
            out.update(ignored=len(self.ignored), ignored_reasons=list(self.ignored))
        return out


class Webhook(Struct, frozen=True):
    source: str
    retailer_id: str
    raw_body: bytes
    headers: Any
    query: Any


def handle_webhook(webhook: Webhook, now: datetime) -> IngestResult:
    """The whole webhook use case. Checks run cheapest-first and nothing is written before all of them pass."""
    adapter = adapter_for(webhook.source)
    if adapter is None:
        raise NotFound(f"unknown webhook source {webhook.source!r}", field="source", code="unknown_source")
    if len(webhook.raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is larger than {MAX_BODY_BYTES} bytes")
    _verify(adapter, webhook, now)
    # Native scans may carry the driver's position (DESIGN 3.8), checked against our clock like a positions batch.
    raw = webhook.raw_body
    parsed = native.parse_webhook(raw, now) if adapter is native else adapter.parse_webhook(raw)
    if not parsed.events:
        # Accepted (the sender did nothing wrong) but nothing to fold: say so, and keep it where the retailer looks.
        reasons = tuple(item.to_dict() for item in parsed.ignored)
        ignored_store.record(webhook.retailer_id, webhook.source, webhook.raw_body, list(reasons), iso(now))
        return IngestResult(accepted=0, duplicates=0, ignored=reasons)
    result = ingest_events(webhook.retailer_id, [read_missed_visit(event) for event in parsed.events], now)
    if parsed.positions:  # after the scans: a position counts once the parcel is out for delivery
        record_positions(webhook.retailer_id, parsed.positions, now)
    return result


def _verify(adapter: Any, webhook: Webhook, now: datetime) -> None:
    verify_for_retailer(
        adapter.verify, webhook.source, webhook.retailer_id, webhook.raw_body, webhook.headers, webhook.query, now
    )


def subscribed(record: ShipmentRecord) -> frozenset[str] | None:
    """Status webhooks are for shipments the retailer registered (it knows their ids); from the cached profile."""
    return status_subscriptions(retailer_store.get(record.retailer_id)) if record.claimed else None


def ingest_events(retailer_id: str, events: list[TrackingEvent], now: datetime) -> IngestResult:
    by_shipment: dict[tuple[str, str], list[TrackingEvent]] = defaultdict(list)
    for event in clamp_future(events, now):  # a scan dated far ahead must not outrank every real one after it
        by_shipment[(event.carrier, event.tracking_number)].append(event)
    accepted = duplicates = 0
    deadline = write_deadline()  # one budget for the whole webhook, however many parcels it names
    for (carrier, tracking_number), group in by_shipment.items():
        fresh = with_retries(lambda: _route(retailer_id, carrier, tracking_number, group, now), deadline)  # noqa: B023
        accepted += fresh
        duplicates += len(group) - fresh
    return IngestResult(accepted=accepted, duplicates=duplicates)


def ingest_for_shipment(record: ShipmentRecord, events: list[TrackingEvent], now: datetime) -> int:
    """Events the retailer makes for one shipment (cancel, driver) reach it, whatever parcel now has its number."""
    ids = (record.retailer_id, record.carrier, record.tracking_number, record.generation)
    return with_retries(lambda: _apply(*ids, shipment_store.get(record.id), events, now))


def _route(retailer_id: str, carrier: str, tracking_number: str, events: list[TrackingEvent], now: datetime) -> int:
    """Send each scan to its parcel (domain.generations), opening a new one when the number has been recycled.

    A number used once costs one read; a recycled number's later parcels cost one more read each.
    """
    head_id = shipment_id_for(retailer_id, carrier, tracking_number)
    while True:
        head = shipment_store.get(head_id)
        starts = head.generation_starts if head else ()
        groups: dict[int, list[TrackingEvent]] = defaultdict(list)
        for event in events:
            groups[generation_for(iso(event.occurred_at), starts)].append(event)
        records = {0: head}
        for generation in groups:
            if generation:
                records[generation] = shipment_store.get(
                    shipment_id_for(retailer_id, carrier, tracking_number, generation)
                )
        latest = records.get(len(starts))
        opening = recycled_by(latest.progress, groups[len(starts)]) if latest and len(starts) in groups else None
        if opening is None:
            break
        assert head is not None  # a parcel exists, so the first one does
        open_generation(head, iso(opening.occurred_at), now, via="scan")
    return sum(
        _apply(retailer_id, carrier, tracking_number, generation, records[generation], group, now)
        for generation, group in sorted(groups.items())
    )


class Outcome(Struct, frozen=True):
    """Where a delivery of scans leaves a shipment, and what that calls for."""

    after: ShipmentRecord
    intents: list[Intent]
    newly_late: str | None


def _outcome(
    base: ShipmentRecord,
    progress: Progress,
    count: int,
    version: int,
    now: datetime,
    answers: Sequence[dict[str, str]] = (),
    options: dict[str, Any] | None = None,
) -> Outcome:
    retailer_id = base.retailer_id
    after = replace(base, progress=progress, version=version, updated_at=iso(now), event_count=base.event_count + count)
    if options is not None:
        after = replace(after, change_options=options)
    change_notices: list[Intent] = []
    for answer in answers:  # a carrier's answers to delivery changes (D47): an unknown or replayed one does nothing
        _, changes, notices = apply_answer(after, answer["id"], answer["status"], answer.get("note"), "carrier", now)
        after = replace(after, delivery_changes=changes)
        change_notices += notices
    if after.is_return:
        return _return_outcome(base, after)
    intents = plan(
        base.progress,
        progress,
        base.notified,
        contact_of(after),
        enabled=enabled_channels(retailer_id),
        promised_date=after.promised_date,
    )
    if after.claimed and RELAY_OPEN not in after.notified and wants_session(after):
        intents.append(Intent(RELAY_OPEN, RELAY_CHANNEL))
    retailer = retailer_store.get(retailer_id)
    survey = plan_survey(after, retailer, now)
    if survey is not None:
        intents.append(survey)
    silence = silence_check(after, retailer, now)  # once per parcel: scans never move it
    if silence is not None:
        intents.append(silence)
    intents += pickup_reminders(after, retailer, now)  # once per parcel: their kinds join `notified` below
    after = replace(after, notified=after.notified | {intent.kind for intent in intents})
    subscriptions = subscribed(after)
    hook = plan_status_hook(base.progress.status, progress.status, after.version, subscriptions)
    intents += [hook] if hook else []
    news = delay_news(base.progress, progress, after.promised_date)
    if after.claimed and stalls.newly_failed_attempt(base.progress.status, progress.status, after.notified):
        attempt = stalls.marker(stalls.FIRST_ATTEMPT_FAILED)  # once per shipment, like every stall reason (D45)
        after = replace(after, notified=after.notified | {attempt})
        stalled = stalls.plan_hook(stalls.FIRST_ATTEMPT_FAILED, after.version, subscriptions)
        intents += [stalled] if stalled else []
    late = plan_delay_hook(after.version, after.notified, subscriptions)
    if late is not None and news:
        intents.append(late)
        after = replace(after, notified=after.notified | {DELAY_POSTED})
    newly_late = None
    if news and after.claimed and DELAY_COUNTED not in after.notified:
        newly_late = news
        after = replace(after, notified=after.notified | {DELAY_COUNTED})
    return Outcome(after, intents + change_notices, newly_late)


def _return_outcome(base: ShipmentRecord, after: ShipmentRecord) -> Outcome:
    """A shopper's return (D48): its own messages at the steps the retailer enables, and the retailer's status
    webhook; no delivery texts, survey, chat, reminders or lateness (a return has no promise)."""
    retailer = retailer_store.get(after.retailer_id)
    intents = return_rules.plan(
        base.progress.status,
        after.progress.status,
        after.notified,
        contact_of(after),
        return_steps_notified(retailer),
    )
    after = replace(after, notified=after.notified | {intent.kind for intent in intents})
    hook = plan_status_hook(base.progress.status, after.progress.status, after.version, subscribed(after))
    return Outcome(after, [*intents, *([hook] if hook else [])], None)


class Transaction(Struct, frozen=True):
    before: ShipmentRecord | None
    after: ShipmentRecord
    events: list[TrackingEvent]
    intents: list[Intent]


def plan_transactions(
    before: ShipmentRecord | None,
    base: ShipmentRecord,
    fresh: list[TrackingEvent],
    final: ShipmentRecord,
    intents: list[Intent],
) -> list[Transaction]:
    """The writes that take `base` to `final`, each transaction sized from what it holds (the store's count).

    Ordinary webhooks fit in one. A long history goes in several, oldest scans first, each advancing the state by
    one version; the last carries the outbox items, so a retry after a partial write re-plans from what landed
    (the landed scans are `seen`, nothing is written twice) and the notifications still go out once.
    """
    room_last = MAX_TRANSACTION_ITEMS - shipment_store.items_besides_events(before, final, intents)
    room = MAX_TRANSACTION_ITEMS - shipment_store.items_besides_events(before, final, ())
    split = max(len(fresh) - max(room_last, 0), 0)
    chunks = [fresh[i : min(i + room, split)] for i in range(0, split, room)] + [fresh[split:]]
    steps: list[Transaction] = []
    previous, current = before, base
    for index, chunk in enumerate(chunks):
        if index == len(chunks) - 1:
            after = replace(final, version=current.version + 1)
            steps.append(Transaction(previous, after, chunk, intents))
        else:
            after = replace(
                current,
                progress=fold(current.progress, chunk),
                version=current.version + 1,
                updated_at=final.updated_at,
                event_count=current.event_count + len(chunk),
            )
            steps.append(Transaction(previous, after, chunk, []))
        previous = current = after
    return steps


def _apply(
    retailer_id: str,
    carrier: str,
    tracking_number: str,
    generation: int,
    before: ShipmentRecord | None,
    events: list[TrackingEvent],
    now: datetime,
) -> int:
    """One parcel's scans in one transaction (more for long histories: plan_transactions). Returns how many were new."""
    stamp = iso(now)
    if before is None:
        # A scan for a shipment never registered is kept; the retailer's registration claims it later.
        base = ShipmentRecord(
            id=shipment_id_for(retailer_id, carrier, tracking_number, generation),
            retailer_id=retailer_id,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_token=new_tracking_token(),
            created_at=stamp,
            updated_at=stamp,
            generation=generation,
        )
    else:
        base = before
    fresh = new_events(base.progress, events)
    if not fresh:
        return 0
    # Planned for where the whole delivery leaves the shipment; the version it names depends on how many
    # transactions the scans need, which depends on how many items the plan adds (not on the version): plan twice.
    answers = [event.extra["delivery_change"] for event in fresh if event.extra.get("delivery_change")]
    offers = [
        e.extra["delivery_options"]
        for e in sorted(fresh, key=TrackingEvent.sort_key)
        if e.extra.get("delivery_options")
    ]
    options = offers[-1] if offers else None  # the carrier's newest offer of windows and pickup points (D47)
    outcome = _outcome(base, fold(base.progress, fresh), len(fresh), base.version + 1, now, answers, options)
    steps = plan_transactions(before, base, fresh, outcome.after, outcome.intents)
    if len(steps) > 1:
        count = len(steps)
        outcome = _outcome(base, outcome.after.progress, len(fresh), base.version + count, now, answers, options)
        steps = plan_transactions(before, base, fresh, outcome.after, outcome.intents)
        assert len(steps) == count and steps[-1].after.version == outcome.after.version
    for step in steps:
        shipment_store.save(step.before, step.after, step.events, step.intents, now=stamp)
    current = steps[-1].after
    if outcome.newly_late:
        stats.parcel_late(retailer_id, carrier, outcome.newly_late, now)
    before_progress, after_progress = base.progress, current.progress
    if current.is_return:  # counted apart from deliveries (D48): never a delivery, late or on time
        stats.return_progress(retailer_id, carrier, before_progress.status, after_progress.status, now)
        return len(fresh)
    kept = None
    last_mile = _last_mile(base, current)
    if current.claimed:
        zone = shopper_zone(current.customer, retailer_store.get(retailer_id))
        driver_eta = _driver_eta(current, before_progress) if last_mile else None
        arrival = stats.delivery_promise(current.promised_date, before_progress, after_progress, zone, driver_eta)
        if arrival is not None:
            kept = (arrival, current.service, lane_label(current.origin, current.destination))
    stats.progress_changed(
        retailer_id,
        carrier,
        before_progress.status,
        before_progress.status_at,
        after_progress.status,
        after_progress.status_at,
        current.promised_date,
        scans=[(event.status, iso(event.occurred_at)) for event in fresh],
        last_mile=last_mile,
        kept=kept,
    )
    return len(fresh)


def _last_mile(before: ShipmentRecord, after: ShipmentRecord) -> bool:
    """This change is the arrival straight from out for delivery: the driver's own figure (analytics' `driver_eta`)."""
    return before.progress.status == ms.OUT_FOR_DELIVERY and after.progress.status == ms.DELIVERED


def _driver_eta(record: ShipmentRecord, before: Progress) -> dict[str, str] | None:
    """The driver's own arrival window, read once when the parcel arrives (one `GetItem` per delivered parcel):
    only one sent during this run out for delivery (a window from an earlier, failed run was not the one shown)."""
    try:
        position = live_store.get(record.id)
    except Exception:  # a counter's input: it must never fail the webhook whose scans are already written
        logger.exception("last-mile ETA unreadable", extra={"retailer_id": record.retailer_id})
        return None
    if position is None or not position.eta or not before.status_at:
        return None
    return position.eta if position.recorded_at >= datetime.fromisoformat(before.status_at) else None


def list_ignored(retailer_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
    """Webhook deliveries that were accepted but yielded no scan, newest first, with why: one index query."""
    start = decode_cursor(cursor, ignored_store.listing(retailer_id))
    entries, end = ignored_store.page(retailer_id, start, limit)
    listed = [
        {
            "received_at": entry["received_at"],
            "source": entry["source"],
            "reasons": entry.get("reasons") or [],
            "body_sha256": entry.get("body_sha256"),
        }
        for entry in entries
    ]
    return {"ignored": listed, "next_cursor": encode_cursor(end)}


def cancel(retailer_id: str, shipment_id: str, reason: str | None, now: datetime) -> dict[str, Any]:
    """The retailer cancels the order: recorded as a scan, so pending texts become superseded and chat closes.

    Cancelling twice is harmless; a shipment that already arrived or went back cannot be cancelled.
    """
    record = owned(retailer_id, shipment_id)
    status = record.progress.status
    final = {ms.DELIVERED: "arrived", ms.RETURNED: "been returned"}.get(status)
    if final:
        raise Conflict(f"the shipment has already {final}; it cannot be cancelled", field="id", code="not_cancellable")
    if status != ms.CANCELLED:
        event = TrackingEvent(
            source=RETAILER_SOURCE,
            carrier=record.carrier,
            tracking_number=record.tracking_number,
            status=ms.CANCELLED,
            occurred_at=now,
            fingerprint=fingerprint("retailer-cancel", shipment_id, iso(now)),
            description=reason or "Cancelled by the retailer",
        )
        ingest_for_shipment(record, [event], now)
    return detail(retailer_id, shipment_id)


def assign_driver(retailer_id: str, shipment_id: str, driver: dict[str, str], now: datetime) -> dict[str, Any]:
    record = owned(retailer_id, shipment_id)
    event = TrackingEvent(
        source=RETAILER_SOURCE,
        carrier=record.carrier,
        tracking_number=record.tracking_number,
        status=ms.UNKNOWN,
        occurred_at=now,
        fingerprint=fingerprint("retailer-driver", shipment_id, iso(now), driver["phone"]),
        description="Driver assigned",
        driver={"name": driver["name"], "phone": driver["phone"]},
    )
    ingest_for_shipment(record, [event], now)
    return detail(retailer_id, shipment_id)
