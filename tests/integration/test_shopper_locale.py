"""A French shopper reads French in a retailer's own template too: `status_label`, `{% trans %}` and `_()` come
from the shopper's catalog, not English (issue 16 item 5, D38)."""

from __future__ import annotations

import json

from tests.conftest import Api, Retailer
from tests.integration.conftest import Providers, drain, local_time
from tests.payloads import native_event

NY = "America/New_York"
CUSTOMER = {
    "name": "Marie Curie",
    "phone": "+14155550123",
    "email": "marie@example.com",
    "sms_consent": True,
    "time_zone": NY,
    "locale": "fr",
}
TEMPLATE = {
    "subject": "{{ status_label }} : {{ order_id }}",
    "body": "{% trans %}Hi {{ first_name }},{% endtrans %}\n\n{{ status_label }}. {{ _('Track your package') }}",
}


def test_a_french_retailer_template_shows_the_status_label_in_french(
    api: Api, retailer: Retailer, providers: Providers
) -> None:
    saved = api.http.put("/v1/templates/shipped/email/fr", headers=retailer.auth, body=json.dumps(TEMPLATE))
    assert saved.status_code == 200, saved.body
    preview = api.http.post("/v1/templates/shipped/email/fr/preview", headers=retailer.auth, body="").json_body
    assert preview["subject"].startswith("En cours de livraison : ")  # the sample delivery is out for delivery
    registered = api.register(retailer, customer=CUSTOMER)
    assert registered.status_code == 201, registered.body
    shipped = api.native(retailer, {"events": [native_event("e1", "shipped", "2026-11-20T10:00:00+00:00")]})
    assert shipped.status_code == 200, shipped.body
    drain(local_time(NY, 12))
    [mail] = providers.capture.of("sendgrid")
    assert mail.json["subject"] == "Expédiée : ORD-1001"
    text = next(part["value"] for part in mail.json["content"] if part["type"] == "text/plain")
    assert "Bonjour Marie," in text and "Expédiée. Suivre mon colis" in text and "Shipped" not in text
    # The retailer-facing API keeps its English label: the catalog speaks to shoppers only.
    detail = api.shipment(retailer, registered.json_body["id"]).json_body
    assert detail["status_label"] == "Shipped"
