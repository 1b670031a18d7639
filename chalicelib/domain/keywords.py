"""What an inbound text asks for: stop, start again, help, or nothing (pure).

The FCC's 2024 consent-revocation order (47 CFR 64.1200(a)(10), in force since April 2025) says a shopper may revoke
consent "by any reasonable method", and names the words stop, quit, end, revoke, opt out, cancel and unsubscribe as
revocation when sent in reply to a text. So case, accents, punctuation and emoji never matter; those words and their
Spanish, French and German equivalents count on their own; and a free-text message that clearly asks for the texts to
stop counts too, through a tested list of phrases (docs/operations.md, "Texts and opt-outs").

A word that also gives a driver directions ("stop by the back door", "don't stop at the front") is not an opt-out:
only the keyword alone (with at most a polite word around it), or a phrase about texts or messages, is.
"""

from __future__ import annotations

import re
import unicodedata

from msgspec import Struct

STOP, START, HELP = "stop", "start", "help"
LOCALES = ("en", "es", "fr", "de")

#: Each keyword, once normalised (upper case, no accents, no punctuation), and the language it says the shopper writes.
#: "STOP" and "START" are used as-is in every language, so they say nothing about it (None).
KEYWORDS: dict[str, tuple[str, str | None]] = {
    # The FCC's list (and the CTIA's standard keywords), English.
    "STOP": (STOP, None),
    "STOPALL": (STOP, None),
    "STOP ALL": (STOP, None),
    "QUIT": (STOP, "en"),
    "END": (STOP, "en"),
    "REVOKE": (STOP, "en"),
    "OPT OUT": (STOP, "en"),
    "OPTOUT": (STOP, "en"),
    "CANCEL": (STOP, "en"),
    "UNSUBSCRIBE": (STOP, "en"),
    "UNSUBSCRIBE ME": (STOP, "en"),
    "STOP TEXTING": (STOP, "en"),
    "🛑": (STOP, None),
    # Spanish
    "ALTO": (STOP, "es"),
    "PARAR": (STOP, "es"),
    "PARA": (STOP, "es"),
    "BAJA": (STOP, "es"),
    "DARME DE BAJA": (STOP, "es"),
    "CANCELAR": (STOP, "es"),
    "DETENER": (STOP, "es"),
    "TERMINAR": (STOP, "es"),
    "FIN": (STOP, "es"),
    # French
    "ARRET": (STOP, "fr"),
    "ARRETER": (STOP, "fr"),
    "ARRETEZ": (STOP, "fr"),
    "DESABONNER": (STOP, "fr"),
    "DESINSCRIRE": (STOP, "fr"),
    "ANNULER": (STOP, "fr"),
    # German
    "STOPP": (STOP, "de"),
    "ABMELDEN": (STOP, "de"),
    "BEENDEN": (STOP, "de"),
    "ABBESTELLEN": (STOP, "de"),
    "KUNDIGEN": (STOP, "de"),
    "KUENDIGEN": (STOP, "de"),
    # Starting again
    "START": (START, None),
    "UNSTOP": (START, "en"),
    "YES": (START, "en"),
    "SUBSCRIBE": (START, "en"),
    "ALTA": (START, "es"),
    "REANUDAR": (START, "es"),
    "COMENZAR": (START, "es"),
    "REPRENDRE": (START, "fr"),
    "DEMARRER": (START, "fr"),
    "ANMELDEN": (START, "de"),
    "WEITER": (START, "de"),
    # Help
    "HELP": (HELP, "en"),
    "INFO": (HELP, None),
    "AYUDA": (HELP, "es"),
    "AIDE": (HELP, "fr"),
    "HILFE": (HELP, "de"),
}
#: Words that may surround a keyword without changing what it says ("STOP PLEASE", "por favor baja").
POLITE = frozenset({"PLEASE", "PLS", "PLZ", "NOW", "IT", "PORFAVOR", "FAVOR", "SVP", "MERCI", "BITTE", "DANKE", "YA"})

#: Free text that clearly asks for the texts to stop, in the four languages (normalised form, matched on words).
#: Each names the texts, the messaging or the shopper ("me"), so a delivery instruction with "stop" in it never matches.
STOP_PHRASES: tuple[tuple[str, str], ...] = (
    (r"\bSTOP (TEXTING|MESSAGING|SENDING|CONTACTING|SPAMMING)\b", "en"),
    (r"\bSTOP (THE |THESE |THOSE |YOUR |ALL )?(TEXTS|MESSAGES|SMS|NOTIFICATIONS|UPDATES|ALERTS)\b", "en"),
    (r"\bUNSUBSCRIBE\b", "en"),
    (r"\bOPT ME OUT\b", "en"),
    (r"\bOPT OUT\b", "en"),
    (r"\b(REMOVE|TAKE) ME (FROM|OFF)\b", "en"),
    (r"\b(DONT|DO NOT|NEVER) (TEXT|MESSAGE|CONTACT|SMS) ME\b", "en"),
    (r"\bNO MORE (TEXTS|MESSAGES|SMS|NOTIFICATIONS)\b", "en"),
    (r"\bLEAVE ME ALONE\b", "en"),
    (r"\b(DEJA|DEJE|DEJEN|DEJAD) DE (ENVIAR|MANDAR|ESCRIBIR)", "es"),
    (r"\bNO ME (ENVIE|ENVIES|ENVIEN|MANDE|MANDES|MANDEN|ESCRIBAN|ESCRIBAS)\b", "es"),
    (r"\bNO MAS (MENSAJES|SMS|TEXTOS)\b", "es"),
    (r"\bDAR(ME)? DE BAJA\b", "es"),
    (r"\bARRET(E|EZ|ER) (DE M|D ENVOYER|LES (SMS|MESSAGES))", "fr"),
    (r"\bNE (M )?(ENVOYEZ|ECRIVEZ) PLUS\b", "fr"),
    (r"\bPLUS DE (SMS|MESSAGES)\b", "fr"),
    (r"\bME DESABONNER\b", "fr"),
    (r"\bKEINE (SMS|NACHRICHTEN|MITTEILUNGEN) MEHR\b", "de"),
    (r"\bNICHT MEHR (SCHREIBEN|ANSCHREIBEN|KONTAKTIEREN)\b", "de"),
    (r"\bHOREN SIE AUF\b", "de"),
    (r"\bHOR AUF\b", "de"),
)
#: A negation just before "stop" turns it round ("don't stop", "no pare", "ne pas arrêter", "nicht stoppen").
NEGATED = re.compile(
    r"\b((DONT|DO NOT|NOT|NEVER|PAS|NICHT)( \w+)? (STOP|STOPP|STOPPEN|ARRET\w*)|NO (PARE|PARES|PAREN|TE DETENGAS))\b"
)
_COMPILED = tuple((re.compile(pattern), locale) for pattern, locale in STOP_PHRASES)


class Intent(Struct, frozen=True):
    action: str | None
    #: The language the words were in, when they say (ARRÊT is French; STOP is everyone's).
    locale: str | None = None


def normalise(body: str) -> str:
    """Upper case, accents and apostrophes dropped, punctuation to spaces, spaces collapsed; 🛑 kept."""
    decomposed = unicodedata.normalize("NFKD", body.replace("🛑", " 🛑 "))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    plain = re.sub(r"['’`]", "", plain)
    plain = re.sub(r"[^\w🛑]+", " ", plain)
    return " ".join(plain.split())


def _strip_polite(text: str) -> str:
    words = text.replace("POR FAVOR", "PORFAVOR").split()
    while len(words) > 1 and words[0] in POLITE:
        words.pop(0)
    while len(words) > 1 and words[-1] in POLITE:
        words.pop()
    return " ".join(words)


def classify(body: str) -> Intent:
    """What the text asks for. The whole message equal to a keyword (politeness aside), or a stop phrase."""
    text = normalise(body)
    if not text:
        return Intent(None)
    core = _strip_polite(text)
    if core in KEYWORDS:
        action, locale = KEYWORDS[core]
        return Intent(action, locale)
    if NEGATED.search(text):
        return Intent(None)
    for pattern, locale in _COMPILED:
        if pattern.search(text):
            return Intent(STOP, locale)
    return Intent(None)


#: The languages we answer in (the replies themselves are catalog messages: web/replies.py).
REPLY_LOCALES = ("en", "es", "fr", "de")


def reply_locale(intent: Intent, shopper_locale: str | None) -> str:
    """Words in Spanish, French or German are answered in that language (an ARRÊT in French); English words, which
    many people use whatever their language (HELP, STOP), in the shopper's language if we know it; else English."""
    shopper = (shopper_locale or "")[:2].lower()
    for candidate in (intent.locale if intent.locale != "en" else None, shopper, intent.locale):
        if candidate in REPLY_LOCALES:
            return candidate
    return "en"
