"""What shoppers told us about being contacted: SMS opt-outs, email suppressions, unsubscribe links.

`ALL_RETAILERS` stands for "every retailer" (STOPALL, or a hard bounce that no retailer should send to again).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from ..domain.events import iso
from .table import client, expires_at, from_item, put_new, table_name, to_item

ALL_RETAILERS = "*"
#: A STOP sent to a relay (driver chat) number covers the relay's texts only.
RELAY = "relay"
EVENT_DEDUPE_DAYS = 7


def _optout_key(phone: str, retailer_id: str) -> dict[str, Any]:
    return to_item({"pk": f"OPTOUT#{phone}", "sk": f"RETAILER#{retailer_id}"})


def _suppress_key(email: str, retailer_id: str) -> dict[str, Any]:
    return to_item({"pk": f"SUPPRESS#{email.lower()}", "sk": f"RETAILER#{retailer_id}"})


def _listed(pk: str, retailer_id: str) -> bool:
    """One query answers both 'this retailer' and 'every retailer'."""
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": pk}),
        ConsistentRead=True,
    )
    wanted = {f"RETAILER#{retailer_id}", f"RETAILER#{ALL_RETAILERS}"}
    return any(from_item(item)["sk"] in wanted for item in page.get("Items", []))


def opt_out(phone: str, retailer_id: str, now: datetime, source: str) -> bool:
    """Record a STOP; False if this phone had already opted out of this retailer (confirm only once)."""
    return put_new({**_optout_key(phone, retailer_id), **to_item({"created_at": iso(now), "source": source})})


def opt_in(phone: str, retailer_id: str) -> bool:
    """START/UNSTOP/YES: True if there was an opt-out to remove."""
    result = client().delete_item(TableName=table_name(), Key=_optout_key(phone, retailer_id), ReturnValues="ALL_OLD")
    return "Attributes" in result


def opt_in_all(phone: str, keep: frozenset[str] = frozenset()) -> set[str]:
    """START on a number: remove every opt-out of this phone except the scopes in `keep`; the scopes removed."""
    removed = {scope for scope in opt_out_scopes(phone) if scope not in keep}
    for scope in removed:
        opt_in(phone, scope)
    return removed


def opt_out_scopes(phone: str) -> set[str]:
    """Every scope this phone opted out of (retailer ids, ALL_RETAILERS, the relay's scope), in one query."""
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": f"OPTOUT#{phone}"}),
        ConsistentRead=True,
    )
    return {from_item(item)["sk"].removeprefix("RETAILER#") for item in page.get("Items", [])}


def opt_out_records(phone: str) -> list[dict[str, Any]]:
    """The opt-out records of a phone (scope, when, what recorded it), in one query."""
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": f"OPTOUT#{phone}"}),
        ConsistentRead=True,
    )
    return [from_item(item) for item in page.get("Items", [])]


def is_opted_out(phone: str, retailer_id: str) -> bool:
    return _listed(f"OPTOUT#{phone}", retailer_id)


#: Where an email suppression came from, kept on the record and in its audit trail.
INVALID_ADDRESS = "invalid_address"


def precise(now: datetime) -> str:
    """Microseconds: two reports or lifts in the same second stay apart and in order."""
    return now.isoformat(timespec="microseconds")


def _audit(email: str, entry: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One line of an address's suppression history (kept with it, never expires: it is the legal record)."""
    return to_item(
        {
            "pk": f"SUPPRESS#{email.lower()}",
            "sk": f"AUDIT#{precise(now)}#{secrets.token_hex(4)}",
            "at": iso(now),
            **entry,
        }
    )


def suppress(email: str, retailer_id: str, now: datetime, reason: str, source: str = "") -> None:
    """Suppress an address for one retailer, or for every retailer (`ALL_RETAILERS`: the provider says the address
    is invalid). A later suppression of the same scope replaces the earlier one and is a new audit line."""
    client().transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": {
                        **_suppress_key(email, retailer_id),
                        **to_item({"created_at": precise(now), "reason": reason, "source": source}),
                    },
                }
            },
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": _audit(
                        email,
                        {"action": "suppressed", "scope": retailer_id, "reason": reason, "source": source},
                        now,
                    ),
                }
            },
        ]
    )


def suppression_records(email: str) -> list[dict[str, Any]]:
    """Everything kept about an address (suppressions, lifts, audit lines), in one query."""
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = client().query(
            TableName=table_name(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"SUPPRESS#{email.lower()}"}),
            ConsistentRead=True,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        items.extend(from_item(item) for item in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


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
            {
                "action": "lifted",
                "scope": scope,
                "for_retailer": retailer_id,
                "reason": reason,
                "lifted_reason": record.get("reason", ""),
                "key_id": key_id,
                "key_prefix": key_prefix,
            },
            now,
        )
        if scope == ALL_RETAILERS:
            change: dict[str, Any] = {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(
                        {
                            "pk": f"SUPPRESS#{email.lower()}",
                            "sk": f"LIFT#{retailer_id}",
                            "of_created_at": record.get("created_at", ""),
                            "at": iso(now),
                        }
                    ),
                }
            }
        else:
            change = {"Delete": {"TableName": table_name(), "Key": _suppress_key(email, retailer_id)}}
        client().transact_write_items(TransactItems=[change, {"Put": {"TableName": table_name(), "Item": audit}}])
    return lifted


def remember_sms_sender(phone: str, retailer_id: str, shipment_id: str, now: datetime) -> None:
    """Our milestone number is shared by retailers: a STOP applies to whoever texted this phone last."""
    client().put_item(
        TableName=table_name(),
        Item=to_item(
            {
                "pk": f"SMSLAST#{phone}",
                "sk": "LAST",
                "retailer_id": retailer_id,
                "shipment_id": shipment_id,
                "at": iso(now),
            }
        ),
    )


def last_sms_sender(phone: str) -> dict[str, Any] | None:
    item = (
        client()
        .get_item(TableName=table_name(), Key=to_item({"pk": f"SMSLAST#{phone}", "sk": "LAST"}), ConsistentRead=True)
        .get("Item")
    )
    return from_item(item) if item else None


def save_unsubscribe_token(token: str, retailer_id: str, email: str, now: datetime) -> None:
    client().put_item(
        TableName=table_name(),
        Item=to_item(
            {
                "pk": f"UNSUB#{token}",
                "sk": "EMAIL",
                "retailer_id": retailer_id,
                "email": email,
                "created_at": iso(now),
                "expires_at": expires_at(iso(now)),
            }
        ),
    )


def unsubscribe_target(token: str) -> dict[str, Any] | None:
    item = client().get_item(TableName=table_name(), Key=to_item({"pk": f"UNSUB#{token}", "sk": "EMAIL"})).get("Item")
    return from_item(item) if item else None


def first_sighting(namespace: str, event_id: str, now: datetime) -> bool:
    """True the first time a provider event id is seen (dedupe for at-least-once callbacks; expires by TTL)."""
    expires = int((now + timedelta(days=EVENT_DEDUPE_DAYS)).timestamp())
    return put_new(to_item({"pk": f"SEEN#{namespace}#{event_id}", "sk": "SEEN", "expires_at": expires}))
