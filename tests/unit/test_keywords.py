"""Reading stop, start and help in the shopper's own words (domain.keywords)."""

from __future__ import annotations

import pytest

from chalicelib.domain.keywords import HELP, START, STOP, classify, reply_locale
from chalicelib.web.replies import reply

CASES = [
    # the repro's words
    ("Stop.", STOP, None),
    ("STOP!", STOP, None),
    ("OPT OUT", STOP, "en"),
    ("STOP ALL", STOP, None),
    ("Arrêt", STOP, "fr"),
    ("ARRET", STOP, "fr"),
    ("ALTO", STOP, "es"),
    ("PARAR", STOP, "es"),
    ("BAJA", STOP, "es"),
    ("STOPP", STOP, "de"),
    ("please stop texting me", STOP, "en"),
    ("Stop texting me", STOP, "en"),
    ("unsubscribe me", STOP, "en"),
    ("🛑", STOP, None),
    # the FCC's list (47 CFR 64.1200(a)(10)), any case and punctuation
    ("quit", STOP, "en"),
    ("End.", STOP, "en"),
    ("revoke", STOP, "en"),
    ("opt-out", STOP, "en"),
    ("Cancel!!", STOP, "en"),
    ("UNSUBSCRIBE", STOP, "en"),
    ("stop please", STOP, None),
    ("  STOP  ", STOP, None),
    # es / fr / de equivalents and free text
    ("Cancelar", STOP, "es"),
    ("por favor dejen de enviarme mensajes", STOP, "es"),
    ("no me manden más mensajes", STOP, "es"),
    ("ne m'envoyez plus de SMS", STOP, "fr"),
    ("Désabonner", STOP, "fr"),
    ("Abmelden", STOP, "de"),
    ("Keine SMS mehr, bitte", STOP, "de"),
    ("Take me off your list", STOP, "en"),
    ("Don't text me again", STOP, "en"),
    ("no more texts", STOP, "en"),
    # delivery instructions and chat that mention stopping are not opt-outs
    ("stop by the back door", None, None),
    ("Please stop at the gate", None, None),
    ("don't stop at the front, go around back", None, None),
    ("Don't stop texting me, I need the updates", None, None),
    ("no pares en la puerta principal", None, None),
    ("Can you stop here?", None, None),
    ("Cancel my order", None, None),
    ("The end of the driveway", None, None),
    ("Leave it with the neighbour", None, None),
    ("5", None, None),
    ("", None, None),
    # start again and help
    ("START", START, None),
    ("Start.", START, None),
    ("unstop", START, "en"),
    ("yes", START, "en"),
    ("Reprendre", START, "fr"),
    ("HELP", HELP, "en"),
    ("help?", HELP, "en"),
    ("Ayuda", HELP, "es"),
    ("aide", HELP, "fr"),
    ("Hilfe!", HELP, "de"),
    ("info", HELP, None),
]


@pytest.mark.parametrize(("body", "action", "locale"), CASES)
def test_each_message_is_read_as_the_shopper_meant_it(body: str, action: str | None, locale: str | None) -> None:
    intent = classify(body)
    assert (intent.action, intent.locale) == (action, locale)


def test_the_reply_is_in_the_words_language_then_the_shoppers_then_english() -> None:
    assert reply_locale(classify("ARRÊT"), "de") == "fr"
    assert reply_locale(classify("STOP"), "es-MX") == "es"
    assert reply_locale(classify("STOP"), None) == "en"
    assert reply_locale(classify("STOP"), "pt") == "en"
    assert reply_locale(classify("HELP"), "es") == "es"  # an English keyword from a Spanish shopper
    assert reply_locale(classify("HILFE"), None) == "de"


@pytest.mark.parametrize("locale", ["en", "es", "fr", "de"])
def test_confirmations_and_help_exist_in_each_language_and_say_how_to_come_back(locale: str) -> None:
    assert "START" in reply("stop", locale) and "STOP" in reply("start", locale)
    helped = reply("help", locale, name_value="Acme", contact="+1 415 555 0100")
    assert "Acme" in helped and "+1 415 555 0100" in helped and "STOP" in helped and "START" in helped
    assert "START" in reply("relay_stop", locale) and "STOP" in reply("relay_help", locale)
    assert len({reply("stop", other) for other in ("en", "es", "fr", "de")}) == 4
