"""Rewrite the README's benchmark table from a bench run's JSON: `python -m bench.readme_table bench.json`.

The table sits between the two marker comments below in README.md; nothing outside them is touched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .common import ROOT

START = "<!-- bench-table:start (python -m bench.readme_table bench.json) -->"
END = "<!-- bench-table:end -->"


def number(value: float) -> str:
    """A figure as a reader wants it: three significant digits at most, thousands separated."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def row(figure: dict[str, Any]) -> str:
    value = f"{number(figure['value'])} {figure['unit']}"
    baseline = ""
    if figure.get("baseline") is not None:
        baseline = f"{number(figure['baseline'])} {figure['unit']}"
    if figure.get("ratio") is not None:
        baseline += f" ({figure['ratio']:.2f}x)" if baseline else f"{figure['ratio']:.2f}x"
    budget = ""
    if figure.get("budget"):
        budget = f"{figure['budget']} {'met' if figure['ok'] else '**broken**'}"
    label = figure["label"] + (f" ({figure['detail']})" if figure.get("detail") else "")
    label = label.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")  # key names like STATS#<retailer>
    return f"| {label} | {value} | {baseline} | {budget} |"


def table(data: dict[str, Any]) -> str:
    lines = ["| What | Figure | Baseline (ratio) | Budget |", "| --- | --- | --- | --- |"]
    return "\n".join(lines + [row(figure) for figure in data["figures"]])


def rewrite(readme: str, data: dict[str, Any]) -> str:
    before, start, rest = readme.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise ValueError(f"README.md has no {START} ... {END} block")
    return f"{before}{START}\n{table(data)}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.readme_table BENCH_JSON", file=sys.stderr)
        return 2
    data = json.loads(Path(args[0]).read_text())
    readme = ROOT / "README.md"
    readme.write_text(rewrite(readme.read_text(), data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
