"""Every kind of text Porchlight sends passes the one policy (domain.policy.decide): the list comes from the code's
own registry, so a new kind that this table does not cover fails here until its rules are stated and proven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain import milestones as ms
from chalicelib.domain import policy
from chalicelib.domain.policy import DEFER, SEND, SKIP, NotificationSettings, Recipient, decide

#: Whom each registered text kind goes to. Reply kinds are answers to a text that number just sent us (a STOP or
#: START confirmation, HELP, survey and chat answers): carriers allow them whatever the consent, hour or opt-out.
EXPECTED = {
    **{kind: policy.TO_SHOPPER for kind in policy.NOTIFICATION_KINDS},
    "survey": policy.TO_SHOPPER,
    "driver_close": policy.TO_SHOPPER,
    # Pickup reminders (D48): to the shopper, on the channels chosen for `available_for_pickup`.
    "pickup_reminder_1": policy.TO_SHOPPER,
    "pickup_reminder_2": policy.TO_SHOPPER,
    "pickup_reminder_3": policy.TO_SHOPPER,
    # A shopper's return (D48): its own messages.
    "return_label_created": policy.TO_SHOPPER,
    "return_dropped_off": policy.TO_SHOPPER,
    "return_received": policy.TO_SHOPPER,
    "relay_open": policy.TO_SHOPPER,
    "delivery_change": policy.TO_SHOPPER,
    "delivery_change_code": policy.REPLY,
    "chat_to_shopper": policy.TO_SHOPPER,
    "chat_to_driver": policy.TO_DRIVER,
    "relay_chat_opened": policy.TO_DRIVER,
    "reply_stop": policy.REPLY,
    "reply_start": policy.REPLY,
    "reply_help": policy.REPLY,
    "reply_survey": policy.REPLY,
    "reply_relay": policy.REPLY,
    "reply_unrouted": policy.REPLY,
}
NOON = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # 12:00 in New York
NIGHT = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)  # 03:00 in New York
CONSENTED = Recipient(phone="+14155550123", sms_consent=True, time_zone="America/New_York")
NO_CONSENT = Recipient(phone="+14155550123", sms_consent=False, time_zone="America/New_York")
SETTINGS = NotificationSettings()


def test_the_registry_and_this_table_name_the_same_text_kinds() -> None:
    assert policy.TEXT_KINDS == EXPECTED


def send(kind: str, recipient: Recipient = CONSENTED, *, opted_out: bool = False, now: datetime = NOON):
    return decide(kind, "sms", recipient, SETTINGS, opted_out=opted_out, suppressed=False, now=now)


@pytest.mark.parametrize("kind", sorted(policy.TEXT_KINDS))
def test_every_text_kind_respects_opt_out_consent_and_quiet_hours_as_its_audience_requires(kind: str) -> None:
    audience = policy.TEXT_KINDS[kind]
    if audience == policy.REPLY:
        for verdict in (send(kind, NO_CONSENT, opted_out=True, now=NIGHT), send(kind)):
            assert (verdict.action, verdict.reason) == (SEND, "reply_to_inbound")
        return
    assert send(kind).action == SEND
    assert (send(kind, opted_out=True).action, send(kind, opted_out=True).reason) == (SKIP, "opted_out")
    if audience == policy.TO_DRIVER:
        assert send(kind, NO_CONSENT, now=NIGHT).action == SEND  # the driver is working the delivery
        return
    night = send(kind, now=NIGHT)
    if kind in policy.NOW_OR_NEVER_KINDS:  # "your driver is 2 stops away" would be false at 08:00: dropped
        assert (night.action, night.reason, night.not_before) == (SKIP, "quiet_hours", None)
    else:
        assert night.action == DEFER and night.reason == "quiet_hours"  # deferred, never dropped
        assert night.not_before == datetime(2026, 11, 21, 13, 0, tzinfo=UTC)  # 08:00 New York
    without = send(kind, NO_CONSENT)
    if kind == policy.CONSENT_EXEMPT_KIND:
        assert without.action == SEND  # the one text the package-delivery exemption allows
    else:
        assert (without.action, without.reason) == (SKIP, "no_sms_consent")
    assert send(kind, Recipient(phone="+14155550123", sms_consent=True, preferred="email")).action == SKIP


def test_a_text_kind_nobody_registered_is_never_sent() -> None:
    assert (send("proximity").action, send("proximity").reason) == (SKIP, "unregistered_kind")
    with_email = Recipient(email="maria@example.com")
    assert decide("proximity", "email", with_email, SETTINGS, opted_out=False, suppressed=False, now=NOON).action == (
        SKIP
    )


def test_the_relay_introduction_is_not_the_exempt_text() -> None:
    assert policy.CONSENT_EXEMPT_KIND == ms.OUT_FOR_DELIVERY != "relay_open"
