"""Post-delivery surveys: asking (SMS, email or the page), reading answers, escalating low scores, listing results."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from ..channels import RetryableSendError, SendResult
from ..channels.outbound import send_email, send_text
from ..config import settings
from ..domain import milestones as ms
from ..domain import survey as rules
from ..domain.events import iso
from ..domain.notifications import EMAIL, SMS
from ..errors import Conflict, NotFound, ValidationError
from ..observability import metric
from ..shared import stats
from ..shared.links import unsubscribe_url
from ..shared.messages import message_context
from ..shared.outbound_webhooks import post_signed, signing_secrets
from ..shared.paging import decode_cursor, encode_cursor
from ..shared.retailer_profile import brand, survey_settings
from ..shared.sending import shopper_email
from ..shared.tracking_view import resolve
from ..store import notifications as outbox
from ..store import retailers as retailer_store
from ..store import shipments as shipment_store
from ..store import surveys as survey_store
from ..store.notifications import OutboxItem, OutboxKey
from ..store.retailers import Retailer
from ..store.shipments import ShipmentRecord
from ..web.replies import reply_text

logger = logging.getLogger("porchlight.surveys")
WEBHOOK_CHANNEL = "webhook"


def driver_name(record: ShipmentRecord) -> str:
    return ((record.progress.driver or {}).get("name") or "").split(" ")[0]


def due_after_arrival_text(record: ShipmentRecord, retailer: Retailer, channel: str, now: datetime) -> datetime | None:
    """When the survey may go, if not yet: when the arrival text on its channel was held (quiet hours, a retry), the
    survey's delay counts from that text's actual send, so the two never go out together."""
    told = outbox.get(OutboxKey(record.id, ms.DELIVERED, channel))
    if told is None:
        return None
    if told.sent_at and told.attempts > 1:  # sent on a later attempt than the first: it was held
        base = datetime.fromisoformat(told.sent_at)
    elif told.status in (outbox.PENDING, outbox.DEFERRED, outbox.RETRY, outbox.SENDING):
        base = max(now, datetime.fromisoformat(told.due_at)) if told.due_at else now
    else:
        return None  # sent at once (the plan's delay stands), skipped or failed
    due = base + timedelta(minutes=int(survey_settings(retailer)["delay_minutes"]))
    return due if due > now else None


def survey_facts(record: ShipmentRecord) -> dict[str, Any]:
    return {
        "retailer_id": record.retailer_id,
        "shipment_id": record.id,
        "order_id": record.order_id,
        "carrier": record.carrier,
        "driver": driver_name(record),
        "delivered_at": record.progress.status_at,
        "promised_date": record.promised_date,
        "tracking_token": record.tracking_token,  # the shopper's page reads the survey in its one query
    }


def ensure_survey(record: ShipmentRecord, now: datetime) -> dict[str, Any]:
    survey_store.open_survey(record.id, survey_facts(record), now)
    found = survey_store.get(record.id)
    assert found is not None
    return found


def rating_url(record: ShipmentRecord, score: int) -> str:
    return f"{settings().public_base_url}/t/{record.tracking_token}/rate/{score}"


def send_survey(
    item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime
) -> tuple[SendResult, dict[str, Any]]:
    """Called by delivery for the `survey` outbox item once policy allowed it."""
    # jinja2 (via web.templating): only sending a survey renders
    from ..web.templating import render_email, render_sms, resolve_locale

    ensure_survey(record, now)
    customer = record.customer or {}
    locale = resolve_locale(customer.get("locale"), brand(retailer).get("default_locale"))
    if item.channel == SMS:
        body = render_sms(rules.SURVEY, locale, message_context(record, retailer, locale)).body
        result = send_text(customer["phone"], body, now)
        survey_store.await_reply(customer["phone"], record.id, now)
        survey_store.mark(record.id, sent_via=SMS, sent_at=iso(now))
        count_sent(record, now)
        return result, {"body": body, "locale": locale}
    unsubscribe = unsubscribe_url(item, retailer, customer["email"], now, locale)
    context = message_context(record, retailer, locale, unsubscribe)
    context["eta"] = ""  # the parcel has arrived: an estimate would only confuse
    context["rating_links"] = [{"score": n, "url": rating_url(record, n)} for n in range(1, 6)]
    email = render_email(rules.SURVEY, locale, context)
    mail = shopper_email(record, retailer, rules.SURVEY, customer["email"], email, context["retailer"], unsubscribe)
    result = send_email(mail, now)
    survey_store.mark(record.id, sent_via=EMAIL, sent_at=iso(now))
    count_sent(record, now)
    return result, {"subject": email.subject, "locale": locale}


def count_sent(record: ShipmentRecord, now: datetime) -> None:
    """A survey went out: counted overall, for its carrier and for its driver (the response rate's denominator)."""
    deltas: dict[str, float] = {"surveys_sent": 1, f"carrier:{record.carrier}:surveys_sent": 1}
    labels: dict[str, str] = {}
    driver = driver_name(record)
    if driver:
        key = stats.driver_key(driver)
        deltas[f"driver:{key}:surveys_sent"] = 1
        labels[f"name:{key}"] = driver
    stats.count(record.retailer_id, now, deltas, labels)


def answer(record: ShipmentRecord, score: int, via: str, now: datetime, comment: str | None = None) -> bool:
    """Record a rating (with the words written with it) if none was recorded yet; counts it, and escalates a low
    score at once. Low scores also enter the listing the analytics page shows as needing attention."""
    if not 1 <= score <= 5:
        raise ValidationError("the rating must be 1 to 5", field="score", code="invalid_score")
    if record.progress.status != ms.DELIVERED:
        raise Conflict("this delivery can be rated once it has arrived", field="score", code="not_delivered")
    ensure_survey(record, now)
    survey = survey_store.record_score(record.id, record.retailer_id, score, via, now, comment)
    if survey is None:
        return False

    retailer = retailer_store.get(record.retailer_id)
    threshold = int(survey_settings(retailer)["low_score_threshold"]) if retailer else rules.DEFAULT_LOW_SCORE
    low = rules.is_low(score, threshold)  # the retailer's own threshold, for the metric and the escalation alike
    metric("SurveysAnswered", via=via, low="yes" if low else "no")
    carrier, driver = survey.get("carrier", record.carrier), survey.get("driver") or ""
    promoter = 1 if score >= 4 else 0
    deltas: dict[str, float] = {
        "answered": 1,
        "score_sum": score,
        "promoters": promoter,
        f"carrier:{carrier}:answered": 1,
        f"carrier:{carrier}:score_sum": score,
        f"carrier:{carrier}:promoters": promoter,
    }
    labels: dict[str, str] = {}
    if driver:
        key = stats.driver_key(driver)
        deltas.update(
            {f"driver:{key}:answered": 1, f"driver:{key}:score_sum": score, f"driver:{key}:promoters": promoter}
        )
        labels[f"name:{key}"] = driver
    stats.count(record.retailer_id, now, deltas, labels)
    if retailer is not None and low:
        survey_store.list_low(survey, now)
        survey_store.mark(record.id, escalation="pending")
        if survey_settings(retailer).get("webhook_url"):
            outbox.add(record.retailer_id, OutboxKey(record.id, rules.ESCALATION, WEBHOOK_CHANNEL), now)
        else:
            survey_store.mark(record.id, escalation="no_webhook_configured")
    return True


def follow_up(record: ShipmentRecord, comment: str | None, reasons: list[str], now: datetime) -> bool:
    """The page's follow-up form (once): reasons, and a comment that joins any the shopper already texted."""
    if comment is not None and len(comment) > rules.MAX_COMMENT_CHARS:
        raise ValidationError(
            f"comments are limited to {rules.MAX_COMMENT_CHARS} characters", field="comment", code="comment_too_long"
        )
    unknown = [reason for reason in reasons if reason not in rules.REASONS]
    if unknown:
        raise ValidationError(
            f"unknown reason {unknown[0]!r}; use {', '.join(rules.REASONS)}", field="reasons", code="invalid_choice"
        )
    return join_comment(record, (comment or "").strip(), now, reasons=reasons)


def join_comment(record: ShipmentRecord, addition: str, now: datetime, *, reasons: list[str] | None = None) -> bool:
    """Append `addition` to the survey's comment (never replacing it). For a low score, the same transaction keeps
    the needs-attention copy in step and, once the retailer was (or is being) told, queues `survey.comment_added`.

    Optimistic: a concurrent note makes the write fail on `comment_rev`, and it is read and joined again.
    """
    retailer = retailer_store.get(record.retailer_id)
    threshold = int(survey_settings(retailer)["low_score_threshold"]) if retailer else rules.DEFAULT_LOW_SCORE
    for _ in range(3):
        survey = survey_store.get(record.id)
        if survey is None or "score" not in survey or (reasons is not None and "follow_up_at" in survey):
            return False
        joined = rules.join_comment(survey.get("comment"), addition)
        low_copy, event = False, None
        if joined != (survey.get("comment") or "") and rules.is_low(int(survey["score"]), threshold):
            low_copy = True
            if survey.get("escalation") in ("pending", "delivered"):
                event = OutboxKey(record.id, rules.comment_kind(int(survey.get("comment_rev", 0)) + 1), WEBHOOK_CHANNEL)
        if survey_store.add_comment(survey, joined, now, reasons=reasons, low_copy=low_copy, comment_event=event):
            return True
    return False


def handle_sms_reply(phone: str, body: str, now: datetime) -> tuple[bool, str | None]:
    """(handled, reply). Not handled when this phone has no survey waiting, so relay/other routing continues.

    A text leading with a score records it, and the words after it are the comment ("1 - package was wet"). A text
    within FOLLOW_UP_WINDOW of the score joins the comment; a bare score after one was recorded is not a note.
    """
    for shipment_id in survey_store.awaiting(phone, now):
        survey = survey_store.get(shipment_id)
        record = shipment_store.get(shipment_id)
        if survey is None or record is None:
            continue
        reply = rules.parse_reply(body)
        locale = (record.customer or {}).get("locale")
        if "score" not in survey:
            if reply is None:
                if survey.get("clarified"):
                    return False, None  # one clarifying reply, never a loop
                survey_store.mark(shipment_id, clarified=True)
                return True, reply_text("survey_unclear", locale)
            if not answer(record, reply.score, SMS, now, reply.comment):
                return True, reply_text("survey_already_rated", locale)  # answered on the page or by email just now
            if reply.comment:
                return True, reply_text("survey_thanks_with_note", locale)
            return True, reply_text("survey_ask_note", locale)
        if reply is not None and reply.comment is None:
            return True, reply_text("survey_already_rated", locale)
        if rules.within_follow_up_window(survey["answered_at"], now):
            join_comment(record, body.strip()[: rules.MAX_COMMENT_CHARS], now)
            return True, reply_text("survey_note_thanks", locale)
    return False, None


def _survey_event(record: ShipmentRecord, retailer: Retailer, survey: dict[str, Any], event: str) -> dict[str, Any]:
    return {
        "type": event,
        "retailer_id": retailer.id,
        "shipment_id": record.id,
        "order_id": record.order_id,
        "tracking_number": record.tracking_number,
        "carrier": record.carrier,
        "driver": survey.get("driver"),
        "score": int(survey["score"]) if "score" in survey else None,
        "comment": survey.get("comment") or None,
        "comment_revision": int(survey.get("comment_rev", 0)),
        "answered_at": survey.get("answered_at"),
        "answered_via": survey.get("answered_via"),
    }


def deliver_escalation(record: ShipmentRecord, retailer: Retailer, now: datetime) -> tuple[str, dict[str, Any]]:
    """POST `survey.low_score` to the retailer, signed like our native webhooks; retried with backoff on failure.

    It carries the comment as it is when it goes out, and records which version that was: a later note follows
    as `survey.comment_added`.
    """
    url = survey_settings(retailer).get("webhook_url")
    secrets = signing_secrets(retailer, now)
    survey = survey_store.get(record.id) or {}
    if not url or not secrets:
        return outbox.SKIPPED, {"reason": "no_webhook_configured"}
    payload = _survey_event(record, retailer, survey, "survey.low_score")
    status = post_signed(url, secrets, payload, f"{record.id}:survey")
    survey_store.mark(
        record.id, escalation="delivered", escalated_at=iso(now), escalated_comment_rev=payload["comment_revision"]
    )
    return outbox.SENT, {"provider": "webhook", "reason": f"HTTP {status}"}


def deliver_comment_added(
    item: OutboxItem, record: ShipmentRecord, retailer: Retailer, now: datetime
) -> tuple[str, dict[str, Any]]:
    """POST `survey.comment_added` for a note that joined a low score's comment after it was escalated.

    Waits (retrying) until `survey.low_score` went out, so the retailer hears of the score first; skipped when that
    call already carried this version of the comment, or a later version's event will carry it.
    """
    revision = rules.comment_revision(item.kind) or 0
    url = survey_settings(retailer).get("webhook_url")
    secrets = signing_secrets(retailer, now)
    survey = survey_store.get(record.id) or {}
    if not url or not secrets:
        return outbox.SKIPPED, {"reason": "no_webhook_configured"}
    if int(survey.get("escalated_comment_rev", -1)) >= revision:
        return outbox.SKIPPED, {"reason": "sent_with_low_score"}
    if int(survey.get("comment_rev", 0)) > revision:
        return outbox.SKIPPED, {"reason": "superseded"}
    if survey.get("escalation") != "delivered":
        raise RetryableSendError("waiting for survey.low_score to be delivered first")
    payload = {
        **_survey_event(record, retailer, survey, "survey.comment_added"),
        "commented_at": survey.get("comment_at"),
    }
    status = post_signed(url, secrets, payload, f"{record.id}:survey:comment:{revision}")
    return outbox.SENT, {"provider": "webhook", "reason": f"HTTP {status}"}


def survey_json(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "shipment_id": item.get("shipment_id"),
        "order_id": item.get("order_id"),
        "carrier": item.get("carrier"),
        "driver": item.get("driver") or None,
        "score": int(item["score"]) if "score" in item else None,
        "answered_at": item.get("answered_at"),
        "answered_via": item.get("answered_via"),
        "comment": item.get("comment") or None,
        "reasons": json.loads(item["reasons"]) if item.get("reasons") else [],
        "low_score": item.get("escalation") is not None,
        "escalation": item.get("escalation"),
        "delivered_at": item.get("delivered_at"),
    }


def list_surveys(retailer_id: str, filters: dict[str, Any], cursor: str | None, limit: int) -> dict[str, Any]:
    """Answered surveys, newest first, filtered by date range, carrier, driver and score, with an opaque cursor."""
    first = (filters.get("from") or "0000") + "T"
    last = (filters.get("to") or "9999") + "T99"
    start = decode_cursor(cursor, survey_store.listing(retailer_id))
    results: list[dict[str, Any]] = []
    while len(results) < limit:
        items, page_end = survey_store.list_answered(retailer_id, first, last, start, limit)
        start = page_end
        for index, item in enumerate(items):
            answered = survey_json(item)
            if _matches(answered, filters):
                results.append(answered)
            if len(results) == limit:
                # The page may hold more matches: the next one starts right after the last survey returned.
                start = survey_store.position_of(item) if index < len(items) - 1 or page_end else None
                break
        if not start:
            break
    return {"surveys": results, "next_cursor": encode_cursor(start)}


def _matches(answered: dict[str, Any], filters: dict[str, Any]) -> bool:
    if filters.get("carrier") and answered["carrier"] != filters["carrier"]:
        return False
    if filters.get("driver") and (answered["driver"] or "").lower() != filters["driver"].lower():
        return False
    if filters.get("score_min") and answered["score"] < filters["score_min"]:
        return False
    return not (filters.get("score_max") and answered["score"] > filters["score_max"])


def shipment_for_token(token: str) -> ShipmentRecord:
    found, _ = resolve(token)
    record = shipment_store.get(found.id)
    if record is None:
        raise NotFound("no shipment for this tracking link", code="unknown_token")
    return record
