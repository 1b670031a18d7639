"""Developer pages, only outside production: the local outbox as a person would read it."""

from __future__ import annotations

from chalice import Blueprint, Response

from ..channels import local_outbox
from ..config import settings
from ..errors import NotFound
from .http import html_response

dev = Blueprint(__name__)


@dev.route("/dev/outbox", methods=["GET"])
def outbox_page() -> Response:
    if settings().is_production:
        raise NotFound("not found")

    return html_response("pages/dev_outbox.html.j2", {"messages": local_outbox.recent()})
