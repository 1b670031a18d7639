"""STOP, START and HELP through POST /v1/twilio/inbound, per number and sender, in the shopper's own words."""

from __future__ import annotations

import pytest

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_notifications import CUSTOMER, NY, inbound, notes, ship

PHONE = CUSTOMER["phone"]


def registered(api: Api, retailer: Retailer, tn: str, **customer: object) -> str:
    response = api.register(retailer, tracking_number=tn, customer={**CUSTOMER, **customer})
    assert response.status_code == 201, response.body
    return response.json_body["id"]


def scan(api: Api, retailer: Retailer, tn: str, status: str, event_id: str, hour: int) -> None:
    ship(api, retailer, status, event_id, f"2026-11-20T{hour:02d}:00:00+00:00", tracking_number=tn)


def reply_of(response) -> str:
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/xml"
    return response.body.decode()


def test_stop_after_another_retailers_text_stops_both_and_start_restores_both(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    noon = local_time(NY, 12)
    other = api.create_retailer("Other Shop")
    mine = registered(api, retailer, "1ZA")
    theirs = registered(api, other, "1ZB")
    scan(api, retailer, "1ZA", "shipped", "a1", 9)
    drain(noon)
    scan(api, other, "1ZB", "shipped", "b1", 9)
    drain(noon)  # the other retailer texted last; the shopper may still mean the first
    assert "unsubscribed from delivery texts from this number" in reply_of(inbound(api, "STOP"))
    scan(api, retailer, "1ZA", "out_for_delivery", "a2", 10)
    scan(api, other, "1ZB", "out_for_delivery", "b2", 10)
    drain(noon)
    assert notes(api, retailer, mine)[("out_for_delivery", "sms")]["reason"] == "opted_out"
    assert notes(api, other, theirs)[("out_for_delivery", "sms")]["reason"] == "opted_out"
    assert "resubscribed" in reply_of(inbound(api, "START"))
    scan(api, retailer, "1ZA", "delivered", "a3", 11)
    scan(api, other, "1ZB", "delivered", "b3", 11)
    drain(noon)
    assert notes(api, retailer, mine)[("delivered", "sms")]["status"] == "sent"
    assert notes(api, other, theirs)[("delivered", "sms")]["status"] == "sent"


def test_start_lifts_a_block_recorded_for_a_retailer_that_did_not_text_last(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    noon = local_time(NY, 12)
    mine = registered(api, retailer, "1ZA")
    providers.capture.fail_next(
        "twilio", 400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
    )
    scan(api, retailer, "1ZA", "shipped", "a1", 9)
    drain(noon)
    other = api.create_retailer("Other Shop")
    registered(api, other, "1ZB")
    scan(api, other, "1ZB", "shipped", "b1", 9)
    drain(noon)
    assert "resubscribed" in reply_of(inbound(api, "start"))
    scan(api, retailer, "1ZA", "out_for_delivery", "a2", 10)
    drain(noon)
    assert notes(api, retailer, mine)[("out_for_delivery", "sms")]["status"] == "sent"


def test_start_is_confirmed_even_with_nothing_to_undo_and_stop_only_once(api: Api, providers: Providers) -> None:
    assert "resubscribed" in reply_of(inbound(api, "START"))
    assert "unsubscribed" in reply_of(inbound(api, "STOP"))
    assert "<Message>" not in reply_of(inbound(api, "Stop."))  # confirmed once
    assert "resubscribed" in reply_of(inbound(api, "START"))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("Stop.", "unsubscribed"),
        ("STOP!", "unsubscribed"),
        ("OPT OUT", "unsubscribed"),
        ("STOP ALL", "unsubscribed"),
        ("Arrêt", "désabonné"),
        ("ARRET", "désabonné"),
        ("ALTO", "dado de baja"),
        ("PARAR", "dado de baja"),
        ("BAJA", "dado de baja"),
        ("STOPP", "abgemeldet"),
        ("please stop texting me", "unsubscribed"),
        ("Stop texting me", "unsubscribed"),
        ("unsubscribe me", "unsubscribed"),
        ("🛑", "unsubscribed"),
    ],
)
def test_an_opt_out_in_the_shoppers_own_words_is_honoured_and_confirmed_in_their_language(
    api: Api, retailer: Retailer, providers: Providers, body: str, words: str
) -> None:
    noon = local_time(NY, 12)
    shipment = registered(api, retailer, "1ZA")
    scan(api, retailer, "1ZA", "shipped", "a1", 9)
    drain(noon)
    assert words in reply_of(inbound(api, body))
    scan(api, retailer, "1ZA", "out_for_delivery", "a2", 10)
    drain(noon)
    assert notes(api, retailer, shipment)[("out_for_delivery", "sms")]["reason"] == "opted_out"


def test_a_spanish_shopper_gets_the_stop_and_help_answers_in_spanish(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    registered(api, retailer, "1ZA", locale="es")
    scan(api, retailer, "1ZA", "shipped", "a1", 9)
    drain(local_time(NY, 12))
    assert "Avisos de entrega de Acme Outdoor" in reply_of(inbound(api, "Help"))
    assert "Te has dado de baja" in reply_of(inbound(api, "STOP"))
    assert "Vuelves a recibir" in reply_of(inbound(api, "START"))


def test_words_that_only_mention_stopping_do_not_opt_out(api: Api, retailer: Retailer, providers: Providers) -> None:
    noon = local_time(NY, 12)
    shipment = registered(api, retailer, "1ZA")
    scan(api, retailer, "1ZA", "shipped", "a1", 9)
    drain(noon)
    for body in ("stop by the back door", "Don't stop texting me, I need the updates"):
        assert "delivery updates only" in reply_of(inbound(api, body))
    scan(api, retailer, "1ZA", "out_for_delivery", "a2", 10)
    drain(noon)
    assert notes(api, retailer, shipment)[("out_for_delivery", "sms")]["status"] == "sent"
