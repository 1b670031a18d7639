"""Retailer analytics from the daily counters: cost depends on the number of days asked for, never on shipments."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from ..domain import engagement, promise
from ..domain.carrier_names import display_name
from ..domain.notifications import DELAY_REASONS
from ..domain.survey import csat, percentile_from_histogram
from ..errors import ValidationError
from ..shared.links import tracking_url
from ..shared.spreadsheet import SafeWriter
from ..shared.stats import DURATION_BOUNDS
from ..store import stalls as stall_store
from ..store import stats as stats_store
from ..store import surveys as survey_store

MAX_DAYS = 366
#: How many of the latest low scores "needs attention" lists (one bounded query).
LOW_SCORES_LISTED = 10
#: How many of the latest stalled parcels "needs attention" lists (D45: one bounded query).
STALLED_LISTED = 10
MILESTONE_ORDER = ("processed", "shipped", "out_for_delivery", "attempt_failed", "available_for_pickup", "exception")


def date_range(first: str | None, last: str | None, today: date) -> tuple[date, date]:
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=29)
    except ValueError as exc:
        raise ValidationError("from and to must be dates like 2026-11-01", field="from") from exc
    if start > end:
        raise ValidationError("from must not be after to", field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days at a time", field="from")
    return start, end


def _group(totals: dict[str, float], prefix: str) -> dict[str, dict[str, float]]:
    """'carrier:ups:answered' -> {'ups': {'answered': ...}}."""
    grouped: dict[str, dict[str, float]] = defaultdict(dict)
    for name, value in totals.items():
        if name.startswith(prefix + ":"):
            _, key, metric = name.split(":", 2)
            grouped[key][metric] = value
    return grouped


def _quality(values: dict[str, float]) -> dict[str, Any]:
    answered, sent = values.get("answered", 0), values.get("surveys_sent", 0)
    return {
        "answered": int(answered),
        "surveys_sent": int(sent),
        "csat": csat(values.get("promoters", 0), answered),
        "average_score": round(values.get("score_sum", 0) / answered, 2) if answered else None,
        "response_rate": round(100.0 * answered / sent, 1) if sent else None,
    }


def report(retailer_id: str, first: date, last: date) -> dict[str, Any]:
    """The period's figures and, from the same queries (one per counter shard, over both periods), the headline
    figures of the period of the same length just before it."""
    length = (last - first).days + 1
    previous_first, previous_last = first - timedelta(days=length), first - timedelta(days=1)
    both = stats_store.read(retailer_id, previous_first.isoformat(), last.isoformat())
    current = [day for day in both if day["sk"] >= f"DAY#{first.isoformat()}"]
    earlier = [day for day in both if day["sk"] < f"DAY#{first.isoformat()}"]
    data = _period(retailer_id, current, first, last)
    data["comparison"] = comparison(data, _period(None, earlier, previous_first, previous_last))
    return data


#: The headline figures compared with the previous period: (name in the report, what it is, unit).
HEADLINES = (
    ("quality.csat", "CSAT (4-5 stars)", "%"),
    ("quality.average_score", "Average score", ""),
    ("quality.response_rate", "Survey response rate", "%"),
    ("on_time.rate", "On time vs promised date", "%"),
    ("promise.overall.inside_window_rate", "Inside the ETA window shown", "%"),
    ("driver_eta.rate", "Driver inside the window shown", "%"),
    ("shipments.delivered", "Delivered", ""),
    ("page_views.per_shipment", "Tracking-page views per shipment", ""),
    ("delays.flagged", "Parcels found late", ""),
)


def _at(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def comparison(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Each headline figure now, in the previous period of the same length, and the change (percentage points for
    rates); `change` is None when either period has no value."""
    figures = []
    for path, label, unit in HEADLINES:
        now, before = _at(current, path), _at(previous, path)
        change = round(now - before, 2) if now is not None and before is not None else None
        figures.append(
            {"figure": path, "label": label, "unit": unit, "current": now, "previous": before, "change": change}
        )
    return {"previous_from": previous["from"], "previous_to": previous["to"], "figures": figures}


def _period(retailer_id: str | None, days: list[dict[str, Any]], first: date, last: date) -> dict[str, Any]:
    """Every figure of one period from its day counters; the low scores only for the period shown (`retailer_id`)."""
    totals: dict[str, float] = defaultdict(float)
    labels: dict[str, str] = {}
    series = []
    for day in days:
        for name, value in day.items():
            if name.startswith("name:"):
                labels[name.removeprefix("name:")] = str(value)
            elif name not in ("pk", "sk") and not isinstance(value, str):
                totals[name] += float(value)
        answered = float(day.get("answered", 0))
        series.append(
            {
                "date": day["sk"].removeprefix("DAY#"),
                "registered": int(day.get("registered", 0)),
                "delivered": int(day.get("delivered", 0)),
                "answered": int(answered),
                "csat": csat(float(day.get("promoters", 0)), answered),
                "views": int(day.get("views", 0)),
            }
        )
    # Every day of the range gets a point, so quiet days show as gaps in the chart rather than disappearing.
    by_date = {row["date"]: row for row in series}
    series = [
        by_date.get(
            (first + timedelta(days=offset)).isoformat(),
            {
                "date": (first + timedelta(days=offset)).isoformat(),
                "registered": 0,
                "delivered": 0,
                "answered": 0,
                "csat": None,
                "views": 0,
            },
        )
        for offset in range((last - first).days + 1)
    ]
    delivered = totals.get("delivered", 0)
    ontime, late = totals.get("ontime", 0), totals.get("late", 0)
    carriers = _group(totals, "carrier")
    drivers = _group(totals, "driver")
    durations: dict[str, dict[int, float]] = {}
    for name, value in totals.items():
        match = re.match(r"^dur:([a-z_]+):b(\d+)$", name)
        if match:
            durations.setdefault(match.group(1), {})[int(match.group(2))] = value
    notifications: dict[str, dict[str, int]] = defaultdict(dict)
    for name, value in totals.items():
        if name.startswith("notif:"):
            _, channel, outcome = name.split(":", 2)
            notifications[channel][outcome] = int(value)
    registered = totals.get("registered", 0)
    return {
        "driver_eta": _driver_eta(totals),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "shipments": {"registered": int(registered), "delivered": int(delivered)},
        "returns": {
            "returned_to_sender": int(totals.get("returned", 0)),
            "registered": int(totals.get("returns:registered", 0)),
            "dropped_off": int(totals.get("returns:dropped_off", 0)),
            "received": int(totals.get("returns:received", 0)),
        },
        "on_time": {
            "on_time": int(ontime),
            "late": int(late),
            "rate": round(100.0 * ontime / (ontime + late), 1) if ontime + late else None,
        },
        "quality": _quality(totals),
        "delays": {
            "flagged": int(totals.get("delays", 0)),
            "by_reason": {reason: int(totals.get(f"delays:{reason}", 0)) for reason in DELAY_REASONS},
        },
        "by_carrier": [
            {
                "carrier": key,
                "delivered": int(values.get("delivered", 0)),
                "flagged_late": int(values.get("delays", 0)),
                "on_time_rate": round(
                    100.0 * values.get("ontime", 0) / (values.get("ontime", 0) + values.get("late", 0)), 1
                )
                if values.get("ontime", 0) + values.get("late", 0)
                else None,
                **_quality(values),
            }
            for key, values in sorted(carriers.items())
        ],
        "by_driver": [
            {"driver": labels.get(key, key), **_quality(values)}
            for key, values in sorted(drivers.items(), key=lambda item: labels.get(item[0], item[0]))
        ],
        "time_in_milestone": {
            milestone: {
                "count": int(sum(buckets.values())),
                "median_minutes": percentile_from_histogram(buckets, DURATION_BOUNDS, 0.5),
                "p90_minutes": percentile_from_histogram(buckets, DURATION_BOUNDS, 0.9),
            }
            for milestone, buckets in sorted(
                durations.items(), key=lambda kv: MILESTONE_ORDER.index(kv[0]) if kv[0] in MILESTONE_ORDER else 99
            )
        },
        "notifications": {
            channel: dict(sorted(outcomes.items())) for channel, outcomes in sorted(notifications.items())
        },
        "page_views": {
            "views": int(totals.get("views", 0)),
            "per_shipment": round(totals.get("views", 0) / registered, 2) if registered else None,
        },
        "days": series,
        "promise": promise_accuracy(totals, days),
        "needs_attention": {
            "low_scores": low_scores(retailer_id, first, last) if retailer_id else [],
            "stalled": stalled(retailer_id) if retailer_id else [],
        },
        "engagement": engagement.rows(totals),
    }


def promise_accuracy(totals: dict[str, float], days: list[dict[str, Any]]) -> dict[str, Any]:
    """Promise accuracy overall, per carrier and service, per lane and per ISO week, from the `pr:` counters that the
    ingest adds at each delivery (domain.promise)."""
    weeks: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for day in days:
        week = weeks[promise.week_of(day["sk"].removeprefix("DAY#"))]
        for name, value in promise.grouped(day, promise.ALL).get("all", {}).items():
            week[name] += float(value)
    by_service = []
    for group, metrics in sorted(promise.grouped(totals, promise.CARRIER_SERVICE).items()):
        carrier, _, service = group.partition("/")
        by_service.append(
            {
                "carrier": carrier,
                "service": None if service == promise.NO_SERVICE else service,
                **promise.summary(metrics),
            }
        )
    lanes = []
    for group, metrics in sorted(promise.grouped(totals, promise.LANE).items()):
        origin, _, destination = group.partition(">")
        lanes.append({"origin": origin, "destination": destination, **promise.summary(metrics)})
    return {
        "overall": promise.summary(promise.grouped(totals, promise.ALL).get("all", {})),
        "by_carrier_service": by_service,
        "by_lane": lanes,
        "by_week": [{"week": week, **promise.summary(dict(weeks[week]))} for week in sorted(weeks)],
    }


def low_scores(retailer_id: str, first: date, last: date) -> list[dict[str, Any]]:
    """The latest low survey scores answered in the period, with what the shopper wrote: no contact details."""
    entries = survey_store.latest_low(retailer_id, first.isoformat() + "T", last.isoformat() + "T99", LOW_SCORES_LISTED)
    return [
        {
            "shipment_id": entry["shipment_id"],
            "order_id": entry.get("order_id"),
            "carrier": entry.get("carrier"),
            "driver": entry.get("driver") or None,
            "score": int(entry["score"]),
            "comment": entry.get("comment") or None,
            "answered_at": entry["answered_at"],
            "answered_via": entry.get("answered_via"),
            "tracking_url": tracking_url(entry["tracking_token"]) if entry.get("tracking_token") else None,
        }
        for entry in entries
    ]


def stalled(retailer_id: str) -> list[dict[str, Any]]:
    """Parcels found stalled and not moved since (D45): one bounded index query and one batch read."""
    return [
        {
            "shipment_id": record.id,
            "order_id": record.order_id,
            "carrier": record.carrier,
            "tracking_number": record.tracking_number,
            "status": record.progress.status,
            "reason": reason,
            "found_at": found_at,
            "last_event_at": record.progress.last_event_at,
            "tracking_url": tracking_url(record.tracking_token),
        }
        for record, reason, found_at in stall_store.latest(retailer_id, STALLED_LISTED)
    ]


def _driver_eta(totals: dict[str, float]) -> dict[str, Any]:
    """The driver against the window shown (`eta:*` counters); `eta:missed`, counted before early and late were
    told apart, was a late arrival."""
    kept, early = int(totals.get("eta:kept", 0)), int(totals.get("eta:early", 0))
    late = int(totals.get("eta:late", 0) + totals.get("eta:missed", 0))
    judged = kept + early + late
    return {
        "kept": kept,
        "early": early,
        "late": late,
        "missed": early + late,
        "rate": round(100.0 * kept / judged, 1) if judged else None,
    }


def to_csv(data: dict[str, Any]) -> str:
    """The analytics report as a spreadsheet, for `/v1/analytics?format=csv` and `/analytics/export.csv` alike."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["section", "name", "metric", "value"])
    quality = data["quality"]
    for metric, value in quality.items():
        writer.writerow(["overall", "all", metric, value])
    writer.writerow(["overall", "all", "on_time_rate", data["on_time"]["rate"]])
    for metric, value in data["driver_eta"].items():
        writer.writerow(["driver_eta", "all", metric, value])
    for metric, value in data["returns"].items():
        writer.writerow(["returns", "all", metric, value])
    writer.writerow(["overall", "all", "delivered", data["shipments"]["delivered"]])
    writer.writerow(["overall", "all", "page_views_per_shipment", data["page_views"]["per_shipment"]])
    writer.writerow(["overall", "all", "flagged_late", data["delays"]["flagged"]])
    for reason, flagged in data["delays"]["by_reason"].items():
        writer.writerow(["late_reason", reason, "flagged_late", flagged])
    for row in data["by_carrier"]:
        for metric, value in row.items():
            if metric != "carrier":
                writer.writerow(["carrier", row["carrier"], metric, value])
    for row in data["by_driver"]:
        for metric, value in row.items():
            if metric != "driver":
                writer.writerow(["driver", row["driver"], metric, value])
    for milestone, values in data["time_in_milestone"].items():
        for metric, value in values.items():
            writer.writerow(["time_in_milestone", milestone, metric, value])
    for channel, outcomes in data["notifications"].items():
        for outcome, value in outcomes.items():
            writer.writerow(["notifications", channel, outcome, value])
    for day in data["days"]:
        for metric, value in day.items():
            if metric != "date":
                writer.writerow(["day", day["date"], metric, value])
    _engagement_rows(writer, data)
    _promise_rows(writer, data["promise"])
    _attention_rows(writer, data["needs_attention"])
    for figure in data["comparison"]["figures"]:
        for metric in ("current", "previous", "change"):
            writer.writerow(["compared_with_previous", figure["figure"], metric, figure[metric]])
    return out.getvalue()


def promise_group_name(section: str, row: dict[str, Any]) -> str:
    """The name a promise row goes by, the same on the page and in the CSV: 'UPS / ground', 'US-CA > US-NY', or
    the Monday of a week (plain ASCII: a spreadsheet opening the file as another encoding reads it the same)."""
    if section == "carrier_service":
        return f"{display_name(row['carrier'])} / {row['service'] or 'no service given'}"
    if section == "lane":
        return f"{row['origin']} > {row['destination']}"
    return str(row["week"])


def days_late_name(days: int) -> str:
    """'2 days early', 'on the day', '7 or more days late' (the spread's ends hold everything beyond them)."""
    if days == 0:
        return "on the day"
    count = abs(days)
    amount = f"{count} or more days" if count == promise.SPREAD_DAYS else f"{count} day{'s' if count > 1 else ''}"
    return f"{amount} {'early' if days < 0 else 'late'}"


def _promise_rows(writer: SafeWriter, accuracy: dict[str, Any]) -> None:
    """One row per figure of each group; the spread as `days_late_<n>` (n at the ends means 'or more')."""
    sections = [("overall", "all", accuracy["overall"])]
    for section, key in (("carrier_service", "by_carrier_service"), ("lane", "by_lane"), ("week", "by_week")):
        sections += [(section, promise_group_name(section, row), row) for row in accuracy[key]]
    for section, name, row in sections:
        for metric, value in row.items():
            if metric in ("carrier", "service", "origin", "destination", "week"):
                continue
            if metric == "days_late":
                for bucket in value:
                    writer.writerow([f"promise_{section}", name, f"days_late_{bucket['days']}", bucket["count"]])
            else:
                writer.writerow([f"promise_{section}", name, metric, value])


def _attention_rows(writer: SafeWriter, attention: dict[str, Any]) -> None:
    """The page's "Needs attention" lists, one row per figure named by the shipment id (what the retailer already
    holds: order, score, what the shopper wrote, the problem found; never a contact detail)."""
    for entry in attention.get("low_scores", []):
        for metric in ("order_id", "carrier", "driver", "score", "comment", "answered_at"):
            writer.writerow(["low_score", entry["shipment_id"], metric, entry[metric]])
    for entry in attention.get("stalled", []):
        for metric in ("order_id", "carrier", "tracking_number", "status", "reason", "found_at", "last_event_at"):
            writer.writerow(["stalled", entry["shipment_id"], metric, entry[metric]])


def _engagement_rows(writer: SafeWriter, data: dict[str, Any]) -> None:
    """Engagement per kind and channel (D45): one line per figure, named `<kind>/<channel>` as on the page."""
    for row in data.get("engagement", []):
        for metric, value in row.items():
            if metric not in ("kind", "channel"):
                writer.writerow(["engagement", f"{row['kind']}/{row['channel']}", metric, value])
