"""Post-delivery surveys (pure): reading a rating from a text as people write it, and aggregate arithmetic."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

SURVEY = "survey"
ESCALATION = "escalation"
DEFAULT_DELAY_MINUTES = 60
DEFAULT_LOW_SCORE = 2
REASONS = ("on_time", "late", "friendly_driver", "rude_driver", "damaged", "wrong_place", "great_packaging", "other")
MAX_COMMENT_CHARS = 1000

_WORDS = {
    # en, es, fr, de
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "eins": 1,
    "ein": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "funf": 5,
    "fuenf": 5,
}
_FACES = {
    "😍": 5,
    "🤩": 5,
    "😀": 5,
    "😃": 5,
    "😄": 5,
    "😁": 5,
    "👍": 5,
    "❤": 5,
    "🙂": 4,
    "😊": 4,
    "😐": 3,
    "😑": 3,
    "🙁": 2,
    "☹": 2,
    "😕": 2,
    "😞": 2,
    "👎": 1,
    "😠": 1,
    "😡": 1,
    "🤬": 1,
}
_KEYCAPS = {f"{n}\ufe0f\u20e3": n for n in range(1, 6)} | {f"{n}\u20e3": n for n in range(1, 6)}
_STARS = ("⭐", "★", "🌟")
_SCORE_TEXT = re.compile(
    r"^(?:i\s*(?:give|rate)\s*(?:it\s*)?)?([1-5])(?:\s*(?:/\s*5|out\s*of\s*5|stars?|estrellas?|[ée]toiles?|sterne?|pts?|points?))?[.!]*$"
)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def parse_rating(text: str) -> int | None:
    """1-5 from "5", " 4 ", "5 stars", "five", "4/5", "⭐⭐⭐⭐", "4️⃣" or a face; None if it is not a rating."""
    raw = text.strip()
    if not raw:
        return None
    compact = raw.replace("\ufe0f", "")
    if raw in _KEYCAPS:
        return _KEYCAPS[raw]
    stars = sum(compact.count(star) for star in _STARS)
    if stars and not compact.replace(" ", "").strip("".join(_STARS)):
        return min(stars, 5)
    emoji_only = [ch for ch in compact if not ch.isspace()]
    if emoji_only and all(ch in _FACES for ch in emoji_only):
        scores = {_FACES[ch] for ch in emoji_only}
        return scores.pop() if len(scores) == 1 else None
    plain = _plain(raw)
    match = _SCORE_TEXT.match(plain)
    if match:
        return int(match.group(1))
    words = plain.rstrip(".!").split()
    if (
        len(words) <= 2
        and words
        and words[0] in _WORDS
        and (len(words) == 1 or words[1].startswith(("star", "estrella", "etoile", "stern")))
    ):
        return _WORDS[words[0]]
    return None


def is_low(score: int, threshold: int = DEFAULT_LOW_SCORE) -> bool:
    return score <= threshold


def csat(promoters: float, answered: float) -> float | None:
    """CSAT: the share of answers scoring 4 or 5, in percent."""
    return round(100.0 * promoters / answered, 1) if answered else None


def percentile_from_histogram(buckets: Mapping[int, float], bounds: Sequence[float], q: float) -> float | None:
    """The q-quantile of a bucketed distribution (bucket i holds values up to bounds[i]), as the bucket's bound."""
    total = sum(buckets.values())
    if not total:
        return None
    target = q * total
    running = 0.0
    for index, bound in enumerate(bounds):
        running += buckets.get(index, 0)
        if running >= target:
            return bound
    return bounds[-1]
