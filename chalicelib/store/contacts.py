"""What shoppers told us about being contacted: SMS opt-outs, email suppressions, unsubscribe links.

`ALL_RETAILERS` stands for "every retailer" (STOPALL, or a hard bounce that no retailer should send to again).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, PutError
from pynamodb.transactions import TransactWrite

from ..domain.events import iso
from .models import (
    OptOut,
    Sighting,
    SmsSender,
    Suppression,
    SuppressionAudit,
    SuppressionLift,
    TableItem,
    UnsubscribeLink,
    ttl,
)
from .table import condition_failed, from_item, rows, table_connection

ALL_RETAILERS = "*"
#: A STOP sent to a relay (driver chat) number covers the relay's texts only.
RELAY = "relay"
EVENT_DEDUPE_DAYS = 7


def _created(item: TableItem) -> bool:
    """Save a new item; False (nothing written) if its key is taken."""
    try:
        item.save(TableItem.pk.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def _records(pk: str) -> list[dict[str, Any]]:
    """Every item of one partition, as plain values, in one strongly consistent query (paged past 1 MB)."""
    return [from_item(raw) for raw in rows(pk, consistent_read=True)]


def _listed(pk: str, retailer_id: str) -> bool:
    """One query answers both 'this retailer' and 'every retailer'."""
    wanted = {f"RETAILER#{retailer_id}", f"RETAILER#{ALL_RETAILERS}"}
    return any(record["sk"] in wanted for record in _records(pk))


def opt_out(phone: str, retailer_id: str, now: datetime, source: str) -> bool:
    """Record a STOP; False if this phone had already opted out of this retailer (confirm only once)."""
    return _created(OptOut(f"OPTOUT#{phone}", f"RETAILER#{retailer_id}", created_at=iso(now), source=source))


def opt_in(phone: str, retailer_id: str) -> bool:
    """START/UNSTOP/YES: True if there was an opt-out to remove."""
    try:
        OptOut(f"OPTOUT#{phone}", f"RETAILER#{retailer_id}").delete(OptOut.pk.exists())
    except DeleteError as error:
        if condition_failed(error):
            return False
        raise
    return True


def opt_in_all(phone: str, keep: frozenset[str] = frozenset()) -> set[str]:
    """START on a number: remove every opt-out of this phone except the scopes in `keep`; the scopes removed."""
    removed = {scope for scope in opt_out_scopes(phone) if scope not in keep}
    for scope in removed:
        opt_in(phone, scope)
    return removed


def opt_out_scopes(phone: str) -> set[str]:
    """Every scope this phone opted out of (retailer ids, ALL_RETAILERS, the relay's scope), in one query."""
    return {record["sk"].removeprefix("RETAILER#") for record in opt_out_records(phone)}


def opt_out_records(phone: str) -> list[dict[str, Any]]:
    """The opt-out records of a phone (scope, when, what recorded it), in one query."""
    return _records(f"OPTOUT#{phone}")


def is_opted_out(phone: str, retailer_id: str) -> bool:
    return _listed(f"OPTOUT#{phone}", retailer_id)


#: Where an email suppression came from, kept on the record and in its audit trail.
INVALID_ADDRESS = "invalid_address"


def precise(now: datetime) -> str:
    """Microseconds: two reports or lifts in the same second stay apart and in order."""
    return now.isoformat(timespec="microseconds")


def _audit(email: str, now: datetime, **entry: str) -> SuppressionAudit:
    """One line of an address's suppression history (kept with it, never expires: it is the legal record)."""
    sk = f"AUDIT#{precise(now)}#{secrets.token_hex(4)}"
    line = SuppressionAudit(f"SUPPRESS#{email.lower()}", sk, at=iso(now))
    for name, value in entry.items():
        setattr(line, name, value)
    return line


def suppress(email: str, retailer_id: str, now: datetime, reason: str, source: str = "") -> None:
    """Suppress an address for one retailer, or for every retailer (`ALL_RETAILERS`: the provider says the address
    is invalid). A later suppression of the same scope replaces the earlier one and is a new audit line."""
    pk, created = f"SUPPRESS#{email.lower()}", precise(now)
    with TransactWrite(connection=table_connection().connection) as write:
        write.save(Suppression(pk, f"RETAILER#{retailer_id}", created_at=created, reason=reason, source=source))
        write.save(_audit(email, now, action="suppressed", scope=retailer_id, reason=reason, source=source))


def suppression_records(email: str) -> list[dict[str, Any]]:
    """Everything kept about an address (suppressions, lifts, audit lines), in one query."""
    return _records(f"SUPPRESS#{email.lower()}")


def active_suppressions(records: list[dict[str, Any]], retailer_id: str) -> list[dict[str, Any]]:
    """The suppressions that hold for this retailer's sends: its own, and an every-retailer one unless this retailer
    lifted exactly that one (a later invalid-address report is a new suppression that holds again)."""
    by_sk = {record["sk"]: record for record in records}
    found = []
    own = by_sk.get(f"RETAILER#{retailer_id}")
    if own is not None:
        found.append(own)
    every = by_sk.get(f"RETAILER#{ALL_RETAILERS}")
    lift = by_sk.get(f"LIFT#{retailer_id}")
    if every is not None and not (lift is not None and lift.get("of_created_at") == every.get("created_at")):
        found.append(every)
    return found


def is_suppressed(email: str, retailer_id: str) -> bool:
    return bool(active_suppressions(suppression_records(email), retailer_id))


def lift_suppression(
    email: str, retailer_id: str, now: datetime, reason: str, key_id: str, key_prefix: str
) -> list[dict[str, Any]]:
    """Lift what suppresses this address for this retailer's sends; the suppressions lifted (empty: none held).

    The retailer's own suppression is deleted. An every-retailer one (the address was reported invalid) stays for
    other retailers: a `LIFT#retailer` record excuses this retailer's sends from that very report. Each lift is an
    audit line naming the API key, the time and the reason.
    """
    lifted = active_suppressions(suppression_records(email), retailer_id)
    for record in lifted:
        scope = record["sk"].removeprefix("RETAILER#")
        audit = _audit(
            email,
            now,
            action="lifted",
            scope=scope,
            for_retailer=retailer_id,
            reason=reason,
            lifted_reason=record.get("reason", ""),
            key_id=key_id,
            key_prefix=key_prefix,
        )
        pk = f"SUPPRESS#{email.lower()}"
        with TransactWrite(connection=table_connection().connection) as write:
            if scope == ALL_RETAILERS:
                of = record.get("created_at", "")
                write.save(SuppressionLift(pk, f"LIFT#{retailer_id}", of_created_at=of, at=iso(now)))
            else:
                write.delete(Suppression(pk, f"RETAILER#{retailer_id}"))
            write.save(audit)
    return lifted


def remember_sms_sender(phone: str, retailer_id: str, shipment_id: str, now: datetime, kind: str | None = None) -> None:
    """Our milestone number is shared by retailers: a STOP applies to whoever texted this phone last."""
    SmsSender(
        f"SMSLAST#{phone}", "LAST", retailer_id=retailer_id, shipment_id=shipment_id, at=iso(now), kind=kind
    ).save()


def last_sms_sender(phone: str) -> dict[str, Any] | None:
    raw = table_connection().get_item(f"SMSLAST#{phone}", range_key="LAST", consistent_read=True).get("Item")
    return from_item(raw) if raw else None


def save_unsubscribe_token(
    token: str, retailer_id: str, email: str, now: datetime, shipment_id: str | None = None, kind: str | None = None
) -> None:
    link = UnsubscribeLink(
        f"UNSUB#{token}",
        "EMAIL",
        retailer_id=retailer_id,
        email=email,
        created_at=iso(now),
        shipment_id=shipment_id,
        kind=kind,
    )
    link.expires_at = ttl(iso(now))
    link.save()


def unsubscribe_target(token: str) -> dict[str, Any] | None:
    raw = table_connection().get_item(f"UNSUB#{token}", range_key="EMAIL").get("Item")
    return from_item(raw) if raw else None


def first_sighting(namespace: str, event_id: str, now: datetime) -> bool:
    """True the first time a provider event id is seen (dedupe for at-least-once callbacks; expires by TTL)."""
    return _created(
        Sighting(f"SEEN#{namespace}#{event_id}", "SEEN", expires_at=now + timedelta(days=EVENT_DEDUPE_DAYS))
    )
