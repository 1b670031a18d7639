"""Shoppers' phone numbers, checked against each country's numbering plan and written E.164 (issue 20.8, D32).

Google's libphonenumber (the `phonenumbers` port) knows each country's lengths and ranges; it is imported only when a
number is checked, never at cold start (its metadata costs tens of milliseconds to load).
"""

from __future__ import annotations


class PhoneError(ValueError):
    """A number that cannot be texted: the message says what to send instead."""


def normalise_phone(value: str, country: str | None) -> str:
    """`value` in E.164 (+14155550123). A number written with its + country code is read by that prefix; a national
    number needs the destination's country (ISO 3166 alpha-2); each is checked as valid in its country."""
    import phonenumbers

    text = value.strip()
    international = text.startswith("+")
    if not international and not country:
        raise PhoneError(
            "a national number needs its country: write it in +country format, for example +14155550123, "
            "or give destination.country"
        )
    try:
        number = phonenumbers.parse(text, None if international else (country or "").upper())
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(f"not a phone number: {exc._msg}") from exc
    code = number.country_code or 0
    region = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(code)
    if not phonenumbers.is_valid_number(number):
        where = f" in {region}" if region and region != "ZZ" else ""
        length = len(phonenumbers.national_significant_number(number))
        raise PhoneError(
            f"not a valid number{where} (+{code}, {length} digits after the country code): "
            "check for a missing or extra digit"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
