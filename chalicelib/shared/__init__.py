"""What two or more use cases in services/ share, kept below them so that they never import each other.

Read-side builders (shipment and tracking-page views), the retailer's profile as settings, links, the write-retry
loop, the planning of checks and surveys, message context and the delivery policy, outbound retailer webhooks.
Depends only on store/, channels/, carriers/, web/ (rendering helpers), domain/ and the low-level modules (config,
errors, observability); never on services/ (import-linter checks it, see docs/architecture.md).
"""
