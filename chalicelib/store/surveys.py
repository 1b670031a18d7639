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


def record_score(
    shipment_id: str, retailer_id: str, score: int, via: str, now: datetime, comment: str | None = None
) -> dict[str, Any] | None:
    """The first answer wins; returns the answered survey, or None if one was recorded before (or none exists).

    Words written with the score ("1 - package was wet") are its comment, recorded in the same write.
    """
    ddb = client()
    extra, words = "", {}
    if comment:
        extra = ", #comment = :comment, comment_rev = :one, comment_at = :now"
        words = {":comment": comment, ":one": 1}
    try:
        result = ddb.update_item(
            TableName=table_name(),
            Key=_key(shipment_id),
            UpdateExpression=(
                "SET score = :score, answered_via = :via, answered_at = :now, #status = :answered, "
                "retailer_index = :index, retailer_sort = :sort" + extra
            ),
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(score)",
            ExpressionAttributeNames={"#status": "status", **({"#comment": "comment"} if comment else {})},
            ExpressionAttributeValues=to_item(
                {
                    ":score": score,
                    ":via": via,
                    ":now": iso(now),
                    ":answered": "answered",
                    ":index": listing(retailer_id),
                    ":sort": f"{iso(now)}#{shipment_id}",
                    **words,
                }
            ),
            ReturnValues="ALL_NEW",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return None
    return from_item(result["Attributes"])


def add_comment(
    survey: dict[str, Any],
    comment: str,
    now: datetime,
    *,
    reasons: list[str] | None = None,
    also: list[dict[str, Any]] | None = None,
) -> bool:
    """Set the joined comment (and, from the page's form, the reasons, once) if nobody changed it since `survey`
    was read: `comment_rev` counts the comment's versions. `also` holds writes that must happen with it (the
    low-score listing's copy, the retailer's follow-up event), in one transaction. False when the survey moved on.
    """
    shipment_id = survey["shipment_id"]
    revision = int(survey.get("comment_rev", 0))
    changed = comment != (survey.get("comment") or "")
    sets = ["follow_up_at = :now"] if reasons is not None else []
    values: dict[str, Any] = {":now": iso(now), ":rev": revision}
    if changed:
        sets += ["#comment = :comment", "comment_rev = :next", "comment_at = :now"]
        values.update({":comment": comment, ":next": revision + 1})
    if reasons is not None:
        sets.append("reasons = :reasons")
        values[":reasons"] = dumps(reasons)
    if not sets:
        return True
    condition = "attribute_exists(score) AND (comment_rev = :rev OR attribute_not_exists(comment_rev))"
    if reasons is not None:
        condition += " AND attribute_not_exists(follow_up_at)"
    update = {
        "TableName": table_name(),
        "Key": _key(shipment_id),
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": condition,
        "ExpressionAttributeValues": to_item(values),
        **({"ExpressionAttributeNames": {"#comment": "comment"}} if changed else {}),
    }
    ddb = client()
    try:
        if also:
            ddb.transact_write_items(TransactItems=[{"Update": update}, *also])
        else:
            ddb.update_item(**update)
    except (ddb.exceptions.ConditionalCheckFailedException, ddb.exceptions.TransactionCanceledException):
        return False
    return True


def _low_key(shipment_id: str) -> dict[str, Any]:
    return to_item({"pk": f"SHIP#{shipment_id}", "sk": "SURVEYLOW"})


def low_listing(retailer_id: str) -> str:
    """The `by_retailer` partition of a retailer's low scores: what the analytics page lists as needing attention."""
    return f"LOWSCORES#{retailer_id}"


def list_low(survey: dict[str, Any], now: datetime) -> None:
    """Enter an answered survey with a low score in the low-score listing (a copy: the page reads no joins).

    A comment that was joined in the meantime (its update may land first) is kept: `if_not_exists`.
    """
    fields = ("shipment_id", "order_id", "carrier", "driver", "tracking_token", "score", "answered_at", "answered_via")
    values = {
        **{f":{name}": survey[name] for name in fields if survey.get(name) not in (None, "")},
        ":retailer_index": low_listing(survey["retailer_id"]),
        ":retailer_sort": f"{survey['answered_at']}#{survey['shipment_id']}",
        f":{TTL_ATTRIBUTE}": expires_at(iso(now)),
    }
    names = {f"#{name[1:]}": name[1:] for name in values}
    sets = [f"#{name[1:]} = {name}" for name in values]
    if survey.get("comment"):
        names["#comment"], values[":comment"] = "comment", survey["comment"]
        sets.append("#comment = if_not_exists(#comment, :comment)")
    client().update_item(
        TableName=table_name(),
        Key=_low_key(survey["shipment_id"]),
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_item(values),
    )


def low_comment_update(shipment_id: str, comment: str) -> dict[str, Any]:
    """The transaction item that keeps the low-score listing's copy of the comment in step."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": _low_key(shipment_id),
            "UpdateExpression": "SET #comment = :comment",
            "ExpressionAttributeNames": {"#comment": "comment"},
            "ExpressionAttributeValues": to_item({":comment": comment}),
        }
    }


def latest_low(retailer_id: str, first: str, last: str, limit: int) -> list[dict[str, Any]]:
    """The latest low scores answered between two sort-key bounds, newest first: one bounded query."""
    page = client().query(
        TableName=table_name(),
        IndexName=GSI_RETAILER,
        KeyConditionExpression="retailer_index = :index AND retailer_sort BETWEEN :first AND :last",
        ExpressionAttributeValues=to_item({":index": low_listing(retailer_id), ":first": first, ":last": last}),
        ScanIndexForward=False,
        Limit=limit,
    )
    return [from_item(item) for item in page.get("Items", [])]


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
