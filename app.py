"""Porchlight's Chalice app: registers blueprints and nothing else. Imports stay light for cold starts."""

from chalice import Chalice

from chalicelib.api.retailer_api import retailer_api
from chalicelib.api.webhooks import webhooks

app = Chalice(app_name="porchlight")
app.register_blueprint(retailer_api)
app.register_blueprint(webhooks)
