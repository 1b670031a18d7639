"""Carrier text made fit for the shopper's eyes (DESIGN 3.4): no names, street lines, phone numbers or e-mails.

Carriers write free text ("Delivered to GARCIA, MARIA at 742 EVERGREEN TERRACE, tel 415-555-0123") and we show it
on a public page. `Redactor` removes what identifies the shopper and keeps what helps ("Left at front door",
"Delivered, Parcel Locker", "in HERNANDO, FL 34442 at 1:58 pm"):

- the shopper's name parts (from the shipment's customer name and the proof of delivery's recipient) become
  initials, so "Signed for by GARCIA, MARIA" reads "Signed for by G. M.";
- the destination's street line, and anything shaped like a street address, is removed with the "at"/"to" that
  led to it;
- phone numbers (international, grouped, labelled "tel"/"phone", or a bare 10-11 digit national number) and e-mail
  addresses are removed with their label, an extension and any connector left dangling ("contact <phone> or
  <e-mail>" goes whole); the shopper's own number and address are removed however they are written;
- a third party's name after "left with (neighbour)", "delivered to", "recipient:", "received by" or "signed (for)
  by" becomes initials (also "SMITH, J"), and a name run that starts with the shopper's name is initialled whole;
- a driver named after "driver" keeps the first name only, as the page shows drivers.

Pure and cheap: built once per view from values the read side already holds (no storage call), one compiled
pattern per shopper (cached), a few regular expressions per text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from msgspec import Struct


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Marks a removed span until the clean-up pass takes it out with its label and connective.
_CUT = "\x00"

_HAS_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_LABEL = r"(?:tel(?:ephone)?|phone|ph|mobile|mob|cell|call|contact|fon|telefon|teléfono|téléphone|tél)"
_PHONES = (
    # Labelled: "tel 4155550123", "Phone: (415) 555 0123", "Tél. 01 23 45 67 89".
    re.compile(r"\b" + _PHONE_LABEL + r"\.?[ \t]*:?[ \t]*(\(?\+?\d[\d \t().-]{5,}\d)", re.IGNORECASE),
    # International: "+1 415 555 0123", "+31612345678", "0044 20 7946 0958".
    re.compile(r"(?<![\w+])(?:\+|00)\d[\d \t().-]{6,}\d(?!\w)"),
    # Grouped national: "415-555-0123", "(415) 555-0123", "020 7946 0958", "06-1234 5678", "415.555.0123".
    re.compile(r"(?<![\w.:/-])\(?\d{2,5}\)?(?:[ .-]\d{2,5}){2,4}(?![\w:/-]|\.\w)"),
    # Trunk prefix and subscriber number: "06-12345678", "030 1234567", "07700 900123", "0151 9876543".
    re.compile(r"(?<![\w.:/-])0\d{1,4}[ -]\d{6,8}(?![\w:/-]|\.\w)"),
    # A bare national number: NANP with or without its 1 ("4155550123"), or trunk 0 and 9-10 digits ("07700900123").
    # Other runs stay: 9-digit shipment ids, 12+ digit tracking numbers, digits inside a word.
    re.compile(r"(?<![\w.:/+-])(?:1?[2-9]\d{2}[2-9]\d{6}|0\d{9,10})(?![\w:/-]|\.\w)"),
)
#: Any run of digits with separators, checked against the shopper's own number.
_DIGIT_RUN = re.compile(r"(?<![\w+])(?:\+|00)?[ \t]*\(?\d(?:[ \t().\-/]{0,3}\d){6,18}(?!\w)")
#: An extension after a removed number: "<phone> ext 7", "<phone>, x123".
_EXTENSION = re.compile(r"\x00[ \t]*,?[ \t]*(?i:ext(?:ension)?|x|#)\.?[ \t]*:?[ \t]*\d{1,6}(?!\w)")
#: A clause left holding only contact words around what was removed ("; contact <phone> or <e-mail>", ", called
#: <phone>, email <e-mail>") goes whole, keeping the punctuation before it; "Driver tried to call <phone>" keeps its
#: words.
_CONTACT_WORD = (
    r"(?:call|called|calling|reach|contact|contacted|write|message|phone|phoned|telephone|tel|tél|ph|mobile|mob|cell|fax|text|texted|sms"
    r"|whatsapp|e-?mail|e-?mailed|mail|courriel|correo|téléphone|teléfono|telefon|fon|at|on|or|and|via|to|the|by"
    r"|customer|driver|number|no|please|us|ou|oder|o|y|et|und)"
)
_CONTACT_CLAUSE = re.compile(
    rf"(^|[,;.!?(])(?:[ \t]*(?:{_CONTACT_WORD}\b\.?[ \t]*:?|\x00|[/&]))*?[ \t]*\x00"
    rf"(?:[ \t]*(?:{_CONTACT_WORD}\b\.?[ \t]*:?|\x00|[/&]))*[ \t]*(?=$|[,;.!?)])",
    re.IGNORECASE,
)
_MIN_PHONE_DIGITS = 9
_MAX_PHONE_DIGITS = 15

_STREET_WORDS = _words(
    "street st avenue ave av road rd boulevard blvd lane ln drive dr court ct terrace ter place pl way circle cir "
    "parkway pkwy highway hwy square sq trail trl crescent close grove gardens mews row hill"
)
#: Street words as carriers write them (Title or UPPER case): lower-case prose ("1 of 2 on the way") is no address.
_STREET_WORD = "|".join(sorted({form for w in _STREET_WORDS for form in (w.capitalize(), w.upper())}, key=len)[::-1])
_UNIT = r"(?:[ \t,]+(?i:apt|apartment|suite|ste|unit|flat|fl|floor|#)\.?[ \t]*#?[ \t]*[\w-]{1,6})?"
_STREETS = (
    # "742 Evergreen Terrace", "12 High Street, Flat 3", "1600 PENNSYLVANIA AVE NW", "Apt 4B, 10 Downing St."
    re.compile(
        r"(?:\b(?i:apt|apartment|suite|ste|unit|flat)\.?[ \t]*#?[ \t]*[\w-]{1,6},?[ \t]+)?"
        r"\b\d{1,6}[A-Za-z]?(?:-\d{1,5})?[ \t]+(?:[A-Z0-9À-Þ][\w'.-]*[ \t]+){0,4}?"
        rf"(?:{_STREET_WORD})\b\.?(?:[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?" + _UNIT
    ),
    # Dutch/German style, name then number: "Oderweg 2", "Heinrich-Brüning-Str. 7", "Hauptstraße 5a".
    re.compile(
        r"\b[\wÀ-ÿ.'-]{2,}?(?:straat|str\.|straße|strasse|weg|laan|plein|gracht|kade|singel|dijk|allee|gasse|platz)"
        r"[ \t]+\d{1,5}(?:[-\s]?[A-Za-z]{1,2}\b|-\d{1,4})?\b",
        re.IGNORECASE,
    ),
    # French style: "12 rue de la Paix", "5 bis avenue Victor Hugo", "3, boulevard Haussmann".
    re.compile(
        r"\b\d{1,5}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:rue|avenue|boulevard|bd|chemin|allée|impasse|quai)"
        r"(?:[ \t]+(?:(?:d[eu]s?|la|le|les)[ \t]+|l'|d')?[A-Za-zÀ-ÿ'-]+){1,3}",
        re.IGNORECASE,
    ),
    # Spanish/Catalan/Portuguese style: "Calle Mayor 5", "Avda. de América 12", "C/ Gran Via 28".
    re.compile(
        r"\b(?:calle|c/|avenida|avda\.?|paseo|plaza|carrer|rua)[ \t]+(?:(?:de|del|la|las|los)[ \t]+)?"
        r"(?:[A-Za-zÀ-ÿ'-]+[ \t]+){0,3}?\d{1,5}\b",
        re.IGNORECASE,
    ),
)

#: Name parts never matched on their own (name particles) and common words matched only next to another name part
#: or after "signed for by"-style words: a shopper called May or Post keeps "May 16" and "Post Office" readable.
_PARTICLES = frozenset(
    _words("de da del della di du la le las los van von der den ten ter te y e dos das do bin ibn al el st")
)
_COMMON = frozenset(
    _words(
        "january february march april may june july august september october november december "
        "jan feb mar apr jun jul aug sep sept oct nov dec "
        "monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun "
        "will mark bill rose hope grant case post door hall park field wood street lane price young king "
        "brown white green black gray grey summer winter front back office box mail depot center "
        "centre station north south east west long little love rich star day night early late"
    )
)
_CUES = re.compile(
    r"(?:signed\s+(?:for\s+)?by|received\s+by|signatory|recipient|left\s+with|delivered\s+to|handed\s+to"
    r"|collected\s+by|picked\s+up\s+by|firmado\s+por|signé\s+par|unterschrieben\s+von|ontvangen\s+door)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
#: Who a parcel was left with, before their name ("handed to resident Jane Roe", "left with receptionist Tom").
_ROLE = (
    r"(?:neighbou?r|resident|receptionist|concierge|tenant|occupant|housemate|flatmate|colleague|customer|mr|mrs|ms"
    r"|miss|dr)"
)
#: A capitalised name word, or initials run together with it ("K.WILLIAMS", "P.O."): one word, initialled part by part.
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][\w'-]*(?:\.[A-ZÀ-ÖØ-Þ][\w'-]*)*\.?"
#: A signatory named after "signed for by"-style words is initialled even when nobody told us the name; these words
#: describe who signed rather than name them, and stay.
_SIGNER = re.compile(
    r"(?i:signed\s+(?:for\s+)?by|received\s+by|signatory|left\s+with|collected\s+by|handed\s+to|delivered\s+to"
    r"|picked\s+up\s+by|recipient[ \t]*:)[ \t]*:?[ \t]*(?i:(?:the|a|your)[ \t]+)?"
    rf"(?i:{_ROLE}\.?[ \t]*:?[ \t]+)?"
    rf"((?:{_NAME_WORD}(?:[ \t]+|,[ \t]*(?=[A-ZÀ-ÖØ-Þ]\.?(?:[ \t]|[,.;)]|$))|(?=[,.;)]|$))){{1,3}})"
)
#: "Mr Brown", "Frau Roe": a name after a title is a surname wherever it is written; the title stays.
_TITLED = re.compile(rf"\b((?:Mr|Mrs|Ms|Miss|Mx|Dr|Mme|Mlle|Herr|Frau|Sr|Sra|Srta)\.?[ \t]+)({_NAME_WORD})")
_SIGNER_WORDS = frozenset(
    _words(
        "customer recipient receptionist reception neighbour neighbor front desk mailroom mail room concierge security "
        "resident household family member agent post office driver staff the a an parcel locker safe place porch "
        "door individual person other addressee guard manager shop store building mailbox letterbox garage porch back "
        "side rear patio garden shed lobby entrance gate doorstep step steps inside outside house home room desk "
        "receiving dept department property management leasing office pickup point access counter dock warehouse "
        "hub facility depot sender shipper retailer location collection service box po postbox usps ups fedex dhl "
        "postnl royal amazon packstation parcelshop authorised authorized secure his her their your my"
    )
)
#: Words that are not a person's name after "driver" or after a name ("driver Tried To Call", "GARCIA Front Door").
_NOT_NAME = (
    _SIGNER_WORDS
    | _COMMON
    | frozenset(
        _words(
            "tried attempted attempt was is has had could couldn't cannot can't will would unable left arrived "
            "delivered delivering called calling en on at in to for of from with and or name today tomorrow now "
            "note notes says said reports reported assigned info details contact number phone en-route enroute "
            "out delivery is on way nearby"
        )
    )
)
_DRIVER = re.compile(r"(?i:\bdriver)[ \t]*:?[ \t]+([A-ZÀ-ÖØ-Þ][\w'-]+)((?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'-]*\.?){1,2})")
_INITIAL = r"(?-i:[A-ZÀ-ÖØ-Þ])(?:\.|(?![\w-]))"

#: Words that only introduce what was removed go with it: "at <street>", "tel <phone>", "Phone: <phone>",
#: ", email <address>"; "call" and "contact" stay ("the driver tried to call").
_ALWAYS = r"(?:at|to|@|in|on|bei|à|en|op|aan|address|addr|adresse|dirección|tel|tél|ph|fon|telefon|mob)"
_LABEL = r"(?:phone|telephone|téléphone|teléfono|mobile|cell|e-?mail|courriel|correo)"
_CLEANUPS = (
    (re.compile(rf"(^|[,;(.][ \t]*)(?:\w+[ \t]+)?{_LABEL}\.?[ \t]*:?[ \t]*{_CUT}", re.IGNORECASE), r"\1"),
    (re.compile(rf"[ \t]*\b{_LABEL}\.?[ \t]*:[ \t]*{_CUT}", re.IGNORECASE), ""),
    (re.compile(rf"[ \t]*(?:\b{_ALWAYS}\b\.?[ \t]*:?[ \t]*)?{_CUT}", re.IGNORECASE), ""),
    (re.compile(r"\(\s*\)|\[\s*\]"), ""),
    (re.compile(r"\s*([,;:/-])(?:\s*[,;:/-])+"), r"\1"),
)


def name_parts(*names: str | None) -> tuple[str, ...]:
    """The words of people's names worth matching, longest first: 'Maria Garcia-Lopez' -> garcia-lopez, garcia,
    lopez, maria."""
    parts: set[str] = set()
    for name in names:
        for word in re.split(r"[\s,;/]+", (name or "").strip().casefold()):
            word = word.strip(".'\"()")
            if len(word) < 2 or word in _PARTICLES:
                continue
            pieces = {word, *(piece for piece in word.split("-") if len(piece) >= 2 and piece not in _PARTICLES)}
            parts.update(pieces)
            parts.update(_ascii(piece) for piece in pieces)  # carriers often drop accents: MÜLLER -> MULLER
    return tuple(sorted(parts, key=lambda p: (-len(p), p)))


@lru_cache(maxsize=256)
def _name_run_pattern(parts: tuple[str, ...]) -> re.Pattern[str] | None:
    if not parts:
        return None
    name = "|".join(re.escape(part) for part in parts)
    token = rf"(?:(?:{name})(?![\w-])|{_INITIAL})"
    # A run that starts with the shopper's name may go on with names we were not told ("MARIA GARCIA LOPEZ").
    more = r"(?P<more>(?:[ \t]+(?-i:[A-ZÀ-ÖØ-Þ][\w'-]+)){0,2})"
    return re.compile(rf"(?<![\w-])(?P<run>{token}(?:(?:[ \t]*,?[ \t]*|(?<=\.)){token})*){more}", re.IGNORECASE)


@lru_cache(maxsize=256)
def _email_pattern(email: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=256)
def _line_pattern(line: str | None) -> re.Pattern[str] | None:
    words = re.findall(r"[\wÀ-ÿ]+", line or "")
    if not words or (not any(ch.isdigit() for ch in "".join(words)) and len(words) < 2):
        return None
    return re.compile(r"(?<!\w)" + r"[\s.,#-]*".join(re.escape(w) for w in words) + r"(?!\w)\.?", re.IGNORECASE)


def _ascii(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


class Redactor(Struct, frozen=True):
    """Redacts one shopper's details from carrier text; build it with `for_shipment`."""

    names: tuple[str, ...] = ()
    street_lines: tuple[str, ...] = ()
    #: The shopper's own number (E.164 digits, no +) and e-mail, removed however a carrier writes them.
    phone_digits: str = ""
    email: str = ""

    @property
    def _digitless_lines(self) -> bool:
        return any(not _HAS_DIGIT.search(line) for line in self.street_lines)

    @classmethod
    def for_shipment(
        cls,
        customer_name: str | None,
        destination: dict[str, object] | None,
        recipients: Iterable[str | None] = (),
        *,
        phone: str | None = None,
        email: str | None = None,
    ) -> Redactor:
        lines = tuple(
            str(destination[key]) for key in ("line1", "line2") if destination and isinstance(destination.get(key), str)
        )
        digits = "".join(ch for ch in phone or "" if ch.isdigit())
        return cls(
            names=name_parts(customer_name, *recipients),
            street_lines=tuple(line for line in lines if line),
            phone_digits=digits if len(digits) >= 7 else "",
            email=(email or "").strip() if "@" in (email or "") else "",
        )

    def text(self, text: str | None) -> str:
        """Carrier-written text as the shopper may see it."""
        if not text:
            return ""
        out = self._cut_contacts(text)
        if _CUT in out:
            out = _CONTACT_CLAUSE.sub(lambda m: m.group(1) + _CUT, out)
        out = self._initials(out)
        out = _SIGNER.sub(_initial_signer, out)
        out = _TITLED.sub(lambda m: m.group(1) + _initial_word(m.group(2)), out)
        out = _DRIVER.sub(_driver_first_name, out)
        # an initial that ended a sentence ends it once ("Signed: G." not "G..")
        return _tidy(re.sub(r"\b([A-ZÀ-ÖØ-Þ])\.\.(?!\.)", r"\1.", out))

    def place(self, text: str | None) -> str:
        """A place name (city/region/country, or what a carrier wrote there): street lines and contacts go."""
        return _tidy(self._cut_contacts(text)) if text else ""

    def _cut_contacts(self, text: str) -> str:
        if "@" not in text and not _HAS_DIGIT.search(text) and not self._digitless_lines:
            return text  # every phone and street pattern needs a digit, every e-mail an @: most scans stop here
        out = _email_pattern(self.email).sub(_CUT, text) if self.email else text
        out = _EMAIL.sub(_CUT, out)
        for line in self.street_lines:
            pattern = _line_pattern(line)
            if pattern is not None:
                out = pattern.sub(_CUT, out)
        for pattern in _STREETS:
            out = pattern.sub(_CUT, out)
        if self.phone_digits:
            out = _DIGIT_RUN.sub(self._own_number, out)
        for pattern in _PHONES:
            out = pattern.sub(_phone_cut, out)
        return _EXTENSION.sub(_CUT, out) if _CUT in out else out

    def _own_number(self, match: re.Match[str]) -> str:
        """The shopper's number in any format: with or without country code, trunk 0 or 00 prefix, any separators."""
        digits = "".join(ch for ch in match.group(0) if ch.isdigit())
        national = digits.lstrip("0") if digits.startswith("0") else digits
        own = self.phone_digits
        if len(national) >= 7 and (own.endswith(national) or national == own):
            return _CUT
        return match.group(0)

    def _initials(self, text: str) -> str:
        pattern = _name_run_pattern(self.names)
        if pattern is None:
            return text
        names = set(self.names)

        def initials(match: re.Match[str]) -> str:
            tokens = re.findall(r"[^\s,.]+", match.group("run"))
            named = [t for t in tokens if t.casefold() in names]
            if not named:
                return match.group(0)  # initials only: nothing of the shopper's name
            if (
                len(named) == 1
                and len(tokens) == 1
                and named[0].casefold() in _COMMON
                and not _CUES.search(text[: match.start()])
            ):
                return match.group(0)  # "May 16", "Post Office": a common word standing alone
            more = match.group("more").split()
            while more and more[0].rstrip(".").casefold() not in _NOT_NAME:
                tokens.append(more.pop(0))
            tail = match.group("more")[len(match.group("more")) - len(" ".join(more)) - (1 if more else 0) :]
            return " ".join(f"{t[0].upper()}." for t in tokens) + (tail if more else "")

        return pattern.sub(initials, text)


def _initial_word(word: str) -> str:
    """A name word as initials ("WILLIAMS" -> "W.", "K.WILLIAMS" -> "K. W."); a word that says who, not whom
    ("Reception", "P.O."), stays."""
    if word.replace(".", "").casefold() in _SIGNER_WORDS or word.rstrip(".").casefold() in _SIGNER_WORDS:
        return word
    return " ".join(f"{part[0]}." for part in word.split(".") if part)


def _initial_signer(match: re.Match[str]) -> str:
    words = match.group(1)
    initialled = re.sub(_NAME_WORD, lambda word: _initial_word(word.group(0)), words)
    initialled = re.sub(r"(?<=\b[A-ZÀ-ÖØ-Þ]\.),[ \t]*(?=[A-ZÀ-ÖØ-Þ]\.)", " ", initialled)  # "SMITH, J" -> "S. J."
    return match.group(0)[: match.start(1) - match.start(0)] + initialled


def _driver_first_name(match: re.Match[str]) -> str:
    first, rest = match.group(1), match.group(2)
    if first.casefold() in _NOT_NAME:
        return match.group(0)  # "Driver Tried To Call": no name
    words = rest.split()
    dropped = 0
    while dropped < len(words) and words[dropped].rstrip(".").casefold() not in _NOT_NAME:
        dropped += 1
    kept = " ".join(words[dropped:])
    return match.group(0)[: match.end(1) - match.start(0)] + (" " + kept if kept else "")


def _phone_cut(match: re.Match[str]) -> str:
    labelled = match.lastindex is not None
    number = match.group(1) if labelled else match.group(0)
    digits = _digits(number)
    if not (7 if labelled else _MIN_PHONE_DIGITS) <= digits <= _MAX_PHONE_DIGITS:
        return match.group(0)  # a date, a postcode, a tracking number: not a phone
    return match.group(0).replace(number, _CUT) if labelled else _CUT


def _tidy(text: str) -> str:
    if _CUT not in text:
        return text.strip()
    out = text
    for pattern, replacement in _CLEANUPS:
        out = pattern.sub(replacement, out)
    out = out.replace(_CUT, "")
    out = re.sub(r"[,;]\s*\)", ")", out)
    out = re.sub(r"[,;]\s*\(", " (", out)
    out = re.sub(r"\s+([,.;:!?)])", r"\1", out)
    out = re.sub(r"([!?]|(?<![A-ZÀ-ÖØ-Þ])\.)\.+", r"\1", out)  # "Delivered. ." left by a removed sentence
    out = re.sub(r"\s{2,}", " ", out)
    return out.strip(" \t,;:/-").lstrip(" \t.!?")  # ". Out for delivery" when the first sentence went
