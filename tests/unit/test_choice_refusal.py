"""The tracking page's notification choice is refused when it could reach nobody (pure policy)."""

from __future__ import annotations

import pytest

from chalicelib.domain.policy import NOTIFICATION_KINDS, NotificationSettings, Recipient, choice_refusal

BOTH = NotificationSettings()
EMAIL_ONLY = NotificationSettings(channels={kind: frozenset({"email"}) for kind in NOTIFICATION_KINDS})


@pytest.mark.parametrize(
    ("choice", "recipient", "settings", "reason"),
    [
        ("sms", Recipient(email="pat@example.com"), BOTH, "no_phone"),
        ("email", Recipient(phone="+14155550100"), BOTH, "no_email"),
        ("sms", Recipient(phone="+14155550100"), EMAIL_ONLY, "channel_off"),
        ("sms", Recipient(phone="+14155550100"), BOTH, None),
        ("email", Recipient(email="pat@example.com"), EMAIL_ONLY, None),
        ("none", Recipient(), BOTH, None),
    ],
)
def test_a_choice_that_reaches_nobody_is_named_and_one_that_reaches_the_shopper_is_not(
    choice: str, recipient: Recipient, settings: NotificationSettings, reason: str | None
) -> None:
    assert choice_refusal(choice, recipient, settings) == reason
