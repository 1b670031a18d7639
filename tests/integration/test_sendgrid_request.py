"""The e-mail send (channels/sendgrid_email.py, D49) puts on the wire what the SendGrid SDK's own
`SendGridAPIClient.send(Mail(...))` puts there for the messages Porchlight sends: the same URL and headers, and
the same JSON body (the SDK writes repeated headers and custom args last one first; JSON objects have no order)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from chalicelib.channels import EmailMessage, sendgrid_email
from chalicelib.config import settings
from tests.integration.conftest import Providers

MESSAGES = [
    EmailMessage(
        to="maria@example.com",
        subject="Out for delivery: Acme Outdoor order ORD-1001",
        text="Your order is out for delivery.\nhttps://track.example.test/t/abc",
        html='<html lang="en"><p>Your order &amp; more</p></html>',
        from_name="Acme Outdoor",
        unsubscribe_url="https://track.example.test/v1/unsubscribe/abc?lang=en",
        tags={"pl_shipment": "s1", "pl_kind": "out_for_delivery", "pl_retailer": "r1"},
    ),
    EmailMessage(  # a name with a comma, quotes and accents; non-ASCII everywhere
        to="josé.núñez@example.com",
        subject="Livrée : commande « 42 »",
        text="Bonjour José,\n\u00e9t\u00e9",
        html="<p>\u2014 \U0001f69a</p>",
        from_name='Müller, "Die Radler" GmbH',
        unsubscribe_url="https://track.example.test/v1/unsubscribe/x",
        tags={"pl_shipment": "s2", "pl_kind": "delivered", "pl_retailer": "r2"},
    ),
    EmailMessage(  # no sender name: the SDK reads EMAIL_FROM as "Name <address>" or a bare address
        to="Maria Garcia <maria@example.com>",
        subject="s",
        text="t",
        html="h",
        from_name="",
        unsubscribe_url="https://track.example.test/v1/unsubscribe/y",
        tags={},
    ),
]


def sdk_mail(message: EmailMessage) -> Any:
    """What the previous send built with the SDK's helpers (the reference)."""
    from sendgrid.helpers.mail import CustomArg, From, Header, Mail

    mail = Mail(
        from_email=From(settings().email_from, message.from_name),
        to_emails=message.to,
        subject=message.subject,
        plain_text_content=message.text,
        html_content=message.html,
    )
    if message.unsubscribe_url:
        mail.header = Header("List-Unsubscribe", f"<{message.unsubscribe_url}>")
        mail.header = Header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    for key, value in message.tags.items():
        mail.custom_arg = CustomArg(key, value)
    return mail


@pytest.mark.parametrize("sender", ["updates@porchlight.example", "Acme Deliveries <updates@porchlight.example>"])
@pytest.mark.parametrize("index", range(len(MESSAGES)))
def test_each_e_mail_goes_out_as_the_sdks_own_client_sends_it(
    providers: Providers, monkeypatch: pytest.MonkeyPatch, index: int, sender: str
) -> None:
    from sendgrid import SendGridAPIClient

    monkeypatch.setenv("EMAIL_FROM", sender)
    settings.cache_clear()
    message = MESSAGES[index]
    SendGridAPIClient("SG.test-key", host=providers.capture.url).send(sdk_mail(message))
    sendgrid_email.send(message)
    theirs, ours = providers.capture.of("sendgrid")
    assert (ours.method, ours.path) == (theirs.method, theirs.path) == ("POST", "/v3/mail/send")
    assert ours.headers == theirs.headers  # Content-Length included
    assert ours.json == theirs.json


def test_the_package_that_imports_cryptography_is_never_loaded_to_send(providers: Providers) -> None:
    for name in [name for name in sys.modules if name == "sendgrid" or name.startswith("sendgrid.")]:
        sys.modules.pop(name)
    sendgrid_email.send(MESSAGES[0])
    assert "sendgrid" not in sys.modules
    assert providers.capture.of("sendgrid")[0].headers["User-Agent"].startswith("sendgrid/6.")


def test_an_e_mail_without_an_unsubscribe_link_carries_no_empty_list_unsubscribe_header(
    providers: Providers,
) -> None:
    """The pickup code's e-mail is a reply to the shopper's own request: it has no unsubscribe link, and an empty
    `List-Unsubscribe: <>` (what the send used to write) offers mail clients a broken one-click button."""
    message = EmailMessage(
        to="maria@example.com", subject="s", text="t", html="h", from_name="Acme", unsubscribe_url="", tags={}
    )
    sendgrid_email.send(message)
    body = providers.capture.of("sendgrid")[0].json
    assert "headers" not in body and "custom_args" not in body
