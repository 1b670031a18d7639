"""How a carrier is named wherever a person reads it: the tracking page, emails and texts, the analytics page.

Stored and sent to machines as the normalised key (`fedex`, `dhlexpress`, see events.normalise_carrier); shown to
people as the carrier writes its own name ("FedEx", "DHL Express"). One function so the page and the email agree.
"""

from __future__ import annotations

DISPLAY_NAMES = {
    "ups": "UPS",
    "usps": "USPS",
    "fedex": "FedEx",
    "dhl": "DHL",
    "dhlexpress": "DHL Express",
    "dhlecommerce": "DHL eCommerce",
    "canadapost": "Canada Post",
    "royalmail": "Royal Mail",
    "ontrac": "OnTrac",
    "postnl": "PostNL",
    "lasership": "LaserShip",
    "amazon": "Amazon",
    "dpd": "DPD",
    "gls": "GLS",
    "evri": "Evri",
    "australiapost": "Australia Post",
    "purolator": "Purolator",
    "laposte": "La Poste",
    "colissimo": "Colissimo",
    "deutschepost": "Deutsche Post",
}


def display_name(carrier: str | None) -> str:
    """'fedex' -> 'FedEx'; a carrier we have no spelling for is shown in capitals, as carriers' codes usually are."""
    key = (carrier or "").strip()
    return DISPLAY_NAMES.get(key.lower(), key.upper())
