"""Shopper-requested delivery changes (DESIGN 3.9): what a retailer offers per carrier, what may be asked now,
the one-time code that guards an address-changing request, and how an answer moves a request (pure: the clock,
the rules and the secret are passed in).

A request goes `awaiting_code` (address-changing kinds, or kinds the retailer guards with a code) -> `pending`
(the retailer and carrier are told) -> `confirmed` | `refused`. A code request that runs out of attempts or time
ends `locked` | `expired`; nothing was sent on to anyone then.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, time, timedelta
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from . import milestones as ms

RESCHEDULE, SAFE_PLACE, NEIGHBOUR, PICKUP_POINT, HOLD = "reschedule", "safe_place", "neighbour", "pickup_point", "hold"
KINDS: tuple[str, ...] = (RESCHEDULE, SAFE_PLACE, NEIGHBOUR, PICKUP_POINT, HOLD)
#: Kinds that send the parcel somewhere else: always behind a one-time code (a tracking link can be forwarded).
ADDRESS_CHANGING: frozenset[str] = frozenset({NEIGHBOUR, PICKUP_POINT})
SAFE_PLACES: tuple[str, ...] = ("front_door", "back_door", "garage", "porch")

AWAITING_CODE, PENDING, CONFIRMED, REFUSED, LOCKED, EXPIRED = (
    "awaiting_code",
    "pending",
    "confirmed",
    "refused",
    "locked",
    "expired",
)
#: A request the shopper may still finish (a code to enter) or the retailer/carrier must still answer.
OPEN: frozenset[str] = frozenset({AWAITING_CODE, PENDING})
ANSWERS: tuple[str, ...] = (CONFIRMED, REFUSED)

#: Outbox kinds of a request start with this: `change:<id>:code`, `change:<id>:hook`, `change:<id>:outcome`.
OUTBOX_PREFIX = "change:"
#: The kind the shopper policy knows the answer's notice by (domain.policy.TEXT_KINDS).
NOTICE_KIND = "delivery_change"
#: The one-time code's text: the answer to what the shopper asked on the page a moment ago, sent at once.
CODE_KIND = "delivery_change_code"

#: One-time codes: six digits, ten minutes, five tries per code, three codes per shipment.
CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
MAX_CODES_PER_SHIPMENT = 3
MAX_NOTE = 500
MAX_NEIGHBOUR = 80
#: How many windows and pickup points a retailer may list per carrier, and days ahead a reschedule may go.
MAX_WINDOWS = 8
MAX_PICKUP_POINTS = 20
MAX_DAYS_AHEAD = 14

#: Parcels nothing can be changed for any more.
FINISHED: frozenset[str] = frozenset({ms.DELIVERED, ms.RETURNED, ms.CANCELLED, ms.AVAILABLE_FOR_PICKUP})


class ChangeRefused(Exception):
    """Why a request cannot be made (the code names the sentence the shopper reads and the API's error code)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class CarrierRules(Struct, frozen=True):
    """What a retailer offers for one carrier's parcels."""

    kinds: tuple[str, ...] = ()
    #: Later windows ("08:00-12:00") a reschedule may pick, on any of the next `days_ahead` days.
    windows: tuple[str, ...] = ()
    days_ahead: int = 5
    safe_places: tuple[str, ...] = SAFE_PLACES
    #: [{"id", "name", "address"?}] the retailer lists.
    pickup_points: tuple[dict[str, str], ...] = ()
    #: Nothing once the parcel is out for delivery; nothing after this local time on the delivery day.
    not_once_out: bool = True
    cutoff: time | None = None
    #: Kinds that need the one-time code besides the address-changing ones.
    second_factor: frozenset[str] = frozenset()

    def needs_code(self, kind: str) -> bool:
        return kind in ADDRESS_CHANGING or kind in self.second_factor


def rules_for(document: dict[str, Any] | None, carrier: str) -> CarrierRules:
    """The rules for `carrier` from the retailer's `delivery_changes` settings (`carriers.<code>`, else `carriers.*`);
    none offered when neither is set."""
    carriers = (document or {}).get("carriers") or {}
    chosen = carriers.get(carrier) or carriers.get("*")
    if not chosen:
        return CarrierRules()
    cutoff = chosen.get("cutoff") or {}
    return CarrierRules(
        kinds=tuple(kind for kind in KINDS if kind in (chosen.get("kinds") or ())),
        windows=tuple(chosen.get("windows") or ()),
        days_ahead=int(chosen.get("days_ahead") or 5),
        safe_places=tuple(place for place in SAFE_PLACES if place in (chosen.get("safe_places") or SAFE_PLACES)),
        pickup_points=tuple(dict(point) for point in chosen.get("pickup_points") or ()),
        not_once_out=bool(cutoff.get("not_once_out", True)),
        cutoff=time.fromisoformat(cutoff["local_time"]) if cutoff.get("local_time") else None,
        second_factor=frozenset(chosen.get("second_factor") or ()) | ADDRESS_CHANGING,
    )


def with_carrier_options(rules: CarrierRules, options: dict[str, Any] | None) -> CarrierRules:
    """The retailer's rules plus the windows and pickup points the carrier sent for this parcel (a native event's
    `delivery_options`); the retailer still decides which kinds are offered."""
    if not options:
        return rules
    windows = tuple(dict.fromkeys([*rules.windows, *(options.get("windows") or ())]))[:MAX_WINDOWS]
    known = {point.get("id") for point in rules.pickup_points}
    extra = tuple(dict(p) for p in options.get("pickup_points") or () if p.get("id") not in known)
    points = (*rules.pickup_points, *extra)[:MAX_PICKUP_POINTS]
    return replace(rules, windows=windows, pickup_points=points)


def blocked(rules: CarrierRules, status: str, delivery_day: date | None, local_now: datetime) -> str | None:
    """Why nothing may be asked now (`not_offered`, `finished`, `out_for_delivery`, `past_cutoff`), or None.

    `delivery_day` is the day the parcel is expected (the carrier's ETA, else the promised date) in the shopper's
    zone; `local_now` is the time there. Past the cut-off on that day, or past the day itself, nothing is asked."""
    if not rules.kinds:
        return "not_offered"
    if status in FINISHED:
        return "finished"
    if rules.not_once_out and status == ms.OUT_FOR_DELIVERY:
        return "out_for_delivery"
    if delivery_day is not None:
        today = local_now.date()
        if today > delivery_day:
            return "past_cutoff"
        if rules.cutoff is not None and today == delivery_day and local_now.time() >= rules.cutoff:
            return "past_cutoff"
    return None


def offered_now(rules: CarrierRules, status: str, delivery_day: date | None, local_now: datetime) -> tuple[str, ...]:
    """The kinds the page offers at this moment (none when `blocked`)."""
    if blocked(rules, status, delivery_day, local_now):
        return ()
    kinds = list(rules.kinds)
    if not rules.windows and RESCHEDULE in kinds:
        kinds.remove(RESCHEDULE)
    if not rules.pickup_points and PICKUP_POINT in kinds:
        kinds.remove(PICKUP_POINT)
    return tuple(kinds)


def reschedule_days(rules: CarrierRules, delivery_day: date | None, today: date) -> list[date]:
    """The later days a reschedule may choose: after the expected day (or today), `days_ahead` of them."""
    start = max(delivery_day or today, today)
    return [start + timedelta(days=n) for n in range(1, rules.days_ahead + 1)]


def checked_request(
    rules: CarrierRules,
    kind: str,
    form: dict[str, str],
    status: str,
    delivery_day: date | None,
    local_now: datetime,
) -> dict[str, str]:
    """The request's details, normalised, or ChangeRefused saying why it cannot be made."""
    reason = blocked(rules, status, delivery_day, local_now)
    if reason is not None:
        raise ChangeRefused(reason, _BLOCKED_MESSAGES[reason])
    if kind not in KINDS:
        raise ChangeRefused("invalid_change", f"kind must be one of: {', '.join(KINDS)}", "kind")
    if kind not in offered_now(rules, status, delivery_day, local_now):
        raise ChangeRefused("not_offered", f"{kind} is not offered for this parcel", "kind")
    if kind == RESCHEDULE:
        window = form.get("window", "")
        days = {day.isoformat() for day in reschedule_days(rules, delivery_day, local_now.date())}
        if window not in rules.windows or form.get("date", "") not in days:
            raise ChangeRefused("invalid_change", "choose one of the offered days and windows", "window")
        return {"date": form["date"], "window": window}
    if kind == SAFE_PLACE:
        place = form.get("place", "")
        if place not in rules.safe_places:
            raise ChangeRefused("invalid_change", f"place must be one of: {', '.join(rules.safe_places)}", "place")
        return {"place": place}
    if kind == NEIGHBOUR:
        name = " ".join(form.get("neighbour", "").split())
        if not 1 <= len(name) <= MAX_NEIGHBOUR:
            raise ChangeRefused("invalid_change", f"name the neighbour in 1 to {MAX_NEIGHBOUR} characters", "neighbour")
        return {"neighbour": name}
    if kind == PICKUP_POINT:
        point = next((p for p in rules.pickup_points if p.get("id") == form.get("point")), None)
        if point is None:
            raise ChangeRefused("invalid_change", "choose one of the offered pickup points", "point")
        return {"point": str(point["id"]), "point_name": str(point.get("name") or point["id"])}
    return {}


_BLOCKED_MESSAGES = {
    "not_offered": "delivery changes are not offered for this parcel",
    "finished": "this parcel has arrived, gone back or been cancelled: it can no longer be changed",
    "out_for_delivery": "this parcel is out for delivery: it can no longer be changed",
    "past_cutoff": "it is too late to change this delivery",
}


def code_for(secret: bytes, change_id: str, nonce: str) -> str:
    """The one-time code of a request: derived from the server's secret, never stored (the sender derives it again
    to send it; the request keeps only `code_digest`)."""
    number = int.from_bytes(hmac.new(secret, f"code:{change_id}:{nonce}".encode(), hashlib.sha256).digest()[:8])
    return f"{number % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_digest(secret: bytes, change_id: str, code: str) -> str:
    return hmac.new(secret, f"digest:{change_id}:{code}".encode(), hashlib.sha256).hexdigest()


class CodeCheck(Struct, frozen=True):
    """What entering a code did to the request: `ok`, `wrong` (attempts left), `locked` or `expired`."""

    outcome: str
    change: dict[str, Any]


def check_code(secret: bytes, change: dict[str, Any], entered: str, now: datetime) -> CodeCheck:
    """Compare in constant time against the stored digest; the fifth wrong code or a late one ends the request."""
    if change.get("status") != AWAITING_CODE:
        return CodeCheck("not_awaiting", change)
    if now >= datetime.fromisoformat(change["code_expires_at"]):
        return CodeCheck(EXPIRED, {**change, "status": EXPIRED})
    typed = "".join(entered.split())
    # Digests of equal length are compared whatever was typed, so timing says nothing about the code.
    if hmac.compare_digest(code_digest(secret, change["id"], typed[:20]), change["code_digest"]):
        done = {k: v for k, v in change.items() if not k.startswith("code_")}
        return CodeCheck("ok", {**done, "status": PENDING})
    attempts = int(change.get("code_attempts", 0)) + 1
    if attempts >= MAX_CODE_ATTEMPTS:
        return CodeCheck(LOCKED, {**change, "code_attempts": attempts, "status": LOCKED})
    return CodeCheck("wrong", {**change, "code_attempts": attempts})


class Answer(Struct, frozen=True):
    """What an answer did: `applied` (the request moved), `replayed` (the same answer again: nothing to do),
    `conflict` (the opposite answer after one was given), `unknown` (no such request), `not_open` (still awaiting
    the shopper's code, or ended before it was sent on)."""

    outcome: str
    change: dict[str, Any] | None = None


def answer(
    changes: list[dict[str, Any]], change_id: str, status: str, note: str | None, by: str, now: str
) -> tuple[Answer, list[dict[str, Any]]]:
    """Apply a retailer's or carrier's answer to the shipment's requests; the list comes back changed only when
    the answer applied."""
    index = next((i for i, change in enumerate(changes) if change.get("id") == change_id), None)
    if index is None:
        return Answer("unknown"), changes
    change = changes[index]
    if change["status"] == status:
        return Answer("replayed", change), changes
    if change["status"] in ANSWERS:
        return Answer("conflict", change), changes
    if change["status"] != PENDING:
        return Answer("not_open", change), changes
    answered = {**change, "status": status, "answered_at": now, "answered_by": by}
    if note:
        answered["note"] = note[:MAX_NOTE]
    return Answer("applied", answered), [*changes[:index], answered, *changes[index + 1 :]]


def current(changes: list[dict[str, Any]]) -> dict[str, Any] | None:
    return changes[-1] if changes else None


def open_change(changes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The request waiting for the retailer's or carrier's answer (one at a time per shipment)."""
    last = current(changes)
    return last if last is not None and last["status"] == PENDING else None


def codes_sent(changes: list[dict[str, Any]]) -> int:
    return sum(1 for change in changes if change.get("code_sent"))


def public(change: dict[str, Any]) -> dict[str, Any]:
    """A request as the retailer, the carrier and the page see it: never the code's digest or its nonce."""
    return {k: v for k, v in change.items() if not k.startswith("code_") and k != "code_sent"}
