"""Chalice blueprints: thin routes that parse, call one service, and map the result or error to HTTP."""
