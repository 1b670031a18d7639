"""Brand colours against every surface they sit on, WCAG 2.1 AA (pure domain logic)."""

from __future__ import annotations

import pytest

from chalicelib.domain.colors import (
    AA_NON_TEXT,
    AA_NORMAL_TEXT,
    SURFACES,
    brand_palette,
    contrast_ratio,
    ensure_contrast_on_all,
    readable_text_on,
)

# Ratios published with WCAG: #767676 is the lightest grey that passes on white (W3C's Understanding SC 1.4.3 and
# WebAIM's contrast checker give 4.54:1); black on white is 21:1; #777777 on white is the well-known near miss (4.48:1).
PUBLISHED = [("#767676", "#ffffff", 4.54), ("#000000", "#ffffff", 21.0), ("#777777", "#ffffff", 4.48)]
BRANDS = ["#ffffff", "#ffeb3b", "#ff0000", "#777777", "#000000", "#1f4b99", "#f2a900", "#00ff00", "#0000ff", "#808080"]
TEXT_SURFACES = ("page background", "card", "chat bubble")


@pytest.mark.parametrize(("first", "second", "ratio"), PUBLISHED)
def test_contrast_ratio_matches_the_published_figures(first: str, second: str, ratio: float) -> None:
    assert round(contrast_ratio(first, second), 2) == ratio


@pytest.mark.parametrize("fill", BRANDS)
def test_text_on_every_brand_fill_reaches_4_5_to_1(fill: str) -> None:
    assert contrast_ratio(fill, readable_text_on(fill)) >= AA_NORMAL_TEXT


def test_white_text_on_a_777777_button_is_replaced_by_black_and_reported() -> None:
    palette = brand_palette("#777777", "#0d47a1")
    assert palette.primary == "#777777" and palette.on_primary == "#000000"
    (text,) = [a for a in palette.adjustments if a.use == "text on it"]
    assert (text.given, text.used, round(text.ratio_given, 2)) == ("#ffffff", "#000000", 4.48)
    assert "text on primary_color #777777: #ffffff has 4.48:1" in text.message()


@pytest.mark.parametrize("primary", BRANDS)
def test_links_reach_4_5_to_1_on_the_page_background_cards_and_chat_bubbles_not_only_white(primary: str) -> None:
    link = brand_palette(primary, "#f2a900").link
    for surface in TEXT_SURFACES:
        assert contrast_ratio(link, SURFACES[surface]) >= AA_NORMAL_TEXT, (primary, surface)


def test_a_link_that_passes_on_white_but_not_on_grey_is_adjusted() -> None:
    # #767676 passes on white (4.54:1) but not on the page's #f4f5f7 grey: the old white-only check let it through
    assert (
        contrast_ratio("#767676", "#ffffff") >= AA_NORMAL_TEXT > contrast_ratio("#767676", SURFACES["page background"])
    )
    palette = brand_palette("#767676", "#0d47a1")
    assert palette.link != "#767676"
    (link,) = [a for a in palette.adjustments if a.use == "link text"]
    assert link.surfaces == TEXT_SURFACES and link.minimum == AA_NORMAL_TEXT


@pytest.mark.parametrize("primary", BRANDS)
def test_the_progress_bar_reaches_3_to_1_on_the_card_and_its_track(primary: str) -> None:
    ui = brand_palette(primary, "#f2a900").ui
    assert contrast_ratio(ui, SURFACES["card"]) >= AA_NON_TEXT
    assert contrast_ratio(ui, SURFACES["progress bar track"]) >= AA_NON_TEXT


def test_a_white_primary_keeps_its_fill_but_gets_a_visible_progress_bar_and_readable_links() -> None:
    palette = brand_palette("#FFFFFF", "#f2a900")
    assert palette.primary == "#ffffff" and palette.on_primary == "#111111"
    assert palette.ui != "#ffffff" and palette.link != "#ffffff"
    uses = {a.use for a in palette.adjustments if a.field == "primary_color"}
    assert uses == {"link text", "progress bar, chart bars and button edges"}


@pytest.mark.parametrize("accent", BRANDS)
def test_the_accent_stripe_reaches_3_to_1_on_the_page_and_the_notice(accent: str) -> None:
    stripe = brand_palette("#1f4b99", accent).accent_ui
    assert contrast_ratio(stripe, SURFACES["page background"]) >= AA_NON_TEXT
    assert contrast_ratio(stripe, SURFACES["notice"]) >= AA_NON_TEXT


def test_a_colour_that_already_passes_everywhere_is_used_as_given_with_no_warning() -> None:
    palette = brand_palette("#1f4b99", "#8a1538")
    assert (palette.link, palette.ui, palette.accent_ui) == ("#1f4b99", "#1f4b99", "#8a1538")
    assert palette.adjustments == ()


@pytest.mark.parametrize("color", ["#ff0000", "#ffeb3b", "#777777", "#00ff00"])
def test_an_adjusted_colour_is_moved_just_enough_to_pass(color: str) -> None:
    backgrounds = ("#ffffff", "#f4f5f7")
    adjusted = ensure_contrast_on_all(color, backgrounds, AA_NORMAL_TEXT)
    lowest = min(contrast_ratio(adjusted, bg) for bg in backgrounds)
    assert AA_NORMAL_TEXT <= lowest < AA_NORMAL_TEXT + 0.2, (color, adjusted, lowest)


def test_every_warning_says_what_was_adjusted_where_and_by_how_much() -> None:
    for adjustment in brand_palette("#ffeb3b", "#ffeb3b").adjustments:
        data = adjustment.as_dict()
        assert data["contrast_used"] >= data["minimum"] > data["contrast_given"]
        assert data["given"] in data["message"] and data["used"] in data["message"]
