"""CSV for spreadsheets, shared by every export: cells that a spreadsheet would run as a formula are written as text
(OWASP "CSV Injection"): carrier-supplied driver names and provider reasons reach these cells."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def csv_cell(value: Any) -> Any:
    """One cell as a spreadsheet should read it: numbers stay numbers (negative ones too), text that would start a
    formula gets a leading single quote (`=HYPERLINK(...)` is written as the text '=HYPERLINK(...))."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose every cell goes through `csv_cell`: the one place the exports escape formulas."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([csv_cell(cell) for cell in row])
