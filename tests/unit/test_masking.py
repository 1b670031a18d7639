"""domain.masking: contact details in the notification log are recognisable but not readable."""

from __future__ import annotations

from chalicelib.domain import masking
from chalicelib.shared.spreadsheet import csv_cell


def test_phones_and_emails_keep_only_what_tells_them_apart() -> None:
    assert masking.phone("+14155550123") == "*********23"
    assert masking.phone("+44 20 7946 0958") == "**********58"
    assert masking.email("maria.garcia@example.com") == "m***@example.com"
    assert masking.phone(None) is None and masking.email("not an address") is None


def test_numbers_and_addresses_inside_a_reason_are_masked_and_the_rest_kept() -> None:
    reason = "550 5.1.1 <maria@example.com>: user unknown; SMS to +1 (415) 555-0123 refused (code 21211)"
    masked = masking.text(reason)
    assert masked == "550 5.1.1 <m***@example.com>: user unknown; SMS to *********23 refused (code 21211)"
    assert masking.text("") == "" and masking.text(None) is None


def test_a_masked_phone_stays_text_in_a_spreadsheet() -> None:
    assert csv_cell(masking.phone("+14155550123")) == "*********23"
