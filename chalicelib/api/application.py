"""The Chalice app object, with the request it is serving kept per thread (D28).

Chalice stores `current_request` (and `lambda_context`) on the one app object every blueprint reads. Lambda runs one
request per process at a time, but the local runtime serves each connection on its own thread: a handler that read
the request after a DynamoDB call could read another request's headers and body (another retailer's key or brand).
Keeping both per thread makes each request see its own, here and in Lambda alike, for one attribute lookup.

It is also where typed errors (chalicelib.errors) become HTTP answers for every route: each view is registered
wrapped in `http.answering_errors`, with the refusal `refusal_for` chooses for its path (JSON, or a shopper's page).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import chalice

from .http import Refusal, answering_errors, json_refusal


def json_everywhere(path: str) -> Refusal:
    return json_refusal


class Chalice(chalice.Chalice):
    def __init__(
        self, app_name: str, *, refusal_for: Callable[[str], Refusal] = json_everywhere, **kwargs: Any
    ) -> None:
        self._serving = threading.local()
        self._refusal_for = refusal_for
        super().__init__(app_name, **kwargs)

    def _register_route(self, name: str, user_handler: Any, kwargs: Any, **unused: Any) -> None:
        """Chalice's own registration (blueprints' routes come through here too), with the view wrapped once."""
        path = kwargs["path"]
        if kwargs.get("url_prefix"):
            path = "/".join([kwargs["url_prefix"].rstrip("/"), path.strip("/")]).rstrip("/")
        wrapped = answering_errors(user_handler, self._refusal_for(path))
        super()._register_route(name, wrapped, kwargs, **unused)

    @property
    def current_request(self) -> chalice.app.Request | None:
        return getattr(self._serving, "request", None)

    @current_request.setter
    def current_request(self, request: chalice.app.Request | None) -> None:
        self._serving.request = request

    @property
    def lambda_context(self) -> Any:
        return getattr(self._serving, "context", None)

    @lambda_context.setter
    def lambda_context(self, context: Any) -> None:
        self._serving.context = context
