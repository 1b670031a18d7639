"""Colour arithmetic for branding: WCAG 2.x relative luminance and contrast, and readable text colours."""

from __future__ import annotations

import re

HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
DARK_TEXT, LIGHT_TEXT = "#111111", "#ffffff"
AA_NORMAL_TEXT = 4.5


def normalise_hex(color: str) -> str:
    if not HEX_COLOR.match(color):
        raise ValueError(f"{color!r} is not a #rgb or #rrggbb colour")
    digits = color[1:]
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return "#" + digits.lower()


def relative_luminance(color: str) -> float:
    digits = normalise_hex(color)[1:]
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def readable_text_on(background: str) -> str:
    """Dark or light text, whichever contrasts more with the background (one always reaches at least 4.5:1)."""
    dark, light = contrast_ratio(background, DARK_TEXT), contrast_ratio(background, LIGHT_TEXT)
    return DARK_TEXT if dark >= light else LIGHT_TEXT


def _mix(color: str, target: str, amount: float) -> str:
    a, b = normalise_hex(color)[1:], normalise_hex(target)[1:]
    channels = [round(int(a[i : i + 2], 16) * (1 - amount) + int(b[i : i + 2], 16) * amount) for i in (0, 2, 4)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def ensure_contrast(color: str, background: str, minimum: float = AA_NORMAL_TEXT) -> str:
    """The retailer's colour, darkened (or lightened) just enough to be readable as text on `background`."""
    color = normalise_hex(color)
    if contrast_ratio(color, background) >= minimum:
        return color
    toward = "#000000" if relative_luminance(background) > 0.5 else "#ffffff"
    for step in range(1, 21):
        candidate = _mix(color, toward, step / 20)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return toward
