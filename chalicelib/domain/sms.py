"""SMS text rules: GSM-7 segments and a transliteration that keeps accented text in one 160-character segment."""

from __future__ import annotations

import unicodedata

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
SINGLE_SEGMENT_GSM7 = 160
SINGLE_SEGMENT_UCS2 = 70
_REPLACEMENTS = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " ", "·": "-"}


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def gsm7_length(text: str) -> int:
    """Septets used: extension-table characters take two."""
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)


def to_gsm7(text: str) -> str:
    """Replace characters GSM-7 lacks (á, í, ó, ú, ê, ç, smart quotes...) with their closest GSM-7 form.

    Characters with no close form (emoji, CJK) are kept, and the message then goes out as UCS-2.
    """
    out = []
    # Composed first: "e" + a combining acute (as some keyboards and CSV exports write it) is the GSM-7 "é".
    for ch in unicodedata.normalize("NFC", text):
        ch = _REPLACEMENTS.get(ch, ch)
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED or len(ch) > 1:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch)
        stripped = "".join(c for c in base if not unicodedata.combining(c))
        out.append(stripped if stripped and all(c in GSM7_BASIC for c in stripped) else ch)
    return "".join(out)


def segment_limit(text: str) -> int:
    return SINGLE_SEGMENT_GSM7 if is_gsm7(text) else SINGLE_SEGMENT_UCS2


def fits_one_segment(text: str) -> bool:
    return gsm7_length(text) <= SINGLE_SEGMENT_GSM7 if is_gsm7(text) else len(text) <= SINGLE_SEGMENT_UCS2
