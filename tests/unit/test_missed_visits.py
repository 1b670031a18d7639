"""Exception scans that describe a missed visit are failed attempts; other exceptions stay exceptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.domain import milestones as ms
from chalicelib.domain.attempts import read_missed_visit, says_missed_visit
from chalicelib.domain.events import TrackingEvent

CORPUS = json.loads((Path(__file__).parents[1] / "fixtures" / "missed_visits.json").read_text())


@pytest.mark.parametrize("case", CORPUS["missed"], ids=lambda case: case["text"][:40])
def test_carriers_wordings_of_a_missed_visit_are_read_as_one(case: dict) -> None:
    assert says_missed_visit(case["text"])


@pytest.mark.parametrize("case", CORPUS["not_missed"], ids=lambda case: case["text"][:40])
def test_other_exceptions_and_future_attempts_are_not(case: dict) -> None:
    assert not says_missed_visit(case["text"])


def scan(status: str, description: str) -> TrackingEvent:
    return TrackingEvent(
        "native", "fedex", "7946", status, datetime(2026, 11, 20, tzinfo=UTC), "f1", description=description
    )


def test_only_an_exception_scan_changes_and_keeps_everything_else() -> None:
    missed = read_missed_visit(scan(ms.EXCEPTION, "Customer not available or business closed"))
    assert missed.status == ms.ATTEMPT_FAILED and missed.fingerprint == "f1"
    assert missed.description == "Customer not available or business closed"
    for status in (ms.OUT_FOR_DELIVERY, ms.DELIVERED, ms.UNKNOWN):
        assert read_missed_visit(scan(status, "Customer not available")).status == status
    assert read_missed_visit(scan(ms.EXCEPTION, "Package damaged")).status == ms.EXCEPTION
