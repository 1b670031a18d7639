"""The published OpenAPI 3.1 document of the retailer API, the public tracking JSON and the carrier webhooks,
generated: paths, methods and path parameters from the Chalice route table; what each operation says from the
`@documented` record beside its route (operations.py); request bodies from the pydantic models the routes validate
with (schemas.py) and responses and outbound events from the typed dicts in responses.py. Nothing here is written
twice, so the document and the routes cannot drift apart; tests/unit/test_openapi.py checks the committed copy in
docs/openapi.json against it (regenerate with `make openapi`).
Imported only by the `/v1/openapi.json` route, `make openapi` and tests: building it needs pydantic.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from ..carriers import SOURCES
from ..domain.policy import CHANNELS, NOTIFICATION_KINDS
from ..services.notifications import CHANNELS as NOTIFICATION_CHANNELS
from ..web.templating import LOCALES
from . import responses
from .operations import DECLARED, STRING, Operation

LOCAL_SERVER = "http://127.0.0.1:8000"
COMPONENT = "#/components/schemas/{model}"
OBJECT = {"type": "object"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": COMPONENT.format(model=name)}


#: What each error status means, in every operation that can answer it.
ERRORS = {
    400: "The request is malformed or a field is invalid; `error.field` names it.",
    401: "Missing or wrong credentials (API key, or webhook signature).",
    404: "No such resource for this retailer (other retailers' resources are indistinguishable from missing ones).",
    405: "The path exists but not with this method.",
    409: "A conflicting state: retry, or the operation no longer applies.",
    413: "The body is larger than 1 MB.",
    415: "The body's content type is not accepted here.",
    429: "Too many attempts: `error.code` says which limit; try again later.",
    503: "Busy: the shipment kept changing while we wrote (`error.code` `write_conflict`) and the request's write "
    "budget is spent; nothing was written. Retry after `Retry-After` seconds.",
}
#: Errors any operation may answer, with the header each carries.
ALWAYS = {
    405: {"Allow": {"description": "The methods the path accepts", "schema": STRING}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}},
}


#: Path parameters by name, whichever route they appear in.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "shipment_id": STRING,
    "change_id": STRING,
    "key_id": STRING,
    "source": {"type": "string", "enum": list(SOURCES)},
    "kind": {"type": "string", "enum": list(NOTIFICATION_KINDS)},
    "channel": {"type": "string", "enum": list(CHANNELS)},
    "locale": {"type": "string", "enum": list(LOCALES)},
    "token": STRING,
    "retailer_id": STRING,
    "address": {"type": "string", "description": "an e-mail address or E.164 phone number, URL-encoded"},
}


#: Query parameter schemas a route names rather than builds (operations.Query): their values come from modules the
#: route modules do not load for themselves (the locales live with Jinja2, the channels with the notifications).
SHARED_SCHEMAS: dict[str, dict[str, Any]] = {
    "lang": STRING,
    "notification_channel": {"type": "string", "enum": list(NOTIFICATION_CHANNELS)},
}
SHARED_DESCRIPTIONS = {
    "lang": f"preferred language ({', '.join(LOCALES)}); others fall back to the retailer's default, as "
    "Accept-Language would",
}


def _routes() -> Mapping[str, Mapping[str, Any]]:
    from app import app  # the app's route table; the /v1/openapi.json route passes its own instead

    return app.routes


def operations(routes: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[Operation, ...]:
    """Every documented operation, with its method and path from the route table, in the table's order."""
    found: list[Operation] = []
    for path, methods in (routes if routes is not None else _routes()).items():
        for method, entry in methods.items():
            view = getattr(entry.view_function, "__wrapped__", entry.view_function)
            declared = DECLARED.get(view, {})
            operation = declared.get(method.lower()) or declared.get("")
            if operation is not None:
                found.append(replace(operation, method=method.lower(), path=path))
    return tuple(found)


def __getattr__(name: str) -> Any:
    if name == "OPERATIONS":  # for tests: the operations of the app's own routes
        return operations()
    raise AttributeError(name)


def request_schemas(operations: tuple[Operation, ...]) -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from . import schemas

    models = [
        getattr(schemas, name) for name in sorted({op.request for op in operations if op.request} - {"WebhookBody"})
    ] + [schemas.NativePickup]  # described inside the native body, which is read as signed bytes
    _, definitions = models_json_schema([(model, "validation") for model in models], ref_template=COMPONENT)
    found: dict[str, Any] = definitions.get("$defs", {})
    found["WebhookBody"] = {
        "type": "object",
        "description": "The source's own payload, byte for byte as it signed it (DESIGN 3.2). A `native` event may "
        "carry `pickup` (schema `NativePickup`, D48) when its status is `available_for_pickup`.",
    }
    return found


def _written_out(schema: Any, shapes: dict[str, Any], published: set[str]) -> Any:
    """`schema` with every reference to a shape that is not published replaced by that shape itself."""
    if isinstance(schema, list):
        return [_written_out(item, shapes, published) for item in schema]
    if not isinstance(schema, dict):
        return schema
    target = schema.get("$ref")
    if isinstance(target, str) and target.startswith(COMPONENT.format(model="")):
        name = target.rsplit("/", 1)[-1]
        if name not in published:
            rest = {key: value for key, value in schema.items() if key != "$ref"}
            return _written_out({**shapes[name], **rest}, shapes, published)
    return {key: _written_out(value, shapes, published) for key, value in schema.items()}


def response_schemas() -> dict[str, Any]:
    """The published shapes of responses.py; the shapes only they use are written out in them (an event's schema
    stands alone, so a receiver can validate a call with it and nothing else)."""
    published = {shape.__name__ for shape in responses.PUBLISHED}
    adapters: list[tuple[str, JsonSchemaMode, TypeAdapter[Any]]] = [
        (shape.__name__, "serialization", TypeAdapter(shape)) for shape in responses.PUBLISHED
    ]
    _, definitions = TypeAdapter.json_schemas(adapters, ref_template=COMPONENT)
    shapes: dict[str, Any] = definitions.get("$defs", {})
    return {name: _written_out(shapes[name], shapes, published) for name in sorted(published)}


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in operation.path.split("/") if part.startswith("{")]
    parameters = [{"name": n, "in": "path", "required": True, "schema": PATH_PARAMETERS[n]} for n in names]
    for query in operation.query:
        schema = SHARED_SCHEMAS[query.schema] if isinstance(query.schema, str) else query.schema
        description = query.description or SHARED_DESCRIPTIONS.get(query.name, "")
        if not query.required:  # `?from=&to=` is what an HTML form with cleared fields sends: empty means "not given"
            schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
            description = f"{description} (empty: not given)".lstrip()
        parameter = {"name": query.name, "in": "query", "required": query.required, "schema": schema}
        parameters.append({**parameter, "description": description} if description else parameter)
    if operation.conditional:
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": STRING,
                "description": "the ETag of an earlier answer: 304 with no body while nothing changed",
            }
        )
    return parameters


#: The validator a conditional answer carries (a weak tag of what the body shows).
ETAG_HEADER = {"ETag": {"description": "a weak validator of the body, for If-None-Match", "schema": STRING}}


def _responses(operation: Operation) -> dict[str, Any]:
    if operation.response:
        content = {"application/json": {"schema": ref(operation.response)}, **operation.extra_content}
        success: dict[str, Any] = {"description": "OK", "content": content}
    elif operation.media_type == "text/html":
        success = {"description": "An HTML page", "content": {"text/html": {"schema": STRING}}}
    elif operation.status == 204:
        success = {"description": "Done; no body"}
    else:
        success = {"description": "OK", "content": {"application/json": {"schema": OBJECT}}}
    if operation.conditional:
        success = {**success, "headers": ETAG_HEADER}
    responses: dict[str, Any] = {str(operation.status): success}
    if operation.conditional:
        responses["304"] = {
            "description": "Not modified since the ETag in If-None-Match; no body",
            "headers": ETAG_HEADER,
        }
    if operation.also_succeeds:
        status, meaning = operation.also_succeeds
        responses[str(status)] = {"description": meaning, "content": success["content"]}
    error = {"application/json": {"schema": ref("Error")}}
    for status in operation.errors:
        responses[str(status)] = {"description": ERRORS[status], "content": error}
    for status, headers in ALWAYS.items():
        responses[str(status)] = {"description": ERRORS[status], "headers": headers, "content": error}
    return dict(sorted(responses.items()))


def _outbound(name: str, shape: type) -> dict[str, Any]:
    return {
        "post": {
            "operationId": name.replace(".", "_"),
            "summary": " ".join((shape.__doc__ or "").split()).split(".")[0],
            "parameters": [
                {"name": "X-Porchlight-Signature", "in": "header", "required": True, "schema": STRING},
                {"name": "X-Porchlight-Event-Id", "in": "header", "required": True, "schema": STRING},
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(shape.__name__)}}},
            "responses": {
                "2XX": {"description": "Received. 429 and 5XX are retried with backoff; other answers are final."}
            },
        }
    }


def document(server_url: str = LOCAL_SERVER, routes: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The document for the app's routes (`routes`: a Chalice route table; the app's own when left out)."""
    documented = operations(routes)
    paths: dict[str, dict[str, Any]] = {}
    for operation in documented:
        spec: dict[str, Any] = {
            "operationId": f"{operation.method}_{operation.path}".replace("/", "_").replace("{", "").replace("}", ""),
            "summary": operation.summary,
            "tags": [operation.tag],
            "parameters": _parameters(operation),
            "responses": _responses(operation),
            "security": [{operation.security: []}] if operation.security else [],
        }
        if operation.request:
            spec["requestBody"] = {
                "required": operation.request_required,
                "content": {"application/json": {"schema": ref(operation.request)}},
            }
        paths.setdefault(operation.path, {})[operation.method] = spec
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Porchlight",
            "version": "1",
            "description": "Last-mile delivery notifications: the retailer API, the public tracking JSON and the "
            "carrier webhooks. Every error has the `Error` shape.",
        },
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "webhooks": {name: _outbound(name, shape) for name, shape in responses.OUTBOUND.items()},
        "components": {
            "schemas": dict(sorted({**request_schemas(documented), **response_schemas()}.items())),
            "securitySchemes": {
                "retailerKey": {"type": "http", "scheme": "bearer", "description": "the retailer's API key"},
                "adminKey": {"type": "http", "scheme": "bearer", "description": "ADMIN_API_KEY (operators only)"},
            },
        },
    }


def main() -> int:
    json.dump(document(), sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
