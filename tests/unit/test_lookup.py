"""Order lookup matching: order numbers and contacts as shoppers type them, digests that hold nothing personal."""

from __future__ import annotations

from chalicelib.domain.lookup import contact_digests, matches, normalise_order_id, typed_contact_digest


def test_order_numbers_match_whatever_the_case_spacing_or_punctuation() -> None:
    assert {normalise_order_id(typed) for typed in ("ORD-1001", "ord 1001", "#ORD1001", " Ord-1001 ")} == {"ORD1001"}
    assert normalise_order_id("#1001") == normalise_order_id("1001") != normalise_order_id("10011")


def test_a_typed_email_or_phone_matches_the_registered_one_in_any_spelling() -> None:
    registered = contact_digests("rt_1", "maria@example.com", "+14155550123")
    for typed in ("Maria@Example.com", "  maria@example.com ", "(415) 555-0123", "+1 415-555-0123", "4155550123"):
        assert matches(typed_contact_digest("rt_1", typed), registered), typed
    for typed in ("mario@example.com", "(415) 555-0124", "5550123", ""):
        assert not matches(typed_contact_digest("rt_1", typed), registered), typed


def test_digests_are_per_store_and_hold_no_contact_text() -> None:
    first, second = contact_digests("rt_1", "a@example.com", None), contact_digests("rt_2", "a@example.com", None)
    assert first and second and first.isdisjoint(second)
    assert not any("example" in digest for digest in first)
    assert contact_digests("rt_1", None, "12345") == frozenset()  # too short to tell people apart
