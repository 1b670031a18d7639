"""Post-delivery surveys (pure): reading a rating from a text as people write it, and aggregate arithmetic."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from msgspec import Struct

SURVEY = "survey"
ESCALATION = "escalation"
#: The outbox kind of a `survey.comment_added` event: one per version of a low score's comment.
COMMENT_PREFIX = "survey_comment:"
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
_STARS = "⭐★🌟"
_EMPTY_STARS = "☆✩"
_FACE_CLASS = "".join(_FACES)
#: What may follow a number to say it is a rating: "4/5", "4 out of five", "4 stars", "4*", "quatre étoiles".
_UNIT = (
    r"(?:\s*(?:/|out\s+of|of|sur|de|von|auf)\s*(?:5|five|cinq|cinco|f(?:ü|ue|u)nf)(?![\w])"
    r"|\s*-?\s*(?:stars?|estrellas?|[ée]toiles?|sterne?|points?|punkte?|pts?)(?![\w])|\s*\*)"
)
_LEAD = re.compile(
    r"(?:i\s*(?:would\s+|'d\s+|’d\s+)?(?:give|rate)\s+(?:(?:it|you|this|them|the\s+delivery)\s+)?(?:an?\s+)?)?",
    re.IGNORECASE,
)
_KEYCAP = re.compile(r"([1-5])\ufe0f?\u20e3")
_STAR_RUN = re.compile(rf"(?:[{_STARS}]\ufe0f?\s*)+(?:[{_EMPTY_STARS}]\s*)*")
_FACE_RUN = re.compile(rf"(?:[{_FACE_CLASS}]\ufe0f?\s*)+")
#: A digit 1-5 that is a whole number (not "10", "4.5", "4pm" or "5th"), optionally with a unit.
_DIGIT = re.compile(rf"([1-5])(?![\d])(?![.,]\d)(?:({_UNIT})|(?![^\W\d_]))", re.IGNORECASE)
_WORD = re.compile(rf"([^\W\d_]+)({_UNIT})?", re.IGNORECASE)
#: After a number word, a separator shows it was a rating ("Four, great driver"), not a count ("One box was wet").
_SEPARATOR = re.compile(r"\s*(?:$|[-–—:,.;!?)(])")
_LEADING_PUNCTUATION = re.compile(r"^[\s\-–—:,.;!?)(\]\[*~/]+")
#: A text after the score joins its comment within this window (SMS cannot tell a new conversation apart).
FOLLOW_UP_WINDOW = timedelta(hours=24)


class Reply(Struct, frozen=True):
    """A survey text read: the score it leads with, and the words after it (None when it carries none)."""

    score: int
    comment: str | None


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def _leading_score(text: str, start: int) -> tuple[int, int] | None:
    """(score, where the rest begins) for a score written at `start`, in any form the README lists."""
    keycap = _KEYCAP.match(text, start)
    if keycap:
        return int(keycap.group(1)), keycap.end()
    stars = _STAR_RUN.match(text, start)
    if stars:
        filled = sum(stars.group().count(star) for star in _STARS)
        return (filled, stars.end()) if filled <= 5 else None
    faces = _FACE_RUN.match(text, start)
    if faces:
        scores = {_FACES[ch] for ch in faces.group() if ch in _FACES}
        return (scores.pop(), faces.end()) if len(scores) == 1 else None
    digit = _DIGIT.match(text, start)
    if digit:
        return int(digit.group(1)), digit.end()
    word = _WORD.match(text, start)
    if word and _plain(word.group(1)) in _WORDS and (word.group(2) or _SEPARATOR.match(text, word.end())):
        return _WORDS[_plain(word.group(1))], word.end()
    return None


def parse_reply(text: str) -> Reply | None:
    """The rating a text leads with and the words that follow it: "4", "4/5", "four", "⭐⭐⭐⭐", "🙂", "4️⃣",
    "1 - package was wet", "4 stars, great driver", "cuatro estrellas, muy amable". None when it leads with no
    rating (a number word must be alone, carry a unit or be followed by punctuation: "One box was crushed" is not 1).
    """
    raw = unicodedata.normalize("NFC", text).strip()
    lead = _LEAD.match(raw)
    start = lead.end() if lead else 0
    found = _leading_score(raw, start) or (_leading_score(raw, 0) if start else None)
    if found is None:
        return None
    score, end = found
    if not 1 <= score <= 5:
        return None
    rest = _LEADING_PUNCTUATION.sub("", raw[end:]).strip()
    comment = rest[:MAX_COMMENT_CHARS] if any(ch.isalnum() for ch in rest) else None
    return Reply(score, comment)


def parse_rating(text: str) -> int | None:
    """The score a text leads with, if any (see parse_reply)."""
    reply = parse_reply(text)
    return reply.score if reply else None


def join_comment(existing: str | None, addition: str) -> str:
    """A later note joins the comment (a new line), never replacing it; the whole stays within the limit."""
    addition = addition.strip()
    if not existing:
        return addition[:MAX_COMMENT_CHARS]
    if not addition:
        return existing
    return f"{existing}\n{addition}"[:MAX_COMMENT_CHARS]


def within_follow_up_window(answered_at: str, now: datetime) -> bool:
    return now - datetime.fromisoformat(answered_at) < FOLLOW_UP_WINDOW


def comment_kind(revision: int) -> str:
    return f"{COMMENT_PREFIX}{revision}"


def comment_revision(kind: str) -> int | None:
    """The comment version a `survey_comment:<n>` outbox kind carries; None for any other kind."""
    number = kind.removeprefix(COMMENT_PREFIX)
    return int(number) if kind.startswith(COMMENT_PREFIX) and number.isdigit() else None


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
