"""The gettext catalogs: every message in every locale, the same placeholders, compiled copies that match their
sources, and a template (.pot) that matches what the code and templates ask for (D38)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from chalicelib.web import i18n
from chalicelib.web.templating import render_sms

ROOT = Path(__file__).resolve().parents[2]
POT = i18n.LOCALE_ROOT / f"{i18n.DOMAIN}.pot"
#: `%(name)s` (gettext and `{% trans %}`) and `{name}` (str.format) placeholders.
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[sdifr]|\{(\w+)\}")


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def po_path(locale: str) -> Path:
    return i18n.LOCALE_ROOT / locale / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def message_ids(catalog: Catalog) -> set[object]:
    return {message.id if isinstance(message.id, str) else tuple(message.id) for message in catalog if message.id}


def placeholders(text: str) -> list[str]:
    return sorted(a or b for a, b in PLACEHOLDER.findall(text))


def test_every_supported_locale_has_a_catalog_and_nothing_else_does() -> None:
    folders = {path.parent.parent.name for path in i18n.LOCALE_ROOT.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.po")}
    assert folders == set(i18n.LOCALES)
    assert set(i18n.LANGUAGE_NAMES) == set(i18n.LOCALES)


def test_the_template_holds_exactly_what_the_code_and_templates_ask_for() -> None:
    """Fails after a msgid is added or changed in code or a template without `make messages`."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {
        (context, message if isinstance(message, str) else tuple(message))
        for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, options_map)
    }
    in_template = {(message.context, message.id) for message in read(POT) if message.id}
    assert extracted == in_template, "run `make messages` and translate what it adds"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_message_is_translated_in_every_locale(locale: str) -> None:
    template, catalog = read(POT), read(po_path(locale), locale)
    assert message_ids(catalog) == message_ids(template), "run `make messages`"
    missing = [message.id for message in catalog if message.id and not message.string]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert not missing, f"{locale}: untranslated: {missing}"
    assert not fuzzy, f"{locale}: fuzzy (check, then remove the fuzzy flag): {fuzzy}"
    assert not catalog.obsolete, f"{locale}: obsolete messages left in the catalog: {list(catalog.obsolete)}"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_translations_keep_the_placeholders_of_their_msgid(locale: str) -> None:
    wrong = []
    for message in read(po_path(locale), locale):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else list(message.string or [])
        expected = placeholders(msgid)
        wrong += [(msgid, text) for text in strings if placeholders(text) != expected]
    assert not wrong, f"{locale}: placeholders differ from the msgid: {wrong}"


def test_the_placeholder_check_sees_a_renamed_or_dropped_placeholder() -> None:
    assert placeholders("%(retailer)s: order %(order_id)s") == ["order_id", "retailer"]
    assert placeholders("%(retailer)s : commande %(order)s") != placeholders("%(retailer)s: order %(order_id)s")
    assert placeholders("Try again in {minutes} min") == ["minutes"] != placeholders("Réessayez bientôt")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_the_compiled_catalog_matches_its_source(locale: str) -> None:
    """A .mo older than its .po (edited without `make translations`) fails here rather than in front of a shopper."""
    compiled = i18n.translations(locale)
    stale = [
        message.id
        for message in read(po_path(locale), locale)
        if message.id and isinstance(message.id, str) and compiled.gettext(message.id) != message.string
    ]
    assert not stale, f"{locale}: run `make translations`; stale: {stale[:5]}"


def test_locales_fall_back_by_language_then_to_english() -> None:
    assert i18n.status_label("out_for_delivery", "es-MX") == "En reparto"
    assert i18n.strings("fr-CA")["title"] == "Suivre ma commande"
    assert i18n.status_label("delivered", "pt-BR") == "Arrived" and i18n.strings(None)["title"] == "Track your order"
    assert i18n.status_label("teleported", "fr") == "Teleported"  # a status without a label still reads as words
    assert render_sms("delivered", "de-CH", {"retailer": "Acme", "order_id": "A1", "tracking_url": "u", "opt_out": ""})
    assert i18n.STRINGS["de"]["title"] == "Sendung verfolgen" and "pt" not in i18n.STRINGS


def test_catalogs_are_read_when_a_locale_is_first_used() -> None:
    """Cold start: speaking German reads the German catalog and English (its fallback), no other."""
    i18n._catalog.cache_clear()
    i18n._strings.cache_clear()
    assert i18n.status_label("shipped", "de") == "Versandt"
    assert i18n._catalog.cache_info().currsize == 2
