"""Survey items (`SHIP#id / SURVEY`) and the per-phone pointer that routes SMS replies to an open survey."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.events import iso
from .models import LowScore, Survey, SurveyWait, TableItem, ttl
from .notifications import OutboxKey, outbox_model
from .table import condition_failed, dumps, from_item, table_connection

AWAIT_DAYS = 7


def _survey(shipment_id: str, /, **fields: Any) -> Survey:
    return Survey(f"SHIP#{shipment_id}", "SURVEY", **fields)


def _low(shipment_id: str) -> LowScore:
    return LowScore(f"SHIP#{shipment_id}", "SURVEYLOW")


def _plain(item: Model) -> dict[str, Any]:
    """An item as plain values (numbers as Decimal), the shape the survey use case reads."""
    return from_item(item.serialize())


def get(shipment_id: str) -> dict[str, Any] | None:
    try:
        return _plain(Survey.get(f"SHIP#{shipment_id}", "SURVEY", consistent_read=True))
    except DoesNotExist:
        return None


def open_survey(shipment_id: str, facts: dict[str, Any], now: datetime) -> bool:
    """Create the survey once per shipment (its facts are copied so listings need no joins)."""
    survey = _survey(shipment_id, **facts, created_at=iso(now), status="open", expires_at=ttl(iso(now)))
    try:
        survey.save(TableItem.pk.does_not_exist())
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def record_score(
    shipment_id: str, retailer_id: str, score: int, via: str, now: datetime, comment: str | None = None
) -> dict[str, Any] | None:
    """The first answer wins; returns the answered survey, or None if one was recorded before (or none exists).

    Words written with the score ("1 - package was wet") are its comment, recorded in the same write.
    """
    actions: list[Action] = [
        Survey.score.set(score),
        Survey.answered_via.set(via),
        Survey.answered_at.set(iso(now)),
        Survey.status.set("answered"),
        Survey.retailer_index.set(listing(retailer_id)),
        Survey.retailer_sort.set(f"{iso(now)}#{shipment_id}"),
    ]
    if comment:
        actions += [Survey.comment.set(comment), Survey.comment_rev.set(1), Survey.comment_at.set(iso(now))]
    survey = _survey(shipment_id)
    try:
        survey.update(actions=actions, condition=Survey.pk.exists() & Survey.score.does_not_exist())
    except UpdateError as error:
        if condition_failed(error):
            return None
        raise
    return _plain(survey)


def add_comment(
    survey: dict[str, Any],
    comment: str,
    now: datetime,
    *,
    reasons: list[str] | None = None,
    low_copy: bool = False,
    comment_event: OutboxKey | None = None,
) -> bool:
    """Set the joined comment (and, from the page's form, the reasons, once) if nobody changed it since `survey`
    was read: `comment_rev` counts the comment's versions. What must happen with it goes in the same transaction:
    the low-score listing's copy of the comment (`low_copy`) and the retailer's follow-up event (`comment_event`,
    a new outbox item). False when the survey moved on.
    """
    shipment_id = survey["shipment_id"]
    revision = int(survey.get("comment_rev", 0))
    changed = comment != (survey.get("comment") or "")
    actions: list[Action] = [Survey.follow_up_at.set(iso(now))] if reasons is not None else []
    if changed:
        actions += [Survey.comment.set(comment), Survey.comment_rev.set(revision + 1), Survey.comment_at.set(iso(now))]
    if reasons is not None:
        actions.append(Survey.reasons.set(dumps(reasons)))
    if not actions:
        return True
    condition = Survey.score.exists() & ((Survey.comment_rev == revision) | Survey.comment_rev.does_not_exist())
    if reasons is not None:
        condition &= Survey.follow_up_at.does_not_exist()
    if not low_copy and comment_event is None:
        try:
            _survey(shipment_id).update(actions=actions, condition=condition)
        except UpdateError as error:
            if condition_failed(error):
                return False
            raise
        return True
    try:
        with TransactWrite(connection=table_connection().connection) as write:
            write.update(_survey(shipment_id), actions, condition)
            if low_copy:
                write.update(_low(shipment_id), [LowScore.comment.set(comment)])
            if comment_event is not None:
                event = outbox_model(survey["retailer_id"], comment_event, iso(now))
                write.save(event, TableItem.pk.does_not_exist())
    except TransactWriteError as error:
        if getattr(error, "cause_response_code", None) == "TransactionCanceledException":
            return False
        raise
    return True


def low_listing(retailer_id: str) -> str:
    """The `by_retailer` partition of a retailer's low scores: what the analytics page lists as needing attention."""
    return f"LOWSCORES#{retailer_id}"


def list_low(survey: dict[str, Any], now: datetime) -> None:
    """Enter an answered survey with a low score in the low-score listing (a copy: the page reads no joins).

    A comment that was joined in the meantime (its update may land first) is kept: `if_not_exists`.
    """
    copied = ("shipment_id", "order_id", "carrier", "driver", "tracking_token", "answered_at", "answered_via")
    actions = [getattr(LowScore, name).set(survey[name]) for name in copied if survey.get(name) not in (None, "")]
    if survey.get("score") is not None:
        actions.append(LowScore.score.set(int(survey["score"])))
    actions += [
        LowScore.retailer_index.set(low_listing(survey["retailer_id"])),
        LowScore.retailer_sort.set(f"{survey['answered_at']}#{survey['shipment_id']}"),
        LowScore.expires_at.set(ttl(iso(now))),
    ]
    if survey.get("comment"):
        actions.append(LowScore.comment.set(LowScore.comment | survey["comment"]))
    _low(survey["shipment_id"]).update(actions=actions)


def latest_low(retailer_id: str, first: str, last: str, limit: int) -> list[dict[str, Any]]:
    """The latest low scores answered between two sort-key bounds, newest first: one bounded query."""
    found = LowScore.by_retailer.query(
        low_listing(retailer_id), LowScore.retailer_sort.between(first, last), scan_index_forward=False, limit=limit
    )
    return [_plain(item) for item in found]


def mark(shipment_id: str, **fields: Any) -> None:
    """Set survey fields (how it was sent, escalated, clarified; tests move `answered_at`), creating none."""
    _survey(shipment_id).update(actions=[getattr(Survey, name).set(value) for name, value in fields.items()])


def await_reply(phone: str, shipment_id: str, now: datetime) -> None:
    SurveyWait(
        f"SURVEYWAIT#{phone}",
        iso(now) + "#" + shipment_id,
        shipment_id=shipment_id,
        until=iso(now + timedelta(days=AWAIT_DAYS)),
        expires_at=now + timedelta(days=AWAIT_DAYS + 1),
    ).save()


def awaiting(phone: str, now: datetime) -> list[str]:
    """Shipments whose survey this phone was asked about and may still answer, newest first."""
    waits = SurveyWait.query(
        f"SURVEYWAIT#{phone}",
        filter_condition=SurveyWait.until > iso(now),
        scan_index_forward=False,
        consistent_read=True,
    )
    return [wait.shipment_id for wait in waits]


def listing(retailer_id: str) -> str:
    """The `by_retailer` partition of a retailer's answered surveys."""
    return f"SURVEYS#{retailer_id}"


def list_answered(
    retailer_id: str, first: str, last: str, cursor: dict[str, Any] | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of answered surveys, newest first, and the key the next page starts after (None: no more)."""
    found = Survey.by_retailer.query(
        listing(retailer_id),
        Survey.retailer_sort.between(first, last),
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=cursor,
    )
    return [_plain(item) for item in found], found.last_evaluated_key


def position_of(item: dict[str, Any]) -> dict[str, Any]:
    """A listed survey as the ExclusiveStartKey that resumes the listing right after it."""
    return {name: {"S": item[name]} for name in ("pk", "sk", "retailer_index", "retailer_sort")}
