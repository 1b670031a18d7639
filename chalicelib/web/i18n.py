"""The shopper's words in every supported language, and dates written the way each one writes them.

The words live in gettext catalogs, chalicelib/locale/<lang>/LC_MESSAGES/porchlight.po, whose msgids are the English
text; `make translations` compiles them to .mo files, which the standard library's gettext reads here (Babel is a build
tool, never shipped). A locale's catalog is read the first time that locale is used, so a Lambda that never speaks
French never opens the French one (D38). Jinja2 templates use the same catalogs through `{% trans %}` (jinja_i18n.py).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

#: Compiled catalogs sit beside their .po sources; Chalice zips chalicelib/, so this path holds in Lambda too.
LOCALE_ROOT = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "porchlight"
LOCALES: tuple[str, ...] = ("en", "es", "fr", "de")
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES = {"en": "English", "es": "Español", "fr": "Français", "de": "Deutsch"}


def N_(message: str) -> str:
    """Marks a msgid for extraction (`make messages`) where the lookup happens later, by key."""
    return message


#: The tracking, lookup, rating and message pages' words, by the key templates use (`t.title`).
PAGE_MESSAGES: dict[str, str] = {
    "title": N_("Track your order"),
    "order": N_("Order"),
    "eta": N_("Estimated delivery"),
    "promised": N_("Expected by"),
    "delivered_at": N_("Delivered"),
    "items": N_("In this package"),
    "carrier": N_("Carrier"),
    "tracking_number": N_("Tracking number"),
    "track_at_carrier": N_("Track on the carrier's site"),
    "timeline": N_("Shipment history"),
    "no_events": N_("No scans yet. We'll show them here as soon as the carrier reports them."),
    "proof": N_("Proof of delivery"),
    "received_by": N_("Received by"),
    "driver_note": N_("Driver's note"),
    "photo": N_("Delivery photo"),
    "signature": N_("Signature"),
    "driver": N_("Your driver"),
    "help": N_("Need help?"),
    "preferences": N_("How should we keep you posted?"),
    "notify_by": N_("Notify me by"),
    "notify_sms": N_("Text messages"),
    "notify_email": N_("Email"),
    "notify_none": N_("No notifications"),
    "save": N_("Save"),
    "instructions": N_("Delivery instructions"),
    "instructions_hint": N_("Gate code, leave with a neighbour... (shared with the retailer and carrier)"),
    "saved": N_("Saved. Thank you!"),
    "language": N_("Language"),
    "updated": N_("Last update"),
    "time_local": N_("local time"),
    "steps": N_("Delivery progress"),
    "next_delayed": N_("Your package is running late. No action is needed: we'll keep you posted."),
    "next_attempt_failed": N_(
        "The carrier could not deliver your package and will try again. Add delivery instructions below if that helps."
    ),
    "next_available_for_pickup": N_("Your package is waiting at a pickup point. Bring a photo ID."),
    "next_returned": N_("Your package was returned to the sender. Contact us and we'll sort it out."),
    "next_uncollected": N_(
        "Your package was not collected from the pickup point in time and went back to the sender. Contact us and we'll sort it out."
    ),
    "next_exception": N_("There's a problem with your delivery. We're looking into it."),
    "next_cancelled": N_("This shipment was cancelled."),
    "not_found_title": N_("We can't find this tracking link"),
    "not_found_text": N_("Check that the link is complete, or contact the store you ordered from."),
    "powered": N_("Delivery updates by Porchlight"),
    "survey": N_("How was your delivery?"),
    "survey_hint": N_("1 is poor, 5 is great."),
    "survey_thanks": N_("Thank you for rating your delivery!"),
    "follow_up": N_("Anything we should know?"),
    "follow_up_send": N_("Send feedback"),
    "follow_up_thanks": N_("Thanks, we've passed your feedback on."),
    "rate_confirm": N_("Confirm my rating"),
    "your_rating": N_("Your rating"),
    "reason_on_time": N_("On time"),
    "reason_late": N_("Late"),
    "reason_friendly_driver": N_("Friendly driver"),
    "reason_rude_driver": N_("Unfriendly driver"),
    "reason_damaged": N_("Damaged"),
    "reason_wrong_place": N_("Left in the wrong place"),
    "reason_great_packaging": N_("Great packaging"),
    "reason_other": N_("Something else"),
    "comment": N_("Comment (optional)"),
    "reasons": N_("What stood out?"),
    "chat": N_("Message your driver"),
    "chat_hint": N_("Your driver won't see your phone number, and you won't see theirs."),
    "chat_label": N_("Message"),
    "chat_send": N_("Send"),
    "chat_closed": N_("This chat has ended."),
    "you": N_("You"),
    "chat_sent": N_("Sent to your driver."),
    "not_relayed": N_("not sent"),
    "lookup_title": N_("Find your order"),
    "lookup_intro": N_("Enter your order number and the e-mail address or phone number you ordered with."),
    "lookup_order": N_("Order number"),
    "lookup_contact": N_("E-mail or phone number"),
    "lookup_submit": N_("Track my order"),
    "lookup_missing": N_("Enter both your order number and your e-mail address or phone number."),
    "lookup_not_found": N_(
        "We couldn't find an order with those details. Check the order number and the e-mail address or phone number you ordered with."
    ),
    "lookup_too_many": N_(
        "Too many attempts. Try again in {minutes} min, or use the link in the text or e-mail we sent you."
    ),
    "lookup_parcels": N_("Your order is travelling in several parcels. Choose one to track:"),
    "lookup_track": N_("Track"),
    "error_title": N_("We couldn't do that"),
    "error_expired": N_("This form had expired, so nothing was saved. We've refreshed it: please try again."),
    "error_cross_site": N_(
        "This form was sent from another site, so nothing was saved. Please use the form on this page."
    ),
    "error_too_large": N_("That was too much to send at once. Please shorten it and try again."),
    "error_not_a_form": N_("We couldn't read that form. Please try again from this page."),
    "error_invalid_choice": N_("Please choose one of the options shown."),
    "error_no_phone": N_(
        "We don't have a phone number for this order, so we can't send you texts. Choose email or no notifications."
    ),
    "error_no_email": N_(
        "We don't have an e-mail address for this order, so we can't e-mail you. Choose text messages or no notifications."
    ),
    "error_channel_off": N_("This store doesn't send updates that way. Please choose another option."),
    "error_instructions_too_long": N_("Your delivery instructions are too long. Please shorten them."),
    "error_chat_closed": N_("The chat with your driver has ended, so your message was not sent."),
    "error_empty_message": N_("Write a message first."),
    "error_message_too_long": N_("Your message is too long. Please shorten it."),
    "error_rate_limited": N_(
        "Your message was not sent: too many messages in a short time. Please wait a few minutes."
    ),
    "error_invalid_score": N_("Please choose a rating from 1 to 5."),
    "error_not_delivered": N_("You can rate this delivery once it has arrived."),
    "error_comment_too_long": N_("Your comment is too long. Please shorten it."),
    "error_generic": N_("Something went wrong and nothing was saved. Please try again."),
    "return_processed": N_("Return label created"),
    "return_shipped": N_("Return on its way"),
    "return_delivered": N_("Return received"),
    "return_title": N_("Your return"),
    "return_of": N_("This is the return of order {order}."),
    "return_see_delivery": N_("See the delivery"),
    "returns_title": N_("Returns for this order"),
    "return_follow": N_("Follow your return"),
    "pickup_title": N_("Where to collect it"),
    "pickup_until": N_("Collect by"),
    "pickup_hours": N_("Opening hours"),
    "pickup_code": N_("Pickup code"),
    "pickup_code_hidden": N_(
        "Your pickup code is kept private. We'll send a one-time code to the phone number or e-mail address on your order, then show it here."
    ),
    "pickup_send": N_("Send me a one-time code"),
    "pickup_sent": N_("We sent a one-time code. Enter it below within 10 minutes."),
    "pickup_enter": N_("One-time code"),
    "pickup_reveal": N_("Show my pickup code"),
    "pickup_code_shown": N_("Show this code at the pickup point or enter it at the locker."),
    "error_no_pickup_code": N_("This parcel has no pickup code to show."),
    "error_no_contact": N_("We have no phone number or e-mail address for this order to send a code to."),
    "error_otp_send_limit": N_("Too many codes were sent for this parcel today. Please try again tomorrow."),
    "error_otp_too_soon": N_("We sent a code moments ago. Please wait a minute before asking again."),
    "error_otp_not_sent": N_("We couldn't send the code just now. Please try again shortly."),
    "error_otp_malformed": N_("Enter the 6-digit code we sent you."),
    "error_otp_expired": N_("That code has expired. Ask for a new one."),
    "error_otp_wrong": N_("That code is not right. Check it and try again."),
    "error_otp_spent": N_("No code is waiting, or it was tried too many times. Ask for a new one."),
    "error_not_offered": N_("This change is not offered for this parcel."),
    "error_finished": N_("This parcel has arrived, gone back or been cancelled, so it can no longer be changed."),
    "error_out_for_delivery": N_("This parcel is already out for delivery, so it can no longer be changed."),
    "error_past_cutoff": N_("It's too late to change this delivery."),
    "error_change_pending": N_("A change is already waiting for an answer."),
    "error_too_many_codes": N_("Too many codes were asked for this order. Please contact the store."),
    "error_wrong_code": N_("That code isn't right. Check it and try again."),
    "error_no_code_expected": N_("There is no change waiting for a code."),
    "change_title": N_("Change your delivery"),
    "change_intro": N_("Choose what suits you. The store or the carrier confirms each change."),
    "change_kind_reschedule": N_("Deliver on a later day"),
    "change_kind_safe_place": N_("Leave it in a safe place"),
    "change_kind_neighbour": N_("Leave it with a neighbour"),
    "change_kind_pickup_point": N_("Send it to a pickup point"),
    "change_kind_hold": N_("Hold it for me"),
    "change_date": N_("Day"),
    "change_window": N_("Time window"),
    "change_place": N_("Where"),
    "place_front_door": N_("Front door"),
    "place_back_door": N_("Back door"),
    "place_garage": N_("Garage"),
    "place_porch": N_("Porch"),
    "change_neighbour": N_("Neighbour's name and house number"),
    "change_point": N_("Pickup point"),
    "change_code_note": N_("For this change we send a code to the phone or e-mail of the order first."),
    "change_submit": N_("Ask for this change"),
    "change_code_title": N_("Enter your code"),
    "change_code_sent": N_(
        "If we have a phone number or e-mail address for this order, we have sent it a 6-digit code. "
        "It works for 10 minutes."
    ),
    "change_code_label": N_("Code"),
    "change_code_submit": N_("Confirm the change"),
    "change_requested": N_("Your request"),
    "change_pending": N_("Your request has been sent. We'll tell you when it's confirmed."),
    "change_confirmed": N_("Your change is confirmed."),
    "change_refused": N_("Your change could not be made."),
    "change_locked": N_("Too many wrong codes, so this request was cancelled. You can ask again."),
    "change_expired": N_("The code has expired, so this request was cancelled. You can ask again."),
    "change_closed": N_("This delivery can no longer be changed."),
    "unsubscribe_question": N_("Stop delivery emails from {retailer}?"),
    "unsubscribe_keep_tracking": N_("You will still be able to follow your orders on their tracking pages."),
    "unsubscribe_button": N_("Unsubscribe"),
    "unsubscribed_title": N_("You're unsubscribed"),
    "unsubscribed_text": N_("{retailer} will send no more delivery emails to this address."),
    "live_title": N_("Your driver is on the way"),
    "live_stops": N_("{count} stops before yours"),
    "live_stops_one": N_("1 stop before yours"),
    "live_next": N_("Yours is the next stop"),
    "live_arriving": N_("arriving about {time}"),
    "live_arriving_alone": N_("Arriving about {time}"),
    "live_minutes": N_("About {minutes} min away"),
    "live_outdated": N_("The driver's position is not current."),
    "live_map": N_("Map of the driver and your delivery area"),
    "live_driver_mark": N_("Driver"),
    "live_area_mark": N_("Your delivery area"),
    "unsubscribe_gone_title": N_("This unsubscribe link no longer works"),
    "unsubscribe_gone_text": N_(
        "It may be incomplete or too old. Use the unsubscribe link in a more recent delivery e-mail, "
        "or contact the store you ordered from."
    ),
}
#: Milestone -> its label on the tracking page, in texts' and emails' `status_label` and in the order lookup.
STATUS_MESSAGES: dict[str, str] = {
    "pending": N_("Order received"),
    "processed": N_("Processed"),
    "shipped": N_("Shipped"),
    "out_for_delivery": N_("Out for delivery"),
    "delivered": N_("Arrived"),
    "available_for_pickup": N_("Ready for pickup"),
    "attempt_failed": N_("Delivery attempted"),
    "exception": N_("Delivery problem"),
    "returned": N_("Returned to sender"),
    "cancelled": N_("Cancelled"),
    "unknown": N_("Update"),
}


def resolve_locale(*preferences: str | None) -> str:
    """The first supported locale among the preferences, each tried whole then by language ('es-MX' -> 'es');
    English when none is supported."""
    for preference in preferences:
        if not preference:
            continue
        for candidate in (preference, preference.split("-")[0].lower()):
            if candidate in LOCALES:
                return candidate
    return DEFAULT_LOCALE


@lru_cache(maxsize=len(LOCALES))
def _catalog(locale: str) -> gettext.NullTranslations:
    try:
        catalog = gettext.translation(DOMAIN, LOCALE_ROOT, languages=[locale])
    except FileNotFoundError as exc:  # a checkout or zip whose catalogs were never compiled
        raise RuntimeError(
            f"no compiled catalog for {locale!r} under {LOCALE_ROOT}: run `make translations` (D38)"
        ) from exc
    if locale != DEFAULT_LOCALE:
        catalog.add_fallback(_catalog(DEFAULT_LOCALE))
    return catalog


def translations(locale: str | None) -> gettext.NullTranslations:
    """The catalog for the shopper's locale (read once per locale and process)."""
    return _catalog(resolve_locale(locale))


@lru_cache(maxsize=len(LOCALES))
def _strings(locale: str) -> dict[str, str]:
    catalog = _catalog(locale)
    return {key: catalog.gettext(message) for key, message in PAGE_MESSAGES.items()}


def strings(locale: str | None) -> dict[str, str]:
    """The pages' words in this locale, by key (shared: read, never change it)."""
    return _strings(resolve_locale(locale))


def status_label(status: str, locale: str | None) -> str:
    message = STATUS_MESSAGES.get(status)
    if message is None:  # a status added without a label still reads as words
        return status.replace("_", " ").capitalize()
    return translations(locale).gettext(message)


class _StringsByLocale(Mapping[str, dict[str, str]]):
    """`STRINGS["fr"]["title"]`: the pages' words of each supported locale, read from its catalog when first asked."""

    def __getitem__(self, locale: str) -> dict[str, str]:
        if locale not in LOCALES:
            raise KeyError(locale)
        return _strings(locale)

    def __iter__(self) -> Iterator[str]:
        return iter(LOCALES)

    def __len__(self) -> int:
        return len(LOCALES)


STRINGS: Mapping[str, dict[str, str]] = _StringsByLocale()


#: English abbreviated month names, the msgids of each language's own (CLDR's abbreviated format forms).
MONTH_NAMES = (
    # Translators: abbreviated month names (January to December), as dates on the tracking page show them
    # ("Dec 1", "1 déc.").
    N_("Jan"),
    N_("Feb"),
    N_("Mar"),
    N_("Apr"),
    N_("May"),
    N_("Jun"),
    N_("Jul"),
    N_("Aug"),
    N_("Sep"),
    N_("Oct"),
    N_("Nov"),
    N_("Dec"),
)
#: English abbreviated weekday names, Monday first.
# Translators: abbreviated weekday names (Monday to Sunday), as texts and emails show an estimate ("Wed 10:30am-12pm");
# keep them short, a text must fit one segment.
WEEKDAY_NAMES = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


@lru_cache(maxsize=2 * len(LOCALES))
def _names(locale: str, names: tuple[str, ...]) -> tuple[str, ...]:
    catalog = _catalog(locale if locale in LOCALES else DEFAULT_LOCALE)
    return tuple(catalog.gettext(name) for name in names)


def month_name(month: int, locale: str) -> str:
    """January is 1; an unsupported locale code gets English (dates never guess a language by its prefix)."""
    return _names(locale, MONTH_NAMES)[month - 1]


def weekday_name(weekday: int, locale: str) -> str:
    """Monday is 0, as `date.weekday()` counts."""
    return _names(locale, WEEKDAY_NAMES)[weekday]


def format_day(day: date, locale: str) -> str:
    """A day and month: 'Dec 1' (en), '1 dic' (es), '1 déc.' (fr), '1. Dez.' (de: the day is an ordinal, with a dot)."""
    month = month_name(day.month, locale)
    if locale == "de":
        return f"{day.day}. {month}"
    if locale in LOCALES and locale != "en":
        return f"{day.day} {month}"
    return f"{month} {day.day}"


def format_clock(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A time of day in the shopper's zone: '2:20 PM' (en), '14:20' elsewhere."""
    local = moment.astimezone(zone)
    if locale not in LOCALES or locale == "en":
        return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    return f"{local.hour:02d}:{local.minute:02d}"


def format_moment(moment: datetime, zone: ZoneInfo, locale: str, *, wall_clock: bool = False) -> str:
    """'Nov 22, 3:45 PM' (en), '22 nov, 15:45' (es), '22 nov., 15:45' (fr), '22. Nov., 15:45' (de), in the shopper's
    zone; carrier wall-clock times (no offset) are shown as given."""
    local = moment if wall_clock else moment.astimezone(zone)
    day = format_day(local.date(), locale if locale in LOCALES else "en")
    if locale not in LOCALES or locale == "en":
        hour = local.hour % 12 or 12
        return f"{day}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    return f"{day}, {local.hour:02d}:{local.minute:02d}"
