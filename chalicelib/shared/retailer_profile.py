"""A retailer's notification settings and brand, with defaults, as the rest of the system reads them."""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import hooks, stalls
from ..domain import milestones as ms
from ..domain import pickup as pickup_rules
from ..domain import returns as return_rules
from ..domain import survey as survey_rules
from ..domain.colors import brand_palette, normalise_hex
from ..domain.delivery_changes import CarrierRules, rules_for
from ..domain.lateness import DEFAULT_SILENT_DAYS
from ..domain.live import DEFAULT_CLOSE_MINUTES, DEFAULT_CLOSE_STOPS, DEFAULT_LIVE_MODE, LIVE_MODES, CloseThreshold
from ..domain.notifications import EMAIL, SMS
from ..domain.policy import NOTIFICATION_KINDS, NotificationSettings, QuietHours, Recipient, zone_for
from ..domain.quiet_hours import us_state
from ..store.retailers import Retailer

FONT_STACK = re.compile(r"^[A-Za-z0-9 ,'\"-]{1,200}$")
DEFAULT_CHANNELS: dict[str, list[str]] = {
    kind: ([EMAIL] if kind == ms.PROCESSED else [SMS, EMAIL]) for kind in NOTIFICATION_KINDS
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "channels": DEFAULT_CHANNELS,
    "quiet_hours": {"enabled": True, "start": "21:00", "end": "08:00"},
    "time_zone": "America/New_York",
    "email_fallback": True,
    #: Days without a scan after which a parcel on its way counts as late (0: never); see domain.lateness.
    "silent_after_days": DEFAULT_SILENT_DAYS,
}
#: Status webhooks to the retailer's own systems: off until a URL is set (signed with the `outbound` secret).
DEFAULT_WEBHOOKS: dict[str, Any] = {"enabled": False, "url": None, "statuses": list(hooks.STATUSES)}
#: Problems before the shopper calls (domain.stalls, D45): days until a parcel counts as stalled (0: never).
DEFAULT_ALERTS: dict[str, int] = {
    "no_first_scan_days": stalls.DEFAULT_NO_FIRST_SCAN_DAYS,
    "stuck_days": stalls.DEFAULT_STUCK_DAYS,
}
#: Pickup points and lockers (D48): days a point holds a parcel when the carrier names no deadline, and the
#: reminder sequence (each step `{"after_hours": n}` or `{"before_deadline_hours": n}`, at most three).
DEFAULT_PICKUP: dict[str, Any] = {
    "hold_days": pickup_rules.DEFAULT_HOLD_DAYS,
    "reminders": [dict(step) for step in pickup_rules.DEFAULT_REMINDERS],
}
#: Returns (D48): the return steps the shopper is told of (`processed`: label created, `shipped`: dropped off,
#: `delivered`: received by the retailer).
DEFAULT_RETURNS: dict[str, Any] = {"notify": list(return_rules.DEFAULT_NOTIFY)}
DEFAULT_BRAND: dict[str, Any] = {
    "display_name": None,
    "logo_url": None,
    "primary_color": "#1f4b99",
    "accent_color": "#ba8200",  # amber at 3:1 on the page and the notice (WCAG 2.1 AA for a stripe)
    "font_stack": "-apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif",
    "support_email": None,
    "support_phone": None,
    "support_url": None,
    "message": None,
    "default_locale": "en",
}


def settings_document(retailer: Retailer) -> dict[str, Any]:
    stored = retailer.settings or {}
    merged = {**DEFAULT_SETTINGS, **{k: v for k, v in stored.items() if v is not None}}
    merged["channels"] = {**DEFAULT_CHANNELS, **(stored.get("channels") or {})}
    merged["webhooks"] = {**DEFAULT_WEBHOOKS, **(stored.get("webhooks") or {})}
    merged["pickup"] = {**DEFAULT_PICKUP, **{k: v for k, v in (stored.get("pickup") or {}).items() if v is not None}}
    merged["returns"] = {**DEFAULT_RETURNS, **{k: v for k, v in (stored.get("returns") or {}).items() if v is not None}}
    merged["delivery_changes"] = {"carriers": dict((stored.get("delivery_changes") or {}).get("carriers") or {})}
    merged["alerts"] = {**DEFAULT_ALERTS, **{k: v for k, v in (stored.get("alerts") or {}).items() if v is not None}}
    return merged


def pickup_settings(retailer: Retailer | None) -> tuple[int, list[dict[str, int]]]:
    """(hold days, reminder sequence) for parcels waiting at a pickup point (D48)."""
    if retailer is None:
        return pickup_rules.DEFAULT_HOLD_DAYS, [dict(step) for step in pickup_rules.DEFAULT_REMINDERS]
    document = settings_document(retailer)["pickup"]
    return int(document["hold_days"]), list(document["reminders"])


def return_steps_notified(retailer: Retailer | None) -> frozenset[str]:
    """The return milestones the retailer tells the shopper of (D48)."""
    if retailer is None:
        return frozenset(return_rules.DEFAULT_NOTIFY)
    return frozenset(settings_document(retailer)["returns"]["notify"])


def change_rules(retailer: Retailer, carrier: str) -> CarrierRules:
    """What shoppers may ask of this carrier's parcels (domain.delivery_changes); nothing unless the retailer says."""
    return rules_for(settings_document(retailer)["delivery_changes"], carrier)


def stall_days(retailer: Retailer) -> tuple[int, int]:
    """(days without a first carrier scan, days at the same scan) before a parcel counts as stalled."""
    alerts = settings_document(retailer)["alerts"]
    return int(alerts["no_first_scan_days"]), int(alerts["stuck_days"])


def status_subscriptions(retailer: Retailer | None) -> frozenset[str] | None:
    """The statuses whose changes are posted to the retailer; None when status webhooks are off."""
    if retailer is None or "outbound" not in retailer.integrations:
        return None
    webhooks = settings_document(retailer)["webhooks"]
    if not webhooks.get("enabled") or not webhooks.get("url"):
        return None
    return frozenset(webhooks.get("statuses") or ())


def silent_after_days(retailer: Retailer) -> int:
    return int(settings_document(retailer)["silent_after_days"])


def notification_settings(retailer: Retailer) -> NotificationSettings:
    document = settings_document(retailer)
    quiet = document.get("quiet_hours") or {}
    quiet_hours = (
        QuietHours(time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"]))
        if quiet.get("enabled", True)
        else None
    )
    return NotificationSettings(
        channels={kind: frozenset(channels) for kind, channels in document["channels"].items()},
        quiet_hours=quiet_hours,
        time_zone=document["time_zone"],
        email_fallback=bool(document["email_fallback"]),
    )


def shopper_recipient(
    customer: dict[str, Any] | None, shopper: dict[str, Any] | None, destination: dict[str, Any] | None = None
) -> Recipient:
    """The shopper as the text policy sees them, from the shipment's customer, the shopper's own choices and the
    destination (whose US state may set stricter quiet hours)."""
    customer = customer or {}
    preferred = (shopper or {}).get("notify")
    return Recipient(
        phone=customer.get("phone"),
        email=customer.get("email"),
        # Choosing texts on the tracking page is the shopper asking for them.
        sms_consent=bool(customer.get("sms_consent")) or preferred == SMS,
        time_zone=customer.get("time_zone"),
        preferred=preferred,
        us_state=us_state(destination),
    )


def brand(retailer: Retailer) -> dict[str, Any]:
    """Brand values safe to drop into HTML and CSS: colours are re-validated, and each is checked against every
    surface it sits on (domain.colors.brand_palette); `warnings` says where a colour was adjusted for contrast."""
    stored = {k: v for k, v in (retailer.branding or {}).items() if v is not None}
    merged = {**DEFAULT_BRAND, **stored}
    for name in ("primary_color", "accent_color"):
        try:
            merged[name] = normalise_hex(str(merged[name]))
        except ValueError:
            merged[name] = DEFAULT_BRAND[name]
    if not FONT_STACK.match(str(merged.get("font_stack") or "")):
        merged["font_stack"] = DEFAULT_BRAND["font_stack"]  # it goes into CSS: only names, commas and quotes
    merged["display_name"] = merged.get("display_name") or retailer.name
    palette = brand_palette(merged["primary_color"], merged["accent_color"])
    merged["text_on_primary"] = palette.on_primary
    merged["text_on_accent"] = palette.on_accent
    merged["link_color"] = palette.link
    merged["graphic_color"] = palette.ui
    merged["accent_graphic_color"] = palette.accent_ui
    merged["warnings"] = [adjustment.as_dict() for adjustment in palette.adjustments]
    return merged


def brand_of_defaults() -> dict[str, Any]:
    """The default brand's values, for a page drawn when the retailer's profile is gone."""
    return brand(Retailer(id="", name="Porchlight", created_at=""))


def shopper_zone(customer: dict[str, Any] | None, retailer: Retailer | None) -> ZoneInfo:
    """Where the shopper lives for clocks and dates: their own zone, else the retailer's, else UTC."""
    config = notification_settings(retailer) if retailer else NotificationSettings()
    return zone_for(Recipient(time_zone=(customer or {}).get("time_zone")), config)


#: The live last mile on the tracking page (DESIGN 3.8) and the "driver is close" text's thresholds (0: that test off).
DEFAULT_TRACKING_PAGE: dict[str, Any] = {
    "live_position": DEFAULT_LIVE_MODE,
    "driver_close_stops": DEFAULT_CLOSE_STOPS,
    "driver_close_minutes": DEFAULT_CLOSE_MINUTES,
}


def tracking_page_settings(retailer: Retailer | None) -> dict[str, Any]:
    stored = (settings_document(retailer).get("tracking_page") or {}) if retailer else {}
    return {**DEFAULT_TRACKING_PAGE, **{k: v for k, v in stored.items() if v is not None}}


def live_position_mode(retailer: Retailer | None) -> str:
    mode = tracking_page_settings(retailer)["live_position"]
    return mode if mode in LIVE_MODES else DEFAULT_LIVE_MODE


def close_threshold(retailer: Retailer | None) -> CloseThreshold:
    page = tracking_page_settings(retailer)
    stops, minutes = int(page["driver_close_stops"]), int(page["driver_close_minutes"])
    return CloseThreshold(stops=stops, minutes=minutes, enabled=stops > 0 or minutes > 0)


DEFAULT_SURVEY = {
    "enabled": True,
    "delay_minutes": survey_rules.DEFAULT_DELAY_MINUTES,
    "low_score_threshold": survey_rules.DEFAULT_LOW_SCORE,
    "webhook_url": None,
}


def survey_settings(retailer: Retailer) -> dict[str, Any]:
    return {**DEFAULT_SURVEY, **(settings_document(retailer).get("survey") or {})}
