"""Server-rendered SVG chart geometry: numbers in, shapes out (the template only draws them)."""

from __future__ import annotations

from typing import Any


def bar_chart(
    points: list[tuple[str, float | None]], *, width: int = 640, height: int = 200, unit: str = ""
) -> dict[str, Any]:
    """Vertical bars for a series (e.g. deliveries per day); missing values draw as zero-height bars."""
    values = [value or 0 for _, value in points]
    top = max(values, default=0) or 1
    inner_height = height - 30
    slot = width / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = (value or 0) / top * inner_height
        bars.append(
            {
                "label": label,
                "value": value,
                "text": "–" if value is None else f"{value:g}{unit}",
                "x": round(index * slot + slot * 0.15, 1),
                "y": round(inner_height - bar_height + 5, 1),
                "w": round(slot * 0.7, 1),
                "h": round(bar_height, 1),
            }
        )
    return {"width": width, "height": height, "bars": bars, "max": top, "unit": unit}


def hbar_chart(
    points: list[tuple[str, float | None]], *, width: int = 640, maximum: float | None = None, unit: str = ""
) -> dict[str, Any]:
    """Horizontal bars with labels (e.g. CSAT by carrier), one row per item."""
    row = 28
    label_width = 160
    top = maximum or max((value or 0 for _, value in points), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(points):
        bars.append(
            {
                "label": label,
                "value": value,
                "text": "no data" if value is None else f"{value:g}{unit}",
                "y": index * row,
                "w": round((value or 0) / top * (width - label_width - 70), 1),
            }
        )
    return {"width": width, "height": max(len(points), 1) * row, "label_width": label_width, "bars": bars, "unit": unit}
