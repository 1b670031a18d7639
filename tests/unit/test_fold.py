"""The pure fold and notification planner: order- and replay-independent, unknown never wins, once per kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain import milestones as ms
from chalicelib.domain.events import TrackingEvent, fingerprint
from chalicelib.domain.notifications import Contact, Intent, plan, plan_on_claim
from chalicelib.domain.shipment import Progress, fold, new_events

BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
STATUSES = sorted(ms.SCAN_STATUSES)


def event(n: int, status: str, minutes: int, **extra: object) -> TrackingEvent:
    return TrackingEvent(
        source="native",
        carrier="ups",
        tracking_number="1Z",
        status=status,
        occurred_at=BASE + timedelta(minutes=minutes),
        fingerprint=fingerprint("native", n),
        **extra,  # type: ignore[arg-type]
    )


events_strategy = st.lists(
    st.tuples(st.sampled_from(STATUSES), st.integers(0, 3000), st.booleans()), min_size=1, max_size=25
).map(lambda rows: [event(i, status, minutes, delayed=delayed) for i, (status, minutes, delayed) in enumerate(rows)])


@settings(max_examples=200, deadline=None)
@given(events_strategy, st.randoms(use_true_random=False), st.integers(1, 4))
def test_fold_depends_only_on_the_set_of_events(events: list[TrackingEvent], rnd, splits: int) -> None:
    reference = fold(Progress(), sorted(events, key=TrackingEvent.sort_key))
    shuffled = list(events) * 2  # every event delivered twice
    rnd.shuffle(shuffled)
    progress = Progress()
    size = max(1, len(shuffled) // splits)
    for start in range(0, len(shuffled), size):
        progress = fold(progress, shuffled[start : start + size])
    assert progress == reference


@settings(max_examples=200, deadline=None)
@given(events_strategy)
def test_status_is_the_latest_known_milestone(events: list[TrackingEvent]) -> None:
    progress = fold(Progress(), events)
    known = [e for e in events if e.status != ms.UNKNOWN]
    if not known:
        assert progress.status == ms.PENDING
    else:
        latest = max(e.occurred_at for e in known)
        assert progress.status in {e.status for e in known if e.occurred_at == latest}


def test_unknown_scan_after_a_milestone_does_not_change_it() -> None:
    progress = fold(Progress(), [event(1, ms.SHIPPED, 0), event(2, ms.UNKNOWN, 60)])
    assert progress.status == ms.SHIPPED
    assert progress.last_event_at == "2026-11-20T09:00:00+00:00"


def test_same_instant_ties_go_to_the_further_milestone() -> None:
    for order in (
        [event(1, ms.OUT_FOR_DELIVERY, 5), event(2, ms.DELIVERED, 5)],
        [event(2, ms.DELIVERED, 5), event(1, ms.OUT_FOR_DELIVERY, 5)],
    ):
        assert fold(Progress(), order).status == ms.DELIVERED


def test_delivered_stays_unless_a_later_event_says_otherwise() -> None:
    delivered = fold(Progress(), [event(1, ms.DELIVERED, 100)])
    assert fold(delivered, [event(2, ms.OUT_FOR_DELIVERY, 50)]).status == ms.DELIVERED
    assert fold(delivered, [event(3, ms.RETURNED, 500)]).status == ms.RETURNED


def test_new_events_drops_seen_and_repeated_scans() -> None:
    progress = fold(Progress(), [event(1, ms.SHIPPED, 0)])
    fresh = new_events(progress, [event(1, ms.SHIPPED, 0), event(2, ms.DELIVERED, 9), event(2, ms.DELIVERED, 9)])
    assert [e.fingerprint for e in fresh] == [fingerprint("native", 2)]


def test_progress_survives_a_round_trip_through_json() -> None:
    progress = fold(Progress(), [event(1, ms.OUT_FOR_DELIVERY, 0, driver={"name": "Sam"}, eta={"end": "x"})])
    assert Progress.from_dict(progress.to_dict()) == progress


CONTACT = Contact(phone="+14155550123", email="a@example.com")


def test_plan_notifies_the_new_current_milestone_on_every_channel() -> None:
    before = fold(Progress(), [event(1, ms.SHIPPED, 0)])
    after = fold(before, [event(2, ms.OUT_FOR_DELIVERY, 10)])
    assert plan(before, after, frozenset({ms.SHIPPED}), CONTACT) == [
        Intent(ms.OUT_FOR_DELIVERY, "sms"),
        Intent(ms.OUT_FOR_DELIVERY, "email"),
    ]


def test_plan_never_repeats_a_kind_and_ignores_unclaimed_shipments() -> None:
    before = fold(Progress(), [event(1, ms.SHIPPED, 0)])
    after = fold(before, [event(2, ms.OUT_FOR_DELIVERY, 10)])
    assert plan(before, after, frozenset({ms.OUT_FOR_DELIVERY}), CONTACT) == []
    assert plan(before, after, frozenset(), None) == []


def test_plan_does_not_notify_pending_cancelled_or_a_superseded_scan() -> None:
    delivered = fold(Progress(), [event(1, ms.DELIVERED, 100)])
    late = fold(delivered, [event(2, ms.OUT_FOR_DELIVERY, 10)])
    assert plan(delivered, late, frozenset({ms.DELIVERED}), CONTACT) == []
    cancelled = fold(Progress(), [event(3, ms.CANCELLED, 0)])
    assert plan(Progress(), cancelled, frozenset(), CONTACT) == []


def test_a_new_delay_notifies_once_unless_already_terminal() -> None:
    shipped = fold(Progress(), [event(1, ms.SHIPPED, 0)])
    delayed = fold(shipped, [event(2, ms.UNKNOWN, 30, delayed=True)])
    assert plan(shipped, delayed, frozenset({ms.SHIPPED}), Contact(email="a@example.com")) == [
        Intent(ms.DELAYED, "email")
    ]
    assert plan(shipped, delayed, frozenset({ms.SHIPPED, ms.DELAYED}), CONTACT) == []
    old_delay = fold(delayed, [event(3, ms.DELIVERED, 90)])
    assert plan(delayed, old_delay, frozenset({ms.SHIPPED, ms.DELAYED}), CONTACT) == [
        Intent(ms.DELIVERED, "sms"),
        Intent(ms.DELIVERED, "email"),
    ]


def test_claim_notifies_the_current_milestone_only() -> None:
    progress = fold(Progress(), [event(1, ms.PROCESSED, 0), event(2, ms.SHIPPED, 10)])
    assert plan_on_claim(progress, frozenset(), Contact(phone="+1415")) == [Intent(ms.SHIPPED, "sms")]
    assert plan_on_claim(Progress(), frozenset(), CONTACT) == []
