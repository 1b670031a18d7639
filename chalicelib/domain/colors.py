"""Colour arithmetic for branding: WCAG 2.1 relative luminance and contrast, and a brand's palette checked against
every surface each colour sits on (pure: no HTTP, no templates; the pages use the surface colours named here)."""

from __future__ import annotations

import re
from functools import lru_cache

from msgspec import Struct

HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
DARK_TEXT, LIGHT_TEXT, BLACK, WHITE = "#111111", "#ffffff", "#000000", "#ffffff"
AA_NORMAL_TEXT = 4.5  # WCAG 2.1 SC 1.4.3, text of normal size
AA_NON_TEXT = 3.0  # WCAG 2.1 SC 1.4.11, graphical objects and the parts of controls that show their state
TEXT_ON_FILL = "text on it"

#: The fixed colours of the shopper pages and the analytics page that a brand colour is drawn on.
SURFACES: dict[str, str] = {
    "page background": "#f4f5f7",
    "card": "#ffffff",
    "chat bubble": "#eaeef2",
    "progress bar track": "#d0d7de",
    "notice": "#fff8e6",
}


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
    """Near-black or white text, whichever contrasts more; pure black when neither reaches 4.5:1 (a mid grey such
    as #777777 gives white 4.48:1 and #111111 4.2:1, black 4.69:1; of black and white one always reaches 4.58:1)."""
    dark, light = contrast_ratio(background, DARK_TEXT), contrast_ratio(background, LIGHT_TEXT)
    best = DARK_TEXT if dark >= light else LIGHT_TEXT
    if max(dark, light) >= AA_NORMAL_TEXT:
        return best
    return BLACK if contrast_ratio(background, BLACK) >= light else LIGHT_TEXT


def _mix(color: str, target: str, amount: float) -> str:
    a, b = normalise_hex(color)[1:], normalise_hex(target)[1:]
    channels = [round(int(a[i : i + 2], 16) * (1 - amount) + int(b[i : i + 2], 16) * amount) for i in (0, 2, 4)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def lowest_contrast(color: str, backgrounds: tuple[str, ...]) -> float:
    return min(contrast_ratio(color, background) for background in backgrounds)


def ensure_contrast_on_all(color: str, backgrounds: tuple[str, ...], minimum: float) -> str:
    """The colour moved toward black or white, by the smallest step (1 % of the way) that reaches `minimum` against
    every background at once; the colour itself when it already does."""
    color = normalise_hex(color)
    if lowest_contrast(color, backgrounds) >= minimum:
        return color
    for step in range(1, 101):
        for toward in (BLACK, WHITE):
            candidate = _mix(color, toward, step / 100)
            if lowest_contrast(candidate, backgrounds) >= minimum:
                return candidate
    return max((BLACK, WHITE), key=lambda end: lowest_contrast(end, backgrounds))


def ensure_contrast(color: str, background: str, minimum: float = AA_NORMAL_TEXT) -> str:
    """The retailer's colour, darkened (or lightened) just enough to be readable as text on `background`."""
    return ensure_contrast_on_all(color, (background,), minimum)


class Adjustment(Struct, frozen=True):
    """One place where a brand colour could not be used as given."""

    field: str  # the branding field: primary_color or accent_color
    use: str  # what the colour is used for there
    surfaces: tuple[str, ...]  # names from SURFACES; for TEXT_ON_FILL, the brand colour the text sits on
    given: str
    used: str
    ratio_given: float  # the lowest contrast of the given colour against those surfaces
    ratio_used: float
    minimum: float

    def message(self) -> str:
        where = ", ".join(self.surfaces)
        if self.use == TEXT_ON_FILL:
            return (
                f"text on {self.field} {where}: {self.given} has {self.ratio_given:.2f}:1 (WCAG 2.1 AA needs "
                f"{self.minimum:g}:1); {self.used} is used instead ({self.ratio_used:.2f}:1)"
            )
        return (
            f"{self.field} {self.given} as {self.use} has {self.ratio_given:.2f}:1 against {where} "
            f"(WCAG 2.1 AA needs {self.minimum:g}:1); {self.used} is used there instead ({self.ratio_used:.2f}:1)"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "field": self.field,
            "use": self.use,
            "surfaces": list(self.surfaces),
            "given": self.given,
            "used": self.used,
            "contrast_given": round(self.ratio_given, 2),
            "contrast_used": round(self.ratio_used, 2),
            "minimum": self.minimum,
            "message": self.message(),
        }


class Palette(Struct, frozen=True):
    primary: str  # header, buttons and the shopper's chat bubbles (filled with it, text in on_primary)
    on_primary: str
    accent: str
    on_accent: str
    link: str  # primary as link text on the page background, cards and chat bubbles
    ui: str  # primary as a graphic: progress bar, timeline dot, button edge, chart bars
    accent_ui: str  # accent as a graphic: the notice stripe
    adjustments: tuple[Adjustment, ...]


def _checked(
    field: str, given: str, use: str, surfaces: tuple[str, ...], minimum: float, found: list[Adjustment]
) -> str:
    backgrounds = tuple(SURFACES[name] for name in surfaces)
    used = ensure_contrast_on_all(given, backgrounds, minimum)
    if used != given:
        found.append(
            Adjustment(
                field,
                use,
                surfaces,
                given,
                used,
                lowest_contrast(given, backgrounds),
                lowest_contrast(used, backgrounds),
                minimum,
            )
        )
    return used


def _text_on(field: str, fill: str, found: list[Adjustment]) -> str:
    text = readable_text_on(fill)
    preferred = DARK_TEXT if contrast_ratio(fill, DARK_TEXT) >= contrast_ratio(fill, LIGHT_TEXT) else LIGHT_TEXT
    if text != preferred:
        found.append(
            Adjustment(
                field,
                TEXT_ON_FILL,
                (fill,),
                preferred,
                text,
                contrast_ratio(fill, preferred),
                contrast_ratio(fill, text),
                AA_NORMAL_TEXT,
            )
        )
    return text


@lru_cache(maxsize=1024)  # pure, and searched step by step: a retailer's two colours are worked out once
def brand_palette(primary_color: str, accent_color: str) -> Palette:
    """Every brand colour checked against every surface it sits on, adjusted to WCAG 2.1 AA where it falls short:
    4.5:1 for text (links, text on the brand fills), 3:1 for graphics (progress bar, stripes, chart bars)."""
    primary, accent = normalise_hex(primary_color), normalise_hex(accent_color)
    found: list[Adjustment] = []
    on_primary = _text_on("primary_color", primary, found)
    on_accent = _text_on("accent_color", accent, found)
    link = _checked(
        "primary_color", primary, "link text", ("page background", "card", "chat bubble"), AA_NORMAL_TEXT, found
    )
    ui = _checked(
        "primary_color",
        primary,
        "progress bar, chart bars and button edges",
        ("card", "progress bar track"),
        AA_NON_TEXT,
        found,
    )
    accent_ui = _checked("accent_color", accent, "notice stripe", ("page background", "notice"), AA_NON_TEXT, found)
    return Palette(primary, on_primary, accent, on_accent, link, ui, accent_ui, tuple(found))
