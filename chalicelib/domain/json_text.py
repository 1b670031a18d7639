"""JSON as senders write it: Python's parser turns a lone `\\ud800` escape into a str no UTF-8 can encode, which
then fails far from the request (DynamoDB, the page render). Such a body is refused where it is read."""

from __future__ import annotations

import json
import re
from typing import Any

#: A \\u escape for a UTF-16 surrogate half: only then can the parsed value hold an unpaired one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def loads(raw: bytes) -> Any:
    """`json.loads` that also refuses (ValueError) a string with an unpaired surrogate; a proper pair (an emoji
    written as \\ud83d\\ude00) is one character and passes."""
    data = json.loads(raw)
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                "a string holds an unpaired UTF-16 surrogate (a \\ud800-\\udfff escape), no character"
            ) from exc
    return data
