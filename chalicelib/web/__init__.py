"""Jinja2 environments: autoescaping for our own templates, the sandbox for retailer-written ones."""
