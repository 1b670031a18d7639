"""Rendering notifications from built-in templates (per locale) or a retailer's sandboxed override.

Jinja2 is imported here and only here, so the webhook path never pays for it.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    ModuleLoader,
    StrictUndefined,
    Template,
    TemplateSyntaxError,
    meta,
    select_autoescape,
)
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from msgspec import Struct

from ..domain import sms as sms_rules
from ..domain.pickup import template_kind
from ..errors import ValidationError
from . import jinja_i18n
from .i18n import DEFAULT_LOCALE, format_day, weekday_name
from .i18n import LOCALES as LOCALES  # re-exported: callers ask the templating module which locales exist
from .i18n import resolve_locale as resolve_locale

#: The top-level `templates/` folder. Chalice zips only app.py, chalicelib/ and vendor/, so infra/package.py adds the
#: folder to the Lambda zip at the same place beside app.py (D34): this one path holds in the repository and in Lambda.
TEMPLATE_ROOT = Path(__file__).resolve().parents[2] / "templates"
#: The built-in templates compiled to Python modules, beside their sources: written only by the package step
#: (infra/package.py), so only a built zip has it. Compiling the templates a send renders costs a cold start ~100 ms
#: of CPU; importing them from bytecode, a fraction (D49).
COMPILED_ROOT = TEMPLATE_ROOT / "_compiled"
#: In COMPILED_ROOT: each compiled template's name and the SHA-256 of the source it was compiled from.
COMPILED_MANIFEST = "sources.json"

#: What a retailer template may use; anything else is rejected when the template is saved.
SMS_VARIABLES = frozenset(
    {
        "retailer",
        "order_id",
        "eta",
        "tracking_url",
        "carrier",
        "tracking_number",
        "support_phone",
        "support_email",
        "opt_out",
        "delay_reason",  # carrier_delay, eta_after_promise, promise_passed or no_news (for `delayed`)
    }
)
EMAIL_VARIABLES = SMS_VARIABLES | {"first_name", "status_label"}
#: Variables only some kinds carry, as their built-in templates use them: the delivered email quotes the driver's
#: note (redacted, DESIGN 3.4; empty when the carrier sent none). Texts never carry it (one segment, worst case).
EMAIL_KIND_VARIABLES: dict[str, frozenset[str]] = {"delivered": frozenset({"delivery_note"})}


def allowed_variables(channel: str, kind: str | None = None) -> frozenset[str]:
    """What a retailer template for this channel (and kind) may use."""
    if channel == "sms":
        return SMS_VARIABLES
    return EMAIL_VARIABLES | EMAIL_KIND_VARIABLES.get(kind or "", frozenset())


MAX_TEMPLATE_CHARS = 5000


class RenderedSms(Struct, frozen=True):
    body: str


class RenderedEmail(Struct, frozen=True):
    subject: str
    text: str
    html: str


class Override(Struct, frozen=True):
    """A retailer's template for one kind, channel and locale: SMS uses `body`, email `subject` and `body`."""

    body: str
    subject: str | None = None


def format_eta(eta: dict[str, str] | None, zone: ZoneInfo, locale: str) -> str:
    """A short local ETA for texts and emails: 'Wed 10:30am-12pm' in English, 24-hour 'mié. 10:30-12:00' elsewhere."""
    if not eta:
        return ""
    given_start = datetime.fromisoformat(eta["start"]) if eta.get("start") else None
    given_end = datetime.fromisoformat(eta["end"]) if eta.get("end") else None
    given = given_end or given_start
    assert given is not None
    midnight_utc = (given.hour, given.minute, given.second) == (0, 0, 0) and given.utcoffset() in (None, timedelta(0))
    if midnight_utc and (given_start is None or given_start == given):
        # A date-only promise (AfterShip's "2026-12-04", EasyPost's "...T00:00:00Z") names a day, not midnight
        # UTC: shown as that day wherever the shopper is (in Los Angeles it is not "Thu 4pm" the day before).
        day = weekday_name(given.weekday(), locale)
        return f"{day} {given.month}/{given.day}" if locale == "en" else f"{day} {format_day(given.date(), locale)}"
    start = given_start.astimezone(zone) if given_start else None
    end = given_end.astimezone(zone) if given_end else None
    anchor = end or start
    assert anchor is not None
    day = weekday_name(anchor.weekday(), locale)

    def clock(moment: datetime) -> str:
        if locale != "en":
            return moment.strftime("%H:%M")
        hour = moment.hour % 12 or 12
        minutes = f":{moment.minute:02d}" if moment.minute else ""
        return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"

    if start and end and start.date() == end.date() and start != end:
        return f"{day} {clock(start)}-{clock(end)}"
    return f"{day} {clock(anchor)}"


_DOUBLE_STOP = re.compile(r"(?<=[^\s.])\.\.(?=\s|$)")
SMS_RETAILER_CHARS = 20
SMS_ORDER_CHARS = 12


#: What stands for the cut-off start of an order id in a text (GSM-7, so the text stays in one 160-char segment).
SMS_CUT_MARK = ".."


def sms_safe(context: dict[str, Any], *, whole_order: bool = False) -> dict[str, Any]:
    """Shorten the free-length fields so every built-in text fits one segment. The order id is kept whole when
    asked (render_sms tries that first); cut, it keeps its tail behind a visible mark ("..0001234567"), never a
    shorter id that reads as a different order."""
    name = str(context.get("retailer", ""))
    if len(name) > SMS_RETAILER_CHARS:  # cut at a word boundary when there is one
        cut = name[: SMS_RETAILER_CHARS + 1].rsplit(" ", 1)[0]
        name = cut if len(cut) <= SMS_RETAILER_CHARS else name[:SMS_RETAILER_CHARS]
    order = str(context.get("order_id", ""))
    if not whole_order and len(order) > SMS_ORDER_CHARS:
        order = SMS_CUT_MARK + order[-(SMS_ORDER_CHARS - len(SMS_CUT_MARK)) :]
    return {**context, "retailer": name.strip(), "order_id": order}


def source_digests() -> dict[str, str]:
    return {
        path.relative_to(TEMPLATE_ROOT).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(TEMPLATE_ROOT.rglob("*.j2"))
    }


def _loader() -> BaseLoader:
    """The compiled templates when they were compiled from exactly these sources, else the sources themselves: a
    template edited after the package was built (or a checkout without a build) is never served stale."""
    sources = FileSystemLoader(str(TEMPLATE_ROOT))
    try:
        compiled_from = json.loads((COMPILED_ROOT / COMPILED_MANIFEST).read_text())
    except (OSError, ValueError):
        return sources
    if compiled_from != source_digests():
        return sources
    return ChoiceLoader([ModuleLoader(str(COMPILED_ROOT)), sources])


def _environment(loader: BaseLoader) -> Environment:
    from ..domain.carrier_names import display_name

    environment = Environment(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    jinja_i18n.install(environment, newstyle=True)
    environment.filters["carrier_name"] = display_name
    return environment


@lru_cache(maxsize=1)
def builtin_environment() -> Environment:
    if not (TEMPLATE_ROOT / "pages").is_dir():  # a zip built without infra/package.py (e.g. `chalice deploy`)
        raise RuntimeError(f"built-in templates not found at {TEMPLATE_ROOT}: package with `make package` (D34)")
    return _environment(_loader())


def compile_builtin(target: Path) -> int:
    """Compile every built-in template into `target` (the package's COMPILED_ROOT) with the environment that serves
    them, and record the sources they came from; returns how many."""
    environment = _environment(FileSystemLoader(str(TEMPLATE_ROOT)))
    digests = source_digests()
    target.mkdir(parents=True, exist_ok=True)
    environment.compile_templates(str(target), zip=None, filter_func=digests.__contains__, ignore_errors=False)
    (target / COMPILED_MANIFEST).write_text(json.dumps(digests, indent=1, sort_keys=True))
    return len(digests)


def sandbox_environment() -> ImmutableSandboxedEnvironment:
    from .sandbox import environment

    return environment()


def _block(template: Template, name: str, context: dict[str, Any]) -> str:
    if name not in template.blocks:
        return ""
    rendered = "".join(template.blocks[name](template.new_context(context)))
    # templates wrap lines for readability; messages are single-spaced, and a sentence ending in an abbreviated
    # date ("bis 22. Dez.") ends once, not with "Dez.." (a cut order id's leading ".." follows a space: kept)
    return _DOUBLE_STOP.sub(".", " ".join(rendered.split()))


def _render_override(source: str, context: dict[str, Any], field: str = "body") -> str:
    """A retailer's template under the sandbox's limits; anything it does wrong is a ValidationError naming it."""
    from .sandbox import render_limited

    try:
        return render_limited(source, context)
    except TemplateSyntaxError as exc:
        raise ValidationError(
            f"{field} has a template syntax error on line {exc.lineno}: {exc.message}", field=field
        ) from exc
    except (SecurityError, UndefinedError) as exc:
        raise ValidationError(f"{field} cannot be rendered: {exc}", field=field) from exc
    except Exception as exc:  # untrusted template code: any error it raises is the template's
        raise ValidationError(f"{field} cannot be rendered: {type(exc).__name__}: {exc}", field=field) from exc


def _sandboxed(source: str, context: dict[str, Any], field: str = "body") -> str:
    return " ".join(_render_override(source, context, field).split())


def render_sms(kind: str, locale: str, context: dict[str, Any], override: Override | None = None) -> RenderedSms:
    context = {**context, "locale": locale}  # the words come from this locale's catalog, whatever the caller passed

    def text(shortened: dict[str, Any]) -> str:
        if override is not None:
            return sms_rules.to_gsm7(_sandboxed(override.body, shortened))
        return sms_rules.to_gsm7(
            _block(builtin_environment().get_template("sms/messages.j2"), template_kind(kind), shortened)
        )

    whole = text(sms_safe(context, whole_order=True))
    if sms_rules.fits_one_segment(whole) or len(str(context.get("order_id", ""))) <= SMS_ORDER_CHARS:
        return RenderedSms(body=whole)
    return RenderedSms(body=text(sms_safe(context)))


def render_email(kind: str, locale: str, context: dict[str, Any], override: Override | None = None) -> RenderedEmail:
    context = {**context, "locale": locale}  # the words come from this locale's catalog, whatever the caller passed
    env = builtin_environment()
    strings = env.get_template("email/messages.j2")
    if override is not None:
        subject = _sandboxed(override.subject or "", context, "subject")
        paragraphs = [" ".join(p.split()) for p in _sandboxed_paragraphs(override.body, context)]
        headline, next_step = "", ""
    else:
        kind = template_kind(kind)
        subject = _block(strings, f"{kind}_subject", context)
        headline = _block(strings, f"{kind}_headline", context)
        paragraphs = [p for p in [_block(strings, f"{kind}_body", context)] if p]
        next_step = _block(strings, f"{kind}_next", context)
    ui = {name.removeprefix("ui_"): _block(strings, name, context) for name in strings.blocks if name.startswith("ui_")}
    page = {
        **context,
        "subject": subject,
        "headline": headline,
        "paragraphs": paragraphs,
        "next_step": next_step,
        "ui": ui,
    }
    html = env.get_template("email/layout.html.j2").render(page)
    text = env.get_template("email/layout.txt.j2").render(page)
    return RenderedEmail(subject=subject, text=text.strip() + "\n", html=html)


def _sandboxed_paragraphs(source: str, context: dict[str, Any]) -> list[str]:
    rendered = _render_override(source, context)
    return [part.strip() for part in rendered.replace("\r\n", "\n").split("\n\n") if part.strip()]


def validate_override(
    channel: str, override: Override, sample_context: dict[str, Any], kind: str | None = None
) -> list[str]:
    """Check syntax, variables and (for SMS) length with sample data; returns warnings, raises on errors."""
    allowed = allowed_variables(channel, kind)
    sources = {"body": override.body}
    if channel == "email":
        sources["subject"] = override.subject or ""
        if not (override.subject or "").strip():
            raise ValidationError("an email template needs a subject", field="subject")
    for field, source in sources.items():
        if len(source) > MAX_TEMPLATE_CHARS:
            raise ValidationError(f"{field} is longer than {MAX_TEMPLATE_CHARS} characters", field=field)
        try:
            parsed = sandbox_environment().parse(source)
        except TemplateSyntaxError as exc:
            raise ValidationError(
                f"{field} has a template syntax error on line {exc.lineno}: {exc.message}", field=field
            ) from exc
        from .sandbox import forbidden_tag

        tag = forbidden_tag(parsed)
        if tag:
            raise ValidationError(
                f"{field} uses {{% {tag} %}}, which is not allowed: a template cannot use other templates", field=field
            )
        unknown = sorted(meta.find_undeclared_variables(parsed) - allowed - jinja_i18n.GETTEXT_NAMES)
        if unknown:
            raise ValidationError(
                f"{field} uses unknown variables: {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
                field=field,
            )
    if channel == "sms":
        text = render_sms("custom", DEFAULT_LOCALE, sample_context, override).body
        brand_name = sms_rules.to_gsm7(sms_safe(sample_context)["retailer"])
        if sample_context.get("opt_out") and sms_rules.to_gsm7(sample_context["opt_out"]) not in text:
            raise ValidationError(
                f"body must include the opt-out line ({{{{ opt_out }}}}, here {sample_context['opt_out']!r})",
                field="body",
            )
        if brand_name and brand_name not in text:
            raise ValidationError(f"body must name the brand ({{{{ retailer }}}}, here {brand_name!r})", field="body")
        worst = sms_worst_case(override, sample_context)
        if worst["over_by"] > 0:
            raise ValidationError(
                f"body renders to {worst['characters']} characters with the longest values "
                f"({SMS_RETAILER_CHARS}-character brand, {SMS_ORDER_CHARS}-character order id); "
                f"one {worst['encoding']} segment holds {worst['segment_limit']}: {worst['over_by']} over",
                field="body",
            )
    else:
        render_email("custom", DEFAULT_LOCALE, sample_context, override)
    return []


#: The longest values a text can carry (brand and order id are cut to these lengths before rendering).
WORST_CASE_SMS = {
    "retailer": "W" * SMS_RETAILER_CHARS,
    "order_id": "9" * SMS_ORDER_CHARS,
    "eta": "Wed 10:30am-12:30pm",
    "carrier": "AMAZON",
    "tracking_number": "9" * 34,  # the longest carrier numbers (FedEx SmartPost, USPS IMpb with routing)
    "support_phone": "+1 (800) 555-0199 ext. 1234",
    "support_email": "customer.support@" + "w" * 20 + ".com",
    "delay_reason": "eta_after_promise",
}


def sms_worst_case(override: Override, sample_context: dict[str, Any]) -> dict[str, Any]:
    """The template's length and encoding with every free-length value at its longest."""
    text = render_sms("custom", DEFAULT_LOCALE, {**sample_context, **WORST_CASE_SMS}, override).body
    gsm = sms_rules.is_gsm7(text)
    length = sms_rules.gsm7_length(text) if gsm else len(text)
    limit = sms_rules.segment_limit(text)
    return {
        "characters": length,
        "encoding": "GSM-7" if gsm else "UCS-2",
        "segment_limit": limit,
        "over_by": max(0, length - limit),
    }


def opt_out_text(locale: str) -> str:
    return _block(builtin_environment().get_template("sms/messages.j2"), "opt_out_text", {"locale": locale})
