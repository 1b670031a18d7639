"""Survey items (`SHIP#id / SURVEY`) and the per-phone pointer that routes SMS replies to an open survey."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..domain.events import iso
from .table import GSI_RETAILER, TTL_ATTRIBUTE, client, dumps, expires_at, from_item, put_new, table_name, to_item

AWAIT_DAYS = 7


def _key(shipment_id: str) -> dict[str, Any]:
    return to_item({"pk": f"SHIP#{shipment_id}", "sk": "SURVEY"})


def get(shipment_id: str) -> dict[str, Any] | None:
    item = client().get_item(TableName=table_name(), Key=_key(shipment_id), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def open_survey(shipment_id: str, facts: dict[str, Any], now: datetime) -> bool:
    """Create the survey once per shipment (its facts are copied so listings need no joins)."""
    return put_new(
        {
            **_key(shipment_id),
            **to_item({**facts, "created_at": iso(now), "status": "open", TTL_ATTRIBUTE: expires_at(iso(now))}),
        }
    )


def record_score(shipment_id: str, retailer_id: str, score: int, via: str, now: datetime) -> dict[str, Any] | None:
    """The first answer wins; returns the answered survey, or None if one was recorded before (or none exists)."""
    ddb = client()
    try:
        result = ddb.update_item(
            TableName=table_name(),
            Key=_key(shipment_id),
            UpdateExpression=(
                "SET score = :score, answered_via = :via, answered_at = :now, #status = :answered, "
                "retailer_index = :index, retailer_sort = :sort"
            ),
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(score)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(
                {
                    ":score": score,
                    ":via": via,
                    ":now": iso(now),
                    ":answered": "answered",
                    ":index": listing(retailer_id),
                    ":sort": f"{iso(now)}#{shipment_id}",
                }
            ),
            ReturnValues="ALL_NEW",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return None
    return from_item(result["Attributes"])


def record_follow_up(shipment_id: str, comment: str | None, reasons: list[str], now: datetime) -> bool:
    """The optional follow-up, once, after a score."""
    ddb = client()
    try:
        ddb.update_item(
            TableName=table_name(),
            Key=_key(shipment_id),
            UpdateExpression="SET #comment = :comment, reasons = :reasons, follow_up_at = :now",
            ConditionExpression="attribute_exists(score) AND attribute_not_exists(follow_up_at)",
            ExpressionAttributeNames={"#comment": "comment"},
            ExpressionAttributeValues=to_item(
                {":comment": comment or "", ":reasons": dumps(reasons), ":now": iso(now)}
            ),
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def mark(shipment_id: str, **fields: Any) -> None:
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":f{i}": value for i, value in enumerate(fields.values())}
    client().update_item(
        TableName=table_name(),
        Key=_key(shipment_id),
        UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_item(values),
    )


def await_reply(phone: str, shipment_id: str, now: datetime) -> None:
    client().put_item(
        TableName=table_name(),
        Item=to_item(
            {
                "pk": f"SURVEYWAIT#{phone}",
                "sk": iso(now) + "#" + shipment_id,
                "shipment_id": shipment_id,
                "until": iso(now + timedelta(days=AWAIT_DAYS)),
                "expires_at": int((now + timedelta(days=AWAIT_DAYS + 1)).timestamp()),
            }
        ),
    )


def awaiting(phone: str, now: datetime) -> list[str]:
    """Shipments whose survey this phone was asked about and may still answer, newest first."""
    page = client().query(
        TableName=table_name(),
        KeyConditionExpression="pk = :pk",
        FilterExpression="#until > :now",
        ExpressionAttributeNames={"#until": "until"},
        ExpressionAttributeValues=to_item({":pk": f"SURVEYWAIT#{phone}", ":now": iso(now)}),
        ScanIndexForward=False,
        ConsistentRead=True,
    )
    return [from_item(item)["shipment_id"] for item in page.get("Items", [])]


def listing(retailer_id: str) -> str:
    """The `by_retailer` partition of a retailer's answered surveys."""
    return f"SURVEYS#{retailer_id}"


def list_answered(
    retailer_id: str, first: str, last: str, cursor: dict[str, Any] | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    kwargs: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": GSI_RETAILER,
        "KeyConditionExpression": "retailer_index = :index AND retailer_sort BETWEEN :first AND :last",
        "ExpressionAttributeValues": to_item({":index": listing(retailer_id), ":first": first, ":last": last}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        kwargs["ExclusiveStartKey"] = cursor
    page = client().query(**kwargs)
    return [from_item(item) for item in page.get("Items", [])], page.get("LastEvaluatedKey")


def position_of(item: dict[str, Any]) -> dict[str, Any]:
    """A listed survey as the ExclusiveStartKey that resumes the listing right after it."""
    return to_item({name: item[name] for name in ("pk", "sk", "retailer_index", "retailer_sort")})
