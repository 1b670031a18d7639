"""The published OpenAPI 3.1 document of the retailer API, the public tracking JSON and the carrier webhooks.

Request bodies come from the same pydantic models the routes validate with, so the two cannot disagree; the
operations table below is checked against the Chalice route table by tests/unit/test_openapi.py, and the committed
copy in docs/openapi.json against this module. Regenerate that copy with `make openapi`.
Imported only by the `/v1/openapi.json` route and tests: building it needs pydantic.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from ..carriers import SOURCES
from ..domain.hooks import SUBSCRIBABLE
from ..domain.milestones import MILESTONES, UNKNOWN
from ..domain.notifications import DELAY_REASONS
from ..domain.policy import CHANNELS, NOTIFICATION_KINDS
from ..services.notifications import CHANNELS as NOTIFICATION_CHANNELS
from ..web.templating import LOCALES

LOCAL_SERVER = "http://127.0.0.1:8000"
COMPONENT = "#/components/schemas/{model}"


def ref(name: str) -> dict[str, str]:
    return {"$ref": COMPONENT.format(model=name)}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
TIMESTAMP = {"type": "string", "format": "date-time"}
OBJECT = {"type": "object"}
DATE = {"type": "string", "format": "date"}
STATUS = {"type": "string", "enum": list(MILESTONES)}
SCORE = {"type": "integer", "minimum": 1, "maximum": 5}


#: Response bodies. They name what a client relies on; objects stay open so that adding a field is not a break.
def event_schema(event_type: str, description: str, data: dict[str, Any]) -> dict[str, Any]:
    """An event we post to the retailer: the shared envelope around what happened (`data`)."""
    return {
        "type": "object",
        "description": description,
        "required": ["id", "type", "created_at", "retailer_id", "data"],
        "properties": {
            "id": STRING,
            "type": {"const": event_type},
            "created_at": TIMESTAMP,
            "retailer_id": STRING,
            "data": data,
        },
    }


def shipment_event_data(required: list[str], **details: dict[str, Any]) -> dict[str, Any]:
    """`data` of a shipment event: the shipment's identity (services.retailer_webhooks) plus the event's details."""
    return {
        "type": "object",
        "required": ["shipment_id", *required, "version"],
        "properties": {
            "shipment_id": STRING,
            "order_id": nullable(STRING),
            "carrier": STRING,
            "tracking_number": STRING,
            "version": {"type": "integer"},
            "tracking_url": {"type": "string", "format": "uri"},
            **details,
        },
    }


#: What both survey events to the retailer carry (services.surveys), flat as `survey.low_score` always was.
SURVEY_EVENT_PROPERTIES: dict[str, Any] = {
    "retailer_id": STRING,
    "shipment_id": STRING,
    "order_id": nullable(STRING),
    "tracking_number": STRING,
    "carrier": STRING,
    "driver": nullable(STRING),
    "score": SCORE,
    "comment": nullable(STRING),
    "comment_revision": {"type": "integer", "minimum": 0, "description": "the comment's version (0: none yet)"},
    "answered_at": TIMESTAMP,
    "answered_via": STRING,
}


RESPONSES: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "stable, machine-readable: invalid_request, ..."},
                    "message": {"type": "string", "description": "for people: what was wrong and how to fix it"},
                    "field": {"type": "string", "description": "the offending field, when there is one"},
                },
                "additionalProperties": False,
            }
        },
        "additionalProperties": False,
    },
    "CreatedRetailer": {
        "type": "object",
        "required": ["id", "name", "api_key"],
        "properties": {
            "id": STRING,
            "name": STRING,
            "api_key": {"type": "string", "description": "shown once; only its hash is stored"},
        },
    },
    "ApiKey": {
        "type": "object",
        "required": ["id", "prefix", "created_at", "expires_at", "current"],
        "properties": {
            "id": {"type": "string", "description": "names the key in this API (part of its hash)"},
            "prefix": {"type": "string", "description": "the key's first characters, to recognise it"},
            "created_at": TIMESTAMP,
            "expires_at": nullable(TIMESTAMP),
            "current": {"type": "boolean", "description": "the key that made this request"},
        },
    },
    "ApiKeyList": {
        "type": "object",
        "required": ["api_keys"],
        "properties": {"api_keys": {"type": "array", "items": ref("ApiKey")}},
    },
    "NewApiKey": {
        "allOf": [
            ref("ApiKey"),
            {
                "type": "object",
                "required": ["api_key"],
                "properties": {"api_key": {"type": "string", "description": "shown once; only its hash is stored"}},
            },
        ]
    },
    "SuppressionState": {
        "type": "object",
        "required": ["contact", "channel", "suppressed", "suppressions", "audit"],
        "properties": {
            "contact": STRING,
            "channel": {"type": "string", "enum": ["email", "sms"]},
            "suppressed": {"type": "boolean", "description": "messages to this contact are held for your sends"},
            "suppressions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["scope", "reason", "since", "liftable"],
                    "properties": {
                        "scope": {
                            "type": "string",
                            "enum": ["retailer", "every_retailer", "driver_chat"],
                            "description": "every_retailer: the provider said the address is invalid",
                        },
                        "reason": STRING,
                        "since": STRING,
                        "source": STRING,
                        "liftable": {"type": "boolean", "description": "false for a shopper's STOP"},
                    },
                },
            },
            "audit": {
                "type": "array",
                "description": "oldest first: suppressions and lifts that concern your sends",
                "items": {
                    "type": "object",
                    "required": ["at", "action", "scope", "reason"],
                    "properties": {
                        "at": STRING,
                        "action": {"type": "string", "enum": ["suppressed", "lifted"]},
                        "scope": STRING,
                        "reason": STRING,
                        "source": STRING,
                        "lifted_reason": STRING,
                        "by": {
                            "type": "object",
                            "properties": {"api_key_id": STRING, "api_key_prefix": STRING},
                        },
                    },
                },
            },
        },
    },
    "ShipmentSummary": {
        "type": "object",
        "required": ["id", "order_id", "carrier", "tracking_number", "status", "claimed", "tracking_token"],
        "properties": {
            "id": STRING,
            "order_id": STRING,
            "carrier": STRING,
            "tracking_number": STRING,
            "status": STATUS,
            "status_label": STRING,
            "claimed": {"type": "boolean", "description": "false while only carrier scans know the shipment"},
            "tracking_token": STRING,
            "tracking_url": {"type": "string", "format": "uri"},
            "eta": nullable({"type": "object", "additionalProperties": STRING}),
            "last_event_at": nullable(TIMESTAMP),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "status_changed_at": {**TIMESTAMP, "description": "in the changed_since feed: when we recorded the change"},
            "warnings": {
                "type": "array",
                "items": STRING,
                "description": "on registration: what was accepted but not honoured as asked (an unsupported locale)",
            },
        },
    },
    "ShipmentDetail": {
        "allOf": [
            ref("ShipmentSummary"),
            {
                "type": "object",
                "required": ["customer", "events", "notifications"],
                "properties": {
                    "customer": OBJECT,
                    "destination": nullable(OBJECT),
                    "items": nullable({"type": "array", "items": OBJECT}),
                    "promised_date": nullable(STRING),
                    "driver": nullable(OBJECT),
                    "proof_of_delivery": nullable(OBJECT),
                    "shopper": OBJECT,
                    "events": {"type": "array", "items": OBJECT},
                    "notifications": {"type": "array", "items": ref("Notification")},
                    "chat_messages": {"type": "integer", "minimum": 0},
                },
            },
        ]
    },
    "ShipmentList": {
        "type": "object",
        "required": ["shipments", "next_cursor"],
        "properties": {
            "shipments": {"type": "array", "items": ref("ShipmentSummary")},
            "next_cursor": nullable({"type": "string", "description": "more to list: pass it as `cursor`"}),
            "latest_change_at": nullable(
                {**TIMESTAMP, "description": "with changed_since: the newest change on this page (where to resume)"}
            ),
        },
    },
    "ShipmentBatch": {
        "type": "object",
        "required": ["created", "existing", "failed", "results"],
        "properties": {
            "created": {"type": "integer", "minimum": 0},
            "existing": {"type": "integer", "minimum": 0},
            "failed": {"type": "integer", "minimum": 0},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "status"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "status": {"type": "integer", "description": "201 created, 200 already there, or 4xx"},
                        "shipment": ref("ShipmentSummary"),
                        "warnings": {"type": "array", "items": STRING},
                        "error": {"$ref": "#/components/schemas/Error/properties/error"},
                    },
                },
            },
        },
    },
    "Erasure": {
        "type": "object",
        "required": ["deleted"],
        "properties": {"deleted": {"type": "object", "additionalProperties": {"type": "integer"}}},
    },
    "Notification": {
        "type": "object",
        "required": ["kind", "channel", "status", "attempts", "manual_retries", "created_at", "updated_at"],
        "properties": {
            "kind": {
                "type": "string",
                "description": "a milestone, `delayed`, `survey`, or a webhook to you "
                "(`status:<status>:<version>`, `escalation`, `survey_comment:<n>`)",
            },
            "channel": {"type": "string", "enum": list(NOTIFICATION_CHANNELS)},
            "status": {
                "type": "string",
                "description": "pending, deferred (quiet hours), retry, sending, queued, sent, delivered, skipped "
                "(`reason` says why), failed or bounced",
            },
            "reason": nullable(STRING),
            "fallback": {"type": "boolean", "description": "an email standing in for a text that failed"},
            "attempts": {"type": "integer", "minimum": 0},
            "manual_retries": {"type": "integer", "minimum": 0, "description": "times you asked to send it again"},
            "provider": nullable(STRING),
            "provider_message_id": nullable(STRING),
            "created_at": TIMESTAMP,
            "sent_at": nullable(TIMESTAMP),
            "updated_at": TIMESTAMP,
            "due_at": nullable(TIMESTAMP),
            "preview": nullable(OBJECT),
        },
    },
    "FailedNotificationList": {
        "type": "object",
        "required": ["notifications", "next_cursor"],
        "properties": {
            "notifications": {
                "type": "array",
                "items": {
                    "allOf": [
                        ref("Notification"),
                        {
                            "type": "object",
                            "required": ["failed_at", "shipment"],
                            "properties": {"failed_at": TIMESTAMP, "shipment": ref("ShipmentSummary")},
                        },
                    ]
                },
            },
            "next_cursor": nullable({"type": "string", "description": "more to list: pass it as `cursor`"}),
        },
    },
    "ChatTranscript": {
        "type": "object",
        "required": ["session", "messages"],
        "properties": {"session": nullable(OBJECT), "messages": {"type": "array", "items": OBJECT}},
    },
    "Integration": {
        "type": "object",
        "required": ["source", "webhook_url", "secret"],
        "properties": {
            "source": {"type": "string", "enum": list(SOURCES)},
            "webhook_url": {"type": "string", "format": "uri"},
            "secret": STRING,
        },
    },
    "Settings": {
        "type": "object",
        "required": ["channels", "quiet_hours", "time_zone", "email_fallback", "silent_after_days", "survey"],
        "properties": {
            "channels": {"type": "object", "additionalProperties": {"type": "array", "items": STRING}},
            "quiet_hours": OBJECT,
            "warnings": {
                "type": "array",
                "items": STRING,
                "description": "In a PUT answer: what was changed to keep quiet hours within the legal floor",
            },
            "time_zone": STRING,
            "email_fallback": {"type": "boolean"},
            "silent_after_days": {
                "type": "integer",
                "minimum": 0,
                "maximum": 30,
                "description": "a parcel in transit or out for delivery with no carrier scan for this many days (and "
                "past the carrier's ETA, if any) counts as late: the shopper gets `delayed` and you get "
                "`shipment.delayed` with reason `no_news`; 0 switches this off (default 5)",
            },
            "survey": OBJECT,
            "webhooks": {
                "type": "object",
                "properties": {
                    "enabled": {"type": "boolean"},
                    "url": nullable(STRING),
                    "statuses": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(SUBSCRIBABLE)},
                        "description": "statuses whose changes are posted (default: all); add `delayed` to also get "
                        "`shipment.delayed` when a parcel becomes late",
                    },
                    "secret_configured": {"type": "boolean"},
                    "secret": {"type": "string", "description": "returned once, when the first webhook URL is set"},
                    "previous_secret_valid_until": {
                        "type": "string",
                        "format": "date-time",
                        "description": "during a rotation: calls carry a second v1 signature, made with the old secret",
                    },
                },
            },
        },
    },
    "StatusChangedEvent": event_schema(
        "shipment.status_changed",
        "Posted to `webhooks.url` once per change of a registered shipment's status. Signed like the "
        "native carrier format (`X-Porchlight-Signature: t=..,v1=..` with the outbound secret); `id` (also in "
        "`X-Porchlight-Event-Id`) is the same on retries. Calls can arrive out of order: order them by "
        "`data.version`.",
        shipment_event_data(
            ["status", "current"],
            status=STATUS,
            status_label=STRING,
            current={"type": "object", "description": "the shipment as it was when the call went out"},
            version={"type": "integer", "description": "the shipment's state version that reached it"},
        ),
    ),
    "DelayedEvent": event_schema(
        "shipment.delayed",
        "Posted to `webhooks.url` once per registered shipment when its parcel becomes late (opt-in: "
        "`delayed` in `webhooks.statuses`): the carrier reported a delay, its ETA moved past the promised date, or "
        "the promised date passed with the parcel still on its way. Signed and retried like the others.",
        shipment_event_data(
            ["reason", "status"],
            reason={"type": "string", "enum": list(DELAY_REASONS)},
            promised_date=nullable(STRING),
            eta={"type": ["object", "null"]},
            status=STATUS,
            status_label=STRING,
        ),
    ),
    "TestEvent": event_schema(
        "webhook.test",
        "Posted to `webhooks.url` on request (`POST /v1/settings/webhooks/test`), signed like the "
        "others, to check an endpoint before relying on it.",
        OBJECT,
    ),
    "RotatedSecret": {
        "type": "object",
        "required": ["secret", "previous_valid_until"],
        "properties": {
            "secret": {"type": "string", "description": "shown once"},
            "previous_valid_until": nullable(TIMESTAMP),
        },
    },
    "WebhookTest": {
        "type": "object",
        "required": ["id", "url", "delivered"],
        "properties": {
            "id": {"type": "string", "description": "the test event's id, as the endpoint received it"},
            "url": STRING,
            "delivered": {"type": "boolean", "description": "the endpoint answered 2xx"},
            "status": {"type": "integer", "description": "its HTTP status, when delivered"},
            "error": {"type": "string", "description": "what went wrong, when not"},
        },
    },
    "LowScoreEvent": {
        "type": "object",
        "description": "Posted to `survey.webhook_url` when a survey answer is at or below the threshold; signed "
        "and retried like status webhooks. It carries the comment as it was when it went out "
        "(`comment_revision`); a later note follows as `survey.comment_added`.",
        "required": ["type", "retailer_id", "shipment_id", "score"],
        "properties": SURVEY_EVENT_PROPERTIES | {"type": {"const": "survey.low_score"}},
    },
    "SurveyCommentEvent": {
        "type": "object",
        "description": "Posted to `survey.webhook_url` when the shopper adds to a low score's comment after "
        "`survey.low_score` went out (a text within 24 hours of the score, or the page's follow-up form). Never "
        "before `survey.low_score`; `comment` is the whole comment so far, `comment_revision` its version (higher is "
        "newer). Signed and retried like the others; `X-Porchlight-Event-Id` is `<shipment_id>:survey:comment:<n>`.",
        "required": ["type", "retailer_id", "shipment_id", "score", "comment", "comment_revision"],
        "properties": SURVEY_EVENT_PROPERTIES
        | {
            "type": {"const": "survey.comment_added"},
            "comment": STRING,
            "commented_at": TIMESTAMP,
        },
    },
    "Branding": {
        "type": "object",
        "required": ["display_name", "primary_color", "accent_color", "text_on_primary", "text_on_accent", "warnings"],
        "properties": {
            "display_name": STRING,
            "primary_color": STRING,
            "accent_color": STRING,
            "text_on_primary": {"type": "string", "description": "text colour on primary_color, 4.5:1 or more"},
            "text_on_accent": {"type": "string", "description": "text colour on accent_color, 4.5:1 or more"},
            "link_color": {
                "type": "string",
                "description": "primary_color as link text: 4.5:1 on the page background, cards and chat bubbles",
            },
            "graphic_color": {
                "type": "string",
                "description": "primary_color as a graphic (progress bar, chart bars, button edges): 3:1 on cards "
                "and the progress bar's track",
            },
            "accent_graphic_color": {
                "type": "string",
                "description": "accent_color as the notice stripe: 3:1 on the page background and the notice",
            },
            "warnings": {
                "type": "array",
                "description": "Each place a brand colour fell short of WCAG 2.1 AA and what is used there instead "
                "(empty when every colour is used as given)",
                "items": {"$ref": "#/components/schemas/ContrastWarning"},
            },
        },
    },
    "ContrastWarning": {
        "type": "object",
        "required": ["field", "use", "surfaces", "given", "used", "contrast_given", "contrast_used", "minimum"],
        "properties": {
            "field": {"type": "string", "enum": ["primary_color", "accent_color"]},
            "use": {
                "type": "string",
                "description": "link text, text on it (the text drawn on the colour), progress bar..., notice stripe",
            },
            "surfaces": {"type": "array", "items": STRING, "description": "what the colour was checked against"},
            "given": STRING,
            "used": STRING,
            "contrast_given": {"type": "number"},
            "contrast_used": {"type": "number"},
            "minimum": {"type": "number", "description": "4.5 for text, 3 for graphics"},
            "message": STRING,
        },
    },
    "Template": {
        "type": "object",
        "required": ["kind", "channel", "locale", "body"],
        "properties": {
            "kind": STRING,
            "channel": STRING,
            "locale": STRING,
            "body": STRING,
            "subject": nullable(STRING),
        },
    },
    "TemplatePreview": {
        "type": "object",
        "required": ["source"],
        "properties": {
            "source": {"type": "string", "enum": ["built-in", "custom", "draft"]},
            "body": STRING,
            "characters": {"type": "integer"},
            "encoding": STRING,
            "fits_one_segment": {"type": "boolean"},
            "worst_case": {
                "type": "object",
                "description": "A custom text with the longest brand and order id: its length against one segment",
                "properties": {
                    "characters": {"type": "integer"},
                    "encoding": {"type": "string", "enum": ["GSM-7", "UCS-2"]},
                    "segment_limit": {"type": "integer"},
                    "over_by": {"type": "integer"},
                },
            },
            "subject": STRING,
            "text": STRING,
            "html": STRING,
        },
    },
    "SurveyPage": {
        "type": "object",
        "required": ["surveys", "next_cursor"],
        "properties": {
            "surveys": {
                "type": "array",
                "items": {"type": "object", "required": ["score"], "properties": {"score": SCORE}},
            },
            "next_cursor": nullable(STRING),
        },
    },
    "Analytics": {
        "type": "object",
        "required": ["from", "to", "shipments", "on_time", "quality", "by_carrier", "by_driver", "days"],
        "properties": {
            "from": DATE,
            "to": DATE,
            "shipments": OBJECT,
            "on_time": OBJECT,
            "quality": OBJECT,
            "delays": {
                "type": "object",
                "description": "registered parcels found late in the period (each once), by what showed it first",
                "properties": {
                    "flagged": {"type": "integer", "minimum": 0},
                    "by_reason": {
                        "type": "object",
                        "properties": {reason: {"type": "integer", "minimum": 0} for reason in DELAY_REASONS},
                    },
                },
            },
            "by_carrier": {"type": "array", "items": OBJECT},
            "by_driver": {"type": "array", "items": OBJECT},
            "time_in_milestone": OBJECT,
            "notifications": OBJECT,
            "page_views": OBJECT,
            "days": {"type": "array", "items": OBJECT},
            "needs_attention": {
                "type": "object",
                "required": ["low_scores"],
                "properties": {
                    "low_scores": {
                        "type": "array",
                        "description": "the latest 10 survey scores at or below the threshold answered in the "
                        "period, newest first, with the shopper's comment (no contact details)",
                        "items": {
                            "type": "object",
                            "required": ["shipment_id", "score", "answered_at"],
                            "properties": {
                                "shipment_id": STRING,
                                "order_id": nullable(STRING),
                                "carrier": nullable(STRING),
                                "driver": nullable(STRING),
                                "score": SCORE,
                                "comment": nullable(STRING),
                                "answered_at": TIMESTAMP,
                                "answered_via": nullable(STRING),
                                "tracking_url": nullable(STRING),
                            },
                        },
                    }
                },
            },
        },
    },
    "Tracking": {
        "type": "object",
        "description": "What the shopper's page shows; never a phone number, e-mail, street address or surname.",
        "required": ["token", "locale", "status", "status_label", "steps", "events", "retailer"],
        "properties": {
            "token": STRING,
            "locale": {"type": "string", "enum": list(LOCALES)},
            "status": STATUS,
            "status_label": STRING,
            "active": {"type": "boolean"},
            "steps": {"type": "array", "items": OBJECT},
            "banner": nullable(OBJECT),
            "events": {
                "type": "array",
                "items": {"type": "object", "properties": {"status": {"enum": [*MILESTONES, UNKNOWN]}}},
            },
            "retailer": OBJECT,
            "shopper": {
                "type": "object",
                "description": "The shopper's choices; the instructions they typed are never in this JSON, only "
                "whether there are any (the page, where they edit them, shows them).",
                "properties": {
                    "first_name": STRING,
                    "notify": nullable({"type": "string", "enum": ["sms", "email", "none"]}),
                    "has_instructions": {"type": "boolean"},
                    "can_text": {"type": "boolean"},
                    "can_email": {"type": "boolean"},
                },
                "not": {"required": ["instructions"]},
            },
        },
    },
    "OrderLookup": {
        "type": "object",
        "description": "The order's parcels, newest first, with their tracking links.",
        "required": ["shipments"],
        "properties": {
            "shipments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["tracking_token", "tracking_url", "order_id", "status", "status_label", "carrier"],
                    "properties": {
                        "tracking_token": STRING,
                        "tracking_url": {"type": "string", "format": "uri"},
                        "order_id": STRING,
                        "status": STATUS,
                        "status_label": STRING,
                        "carrier": STRING,
                        "carrier_name": STRING,
                        "tracking_number": STRING,
                        "last_event_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                },
            }
        },
    },
    "WebhookResult": {
        "type": "object",
        "required": ["accepted", "duplicates"],
        "properties": {
            "accepted": {"type": "integer"},
            "duplicates": {"type": "integer"},
            "ignored": {
                "type": "integer",
                "minimum": 1,
                "description": "present only when the delivery held no scan (it is then listed at "
                "GET /v1/webhooks/ignored)",
            },
            "ignored_reasons": {"type": "array", "items": ref("IgnoredReason")},
        },
    },
    "IgnoredReason": {
        "type": "object",
        "required": ["reason", "detail"],
        "properties": {
            "reason": {
                "type": "string",
                "enum": ["not_a_tracking_event", "no_scans"],
                "description": "not_a_tracking_event: the event type carries no tracking (batch.*, "
                "transaction_*, ...); no_scans: a tracking with no scans whose own status says nothing yet",
            },
            "detail": {"type": "string", "description": "the event type, or the tracking's status"},
            "carrier": STRING,
            "tracking_number": STRING,
        },
    },
    "IgnoredWebhookList": {
        "type": "object",
        "required": ["ignored", "next_cursor"],
        "properties": {
            "ignored": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["received_at", "source", "reasons", "body_sha256"],
                    "properties": {
                        "received_at": TIMESTAMP,
                        "source": {"type": "string", "enum": list(SOURCES)},
                        "reasons": {"type": "array", "items": ref("IgnoredReason")},
                        "body_sha256": {
                            "type": "string",
                            "description": "first 16 hex digits of the body's SHA-256, to match the sender's log",
                        },
                    },
                },
            },
            "next_cursor": nullable({"type": "string", "description": "more to list: pass it as `cursor`"}),
        },
    },
}

ERRORS = {
    400: "The request is malformed or a field is invalid; `error.field` names it.",
    401: "Missing or wrong credentials (API key, or webhook signature).",
    404: "No such resource for this retailer (other retailers' resources are indistinguishable from missing ones).",
    405: "The path exists but not with this method.",
    409: "A conflicting state: retry, or the operation no longer applies.",
    413: "The body is larger than 1 MB.",
    415: "The body's content type is not accepted here.",
    429: "Too many attempts: `error.code` says which limit; try again later.",
    503: "Busy: the shipment kept changing while we wrote (`error.code` `write_conflict`) and the request's write "
    "budget is spent; nothing was written. Retry after `Retry-After` seconds.",
}
#: Errors any operation may answer, with the header each carries.
ALWAYS = {
    405: {"Allow": {"description": "The methods the path accepts", "schema": STRING}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}},
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    response: str | None  # a RESPONSES name; None for an empty or non-JSON body
    status: int = 200
    request: str | None = None  # a pydantic model in .schemas
    request_required: bool = True
    security: str | None = "retailerKey"
    query: tuple[tuple[str, dict[str, Any], bool, str], ...] = ()  # name, schema, required, description
    errors: tuple[int, ...] = (400, 401, 404)
    media_type: str = "application/json"
    extra_content: dict[str, Any] = field(default_factory=dict)
    also_succeeds: tuple[int, str] | None = None  # a second success status with the same body, and what it means


KIND = {"type": "string", "enum": list(NOTIFICATION_KINDS)}
DATE_RANGE = (
    ("from", DATE, False, "first day (default: 30 days ago)"),
    ("to", DATE, False, "last day (default: today)"),
)
LANG = (
    "lang",
    STRING,
    False,
    f"preferred language ({', '.join(LOCALES)}); others fall back to the retailer's default, as Accept-Language would",
)
TEMPLATE = "/v1/templates/{kind}/{channel}/{locale}"
WITH_BODY = (400, 401, 404, 413, 415)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post",
        "/v1/admin/retailers",
        "Create a retailer and its API key (operator only)",
        "admin",
        "CreatedRetailer",
        201,
        request="RetailerRequest",
        security="adminKey",
        errors=(400, 401, 413, 415),
    ),
    Operation(
        "post",
        "/v1/shipments",
        "Register a shipment (idempotent on carrier + tracking number; 200 when it already existed)",
        "shipments",
        "ShipmentSummary",
        201,
        request="ShipmentRequest",
        errors=(400, 401, 409, 413, 415),
        also_succeeds=(200, "Already registered"),
    ),
    Operation(
        "post",
        "/v1/shipments/batch",
        "Register up to 100 shipments; each entry has its own outcome (201, 200 or its error)",
        "shipments",
        "ShipmentBatch",
        request="ShipmentBatchRequest",
        errors=(400, 401, 413, 415),
    ),
    Operation(
        "get",
        "/v1/shipments",
        "Find shipments by tracking number or order, list those in one status (latest arrivals first, by pages), or "
        "follow status changes since a moment",
        "shipments",
        "ShipmentList",
        query=(
            (
                "tracking_number",
                STRING,
                False,
                "as printed; spaces and case ignored (this, order_id, status or changed_since is required)",
            ),
            ("order_id", STRING, False, "every parcel registered for this order; case, spaces and dashes ignored"),
            ("carrier", STRING, False, "with tracking_number: narrow to one carrier"),
            ("status", STATUS, False, "list registered shipments now in this status (with tracking_number: narrow)"),
            (
                "changed_since",
                TIMESTAMP,
                False,
                "on its own: shipments whose status changed at or after this moment, oldest change first, each once "
                "(at its latest change); resume from a minute before `latest_change_at`",
            ),
            (
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 100},
                False,
                "with status or changed_since: page size (50)",
            ),
            ("cursor", STRING, False, "with status or changed_since: next_cursor of the previous page"),
        ),
        errors=(400, 401),
    ),
    Operation(
        "get",
        "/v1/shipments/{shipment_id}",
        "A shipment with its events and notifications",
        "shipments",
        "ShipmentDetail",
    ),
    Operation(
        "delete",
        "/v1/shipments/{shipment_id}",
        "Erase a shipment and everything it left behind",
        "shipments",
        "Erasure",
    ),
    Operation(
        "patch",
        "/v1/shipments/{shipment_id}",
        "Correct a registered shipment (fields left out stay, null clears, customer fields merge; destination is "
        "replaced whole; a new phone needs consent again)",
        "shipments",
        "ShipmentDetail",
        request="ShipmentChangeRequest",
        errors=(*WITH_BODY, 409),
    ),
    Operation(
        "post",
        "/v1/shipments/{shipment_id}/cancel",
        "Cancel the order: pending texts are dropped and the chat closes (cancelling twice is harmless)",
        "shipments",
        "ShipmentDetail",
        request="CancelRequest",
        request_required=False,
        errors=(*WITH_BODY, 409),
    ),
    Operation(
        "post",
        "/v1/shipments/{shipment_id}/notifications/{kind}/{channel}/retry",
        "Send a failed, bounced or skipped notification again (fix what stopped it first: the phone, the address, "
        "consent); 409 says why not when it cannot help: not_failed, superseded, retry_limit_reached (3), or the "
        "policy's reason (opted_out, suppressed, no_sms_consent, ...)",
        "notifications",
        "Notification",
        202,
        errors=(401, 404, 409),
    ),
    Operation(
        "get",
        "/v1/notifications/failed",
        "Notifications that never arrived (failed or bounced), latest failure first, each with its shipment",
        "notifications",
        "FailedNotificationList",
        query=(
            ("since", TIMESTAMP, False, "only those that failed at or after this moment"),
            ("channel", {"type": "string", "enum": list(NOTIFICATION_CHANNELS)}, False, "only this channel's"),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 100}, False, "page size (50)"),
            ("cursor", STRING, False, "next_cursor of the previous page"),
        ),
        errors=(400, 401),
    ),
    Operation(
        "get",
        "/v1/webhooks/ignored",
        "Carrier webhooks accepted but holding no scan (a batch event, a tracking still pending), newest first, "
        "with why; kept 30 days",
        "webhooks",
        "IgnoredWebhookList",
        query=(
            ("limit", {"type": "integer", "minimum": 1, "maximum": 100}, False, "page size (50)"),
            ("cursor", STRING, False, "next_cursor of the previous page"),
        ),
        errors=(400, 401),
    ),
    Operation("get", "/v1/shipments/{shipment_id}/chat", "The driver chat transcript", "shipments", "ChatTranscript"),
    Operation(
        "put",
        "/v1/shipments/{shipment_id}/driver",
        "Name the driver (opens the chat relay when out for delivery)",
        "shipments",
        "ShipmentDetail",
        request="DriverRequest",
        errors=(*WITH_BODY, 409),
    ),
    Operation(
        "get",
        "/v1/api-keys",
        "The retailer's active API keys (never the keys themselves)",
        "keys",
        "ApiKeyList",
        errors=(401,),
    ),
    Operation(
        "post",
        "/v1/api-keys",
        "Rotate: a new key now, the calling key retired after a grace period (default 24 h)",
        "keys",
        "NewApiKey",
        201,
        request="ApiKeyRequest",
        request_required=False,
        errors=(400, 401, 409, 413, 415),
    ),
    Operation(
        "delete",
        "/v1/api-keys/{key_id}",
        "Revoke a key at once (not the last active one)",
        "keys",
        None,
        204,
        errors=(401, 404, 409),
    ),
    Operation(
        "get",
        "/v1/suppressions",
        "What holds messages to an e-mail address or phone for your sends, and its audit trail",
        "configuration",
        "SuppressionState",
        query=(("contact", STRING, True, "an e-mail address or E.164 phone number"),),
        errors=(400, 401),
    ),
    Operation(
        "delete",
        "/v1/suppressions/{address}",
        "Lift an e-mail suppression for your sends, with a reason (audited); a shopper's STOP is refused (409)",
        "configuration",
        "SuppressionState",
        request="SuppressionLiftRequest",
        errors=(400, 401, 404, 409, 413, 415),
    ),
    Operation(
        "put",
        "/v1/integrations/{source}",
        "Set or rotate a webhook source's signing secret (omit `secret` to have one generated)",
        "configuration",
        "Integration",
        request="IntegrationRequest",
        request_required=False,
        errors=WITH_BODY,
    ),
    Operation("get", "/v1/settings", "Notification settings", "configuration", "Settings", errors=(401,)),
    Operation(
        "put",
        "/v1/settings",
        "Change notification settings (fields left out keep their value)",
        "configuration",
        "Settings",
        request="SettingsRequest",
        errors=(400, 401, 413, 415),
    ),
    Operation(
        "post",
        "/v1/settings/webhooks/test",
        "Send a signed webhook.test event to webhooks.url now and report the endpoint's answer",
        "configuration",
        "WebhookTest",
        errors=(401, 409),
    ),
    Operation(
        "post",
        "/v1/settings/webhooks/secret",
        "Rotate the secret that signs our calls to you; the old one co-signs for a grace period (default 24 h)",
        "configuration",
        "RotatedSecret",
        201,
        request="SecretRotationRequest",
        request_required=False,
        errors=(400, 401, 413, 415),
    ),
    Operation("get", "/v1/branding", "The tracking page's brand", "configuration", "Branding", errors=(401,)),
    Operation(
        "put",
        "/v1/branding",
        "Change the brand (fields left out keep their value)",
        "configuration",
        "Branding",
        request="BrandingRequest",
        errors=(400, 401, 413, 415),
    ),
    Operation(
        "get",
        "/v1/branding/preview",
        "The tracking page with sample data in the current brand",
        "configuration",
        None,
        query=(LANG,),
        errors=(401,),
        media_type="text/html",
    ),
    Operation(
        "post",
        "/v1/branding/preview",
        "The tracking page with sample data in a draft brand",
        "configuration",
        None,
        request="BrandingRequest",
        request_required=False,
        query=(LANG,),
        errors=(400, 401, 413, 415),
        media_type="text/html",
    ),
    Operation("get", TEMPLATE, "A custom template", "templates", "Template"),
    Operation(
        "put",
        TEMPLATE,
        "Save a custom template (checked for syntax, unknown variables and SMS length)",
        "templates",
        "Template",
        request="TemplateRequest",
        errors=WITH_BODY,
    ),
    Operation("delete", TEMPLATE, "Go back to the built-in template", "templates", None, 204),
    Operation(
        "post",
        TEMPLATE + "/preview",
        "Render the template in force, or a draft, with sample data",
        "templates",
        "TemplatePreview",
        request="TemplateRequest",
        request_required=False,
        errors=WITH_BODY,
    ),
    Operation(
        "get",
        "/v1/surveys",
        "Answered delivery surveys, newest first",
        "analytics",
        "SurveyPage",
        query=(
            *DATE_RANGE,
            ("carrier", STRING, False, ""),
            ("driver", STRING, False, ""),
            ("score_min", SCORE, False, ""),
            ("score_max", SCORE, False, ""),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 200}, False, "page size (default 50)"),
            ("cursor", STRING, False, "`next_cursor` of the previous page"),
        ),
        errors=(400, 401),
    ),
    Operation(
        "get",
        "/v1/analytics",
        "Delivery quality: CSAT, on-time rate, time in milestone, notifications, page views",
        "analytics",
        "Analytics",
        query=(
            *DATE_RANGE,
            ("format", {"type": "string", "enum": ["json", "csv"]}, False, "csv downloads a spreadsheet"),
        ),
        errors=(400, 401),
        extra_content={"text/csv": {"schema": STRING}},
    ),
    Operation(
        "get",
        "/v1/tracking/{token}",
        "The shopper's tracking view as JSON, for embedding (CORS open, no credentials)",
        "tracking",
        "Tracking",
        security=None,
        query=(LANG,),
        errors=(404,),
    ),
    Operation(
        "post",
        "/v1/track/{retailer_id}",
        "A shopper finds an order by its number and the e-mail or phone it was placed with (CORS open, no "
        "credentials). Misses are limited per hour per contact (10), per client address (20) and per store; over a "
        "limit every lookup answers 429 too_many_attempts with Retry-After until the hour ends",
        "tracking",
        "OrderLookup",
        request="OrderLookupRequest",
        security=None,
        errors=(400, 404, 413, 415, 429),
    ),
    Operation(
        "post",
        "/v1/webhooks/{source}/{retailer_id}",
        "Carrier and aggregator status webhooks, verified by each source's signature scheme (see README)",
        "webhooks",
        "WebhookResult",
        request="WebhookBody",
        security=None,
        errors=(400, 401, 404, 409, 413, 415),
    ),
    Operation("get", "/v1/openapi.json", "This document", "meta", None, security=None, errors=()),
)

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "shipment_id": STRING,
    "key_id": STRING,
    "source": {"type": "string", "enum": list(SOURCES)},
    "kind": KIND,
    "channel": {"type": "string", "enum": list(CHANNELS)},
    "locale": {"type": "string", "enum": list(LOCALES)},
    "token": STRING,
    "retailer_id": STRING,
    "address": {"type": "string", "description": "an e-mail address or E.164 phone number, URL-encoded"},
}


def request_schemas() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from . import schemas

    models = [
        getattr(schemas, name) for name in sorted({op.request for op in OPERATIONS if op.request} - {"WebhookBody"})
    ]
    _, definitions = models_json_schema([(model, "validation") for model in models], ref_template=COMPONENT)
    found: dict[str, Any] = definitions.get("$defs", {})
    found["WebhookBody"] = {
        "type": "object",
        "description": "The source's own payload, byte for byte as it signed it (DESIGN 3.2).",
    }
    return found


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    names = [part[1:-1] for part in operation.path.split("/") if part.startswith("{")]
    parameters = [{"name": n, "in": "path", "required": True, "schema": PATH_PARAMETERS[n]} for n in names]
    for name, schema, required, description in operation.query:
        if not required:  # `?from=&to=` is what an HTML form with cleared fields sends: empty means "not given"
            schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
            description = f"{description} (empty: not given)".lstrip()
        parameter = {"name": name, "in": "query", "required": required, "schema": schema}
        parameters.append({**parameter, "description": description} if description else parameter)
    return parameters


def _responses(operation: Operation) -> dict[str, Any]:
    if operation.response:
        content = {"application/json": {"schema": ref(operation.response)}, **operation.extra_content}
        success: dict[str, Any] = {"description": "OK", "content": content}
    elif operation.media_type == "text/html":
        success = {"description": "An HTML page", "content": {"text/html": {"schema": STRING}}}
    elif operation.status == 204:
        success = {"description": "Done; no body"}
    else:
        success = {"description": "OK", "content": {"application/json": {"schema": OBJECT}}}
    responses: dict[str, Any] = {str(operation.status): success}
    if operation.also_succeeds:
        status, meaning = operation.also_succeeds
        responses[str(status)] = {"description": meaning, "content": success["content"]}
    error = {"application/json": {"schema": ref("Error")}}
    for status in operation.errors:
        responses[str(status)] = {"description": ERRORS[status], "content": error}
    for status, headers in ALWAYS.items():
        responses[str(status)] = {"description": ERRORS[status], "headers": headers, "content": error}
    return dict(sorted(responses.items()))


#: What Porchlight posts to the retailer's own endpoints (OpenAPI 3.1 `webhooks`).
OUTBOUND = {
    "shipment.status_changed": "StatusChangedEvent",
    "shipment.delayed": "DelayedEvent",
    "survey.low_score": "LowScoreEvent",
    "survey.comment_added": "SurveyCommentEvent",
    "webhook.test": "TestEvent",
}


def _outbound(name: str, schema: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": name.replace(".", "_"),
            "summary": RESPONSES[schema]["description"].split(".")[0],
            "parameters": [
                {"name": "X-Porchlight-Signature", "in": "header", "required": True, "schema": STRING},
                {"name": "X-Porchlight-Event-Id", "in": "header", "required": True, "schema": STRING},
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref(schema)}}},
            "responses": {
                "2XX": {"description": "Received. 429 and 5XX are retried with backoff; other answers are final."}
            },
        }
    }


def document(server_url: str = LOCAL_SERVER) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        spec: dict[str, Any] = {
            "operationId": f"{operation.method}_{operation.path}".replace("/", "_").replace("{", "").replace("}", ""),
            "summary": operation.summary,
            "tags": [operation.tag],
            "parameters": _parameters(operation),
            "responses": _responses(operation),
            "security": [{operation.security: []}] if operation.security else [],
        }
        if operation.request:
            spec["requestBody"] = {
                "required": operation.request_required,
                "content": {"application/json": {"schema": ref(operation.request)}},
            }
        paths.setdefault(operation.path, {})[operation.method] = spec
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Porchlight",
            "version": "1",
            "description": "Last-mile delivery notifications: the retailer API, the public tracking JSON and the "
            "carrier webhooks. Every error has the `Error` shape.",
        },
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "webhooks": {name: _outbound(name, schema) for name, schema in OUTBOUND.items()},
        "components": {
            "schemas": dict(sorted({**request_schemas(), **RESPONSES}.items())),
            "securitySchemes": {
                "retailerKey": {"type": "http", "scheme": "bearer", "description": "the retailer's API key"},
                "adminKey": {"type": "http", "scheme": "bearer", "description": "ADMIN_API_KEY (operators only)"},
            },
        },
    }


def main() -> int:
    json.dump(document(), sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
