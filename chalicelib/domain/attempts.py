"""Failed delivery attempts that carriers report as plain exceptions.

Carriers (and the aggregators passing their scans on) often file "Customer not available" or "Business closed" under
a generic exception. For the shopper that is not a problem with the parcel but a missed visit, with a next step:
"we missed you, we'll try again". An exception scan whose wording clearly says the visit happened and nobody could
take the parcel is read as `attempt_failed`; any other exception stays one.
"""

from __future__ import annotations

import re
import unicodedata

from msgspec.structs import replace

from . import milestones as ms
from .events import TrackingEvent

#: Wordings of a missed visit, as carriers write them in scan descriptions (en, es, fr, de, nl), accents removed.
#: Each names what happened at the door; future tense ("delivery attempt tomorrow") is deliberately absent.
_MISSED_VISIT = re.compile(
    r"\b("
    r"(customer|recipient|receiver|addressee|consignee|resident|client)s? (was )?(not available|unavailable|not home|"
    r"not at home|absent)"
    r"|(nobody|no one|noone|no-one) (was )?(home|available|in|at home|to sign|to receive)"
    r"|business (was )?closed|closed on arrival|no access to (the )?(delivery )?(location|building|premises)"
    r"|attempted delivery|delivery attempted|delivery attempt (was )?(made|unsuccessful|failed)"
    r"|no (authorized |authorised )?recipient available|notice left|we missed you|left a (delivery )?notice|card left"
    r"|destinatari[oa] ausente|cliente ausente|intento de entrega (fallido|sin exito)|nadie en (el )?domicilio"
    r"|destinataire (absent|non present)|client absent|avis de passage"
    r"|nicht angetroffen|nicht anwesend|zustellversuch (erfolglos|nicht erfolgreich)|benachrichtigungskarte"
    r"|niet thuis|geen gehoor"
    r")\b"
)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def says_missed_visit(description: str) -> bool:
    """True when a carrier's scan text says the driver came and nobody could take the parcel."""
    return bool(description) and _MISSED_VISIT.search(_plain(description)) is not None


def read_missed_visit(event: TrackingEvent) -> TrackingEvent:
    """An exception scan that describes a missed visit becomes the failed attempt it is; anything else is unchanged."""
    if event.status == ms.EXCEPTION and says_missed_visit(event.description):
        return replace(event, status=ms.ATTEMPT_FAILED)
    return event
