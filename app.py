"""Porchlight's Chalice app: registers blueprints and event handlers, nothing else. Imports stay light for cold
starts: handlers import what they need when they run."""

import gc
import os
from typing import Any

# Cold start (D49): loading the app and what its first invocation needs makes ~150 collections (~30 ms) of objects
# that all live as long as the process. None runs until the first invocation is over; then what is loaded is frozen
# out of every later collection.
gc.disable()
_loading = True

from chalice import Rate

from chalicelib.api.application import Chalice, json_everywhere
from chalicelib.observability import begin

#: Set to "0" for the worker Lambdas in .chalice/config.json (`lambda_functions`): API Gateway never calls them, so
#: their cold start skips the routes (D49). Everywhere else (the API Lambda, packaging, the local runtime, tests)
#: every route is registered.
SERVES_HTTP = os.environ.get("SERVES_HTTP", "1") != "0"

if SERVES_HTTP:
    from chalicelib.api.refusals import refusal_for

# Powertools owns the log output in Lambda (chalicelib.observability); Chalice's own handler would print every line
# a second time, as plain text. Typed errors become answers in one place for every route: see refusal_for.
app = Chalice(app_name="porchlight", configure_logs=False, refusal_for=refusal_for if SERVES_HTTP else json_everywhere)


@app.middleware("all")
def observe(event: Any, get_response: Any) -> Any:
    """Every entry point (route, stream batch, schedule) logs JSON lines carrying the invocation's correlation id:
    API Gateway's request id, EventBridge's event id, or the Lambda request id until a stream record sets its own."""
    global _loading
    begin(event)
    try:
        return get_response(event)
    finally:
        if _loading:
            _loading = False
            gc.freeze()
            gc.enable()


if SERVES_HTTP:
    from chalicelib.api.analytics_api import analytics_api
    from chalicelib.api.configuration_api import configuration_api
    from chalicelib.api.dev import dev
    from chalicelib.api.http import in_error_shape
    from chalicelib.api.providers import providers
    from chalicelib.api.retailer_api import retailer_api
    from chalicelib.api.suppressions_api import suppressions_api
    from chalicelib.api.tracking_api import shopper_error_page, tracking_api
    from chalicelib.api.webhooks import webhooks

    app.register_blueprint(retailer_api)
    app.register_blueprint(configuration_api)
    app.register_blueprint(webhooks)
    app.register_blueprint(providers)
    app.register_blueprint(dev)
    app.register_blueprint(tracking_api)
    app.register_blueprint(analytics_api)
    app.register_blueprint(suppressions_api)

    @app.middleware("http")
    def error_shape(event: Any, get_response: Any) -> Any:
        """Every error, even one Chalice answers itself, has the documented shape (a page on the shopper's paths)."""
        return in_error_shape(shopper_error_page(event, get_response(event)))


@app.lambda_function(name="deliver_outbox")
def deliver_outbox(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The table stream's records (event source mapping in infra, partial batch failures reported)."""
    # delivery (composition and every use case it routes to): the API Lambda's cold start never loads it
    from chalicelib.workers.stream import handle_stream_batch

    return handle_stream_batch(event)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="scheduler")
def scheduler(event: Any) -> dict[str, Any]:
    """Deferred texts (quiet hours), retries and anything the stream missed, within this invocation's time."""
    # delivery (composition and every use case it routes to): the API Lambda's cold start never loads it
    from chalicelib.workers.scheduler import LAMBDA_WORKERS, run_scheduled_work

    remaining = getattr(getattr(event, "context", None), "get_remaining_time_in_millis", None)
    seconds_left = remaining() / 1000 if callable(remaining) else None
    return run_scheduled_work(seconds_left=seconds_left, workers=LAMBDA_WORKERS)
