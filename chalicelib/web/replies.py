"""What we text back to a shopper (and a driver) who writes to one of our numbers, in their language.

The words are msgids of the shopper catalogs (i18n.py, D38), looked up by key when a reply is composed; values are
`{name}` placeholders filled after translation, and the result is folded to GSM-7 so a reply stays one-segment cheap.
"""

from __future__ import annotations

from ..domain.sms import to_gsm7
from .i18n import N_, translations

#: Replies by key. CTIA's Messaging Principles (2023, section 5) want an opt-out confirmed once, saying how to opt back
#: in, and HELP to name who sends, how to reach them and how to opt out.
REPLIES: dict[str, str] = {
    "stop": N_(
        "You're unsubscribed from delivery texts from this number and will get no more. Reply START to resubscribe."
    ),
    "start": N_("You're resubscribed to delivery texts from this number. Reply STOP to opt out."),
    "help": N_(
        "{name} delivery updates.{contact} Reply STOP to opt out, START to opt back in. Msg&data rates may apply."
    ),
    "contact": N_(" Contact {contact}."),
    "unrouted": N_("{name}: this number sends delivery updates only.{contact} Reply HELP for help, STOP to opt out."),
    "unrouted_contact": N_(" For help, contact {contact}."),
    "relay_stop": N_("You won't get more messages from this delivery chat number. Reply START to undo."),
    "relay_start": N_("Delivery chat messages are back on. Reply STOP to opt out."),
    "relay_help": N_("This number relays messages between you and your delivery driver. Reply STOP to opt out."),
    "relay_intro": N_(
        "{name}: {driver} is bringing order {order}. Reply here to message them; they won't see your number. "
        "STOP to opt out"
    ),
    "relay_your_driver": N_("Your driver"),
    "relay_ended": N_("This delivery chat has ended, so your message was not passed on.{support}"),
    "relay_support": N_(" For help contact {name}{contact}."),
    "relay_no_delivery": N_("This number only relays messages about a delivery in progress. Reply STOP to opt out."),
    "relay_which_order": N_(
        "You have more than one delivery in progress. Start your message with the order number ({orders})."
    ),
    "relay_or": N_(" or "),
    "relay_too_long": N_("Your message was not sent: please keep it under {limit} characters."),
    "relay_rate_limited": N_(
        "Your message was not sent: too many messages in a short time. Please wait a few minutes."
    ),
    "survey_unclear": N_("Sorry, we didn't get that. Please reply with a number from 1 (poor) to 5 (great)."),
    "survey_already_rated": N_("Thanks, we already have your rating for this delivery."),
    "survey_thanks_with_note": N_("Thank you for your rating and your note!"),
    "survey_ask_note": N_("Thank you! Anything we should know? Reply with a short note (optional)."),
    "survey_note_thanks": N_("Thanks for the feedback!"),
}


def reply_text(key: str, locale: str | None, **values: str) -> str:
    """The reply `key` in `locale` (by language, then English), its placeholders filled, folded to GSM-7."""
    return to_gsm7(words(key, locale).format(**values))


def words(key: str, locale: str | None) -> str:
    """One reply's words in `locale`, placeholders left in: for parts that a reply is assembled from."""
    return translations(locale).gettext(REPLIES[key])


def reply(key: str, locale: str | None, *, name_value: str = "", contact: str = "") -> str:
    """A keyword reply (stop, start, help, relay_*); HELP names the sender and, when known, how to reach them."""
    where = words("contact", locale).format(contact=contact) if contact else ""
    return reply_text(key, locale, name=name_value, contact=where)
