"""Reading survey texts as shoppers write them: a leading score in any listed form, and the words after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.survey import (
    FOLLOW_UP_WINDOW,
    MAX_COMMENT_CHARS,
    Reply,
    join_comment,
    parse_reply,
    within_follow_up_window,
)

# Replies in the shapes shoppers send to "Reply 1 (poor) to 5 (great)": bare scores, units, words, emoji, and a
# score followed by what they wanted to say.
REPLIES = [
    ("5", Reply(5, None)),
    (" 4 ", Reply(4, None)),
    ("5.", Reply(5, None)),
    ("5!!!", Reply(5, None)),
    ("5 stars", Reply(5, None)),
    ("4/5", Reply(4, None)),
    ("4 / 5", Reply(4, None)),
    ("4 out of 5", Reply(4, None)),
    ("3 out of five", Reply(3, None)),
    ("5*", Reply(5, None)),
    ("5-star", Reply(5, None)),
    ("five", Reply(5, None)),
    ("Five!", Reply(5, None)),
    ("⭐⭐⭐⭐", Reply(4, None)),
    ("★★★☆☆", Reply(3, None)),
    ("⭐️⭐️⭐️⭐️⭐️", Reply(5, None)),
    ("4️⃣", Reply(4, None)),
    ("🙂", Reply(4, None)),
    ("😡😡", Reply(1, None)),
    ("1 - package was wet", Reply(1, "package was wet")),
    ("4 stars, great driver", Reply(4, "great driver")),
    ("4 Stars! Great driver, very polite", Reply(4, "Great driver, very polite")),
    ("2: left at the wrong door", Reply(2, "left at the wrong door")),
    ("1. Box crushed, item broken", Reply(1, "Box crushed, item broken")),
    ("5 thank you so much!", Reply(5, "thank you so much!")),
    ("3/5 a bit late but fine", Reply(3, "a bit late but fine")),
    ("5/5 👍 Sam was great", Reply(5, "👍 Sam was great")),
    ("⭐⭐⭐⭐⭐ Super fast", Reply(5, "Super fast")),
    ("4️⃣ good", Reply(4, "good")),
    ("🙁 it was late", Reply(2, "it was late")),
    ("I give it a 4, driver was rude though", Reply(4, "driver was rude though")),
    ("i'd rate it 2/5 - late again", Reply(2, "late again")),
    ("Four - great driver", Reply(4, "great driver")),
    ("four stars great driver", Reply(4, "great driver")),
    # Spanish, French, German number words and units
    ("cuatro", Reply(4, None)),
    ("Cuatro estrellas, muy amable", Reply(4, "muy amable")),
    ("cinco! todo perfecto", Reply(5, "todo perfecto")),
    ("4 estrellas, llegó tarde", Reply(4, "llegó tarde")),
    ("quatre", Reply(4, None)),
    ("Quatre étoiles, livreur sympa", Reply(4, "livreur sympa")),
    ("deux : colis abîmé", Reply(2, "colis abîmé")),
    ("3 sur 5, un peu en retard", Reply(3, "un peu en retard")),
    ("vier", Reply(4, None)),
    ("Vier Sterne, alles gut", Reply(4, "alles gut")),
    ("fünf", Reply(5, None)),
    ("Fünf - sehr freundlich", Reply(5, "sehr freundlich")),
    ("2 von 5, Paket war nass", Reply(2, "Paket war nass")),
]

NOT_A_RATING = [
    "",
    "   ",
    "it was ok I guess",
    "meh",
    "Thanks!",
    "10/10",
    "10",
    "0",
    "6",
    "4.5",
    "4,5 stars",
    "4pm was fine",
    "5th time it was late",
    "One box was crushed",  # a count, not a rating: no separator or unit after the word
    "Un colis abîmé",
    "Ein Paket fehlt",
    "Una caja rota",
    "not 5",
    "⭐⭐⭐⭐⭐⭐",
    "🙂😡",
]


@pytest.mark.parametrize(("text", "expected"), REPLIES)
def test_a_leading_score_in_any_listed_form_is_read_with_the_words_after_it(text: str, expected: Reply) -> None:
    assert parse_reply(text) == expected


@pytest.mark.parametrize("text", NOT_A_RATING)
def test_texts_that_do_not_lead_with_a_rating_are_not_read_as_one(text: str) -> None:
    assert parse_reply(text) is None


def test_a_long_comment_is_kept_to_the_limit() -> None:
    reply = parse_reply("2 " + "x" * 2000)
    assert reply is not None and reply.score == 2 and reply.comment == "x" * MAX_COMMENT_CHARS


def test_a_later_note_is_appended_to_the_comment_not_replacing_it() -> None:
    assert join_comment(None, " package was wet ") == "package was wet"
    assert join_comment("package was wet", "and the box torn") == "package was wet\nand the box torn"
    assert join_comment("kept", "  ") == "kept"
    assert len(join_comment("a" * 990, "b" * 50)) == MAX_COMMENT_CHARS


def test_the_follow_up_window_is_a_day_after_the_score() -> None:
    answered = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert timedelta(hours=24) == FOLLOW_UP_WINDOW
    assert within_follow_up_window(answered.isoformat(), answered + timedelta(hours=23, minutes=59))
    assert not within_follow_up_window(answered.isoformat(), answered + timedelta(hours=24))
