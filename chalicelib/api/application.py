"""The Chalice app object, with the request it is serving kept per thread (D28).

Chalice stores `current_request` (and `lambda_context`) on the one app object every blueprint reads. Lambda runs one
request per process at a time, but the local runtime serves each connection on its own thread: a handler that read
the request after a DynamoDB call could read another request's headers and body (another retailer's key or brand).
Keeping both per thread makes each request see its own, here and in Lambda alike, for one attribute lookup.
"""

from __future__ import annotations

import threading
from typing import Any

import chalice


class Chalice(chalice.Chalice):
    def __init__(self, app_name: str, **kwargs: Any) -> None:
        self._serving = threading.local()
        super().__init__(app_name, **kwargs)

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
