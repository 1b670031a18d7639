"""What stops Porchlight from contacting an address for a retailer, and lifting it (issue 20.7, D32).

An e-mail address is suppressed for one retailer (the shopper unsubscribed or reported spam) or for every retailer
(the provider said the address is invalid: a hard bounce, a drop as "Invalid"/"Bounced Address"). A retailer sees
and lifts only what holds for its own sends; lifting an every-retailer suppression excuses that retailer's sends
only. Every suppression and every lift is an audit line (when, why, which API key), kept and listed.

A phone number's opt-outs are the shopper's STOP (or the carrier's record of one): they are listed, but only the
shopper can undo them, by texting START (47 CFR 64.1200(a)(10)), so lifting one is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from ..errors import Conflict, NotFound, ValidationError
from ..store import contacts

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}$")
MAX_REASON = 500


def parse_contact(raw: str | None, field: str = "address") -> tuple[str, str]:
    """("email" | "sms", the normalised address) from a URL-encoded e-mail address or E.164 phone number."""
    value = unquote(raw or "").strip()
    if E164.match(value):
        return "sms", value
    if EMAIL.match(value) and len(value) <= 254:
        return "email", value.lower()
    raise ValidationError(
        "give an e-mail address or an E.164 phone number (+ country code, digits only), URL-encoded", field=field
    )


def _scope_name(scope: str, retailer_id: str) -> str:
    if scope == contacts.ALL_RETAILERS:
        return "every_retailer"
    if scope == contacts.RELAY:
        return "driver_chat"
    return "retailer" if scope == retailer_id else ""


def _email_state(email: str, retailer_id: str) -> dict[str, Any]:
    records = contacts.suppression_records(email)
    active = contacts.active_suppressions(records, retailer_id)
    audit = []
    for record in sorted((r for r in records if r["sk"].startswith("AUDIT#")), key=lambda r: r["sk"]):
        scope = str(record.get("scope", ""))
        mine = scope == retailer_id or (
            scope == contacts.ALL_RETAILERS and record.get("for_retailer", retailer_id) == retailer_id
        )
        if not mine:
            continue  # another retailer's suppressions and lifts are theirs
        line: dict[str, Any] = {
            "at": record["at"],
            "action": record["action"],
            "scope": _scope_name(scope, retailer_id),
            "reason": record.get("reason", ""),
        }
        if record["action"] == "lifted":
            line["lifted_reason"] = record.get("lifted_reason", "")
            line["by"] = {"api_key_id": record.get("key_id", ""), "api_key_prefix": record.get("key_prefix", "")}
        elif record.get("source"):
            line["source"] = record["source"]
        audit.append(line)
    return {
        "contact": email,
        "channel": "email",
        "suppressed": bool(active),
        "suppressions": [
            {
                "scope": _scope_name(r["sk"].removeprefix("RETAILER#"), retailer_id),
                "reason": r.get("reason", ""),
                "since": r.get("created_at", ""),
                "liftable": True,
            }
            for r in active
        ],
        "audit": audit,
    }


def _phone_state(phone: str, retailer_id: str) -> dict[str, Any]:
    shown = []
    for record in contacts.opt_out_records(phone):
        scope = _scope_name(record["sk"].removeprefix("RETAILER#"), retailer_id)
        if scope:
            shown.append(
                {
                    "scope": scope,
                    "reason": "opted_out",
                    "since": record.get("created_at", ""),
                    "source": record.get("source", ""),
                    "liftable": False,
                }
            )
    return {"contact": phone, "channel": "sms", "suppressed": bool(shown), "suppressions": shown, "audit": []}


def state(retailer_id: str, raw_contact: str | None) -> dict[str, Any]:
    if not raw_contact:
        raise ValidationError("contact is required: an e-mail address or an E.164 phone number", field="contact")
    channel, contact = parse_contact(raw_contact, field="contact")
    return _email_state(contact, retailer_id) if channel == "email" else _phone_state(contact, retailer_id)


def lift(retailer_id: str, raw_address: str, body: dict[str, Any], key_id: str, key_prefix: str, now: datetime) -> dict:
    channel, contact = parse_contact(raw_address)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError('say why the suppression is lifted: {"reason": "..."}', field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"reason is at most {MAX_REASON} characters", field="reason")
    if channel == "sms":
        if _phone_state(contact, retailer_id)["suppressed"]:
            raise Conflict(
                "this number opted out (STOP): only the shopper can undo it, by texting START",
                code="shopper_opt_out",
                field="address",
            )
        raise NotFound("nothing suppresses this number for your sends", field="address")
    lifted = contacts.lift_suppression(contact, retailer_id, now, reason.strip(), key_id, key_prefix)
    if not lifted:
        raise NotFound("nothing suppresses this address for your sends", field="address")
    return _email_state(contact, retailer_id)
