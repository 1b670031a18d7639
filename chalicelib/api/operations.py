"""What the published document says about each route, declared beside the route: `@documented(...)` records the
summary, tag, credentials, status codes and the request and response shapes (by name: schemas.py and responses.py)
and changes nothing the route does. chalicelib.api.openapi pairs these records with the Chalice route table, which
gives the paths, methods and path parameters, so a path is written once. Light on purpose: every route module
imports it on every cold start; nothing here needs pydantic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from msgspec import Struct, field

from ..domain.milestones import MILESTONES

View = TypeVar("View", bound=Callable[..., Any])

STRING: dict[str, Any] = {"type": "string"}
TIMESTAMP: dict[str, Any] = {"type": "string", "format": "date-time"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
STATUS: dict[str, Any] = {"type": "string", "enum": list(MILESTONES)}
SCORE: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 5}


def page_size(maximum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": maximum}


class Query(Struct, frozen=True):
    """A query parameter. `schema` is a JSON schema, or the name of one the generator knows (SHARED_SCHEMAS there:
    those built from modules the routes do not load)."""

    name: str
    schema: dict[str, Any] | str
    required: bool = False
    description: str = ""


#: Query parameters several routes share; "lang" is written out by the generator (its locales live with Jinja2).
LANG = Query("lang", "lang")
DATE_RANGE = (
    Query("from", DATE, description="first day (default: 30 days ago)"),
    Query("to", DATE, description="last day (default: today)"),
)
#: The errors a route with a JSON body and path parameters can answer.
WITH_BODY = (400, 401, 404, 413, 415)


class Operation(Struct, frozen=True):
    summary: str
    tag: str
    response: str | None  # a shape in responses.py; None for an empty or non-JSON body
    status: int = 200
    request: str | None = None  # a pydantic model in schemas.py (SIGNED_BODIES: read as the signed bytes)
    request_required: bool = True
    security: str | None = "retailerKey"
    query: tuple[Query, ...] = ()
    errors: tuple[int, ...] = (400, 401, 404)
    media_type: str = "application/json"
    extra_content: dict[str, Any] = field(default_factory=dict)
    also_succeeds: tuple[int, str] | None = None  # a second success status with the same body, and what it means
    conditional: bool = False  # answers carry an ETag; If-None-Match with it gets 304 while nothing changed
    method: str = ""  # filled in from the route table by the generator
    path: str = ""


#: view function -> method it documents ("" for every method the view serves) -> what the document says.
DECLARED: dict[Callable[..., Any], dict[str, Operation]] = {}


def documented(
    summary: str,
    tag: str,
    response: str | None = None,
    status: int = 200,
    *,
    method: str = "",
    request: str | None = None,
    request_required: bool = True,
    security: str | None = "retailerKey",
    query: tuple[Query, ...] = (),
    errors: tuple[int, ...] = (400, 401, 404),
    media_type: str = "application/json",
    extra_content: dict[str, Any] | None = None,
    also_succeeds: tuple[int, str] | None = None,
    conditional: bool = False,
) -> Callable[[View], View]:
    """Record the route's entry in the published document; the view itself is returned untouched."""
    operation = Operation(
        summary,
        tag,
        response,
        status,
        request,
        request_required,
        security,
        query,
        errors,
        media_type,
        extra_content or {},
        also_succeeds,
        conditional,
    )

    def record(view: View) -> View:
        DECLARED.setdefault(view, {})[method.lower()] = operation
        return view

    return record


#: Request bodies read as the bytes their sender signed, never through a pydantic model: "WebhookBody" (each
#: source's own payload) and "PositionsBody" (described by a model the adapter's checks follow, DESIGN 3.8).
SIGNED_BODIES = ("WebhookBody", "PositionsBody")
