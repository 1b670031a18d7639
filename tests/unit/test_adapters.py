"""Every adapter either returns events or raises its typed validation error, whatever it is fed."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.carriers import ADAPTERS, aftership, easypost, native, shippo
from chalicelib.carriers.base import AdapterValidationError
from chalicelib.domain import milestones as ms
from chalicelib.domain.events import TrackingEvent
from chalicelib.errors import InvalidSignature
from tests.payloads import aftership_tracking_update, easypost_tracker_event, native_event, shippo_track_updated

SCANS = [
    ("pre_transit", "label_created", "2026-11-20T08:00:00Z", "Label", "OAKLAND"),
    ("in_transit", "arrived_at_facility", "2026-11-20T20:00:00+01:00", "Hub", ""),
]
VALID: dict[str, dict[str, Any]] = {
    "native": {"events": [native_event("e1", "shipped", "2026-11-20T09:00:00+00:00", location={"city": "Oakland"})]},
    "easypost": easypost_tracker_event(SCANS),
    "aftership": aftership_tracking_update(
        [("InTransit", "InTransit_001", "2026-11-20T08:00:00", "Picked up", "Oakland")]
    ),
    "shippo": shippo_track_updated([("TRANSIT", "package_accepted", "2026-11-20T08:00:00Z", "Accepted", "Reno")]),
}

TRICKY = st.sampled_from(
    [
        "2026-11-20T08:00:00Z",
        "2026-11-20",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "",
        " ",
        "delivered",
        "DELIVERED",
        "Delivered_001",
        "tracker.updated",
        "track_updated",
        "tracking_update",
        "\u0000",
    ]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | TRICKY
    | st.datetimes(timezones=st.timezones() | st.none()).map(lambda moment: moment.isoformat()),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)


def parse_or_typed_error(source: str, raw: bytes) -> None:
    try:
        events = ADAPTERS[source].parse(raw)
    except AdapterValidationError as error:
        assert error.field and error.message
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, TrackingEvent)
        assert event.status in ms.SCAN_STATUSES
        assert event.occurred_at.tzinfo is not None
        json.dumps(event.to_dict())  # storable


@pytest.mark.parametrize("source", sorted(ADAPTERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=200))
def test_random_bytes(source: str, raw: bytes) -> None:
    parse_or_typed_error(source, raw)


@pytest.mark.parametrize("source", sorted(ADAPTERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values)
def test_random_json(source: str, value: Any) -> None:
    parse_or_typed_error(source, json.dumps(value).encode())


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def mutate(document: Any, path: tuple, replacement: Any, delete: bool) -> Any:
    copy = json.loads(json.dumps(document))
    if not path:
        return replacement
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return copy


@pytest.mark.parametrize("source", sorted(ADAPTERS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_valid_payloads(source: str, data: st.DataObject) -> None:
    document = VALID[source]
    path = data.draw(st.sampled_from(paths(document)))
    replacement = data.draw(json_values)
    mutated = mutate(document, path, replacement, data.draw(st.booleans()))
    parse_or_typed_error(source, json.dumps(mutated).encode())


@pytest.mark.parametrize("source", sorted(ADAPTERS))
def test_valid_fixtures_parse(source: str) -> None:
    events = ADAPTERS[source].parse(json.dumps(VALID[source]).encode())
    assert events and all(e.status != ms.UNKNOWN for e in events)


def test_native_signature_round_trip_tolerance_and_rotation() -> None:
    raw, now = b'{"events": []}', int(time.time())
    native.verify(
        raw, {"x-porchlight-signature": native.sign("s3cret-s3cret-s3cret", raw, now)}, {}, "s3cret-s3cret-s3cret", now
    )
    rotated = (
        native.sign("old-secret-old-secret", raw, now)
        + ","
        + native.sign("s3cret-s3cret-s3cret", raw, now).split(",")[1]
    )
    native.verify(raw, {"X-Porchlight-Signature": rotated}, {}, "s3cret-s3cret-s3cret", now)
    with pytest.raises(InvalidSignature, match="tolerance"):
        native.verify(raw, {"X-Porchlight-Signature": native.sign("k" * 16, raw, now - 301)}, {}, "k" * 16, now)
    native.verify(raw, {"X-Porchlight-Signature": native.sign("k" * 16, raw, now - 300)}, {}, "k" * 16, now)
    with pytest.raises(InvalidSignature, match="tolerance"):
        native.verify(raw, {"X-Porchlight-Signature": native.sign("k" * 16, raw, now + 301)}, {}, "k" * 16, now)
    native.verify(raw, {"X-Porchlight-Signature": native.sign("k" * 16, raw, now + 300)}, {}, "k" * 16, now)


def test_easypost_signature_matches_an_independent_hmac_of_the_nfkd_secret() -> None:
    import hashlib
    import hmac
    import unicodedata

    raw = json.dumps(VALID["easypost"]).encode()
    for secret in ("sécret", "se\u0301cret", "ｆｕｌｌｗｉｄｔｈ"):
        expected = hmac.new(unicodedata.normalize("NFKD", secret).encode(), raw, hashlib.sha256).hexdigest()
        assert easypost.sign(secret, raw) == f"hmac-sha256-hex={expected}"
    assert easypost.sign("sécret", raw) == easypost.sign("se\u0301cret", raw)


def test_aftership_signature_is_base64_of_the_hmac_digest() -> None:
    import base64
    import hashlib
    import hmac

    raw = b'{"event":"tracking_update"}'
    expected = base64.b64encode(hmac.new(b"secret", raw, hashlib.sha256).digest()).decode()
    assert aftership.sign("secret", raw) == expected
    aftership.verify(raw, {"AFTERSHIP-HMAC-SHA256": expected}, {}, "secret", 0)
    with pytest.raises(InvalidSignature):
        aftership.verify(raw, {"aftership-hmac-sha256": expected[:-2] + "=="}, {}, "secret", 0)


def test_shippo_token_compare() -> None:
    shippo.verify(b"{}", {}, {"token": "tok_abcdefghijklmnop"}, "tok_abcdefghijklmnop", 0)
    with pytest.raises(InvalidSignature):
        shippo.verify(b"{}", {}, {"token": "tok_abcdefghijklmnoq"}, "tok_abcdefghijklmnop", 0)


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        ("pre_transit", "label_created", ms.PROCESSED),
        ("in_transit", "arrived_at_facility", ms.SHIPPED),
        ("out_for_delivery", "out_for_delivery", ms.OUT_FOR_DELIVERY),
        ("delivered", "arrived_at_destination", ms.DELIVERED),
        ("available_for_pickup", "arrived_at_pickup_location", ms.AVAILABLE_FOR_PICKUP),
        ("in_transit", "arrived_at_pickup_location", ms.AVAILABLE_FOR_PICKUP),
        ("return_to_sender", "return", ms.RETURNED),
        ("failure", "attempted_delivery", ms.ATTEMPT_FAILED),
        ("failure", "lost", ms.EXCEPTION),
        ("cancelled", "cancelled", ms.CANCELLED),
        ("unknown", "status_update", ms.UNKNOWN),
        ("brand_new_status", "", ms.UNKNOWN),
    ],
)
def test_easypost_vocabulary(status: str, detail: str, expected: str) -> None:
    assert easypost.map_status(status, detail) == expected


@pytest.mark.parametrize(
    ("tag", "subtag", "rts", "expected"),
    [
        ("InfoReceived", "InfoReceived_001", False, (ms.PROCESSED, False)),
        ("InTransit", "InTransit_007", False, (ms.SHIPPED, False)),
        ("OutForDelivery", "OutForDelivery_001", False, (ms.OUT_FOR_DELIVERY, False)),
        ("OutForDelivery", "OutForDelivery_003", False, (ms.AVAILABLE_FOR_PICKUP, False)),
        ("AttemptFail", "AttemptFail_002", False, (ms.ATTEMPT_FAILED, False)),
        ("AvailableForPickup", "AvailableForPickup_001", False, (ms.AVAILABLE_FOR_PICKUP, False)),
        ("Delivered", "Delivered_003", False, (ms.DELIVERED, False)),
        ("Delivered", "Delivered_001", True, (ms.RETURNED, False)),
        ("Exception", "Exception_010", True, (ms.EXCEPTION, False)),
        ("Exception", "Exception_011", True, (ms.RETURNED, False)),
        ("Exception", "Exception_004", False, (ms.UNKNOWN, True)),
        ("Exception", "Exception_013", False, (ms.EXCEPTION, False)),
        ("Pending", "Pending_001", False, (ms.UNKNOWN, False)),
        ("Expired", "Expired_001", False, (ms.UNKNOWN, False)),
    ],
)
def test_aftership_vocabulary(tag: str, subtag: str, rts: bool, expected: tuple[str, bool]) -> None:
    assert aftership.map_tag(tag, subtag, rts) == expected


@pytest.mark.parametrize(
    ("status", "substatus", "expected"),
    [
        ("PRE_TRANSIT", "information_received", (ms.PROCESSED, False)),
        ("TRANSIT", "package_departed", (ms.SHIPPED, False)),
        ("TRANSIT", "out_for_delivery", (ms.OUT_FOR_DELIVERY, False)),
        ("TRANSIT", "pickup_available", (ms.AVAILABLE_FOR_PICKUP, False)),
        ("TRANSIT", "delivery_attempted", (ms.ATTEMPT_FAILED, False)),
        ("TRANSIT", "delayed", (ms.UNKNOWN, True)),
        ("FAILURE", "package_lost", (ms.EXCEPTION, False)),
        ("FAILURE", "delivery_attempted", (ms.ATTEMPT_FAILED, False)),
        ("DELIVERED", "delivered", (ms.DELIVERED, False)),
        ("RETURNED", "return_to_sender", (ms.RETURNED, False)),
        ("UNKNOWN", "other", (ms.UNKNOWN, False)),
    ],
)
def test_shippo_vocabulary(status: str, substatus: str, expected: tuple[str, bool]) -> None:
    assert shippo.map_status(status, substatus) == expected


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1900-01-01T00:00:00Z"])
def test_extreme_timestamps_are_validation_errors_not_crashes(moment: str) -> None:
    body = {"events": [native_event("e1", "shipped", moment)]}
    with pytest.raises(AdapterValidationError) as error:
        native.parse(json.dumps(body).encode())
    assert error.value.field == "events[0].occurred_at"
    document = mutate(VALID["shippo"], ("data", "tracking_history", 0, "status_date"), moment, False)
    with pytest.raises(AdapterValidationError):
        shippo.parse(json.dumps(document).encode())


AFTERSHIP_TAGS = st.sampled_from(
    [
        ("InfoReceived", "InfoReceived_001"),
        ("InTransit", "InTransit_002"),
        ("OutForDelivery", "OutForDelivery_001"),
        ("Delivered", "Delivered_001"),
        ("Exception", "Exception_005"),
        ("Pending", "Pending_001"),
    ]
)


def aftership_update(draw: st.DrawFn) -> bytes:
    """An AfterShip delivery: a subset of one history, its tag possibly ahead of (or without) the checkpoints."""
    history = [
        ("InfoReceived", "InfoReceived_001", "2026-11-20T08:00:00+00:00", "Info", ""),
        ("InTransit", "InTransit_002", "2026-11-20T19:00:00+00:00", "Picked up", "OAKLAND"),
        ("OutForDelivery", "OutForDelivery_001", "2026-11-22T07:00:00+00:00", "On the van", "BERKELEY"),
        ("Delivered", "Delivered_001", "2026-11-22T11:00:00+00:00", "Delivered", "BERKELEY"),
    ]
    scans = [scan for scan in history if draw(st.booleans())]
    tag, subtag = draw(AFTERSHIP_TAGS)
    body = aftership_tracking_update(scans)
    body["msg"].update(tag=tag, subtag=subtag, updated_at=f"2026-11-2{draw(st.integers(0, 4))}T12:00:00+00:00")
    return json.dumps(body).encode()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.composite(aftership_update)(), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_tracking_level_statuses_fold_the_same_whatever_the_order_and_replays(deliveries: list[bytes], rnd) -> None:
    from chalicelib.domain.shipment import Progress, fold

    parsed = [aftership.parse(raw) for raw in deliveries]
    assert parsed == [aftership.parse(raw) for raw in deliveries]  # same delivery, same events (ids included)
    reference = Progress()
    for events in parsed:
        reference = fold(reference, events)
    replayed = [*parsed, *parsed]
    rnd.shuffle(replayed)
    progress = Progress()
    for events in replayed:
        progress = fold(progress, events)
    assert progress == reference
    # A tag that names a milestone the checkpoints do not is never lost: it is one of the events folded.
    for raw, events in zip(deliveries, parsed, strict=True):
        msg = json.loads(raw)["msg"]
        status, delayed = aftership.map_tag(msg["tag"], msg["subtag"], False)
        if status in ms.MILESTONES:
            assert any(e.status == status and e.delayed == delayed for e in events)
    # A lagging tag never outranks a real scan another delivery brings: once any delivery holds the delivered
    # scan, the shipment ends delivered (unless a delivery with no scans at all is stamped later than it).
    delivered_at = "2026-11-22T11:00:00+00:00"
    later_without_scans = any(
        not json.loads(raw)["msg"]["checkpoints"] and json.loads(raw)["msg"]["updated_at"] > delivered_at
        for raw in deliveries
    )
    holds_delivered_scan = any(
        checkpoint["tag"] == "Delivered" for raw in deliveries for checkpoint in json.loads(raw)["msg"]["checkpoints"]
    )
    if holds_delivered_scan and not later_without_scans:
        assert progress.status == ms.DELIVERED


@pytest.mark.parametrize("delivered_first", [False, True])
def test_a_lagging_out_for_delivery_tag_does_not_outrank_a_later_delivered_scan(delivered_first: bool) -> None:
    from chalicelib.domain.shipment import Progress, fold

    in_transit = ("InTransit", "InTransit_002", "2026-11-22T10:00:00+00:00", "In transit", "OAKLAND")
    delivered = ("Delivered", "Delivered_001", "2026-11-22T11:00:00+00:00", "Delivered", "BERKELEY")
    lagging = aftership_tracking_update([in_transit])
    lagging["msg"].update(tag="OutForDelivery", subtag="OutForDelivery_001", updated_at="2026-11-22T12:00:00+00:00")
    current = aftership_tracking_update([in_transit, delivered])
    current["msg"].update(updated_at="2026-11-22T12:05:00+00:00")
    summary = [e for e in aftership.parse(json.dumps(lagging).encode()) if e.status == ms.OUT_FOR_DELIVERY]
    assert [e.occurred_at.isoformat() for e in summary] == ["2026-11-22T10:00:00+00:00"]  # the newest scan's time
    deliveries = [lagging, current][::-1] if delivered_first else [lagging, current]
    progress = Progress()
    for body in deliveries:
        progress = fold(progress, aftership.parse(json.dumps(body).encode()))
    assert progress.status == ms.DELIVERED


def test_a_tag_that_says_nothing_and_no_checkpoints_is_ignored_with_the_reason() -> None:
    parsed = aftership.parse_webhook(json.dumps(aftership_tracking_update([])).encode())
    assert parsed.events == []
    assert [item.to_dict() for item in parsed.ignored] == [
        {"reason": "no_scans", "detail": "tag Pending", "carrier": "fedex", "tracking_number": "794644790132"}
    ]
