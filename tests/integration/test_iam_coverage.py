"""Least privilege must still be enough: every DynamoDB call each Lambda makes is allowed by its IAM policy.

Locally nothing checks IAM, so a new call (say, BatchGetItem for a listing) would only fail once deployed. Each
Lambda's work is exercised through its public entry points while the store counts the operations it calls.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.domain.relay import RELAY_CHANNEL, RELAY_OPEN
from chalicelib.store import table
from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.integration.test_notifications import CUSTOMER, NY, inbound, sendgrid_post, ship, status_callback
from tests.integration.test_surveys import page_form, post_form

POLICIES = Path(__file__).resolve().parents[2] / ".chalice"


def allowed(function: str, stage: str = "prod") -> set[str]:
    document = json.loads((POLICIES / f"policy-{function}-{stage}.json").read_text())
    actions = {action for statement in document["Statement"] for action in statement["Action"]}
    return {action.removeprefix("dynamodb:") for action in actions if action.startswith("dynamodb:")}


def test_dev_and_prod_allow_the_same_calls() -> None:
    for function in ("api", "worker", "scheduler"):
        assert allowed(function, "dev") == allowed(function, "prod"), function


def called() -> set[str]:
    operations = {name.removeprefix("calls.") for name in table.usage if name.startswith("calls.")}
    table.usage.clear()
    return operations


def test_each_lambda_is_allowed_every_dynamodb_call_it_makes(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    auth = retailer.auth
    api.http.put("/v1/settings", headers=auth, body=json.dumps({"webhooks": {"url": f"{providers.capture.url}/hooks"}}))
    called()

    # The API Lambda: the retailer API, webhooks, shopper pages and provider callbacks.
    shipment = api.register(retailer, customer=CUSTOMER).json_body
    ship(api, retailer, "out_for_delivery", "e1", driver={"name": "Sam Rivera", "phone": "+14155559999"})
    # A promise broken by the time of the drain below: the scheduler's late check writes the delay notice.
    promised = datetime.now(UTC).date().isoformat()
    api.http.patch(f"/v1/shipments/{shipment['id']}", headers=auth, body=json.dumps({"promised_date": promised}))
    for contact in ("wrong@example.com", "maria@example.com"):  # order lookup: a miss is counted, a hit batch-reads
        api.http.post(
            f"/v1/track/{retailer.id}",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"order_id": "ORD-1001", "contact": contact}),
        )
    for path in (
        f"/v1/shipments/{shipment['id']}",
        f"/v1/shipments/{shipment['id']}/chat",
        "/v1/shipments?tracking_number=1Z999AA10123456784",
        "/v1/shipments?status=out_for_delivery",
        "/v1/api-keys",
        "/v1/settings",
        "/v1/branding",
        "/v1/surveys",
        "/v1/analytics",
        f"/v1/tracking/{shipment['tracking_token']}",
    ):
        assert api.http.get(path, headers=auth).status_code == 200, path
    api.http.put("/v1/branding", headers=auth, body='{"primary_color": "#112233"}')
    api.http.put("/v1/templates/shipped/sms/en", headers=auth, body='{"body": "{{ retailer }}: {{ tracking_url }}"}')
    api.http.delete("/v1/templates/shipped/sms/en", headers=auth)
    key = api.http.post("/v1/api-keys", headers=auth, body='{"keep_current": true}').json_body
    api.http.delete(f"/v1/api-keys/{key['id']}", headers=auth)
    cookie, csrf = page_form(api, shipment["tracking_token"])
    post_form(api, f"/t/{shipment['tracking_token']}/preferences", cookie, f"csrf={csrf}&notify=email")
    post_form(api, f"/t/{shipment['tracking_token']}/chat", cookie, f"csrf={csrf}&message=Gate+code+1234")
    inbound(api, "HELP")
    assert called() <= allowed("api")

    # The scheduler: deliveries, relay sessions, retailer webhooks, late checks; then callbacks (API) about them.
    drain(local_time(NY, 12, days_ahead=3))
    assert called() <= allowed("scheduler")
    tags = {"pl_shipment": shipment["id"], "pl_kind": "out_for_delivery", "pl_retailer": retailer.id}
    sendgrid_post(api, providers, [{"email": "maria@example.com", "event": "bounce", "sg_event_id": "b1", **tags}])
    status_callback(api, "SM" + "0" * 32, "delivered")
    ship(api, retailer, "delivered", "e2", "2026-11-20T12:00:00+00:00")
    api.http.post(f"/v1/shipments/{shipment['id']}/cancel", headers=auth, body="")
    assert api.http.delete(f"/v1/shipments/{shipment['id']}", headers=auth).status_code == 200
    assert called() <= allowed("api")


def test_the_stream_worker_is_allowed_every_dynamodb_call_it_makes(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    from chalicelib.workers.stream import handle_stream_batch

    shipment = api.register(retailer, customer=CUSTOMER).json_body
    ship(api, retailer, "out_for_delivery", "e1", driver={"name": "Sam Rivera", "phone": "+14155559999"})
    called()
    records = [
        {
            "eventName": "INSERT",
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/porchlight-test/stream/2026",
            "dynamodb": {
                "ApproximateCreationDateTime": 1795000000,
                "SequenceNumber": str(n),
                "NewImage": {
                    "pk": {"S": f"SHIP#{shipment['id']}"},
                    "sk": {"S": f"OUTBOX#{kind}"},
                    "status": {"S": "pending"},
                },
            },
        }
        for n, kind in enumerate(("out_for_delivery#sms", "out_for_delivery#email", f"{RELAY_OPEN}#{RELAY_CHANNEL}"))
    ]
    assert handle_stream_batch({"Records": records}, local_time(NY, 12)) == {"batchItemFailures": []}
    assert len(providers.capture.of("twilio")) >= 1
    assert called() <= allowed("worker")
