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


def test_misses_refuse_per_address_per_contact_and_per_busy_store_whatever_is_typed() -> None:
    from chalicelib.domain.lookup import CLIENT, CONTACT, RETAILER, LookupLimits, refused_by

    limits = LookupLimits(per_client=20, per_contact=10, per_retailer=500, per_client_while_retailer_busy=3)
    assert refused_by({}, limits) is None
    assert refused_by({CLIENT: 19, CONTACT: 9, RETAILER: 499}, limits) is None
    assert refused_by({CLIENT: 20}, limits) == CLIENT
    assert refused_by({CONTACT: 10}, limits) == CONTACT
    assert refused_by({CLIENT: 2, RETAILER: 10_000}, limits) is None  # a fresh address still gets its first tries
    assert refused_by({CLIENT: 3, RETAILER: 500}, limits) == RETAILER
    assert refused_by({CLIENT: 3, RETAILER: 499}, limits) is None


def test_misses_are_counted_per_utc_hour_and_a_refusal_says_when_the_hour_ends() -> None:
    from datetime import UTC, datetime

    from chalicelib.domain.lookup import retry_after, window

    assert window(datetime(2026, 11, 23, 9, 59, 59, tzinfo=UTC)) == "2026-11-23T09"
    assert retry_after(datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)) == 3600
    assert retry_after(datetime(2026, 11, 23, 9, 45, 30, tzinfo=UTC)) == 870
    assert retry_after(datetime(2026, 11, 23, 9, 59, 59, 900_000, tzinfo=UTC)) == 1


def test_a_client_is_its_ipv4_address_or_its_ipv6_64_hashed() -> None:
    from chalicelib.domain.lookup import client_scope

    assert client_scope("198.51.100.7") == client_scope("::ffff:198.51.100.7") != client_scope("198.51.100.8")
    assert client_scope("2001:db8:1:2::10") == client_scope("2001:db8:1:2:ffff::1") != client_scope("2001:db8:1:3::1")
    assert "198" not in client_scope("198.51.100.7") and len(client_scope("198.51.100.7")) == 32
    assert client_scope("") == client_scope("not an address")
