"""Survey results and delivery analytics for retailers: JSON, CSV, and a chart page behind an API-key sign-in.

Signing in opens a server-side session (services.sessions); the cookie holds only the session's random id.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint, Response

from ..config import settings
from ..domain.carrier_names import display_name
from ..domain.policy import SHOPPER_MESSAGE_KINDS
from ..domain.promise import SPREAD_DAYS
from ..errors import PorchlightError, Unauthorized, ValidationError
from ..services import analytics, notification_log, sessions
from ..services.notifications import list_failed
from ..services.shipments import needing_attention
from ..services.surveys import list_surveys as run
from ..shared import api_keys
from ..shared.retailer_profile import brand, brand_of_defaults
from ..store import retailers as retailer_store
from ..web.charts import bar_chart, hbar_chart
from .http import (
    bearer_token,
    body_bytes,
    error_response,
    int_param,
    json_response,
    posted_cross_site,
    utcnow,
)
from .operations import DATE_RANGE, SCORE, STRING, Query, documented, page_size
from .tracking_api import page_headers

analytics_api = Blueprint(__name__)
LATE_REASON_LABELS = {
    "carrier_delay": "carrier reported a delay",
    "eta_after_promise": "carrier ETA after the promise",
    "promise_passed": "promised date passed",
    "no_news": "no news from the carrier",
}
SESSION_COOKIE = "pl_session"
FORM = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8"]


def _params() -> Mapping[str, str]:
    return analytics_api.current_request.query_params or {}


@analytics_api.route("/v1/surveys", methods=["GET"])
@documented(
    "Answered delivery surveys, newest first",
    "analytics",
    "SurveyPage",
    query=(
        *DATE_RANGE,
        Query("carrier", STRING),
        Query("driver", STRING),
        Query("score_min", SCORE),
        Query("score_max", SCORE),
        Query("limit", page_size(200), description="page size (default 50)"),
        Query("cursor", STRING, description="`next_cursor` of the previous page"),
    ),
    errors=(400, 401),
)
def list_surveys() -> Response:
    retailer_id = api_keys.authenticate(bearer_token(analytics_api.current_request.headers), utcnow())
    params = _params()
    first, last = analytics.date_range(params.get("from"), params.get("to"), datetime.now(UTC).date())
    filters: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "carrier": (params.get("carrier") or "").lower() or None,
        "driver": params.get("driver") or None,
        "score_min": int_param(params, "score_min", 1, 5),
        "score_max": int_param(params, "score_max", 1, 5),
    }
    limit = int_param(params, "limit", 1, 200) or 50
    return json_response(run(retailer_id, filters, params.get("cursor"), limit))


def _report(retailer_id: str) -> dict[str, Any]:
    params = _params()
    first, last = analytics.date_range(params.get("from"), params.get("to"), datetime.now(UTC).date())
    return analytics.report(retailer_id, first, last)


def _csv(data: dict[str, Any]) -> Response:
    return Response(
        body=analytics.to_csv(data),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="porchlight-analytics-{data["from"]}-to-{data["to"]}.csv"',
            "Cache-Control": "no-store",
        },
    )


@analytics_api.route("/v1/analytics", methods=["GET"])
@documented(
    "Delivery quality: CSAT, on-time rate, time in milestone, notifications, page views",
    "analytics",
    "Analytics",
    query=(
        *DATE_RANGE,
        Query("format", {"type": "string", "enum": ["json", "csv"]}, description="csv downloads a spreadsheet"),
    ),
    errors=(400, 401),
    extra_content={"text/csv": {"schema": STRING}},
)
def get_analytics() -> Response:
    retailer_id = api_keys.authenticate(bearer_token(analytics_api.current_request.headers), utcnow())
    output = _params().get("format") or "json"
    if output not in ("json", "csv"):
        raise ValidationError("format must be json or csv", field="format")
    data = _report(retailer_id)
    return _csv(data) if output == "csv" else json_response(data)


def _log_filter(params: Mapping[str, str]) -> notification_log.LogFilter:
    first, last = analytics.date_range(params.get("from"), params.get("to"), datetime.now(UTC).date())
    return notification_log.LogFilter(
        first,
        last,
        kind=(params.get("kind") or "").strip().lower() or None,
        channel=(params.get("channel") or "").strip().lower() or None,
        status=(params.get("status") or "").strip().lower() or None,
    )


def _log_csv(retailer_id: str, wanted: notification_log.LogFilter) -> Response:
    text, cut = notification_log.export_csv(retailer_id, wanted)
    name = f"porchlight-notifications-{wanted.first.isoformat()}-to-{wanted.last.isoformat()}.csv"
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    if cut:
        headers["X-Porchlight-Truncated"] = f"first {notification_log.MAX_EXPORT_ROWS} rows; narrow the range"
    return Response(body=text, status_code=200, headers=headers)


@analytics_api.route("/v1/notifications", methods=["GET"])
@documented(
    "The notification log: every message planned in the range, oldest first, filterable; contact details masked",
    "notifications",
    "NotificationLogPage",
    query=(
        *DATE_RANGE,
        Query("kind", STRING, description="only this kind (delivered, out_for_delivery, survey, status:shipped...)"),
        Query("channel", "notification_channel", description="only this channel's"),
        Query(
            "status",
            {"type": "string", "enum": list(notification_log.STATUSES)},
            description="only those in this status now",
        ),
        Query("limit", page_size(200), description="page size (default 50)"),
        Query("cursor", STRING, description="`next_cursor` of the previous page"),
        Query(
            "format",
            {"type": "string", "enum": ["json", "csv"]},
            description="csv downloads the whole range (at most 20,000 rows; `X-Porchlight-Truncated` says when cut)",
        ),
    ),
    errors=(400, 401),
    extra_content={"text/csv": {"schema": STRING}},
)
def notification_log_page() -> Response:
    retailer_id = api_keys.authenticate(bearer_token(analytics_api.current_request.headers), utcnow())
    params = _params()
    output = params.get("format") or "json"
    if output not in ("json", "csv"):
        raise ValidationError("format must be json or csv", field="format")
    wanted = _log_filter(params)
    if output == "csv":
        return _log_csv(retailer_id, wanted)
    limit = int_param(params, "limit", 1, 200) or 50
    return json_response(notification_log.list_log(retailer_id, wanted, params.get("cursor"), limit))


# --- the page -----------------------------------------------------------------------------------------------


def _session_id() -> str | None:
    raw = analytics_api.current_request.headers.get("cookie") or ""
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return value
    return None


def _signed_in_retailer() -> str:
    return sessions.retailer_for(_session_id(), utcnow())


def _page(template: str, context: dict[str, Any], status: int = 200, extra: dict[str, str] | None = None) -> Response:
    # jinja2 (via web.templating): only pages render, the webhook path never does
    from ..web.templating import builtin_environment

    nonce = secrets.token_urlsafe(16)
    html = (
        builtin_environment()
        .get_template(template)
        .render({**context, "nonce": nonce, "base": settings().public_base_url})
    )
    # With "no-referrer" browsers send `Origin: null` on the page's own form posts; "same-origin" lets the sign-in
    # see our origin there and still sends nothing to other sites.
    headers = {**page_headers(nonce), "Referrer-Policy": "same-origin", **(extra or {})}
    return Response(body=html, status_code=status, headers=headers)


def _session_cookie(value: str, max_age: int) -> str:
    from urllib.parse import urlsplit

    base = settings().public_base_url
    secure = "; Secure" if base.startswith("https://") else ""
    path = urlsplit(base).path.rstrip("/") + "/analytics"  # behind a stage prefix the page is at /api/analytics
    return f"{SESSION_COOKIE}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"


@analytics_api.route("/analytics", methods=["GET"])
def analytics_page() -> Response:
    try:
        retailer_id = _signed_in_retailer()
    except Unauthorized:
        return _page("pages/analytics_login.html.j2", {"error": None})
    try:
        data = _report(retailer_id)
    except PorchlightError as error:
        return error_response(error)

    retailer = retailer_store.get(retailer_id)
    charts = {
        "daily": bar_chart([(day["date"][5:], day["delivered"]) for day in data["days"]]),
        "carrier_csat": hbar_chart(
            [(display_name(row["carrier"]), row["csat"]) for row in data["by_carrier"]], maximum=100, unit="%"
        ),
        "driver_csat": hbar_chart([(row["driver"], row["csat"]) for row in data["by_driver"]], maximum=100, unit="%"),
        "milestones": hbar_chart(
            [(name.replace("_", " "), values["median_minutes"]) for name, values in data["time_in_milestone"].items()],
            unit=" min",
        ),
        "delays": hbar_chart(
            [(LATE_REASON_LABELS[reason], n) for reason, n in data["delays"]["by_reason"].items() if n]
        ),
        "notifications": hbar_chart(
            [
                (f"{channel} {outcome}", count)
                for channel, outcomes in data["notifications"].items()
                for outcome, count in outcomes.items()
            ]
        ),
        "engagement": engagement_chart(data["engagement"]),
    }
    query = "&".join(f"{k}={v}" for k, v in (("from", data["from"]), ("to", data["to"])))
    promise_charts, promise_names = _promise_charts(data["promise"])

    context = {
        "d": data,
        "charts": charts,
        "retailer": retailer.name if retailer else "",
        "brand": brand(retailer) if retailer else brand_of_defaults(),
        "query": query,
        "attention": needing_attention(retailer_id),
        "undelivered": list_failed(retailer_id, None, None, None, 10)["notifications"],
        "promise_charts": promise_charts,
        "promise_names": promise_names,
        "compared": {figure["figure"]: figure for figure in data["comparison"]["figures"]},
        "log_choices": {
            "kinds": SHOPPER_MESSAGE_KINDS,
            "channels": notification_log.CHANNELS,
            "statuses": notification_log.STATUSES,
        },
    }
    return _page("pages/analytics.html.j2", context)


def engagement_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of each kind's messages followed by a tracking-page visit (D45); the table beside it has every figure."""
    points = [
        (f"{row['kind'].replace('_', ' ')} · {'text' if row['channel'] == 'sms' else 'e-mail'}", row["visit_rate"])
        for row in rows
    ]
    return hbar_chart(points, maximum=100, unit="%")


def _promise_charts(accuracy: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The promise section's charts and the row names its tables (and the CSV) use."""
    services = [analytics.promise_group_name("carrier_service", row) for row in accuracy["by_carrier_service"]]
    lanes = [analytics.promise_group_name("lane", row) for row in accuracy["by_lane"]]
    weeks = [analytics.promise_group_name("week", row) for row in accuracy["by_week"]]
    spread = {bucket["days"]: bucket["count"] for bucket in accuracy["overall"]["days_late"]}
    days = range(-SPREAD_DAYS, SPREAD_DAYS + 1)
    charts = {
        "services": hbar_chart(
            [
                (name, row["by_promised_date_rate"])
                for name, row in zip(services, accuracy["by_carrier_service"], strict=True)
            ],
            maximum=100,
            unit="%",
        ),
        "lanes": hbar_chart(
            [(name, row["by_promised_date_rate"]) for name, row in zip(lanes, accuracy["by_lane"], strict=True)],
            maximum=100,
            unit="%",
        ),
        "spread": bar_chart([(analytics.days_late_name(n), spread.get(n, 0)) for n in days]),
        "weeks": bar_chart(
            [(week, row["by_promised_date_rate"]) for week, row in zip(weeks, accuracy["by_week"], strict=True)],
            unit="%",
        ),
    }
    names = {
        "services": services,
        "lanes": lanes,
        "weeks": weeks,
        "days": {n: analytics.days_late_name(n) for n in days},
    }
    return charts, names


@analytics_api.route("/analytics/notifications.csv", methods=["GET"])
def notification_log_csv() -> Response:
    """The notification log of the range shown (and the filters chosen) on the page, as a spreadsheet."""
    try:
        return _log_csv(_signed_in_retailer(), _log_filter(_params()))
    except PorchlightError as error:
        return error_response(error)


@analytics_api.route("/analytics/export.csv", methods=["GET"])
def analytics_csv() -> Response:
    try:
        return _csv(_report(_signed_in_retailer()))
    except PorchlightError as error:
        return error_response(error)


def _cross_site() -> bool:
    """A sign-in posted from another site (login CSRF: signing the victim's browser in to the attacker's data).

    Browsers send Origin on every form POST; it must name our public origin exactly. `null` (sandboxed frames,
    no-referrer pages) and look-alikes are refused. Without Origin (a non-browser client) Sec-Fetch-Site, when
    present, must say same-origin."""
    return posted_cross_site(analytics_api.current_request.headers, settings().public_base_url)


@analytics_api.route("/analytics/login", methods=["POST"], content_types=FORM)
def analytics_login() -> Response:
    from urllib.parse import parse_qsl

    if _cross_site():
        return _page("pages/analytics_login.html.j2", {"error": "Cross-site sign-in is not allowed."}, status=403)
    form = dict(parse_qsl(body_bytes(analytics_api.current_request).decode("utf-8", "replace")))
    try:
        session_id = sessions.sign_in(form.get("api_key", "").strip(), utcnow())
    except Unauthorized:
        return _page("pages/analytics_login.html.j2", {"error": "That API key is not valid."}, status=401)
    sessions.sign_out(_session_id())  # a new id at every sign-in: an id planted before it is worth nothing
    return Response(
        body="",
        status_code=303,
        headers={
            "Location": f"{settings().public_base_url}/analytics",
            "Set-Cookie": _session_cookie(session_id, int(sessions.SESSION_LIFETIME.total_seconds())),
        },
    )


@analytics_api.route("/analytics/logout", methods=["POST"], content_types=FORM)
def analytics_logout() -> Response:
    sessions.sign_out(_session_id())
    return Response(
        body="",
        status_code=303,
        headers={"Location": f"{settings().public_base_url}/analytics", "Set-Cookie": _session_cookie("", 0)},
    )
