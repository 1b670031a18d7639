"""Built-in templates in four locales fit one SMS segment with worst-case data; retailer templates are sandboxed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import sms
from chalicelib.domain.notifications import DELAY_REASONS
from chalicelib.domain.policy import NOTIFICATION_KINDS
from chalicelib.errors import ValidationError
from chalicelib.web.templating import (
    LOCALES,
    Override,
    format_eta,
    opt_out_text,
    render_email,
    render_sms,
    resolve_locale,
    validate_override,
)

WORST_CASE = {
    "retailer": "Northwind Outdoor Supply Company of America",  # cut to 20 characters in texts
    "order_id": "WEB-2026-000123456789",  # whole where it fits, else "..0123456789" (its tail, visibly cut)
    "first_name": "Alexandra-Marie",
    "status_label": "Out for delivery",
    "eta": "Wed 10:30am-12:30pm",  # the longest ETA format_eta produces
    "tracking_url": "https://track.example.com/t/" + "A" * 22 + "?s",  # a built-in text's link is marked (D45)
    "carrier": "DHLECOMMERCE",
    "tracking_number": "GM605112270084510370",
    "support_phone": "+1 (415) 555-0100",
    "support_email": "customer.support@northwind.example.com",
    "brand": {
        "primary_color": "#1f4b99",
        "text_on_primary": "#ffffff",
        "accent_color": "#f2a900",
        "font_stack": "Arial, sans-serif",
        "logo_url": None,
    },
    "unsubscribe_url": "https://track.example.com/v1/unsubscribe/abc",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_an_order_id_is_whole_in_a_text_where_it_fits_and_visibly_cut_where_it_does_not(locale: str) -> None:
    context = {**WORST_CASE, "retailer": "Demo", "eta": "", "opt_out": opt_out_text(locale), "locale": locale}
    for order in ("1234567890123", "#SHOP-2026-000123", "ORDER 1001 / 2"):
        assert f" {order} " in render_sms("shipped", locale, {**context, "order_id": order}).body
    huge = "X" * 120 + "-000123"
    body = render_sms("shipped", locale, {**context, "order_id": huge}).body
    assert " ..XXX-000123 " in body and sms.gsm7_length(body) <= 160  # its tail, behind a visible mark


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", NOTIFICATION_KINDS)
def test_every_builtin_sms_fits_one_gsm7_segment(kind: str, locale: str) -> None:
    context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale}
    body = render_sms(kind, locale, context).body
    assert sms.is_gsm7(body), body
    assert sms.gsm7_length(body) <= 160, (len(body), body)
    assert "STOP" in body and context["tracking_url"] in body
    assert WORST_CASE["order_id"] in body or "..0123456789" in body
    without_eta = render_sms(kind, locale, {**context, "eta": ""}).body
    assert sms.gsm7_length(without_eta) <= 160


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", NOTIFICATION_KINDS)
def test_every_builtin_email_has_subject_text_html_and_unsubscribe(kind: str, locale: str) -> None:
    context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale}
    email = render_email(kind, locale, context)
    assert WORST_CASE["order_id"] in email.subject
    assert WORST_CASE["tracking_url"] in email.text and WORST_CASE["tracking_url"] in email.html
    assert WORST_CASE["unsubscribe_url"] in email.text and WORST_CASE["unsubscribe_url"] in email.html
    assert f'<html lang="{locale}">' in email.html


def test_exception_emails_say_what_to_do_next() -> None:
    for kind in ("delayed", "attempt_failed", "available_for_pickup", "returned", "exception"):
        email = render_email(kind, "en", {**WORST_CASE, "opt_out": "", "locale": "en"})
        assert "What to do next:" in email.text


def test_email_html_escapes_shopper_and_retailer_text() -> None:
    hostile = {
        **WORST_CASE,
        "first_name": "<script>alert(1)</script>",
        "retailer": "Evil & <b>Co</b>",
        "opt_out": "",
        "locale": "en",
    }
    email = render_email("shipped", "en", hostile)
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "<b>Co</b>" not in email.html


def test_gsm7_accents_survive_even_when_written_decomposed() -> None:
    assert sms.to_gsm7("livre\u0301e, a\u0300 bient\u00f4t") == "livrée, à bientot"


def test_accents_are_transliterated_to_stay_gsm7() -> None:
    assert sms.to_gsm7("está aquí, ça coûte “rien” – déjà") == 'esta aqui, ca coute "rien" - déjà'
    assert sms.is_gsm7(sms.to_gsm7("Größe Müller 😀")) is False  # an emoji has no GSM-7 form: sent as UCS-2
    assert sms.gsm7_length("{[€]}") == 10


def test_locale_resolution_falls_back() -> None:
    assert resolve_locale("es-MX", "en") == "es"
    assert resolve_locale("pt-BR", "fr") == "fr"
    assert resolve_locale(None, None) == "en"
    assert resolve_locale("DE", None) == "de"


def test_eta_is_shown_in_the_shoppers_zone_and_language() -> None:
    eta = {"start": "2026-11-25T19:30:00+00:00", "end": "2026-11-25T21:00:00+00:00"}
    assert format_eta(eta, ZoneInfo("America/New_York"), "en") == "Wed 2:30pm-4pm"
    assert format_eta(eta, ZoneInfo("Europe/Berlin"), "de") == "Mi 20:30-22:00"
    assert format_eta({"end": "2026-11-25T00:00:00+00:00"}, ZoneInfo("UTC"), "en") == "Wed 11/25"
    # a date-only ETA names that day wherever the shopper is, not midnight UTC moved to their zone
    for zone, locale, shown in (("America/Los_Angeles", "en", "Fri 12/4"), ("Europe/Berlin", "de", "Fr 4. Dez.")):
        assert format_eta({"end": "2026-12-04T00:00:00Z"}, ZoneInfo(zone), locale) == shown
    # in Spanish and French the day is written as their pages write it, not in the German style
    assert format_eta({"end": "2026-12-04T00:00:00Z"}, ZoneInfo("Europe/Madrid"), "es") == "vie 4 dic"
    assert format_eta({"end": "2026-12-04T00:00:00Z"}, ZoneInfo("Europe/Paris"), "fr").endswith(" 4 déc.")


@pytest.mark.parametrize("locale", ("de", "fr"))
def test_a_sentence_ending_in_an_abbreviated_date_ends_with_one_full_stop(locale: str) -> None:
    context = {**WORST_CASE, "retailer": "Demo", "order_id": "A-1", "opt_out": opt_out_text(locale), "locale": locale}
    context["eta"] = format_eta({"end": "2026-12-04T00:00:00Z"}, ZoneInfo("Europe/Berlin"), locale)
    for kind in ("shipped", "out_for_delivery", "delayed"):
        body = render_sms(kind, locale, context).body
        assert ".." not in body, body
        assert ".." not in render_email(kind, locale, context).text
    assert format_eta(None, ZoneInfo("UTC"), "en") == ""
    assert datetime(2026, 11, 25, tzinfo=UTC).weekday() == 2


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ retailer.__class__ }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_template_injection_is_rejected(source: str) -> None:
    context = {**WORST_CASE, "opt_out": "STOP to opt out", "locale": "en"}
    with pytest.raises(ValidationError):
        validate_override("sms", Override(body=source), context)


def test_unknown_variables_syntax_errors_and_long_texts_are_rejected() -> None:
    context = {**WORST_CASE, "opt_out": "STOP to opt out", "locale": "en"}
    with pytest.raises(ValidationError, match="unknown variables: password"):
        validate_override("sms", Override(body="{{ password }}"), context)
    with pytest.raises(ValidationError, match="syntax error"):
        validate_override("sms", Override(body="{{ retailer "), context)
    with pytest.raises(ValidationError, match="one GSM-7 segment holds 160"):
        validate_override("sms", Override(body="{{ retailer }} {{ opt_out }} " + "x" * 130), context)
    with pytest.raises(ValidationError, match="opt-out line"):
        validate_override(
            "sms", Override(body="{{ retailer }}: {{ order_id }} ships today. {{ tracking_url }}"), context
        )
    with pytest.raises(ValidationError, match="subject"):
        validate_override("email", Override(body="Hi"), context)
    validate_override(
        "sms", Override(body="{{ retailer }}: {{ order_id }} ships today. {{ tracking_url }} {{ opt_out }}"), context
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_survey_texts_fit_and_ask_for_one_to_five(locale: str) -> None:
    context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale}
    body = render_sms("survey", locale, context).body
    assert sms.is_gsm7(body) and sms.gsm7_length(body) <= 160, (len(body), body)
    assert "1" in body and "5" in body and "STOP" in body
    links = [{"score": n, "url": f"https://track.example.com/t/tok/rate/{n}"} for n in range(1, 6)]
    email = render_email("survey", locale, {**context, "rating_links": links})
    for n in range(1, 6):
        assert (
            f"https://track.example.com/t/tok/rate/{n}" in email.html
            and f"{n}/5: https://track.example.com/t/tok/rate/{n}" in email.text
        )


@pytest.mark.parametrize("locale", LOCALES)
def test_the_delayed_email_says_why_the_parcel_is_late(locale: str) -> None:
    context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale}
    sentences = {
        reason: render_email("delayed", locale, {**context, "delay_reason": reason}).text.split("\n")
        for reason in DELAY_REASONS
    }
    explanations = {
        reason: next(line for line in lines if "000123456789" in line) for reason, lines in sentences.items()
    }
    assert len(set(explanations.values())) == len(DELAY_REASONS), explanations  # one explanation per reason
    assert render_email("delayed", locale, context).text.split("\n") == sentences["carrier_delay"]  # none given


CHANGE_BLOCKS = ("delivery_change_confirmed", "delivery_change_refused")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("block", CHANGE_BLOCKS)
def test_the_delivery_change_notice_fits_one_segment_and_emails_in_every_locale(block: str, locale: str) -> None:
    context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale, "note": ""}
    body = render_sms(block, locale, context).body
    assert sms.is_gsm7(body) and sms.gsm7_length(body) <= 160, (len(body), body)
    assert "STOP" in body and context["tracking_url"] in body
    assert WORST_CASE["order_id"] in body or "..0123456789" in body
    email = render_email(block, locale, context)
    assert WORST_CASE["order_id"] in email.subject and WORST_CASE["unsubscribe_url"] in email.text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_one_time_code_text_and_email_carry_the_code_in_every_locale(locale: str) -> None:
    context = {**WORST_CASE, "opt_out": opt_out_text(locale), "locale": locale, "code": "482913"}
    body = render_sms("delivery_change_code", locale, context).body
    assert "482913" in body and sms.is_gsm7(body) and sms.gsm7_length(body) <= 160, (len(body), body)
    email = render_email("delivery_change_code", locale, context)
    assert "482913" in email.text and "482913" in email.html
