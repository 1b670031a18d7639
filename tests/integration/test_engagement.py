"""Engagement per notification kind and channel (D45): a small known history, every figure checked by hand.

The SendGrid events are SendGrid's own published examples (tests/fixtures/sendgrid/SOURCES.md), addressed to the
e-mails this test sent, as in test_email_suppressions.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_email_suppressions import EXAMPLES, event_about
from tests.integration.test_notifications import CUSTOMER, NY, inbound, notes, sendgrid_post, ship, status_callback

B_PHONE, B_EMAIL, B_TRACKING = "+14155550199", "bea@example.com", "1Z999AA10123456799"


def _range() -> str:
    today = datetime.now(UTC).date()
    return f"from={(today - timedelta(days=1)).isoformat()}&to={(today + timedelta(days=2)).isoformat()}"


def _rows(api: Api, retailer: Retailer) -> dict[tuple[str, str], dict]:
    answer = api.http.get(f"/v1/analytics?{_range()}", headers=retailer.auth)
    assert answer.status_code == 200, answer.body
    return {(row["kind"], row["channel"]): row for row in answer.json_body["engagement"]}


def _known_history(api: Api, retailer: Retailer, providers: Providers) -> tuple[dict, dict]:
    """Two shoppers: A gets `shipped` (text + e-mail); B gets `shipped` and `out_for_delivery` (text + e-mail)."""
    a = api.register(retailer, customer=CUSTOMER).json_body
    b = api.register(
        retailer,
        order_id="ORD-2002",
        tracking_number=B_TRACKING,
        customer={**CUSTOMER, "phone": B_PHONE, "email": B_EMAIL},
    ).json_body
    noon = local_time(NY, 12)
    ship(api, retailer, "shipped", "a1", "2026-11-20T10:00:00+00:00")
    ship(api, retailer, "shipped", "b1", "2026-11-20T10:00:00+00:00", tracking_number=B_TRACKING)
    drain(noon)
    ship(api, retailer, "out_for_delivery", "b2", "2026-11-20T11:00:00+00:00", tracking_number=B_TRACKING)
    drain(noon)
    assert len(providers.capture.of("twilio")) == 3 and len(providers.capture.of("sendgrid")) == 3
    return a, b


def _sendgrid(api: Api, retailer: Retailer, providers: Providers, shipment: dict, example: str, **changes) -> dict:
    email = changes.pop("email", CUSTOMER["email"])
    event = {**event_about(api, retailer, shipment["id"], "shipped", example, **changes), "email": email}
    answer = sendgrid_post(api, providers, [event])
    assert answer.status_code == 200, answer.body
    return event


def test_engagement_counts_each_message_once_per_kind_and_channel(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    a, b = _known_history(api, retailer, providers)
    sms_a = notes(api, retailer, a["id"])[("shipped", "sms")]["provider_message_id"]
    sms_b = notes(api, retailer, b["id"])[("shipped", "sms")]["provider_message_id"]
    # texts: A's shipped text arrives (Twilio says so twice), B's fails
    status_callback(api, sms_a, "delivered")
    status_callback(api, sms_a, "delivered")
    status_callback(api, sms_b, "undelivered", ErrorCode="30005")
    # A's e-mail: delivered, opened (SendGrid re-sends that open three times), opened again later, clicked
    _sendgrid(api, retailer, providers, a, "delivered")
    opened = _sendgrid(api, retailer, providers, a, "open")
    for _ in range(3):
        again = sendgrid_post(api, providers, [opened])
        assert again.json_body == {"processed": 0, "duplicates": 1, "ignored": 0}
    _sendgrid(api, retailer, providers, a, "open")  # a second open of the same message: a new event id
    _sendgrid(api, retailer, providers, a, "click")
    # B's e-mail: an automatic open by Apple Mail Privacy Protection, then unsubscribed through SendGrid
    _sendgrid(api, retailer, providers, b, "open", email=B_EMAIL, sg_machine_open=True)
    _sendgrid(api, retailer, providers, b, "unsubscribe", email=B_EMAIL)
    # visits: A follows the e-mail's link twice; B follows the link in the text about delivery (its last text)
    [mail_a] = [m for m in providers.capture.of("sendgrid") if m.json["custom_args"]["pl_shipment"] == a["id"]]
    html = next(c["value"] for c in mail_a.json["content"] if c["type"] == "text/html")
    assert f"/t/{a['tracking_token']}?m=shipped" in html
    for _ in range(2):
        assert api.http.get(f"/t/{a['tracking_token']}?m=shipped").status_code == 200
    [text_b] = [m for m in providers.capture.of("twilio") if "order ORD-2002 is out for delivery" in m.form["Body"]]
    assert f"/t/{b['tracking_token']}?s " in text_b.form["Body"]
    assert api.http.get(f"/t/{b['tracking_token']}?s").status_code == 200
    assert api.http.get(f"/t/{b['tracking_token']}").status_code == 200  # a visit from elsewhere: not credited
    assert api.http.get(f"/t/{b['tracking_token']}?m=not-a-kind").status_code == 200  # an unknown marker: ignored
    # A answers its last text (shipped) with STOP, twice
    inbound(api, "STOP")
    inbound(api, "STOP")

    rows = _rows(api, retailer)
    assert set(rows) == {
        ("shipped", "sms"),
        ("shipped", "email"),
        ("out_for_delivery", "sms"),
        ("out_for_delivery", "email"),
    }
    zero = {"opened": 0, "machine_opened": 0, "clicked": 0, "unsubscribed": 0, "spam_reported": 0}
    assert rows[("shipped", "sms")] == {
        "kind": "shipped",
        "channel": "sms",
        "sent": 2,
        "delivered": 1,
        "failed": 1,
        **zero,
        "visited": 0,
        "stopped": 1,
        "delivery_rate": 50.0,
        "open_rate": None,
        "click_rate": None,
        "visit_rate": 0.0,
        "opt_out_rate": 50.0,
    }
    assert rows[("shipped", "email")] == {
        "kind": "shipped",
        "channel": "email",
        "sent": 2,
        "delivered": 1,
        "failed": 0,
        "opened": 1,
        "machine_opened": 1,
        "clicked": 1,
        "visited": 1,
        "unsubscribed": 1,
        "spam_reported": 0,
        "stopped": 0,
        "delivery_rate": 50.0,
        "open_rate": 100.0,
        "click_rate": 100.0,
        "visit_rate": 50.0,
        "opt_out_rate": 50.0,
    }
    ofd_sms = rows[("out_for_delivery", "sms")]
    assert (ofd_sms["sent"], ofd_sms["delivered"], ofd_sms["visited"], ofd_sms["visit_rate"]) == (1, 0, 1, 100.0)
    ofd_email = rows[("out_for_delivery", "email")]
    assert (ofd_email["sent"], ofd_email["visited"], ofd_email["opened"], ofd_email["open_rate"]) == (1, 0, 0, None)

    # the CSV carries the same numbers, one line per figure
    exported = api.http.get(f"/v1/analytics?format=csv&{_range()}", headers=retailer.auth).body.decode()
    lines = {(r[1], r[2]): r[3] for r in csv.reader(io.StringIO(exported)) if r[0] == "engagement"}
    assert lines[("shipped/email", "opened")] == "1" and lines[("shipped/email", "visit_rate")] == "50.0"
    assert lines[("shipped/sms", "stopped")] == "1" and lines[("out_for_delivery/sms", "visited")] == "1"
    assert lines[("shipped/sms", "open_rate")] == ""


def test_an_unsubscribe_link_is_counted_against_its_email_once(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    a, _ = _known_history(api, retailer, providers)
    [mail_a] = [m for m in providers.capture.of("sendgrid") if m.json["custom_args"]["pl_shipment"] == a["id"]]
    link = mail_a.json["headers"]["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("https://track.example.test")
    for _ in range(2):
        answer = api.http.post(
            path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body="List-Unsubscribe=One-Click"
        )
        assert answer.status_code in (200, 303), answer.body
    assert _rows(api, retailer)[("shipped", "email")]["unsubscribed"] == 1


def test_engagement_events_about_another_retailers_message_count_nothing(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    a, _ = _known_history(api, retailer, providers)
    other = api.create_retailer("Other Shop")
    event = dict(EXAMPLES["open"], email=CUSTOMER["email"], sg_event_id="forged-1")
    event.update(pl_shipment=a["id"], pl_kind="shipped", pl_retailer=other.id)
    assert sendgrid_post(api, providers, [event]).status_code == 200
    assert _rows(api, retailer)[("shipped", "email")]["opened"] == 0
    answer = api.http.get(f"/v1/analytics?{_range()}", headers=other.auth)
    assert answer.json_body["engagement"] == []
