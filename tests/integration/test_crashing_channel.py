"""A message whose send always crashes fails after the attempt limit, is listed with the reason, and never holds up
the rest of its batch (issue 15, item 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.channels import twilio_sms
from chalicelib.shared.sending import MAX_ATTEMPTS
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_failed_notifications import SMS_ONLY, failed
from tests.integration.test_notifications import CUSTOMER, NY, notes, register, ship

CRASHING = "+14155550666"


@pytest.fixture
def crashing_channel(providers: Providers, monkeypatch: pytest.MonkeyPatch) -> Providers:
    """Twilio's channel module raising something no send path expects, for one phone number only."""
    real = twilio_sms.send

    def send(message: Any) -> Any:
        if message.to == CRASHING:
            raise KeyError("the channel tripped over its own bookkeeping")
        return real(message)

    monkeypatch.setattr(twilio_sms, "send", send)
    return providers


def test_a_send_that_always_crashes_fails_after_the_attempt_limit_and_is_listed(
    api: Api, retailer: Retailer, crashing_channel: Providers
) -> None:
    import json

    quiet_off = {**SMS_ONLY, "quiet_hours": {"enabled": False}}  # (the legal floor still holds: retries run at noon)
    assert api.http.put("/v1/settings", headers=retailer.auth, body=json.dumps(quiet_off)).status_code == 200
    doomed = register(api, retailer, phone=CRASHING)
    healthy = api.register(
        retailer,
        order_id="ORD-1002",
        tracking_number="1Z999AA10123456799",
        customer={**CUSTOMER, "phone": "+14155550124"},
    ).json_body
    ship(api, retailer, "shipped", "e1")
    ship(api, retailer, "shipped", "e2", tracking_number="1Z999AA10123456799")

    when = local_time(NY, 12)
    first = drain(when)["deliveries"]
    assert first == {"retry": 1, "sent": 1}  # the crash did not stop the other text in the batch
    assert [request.form["To"] for request in crashing_channel.capture.of("twilio")] == ["+14155550124"]
    assert notes(api, retailer, healthy["id"])[("shipped", "sms")]["status"] == "sent"

    outcomes = [first]
    for _ in range(MAX_ATTEMPTS + 3):
        when += timedelta(days=1)  # past the longest backoff, at noon again: quiet hours have a legal floor (D31)
        outcomes.append(drain(when)["deliveries"])
    assert sum(o.get("retry", 0) for o in outcomes) == MAX_ATTEMPTS - 1
    assert sum(o.get("failed", 0) for o in outcomes) == 1
    assert outcomes[-3:] == [{}, {}, {}]  # not retried forever

    note = notes(api, retailer, doomed["id"])[("shipped", "sms")]
    assert note["status"] == "failed" and note["attempts"] == MAX_ATTEMPTS
    [listed] = failed(api, retailer)["notifications"]
    assert (listed["shipment"]["id"], listed["kind"], listed["channel"]) == (doomed["id"], "shipped", "sms")
    assert listed["reason"] == f"gave up after {MAX_ATTEMPTS} attempts: internal error (KeyError)"
