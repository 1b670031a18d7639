"""Retailer configuration use cases: notification settings, brand, and message templates with preview."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, time, timedelta
from typing import Any

from msgspec.structs import replace

from ..domain import sms as sms_rules
from ..domain.events import Location, TrackingEvent, fingerprint, iso
from ..domain.policy import CHANNELS, NOTIFICATION_KINDS
from ..domain.quiet_hours import clamp
from ..domain.shipment import Progress, fold
from ..errors import NotFound, ValidationError
from ..shared.messages import message_context
from ..shared.outbound_webhooks import check_webhook_url, previous_secret_until
from ..shared.retailer_profile import brand, settings_document, survey_settings, tracking_page_settings
from ..shared.tracking_view import build_view
from ..store import retailers as retailer_store
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord


def _retailer(retailer_id: str) -> Retailer:
    retailer = retailer_store.get(retailer_id, fresh=True)
    if retailer is None:
        raise NotFound("retailer not found")
    return retailer


def get_settings(retailer_id: str) -> dict[str, Any]:
    retailer = _retailer(retailer_id)
    document = settings_document(retailer)
    configured = "outbound" in retailer.integrations
    document["survey"] = {**survey_settings(retailer), "webhook_secret_configured": configured}
    document["webhooks"] = {**document["webhooks"], "secret_configured": configured}
    document["tracking_page"] = tracking_page_settings(retailer)
    until = previous_secret_until(retailer, datetime.now(UTC))
    if until:
        document["webhooks"]["previous_secret_valid_until"] = datetime.fromtimestamp(until, UTC).isoformat()
    return document


def update_settings(retailer_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge a partial update: unspecified fields keep their values, channel lists replace per kind.

    Setting a webhook URL (survey escalations or status changes) for the first time creates the secret their calls
    are signed with; it is returned once, in this response, next to the URL that caused it.
    """
    retailer = _retailer(retailer_id)
    stored = dict(retailer.settings or {})
    if "url" in (changes.get("webhooks") or {}):
        changes = {**changes, "webhooks": {"enabled": True, **changes["webhooks"]}}
    urls = {
        "survey.webhook_url": (changes.get("survey") or {}).get("webhook_url"),
        "webhooks.url": (changes.get("webhooks") or {}).get("url"),
    }
    for field, url in urls.items():
        if url:
            check_webhook_url(url, field)
    warnings: list[str] = []
    if "quiet_hours" in changes:
        changes = {**changes, "quiet_hours": _floored_quiet_hours(changes["quiet_hours"], warnings)}
    for name, value in changes.items():
        if name in ("channels", "survey", "webhooks", "tracking_page", "alerts", "pickup", "returns"):
            stored[name] = {**(stored.get(name) or {}), **value}
        elif name == "delivery_changes":  # a carrier's entry replaces its previous one; the others stay
            previous = (stored.get(name) or {}).get("carriers") or {}
            stored[name] = {"carriers": {**previous, **(value.get("carriers") or {})}}
        else:
            stored[name] = value
    if (stored.get("webhooks") or {}).get("enabled") and not stored["webhooks"].get("url"):
        raise ValidationError("set webhooks.url to turn status webhooks on", field="webhooks.url")
    new_secret = None
    if any(urls.values()) and "outbound" not in retailer.integrations:
        new_secret = secrets.token_urlsafe(32)
        retailer_store.set_integration_secret(retailer_id, "outbound", new_secret)
    retailer_store.set_document(retailer_id, "settings", stored)
    document = get_settings(retailer_id)
    if new_secret and urls["survey.webhook_url"]:
        document["survey"]["webhook_secret"] = new_secret
    if new_secret and urls["webhooks.url"]:
        document["webhooks"]["secret"] = new_secret
    if warnings:
        document["warnings"] = warnings
    return document


def _floored_quiet_hours(requested: dict[str, Any] | None, warnings: list[str]) -> dict[str, Any]:
    """Quiet hours as stored: never weaker than the federal floor; what was changed goes into `warnings`.

    `null` means the defaults (21:00-08:00) and is answered as such; switching quiet hours off keeps the floor.
    State windows (e.g. Florida's 8pm) apply at delivery on top of what is stored here."""
    if requested is None:
        warnings.append("quiet_hours: null resets quiet hours to the defaults, 21:00-08:00")
        return {"enabled": True, "start": "21:00", "end": "08:00"}
    if not requested.get("enabled", True):
        warnings.append(
            "quiet hours cannot be switched off: texts wait for 08:00-21:00 in the shopper's time zone "
            "(TCPA, 47 CFR 64.1200(c)(1)); set to 21:00-08:00"
        )
        return {"enabled": True, "start": "21:00", "end": "08:00"}
    start, end, changed = clamp(time.fromisoformat(requested["start"]), time.fromisoformat(requested["end"]))
    warnings.extend(changed)
    return {"enabled": True, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}


def get_branding(retailer_id: str) -> dict[str, Any]:
    return brand(_retailer(retailer_id))


def update_branding(retailer_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The fields sent replace the stored ones; a null one is forgotten, so its default shows again (a support
    phone number that is no longer answered can be taken off every page)."""
    retailer = _retailer(retailer_id)
    merged = {**(retailer.branding or {}), **changes}
    retailer_store.set_document(retailer_id, "branding", {k: v for k, v in merged.items() if v is not None})
    return brand(_retailer(retailer_id))


def _check_address(kind: str, channel: str, locale: str) -> None:
    # jinja2 (via web.templating): the API's cold start imports this module, only template calls need it
    from ..web.templating import LOCALES

    if kind not in NOTIFICATION_KINDS:
        raise NotFound(f"unknown notification kind {kind!r}; use one of: {', '.join(NOTIFICATION_KINDS)}", field="kind")
    if channel not in CHANNELS:
        raise NotFound(f"unknown channel {channel!r}; use sms or email", field="channel")
    if locale not in LOCALES:
        raise NotFound(f"unsupported locale {locale!r}; use one of: {', '.join(LOCALES)}", field="locale")


def sample_record(retailer_id: str) -> ShipmentRecord:
    """Worst-case-length sample data: if a template fits with this, it fits with real orders."""
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    progress = fold(
        Progress(),
        [
            TrackingEvent(
                source="native",
                carrier="ups",
                tracking_number="1Z999AA10123456784",
                status="out_for_delivery",
                occurred_at=now - timedelta(hours=2),
                fingerprint=fingerprint("sample"),
                eta={"start": iso(now.replace(hour=15, minute=30)), "end": iso(now.replace(hour=17, minute=30))},
            )
        ],
    )
    return ShipmentRecord(
        id="shp_sample",
        retailer_id=retailer_id,
        carrier="ups",
        tracking_number="1Z999AA10123456784",
        tracking_token="SAMPLEtoken0123456789A",  # noqa: S106 - sample data, not a secret
        created_at=iso(now),
        updated_at=iso(now),
        claimed=True,
        order_id="ORD-12345678",
        customer={"name": "Alexandra Example", "time_zone": "America/New_York"},
        progress=progress,
    )


def preview(retailer_id: str, kind: str, channel: str, locale: str, draft: dict[str, Any] | None) -> dict[str, Any]:
    """Render with sample data: the draft if given, else the saved override, else the built-in template."""
    # jinja2 (via web.templating): only previews render
    from ..web.templating import Override, render_email, render_sms, sms_worst_case, validate_override

    _check_address(kind, channel, locale)
    retailer = _retailer(retailer_id)
    source = "draft"
    if draft is None:
        stored = retailer_store.templates_for(retailer_id, kind, channel, fresh=True).get(locale)
        draft = {"body": stored["body"], "subject": stored.get("subject")} if stored else None
        source = "custom" if stored else "built-in"
    override = Override(body=draft["body"], subject=draft.get("subject")) if draft else None
    context = message_context(sample_record(retailer_id), retailer, locale, "https://example.invalid/unsubscribe")
    if kind == "delivered":
        context["delivery_note"] = "Left at front door"  # the sample is out for delivery; show a driver's note
    if override is not None:
        validate_override(channel, override, context, kind)
    if channel == "sms":
        body = render_sms(kind, locale, context, override).body
        answer = {
            "source": source,
            "body": body,
            "characters": len(body),
            "encoding": "GSM-7" if sms_rules.is_gsm7(body) else "UCS-2",
            "fits_one_segment": sms_rules.fits_one_segment(body),
        }
        if override is not None:  # what the longest brand and order id make of it (the built-ins are cut to fit)
            answer["worst_case"] = sms_worst_case(override, context)
        return answer
    email = render_email(kind, locale, context, override)
    return {"source": source, "subject": email.subject, "text": email.text, "html": email.html}


def save_template(
    retailer_id: str, kind: str, channel: str, locale: str, draft: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Validated (syntax, variables, SMS length) before it can go live."""
    if channel == "sms" and draft.get("subject"):
        raise ValidationError("SMS templates have no subject", field="subject")
    rendered = preview(retailer_id, kind, channel, locale, draft)
    retailer_store.put_template(retailer_id, kind, channel, locale, draft["body"], draft.get("subject"), iso(now))
    return {"kind": kind, "channel": channel, "locale": locale, **draft, "preview": rendered}


def get_template(retailer_id: str, kind: str, channel: str, locale: str) -> dict[str, Any]:
    _check_address(kind, channel, locale)
    stored = retailer_store.templates_for(retailer_id, kind, channel, fresh=True).get(locale)
    if stored is None:
        raise NotFound(f"no custom {channel} template for {kind} in {locale}; the built-in one is used")
    return {
        "kind": kind,
        "channel": channel,
        "locale": locale,
        "body": stored["body"],
        "subject": stored.get("subject"),
    }


def delete_template(retailer_id: str, kind: str, channel: str, locale: str) -> None:
    _check_address(kind, channel, locale)
    if not retailer_store.delete_template(retailer_id, kind, channel, locale):
        raise NotFound(f"no custom {channel} template for {kind} in {locale}")


def branding_preview(retailer_id: str, draft: dict[str, Any] | None, locale: str | None) -> dict[str, Any]:
    """The tracking page's view for a sample delivery, with the draft brand applied (nothing is saved)."""
    retailer = _retailer(retailer_id)
    if draft:
        retailer = replace(retailer, branding={**(retailer.branding or {}), **draft})
    record = sample_record(retailer_id)
    record = replace(
        record, items=[{"name": "Trail running shoes", "quantity": 1}, {"name": "Merino socks", "quantity": 2}]
    )
    start = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    events = [
        TrackingEvent(
            source="native",
            carrier="ups",
            tracking_number=record.tracking_number,
            status=status,
            occurred_at=start + timedelta(hours=offset),
            fingerprint=fingerprint("preview", offset),
            description=text,
            location=Location(city=city, region="NY", country="US"),
        )
        for offset, status, text, city in (
            (0, "processed", "Label created", "Brooklyn"),
            (8, "shipped", "Departed facility", "Secaucus"),
            (22, "out_for_delivery", "Out for delivery", "New York"),
        )
    ]
    return build_view(record, events, retailer, locale)
