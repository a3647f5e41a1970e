"""The contract with key-worker systems as OpenAPI 3.1: the API they call, and (under `webhooks`) the events we send.

Served at /api/openapi.json. The event schemas describe exactly what `payloads` builds; the tests
check real deliveries and real API answers against them.
"""

from __future__ import annotations

from typing import Any

from civic.concerns.vocabulary import ABOUT, KNOWS, STATUS, URGENCY
from civic.webhooks import callbacks, payloads
from civic.webhooks.models import API_KEY_WORKS_WHEN, EVENT_TYPES, PING

API_VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties) if required is None else required, **extra}


TIME = {"type": "string", "format": "date-time"}
TEXT = {"type": "string"}
# As civic.schemes.text.typable: no NUL or other control characters but tab and line breaks, no DEL.
NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"

# What the person who raised a concern told us: a concern and each of its duplicates carry it.
TOLD: dict[str, Any] = {
    "raised_at": TIME,
    "urgency": {"type": "string", "enum": list(URGENCY), "description": "how soon the person who raised it asked for someone to look"},
    "about": {"type": "string", "enum": list(ABOUT)},
    "category": _nullable(_object({"slug": TEXT, "name": TEXT})),
    "ward": _nullable(_object({"name": TEXT, "code": _nullable(TEXT)})),
    "person_knows": {"type": "string", "enum": list(KNOWS), "description": "whether the person it is about knows it was raised"},
    "details": {"type": "string", "description": "what is worrying them, in their words"},
    "subject": _object(
        {"name": _nullable(TEXT), "postcode": _nullable({"type": "string", "description": "a whole postcode (NM1 4AB), or only its first part (NM1 4 or NM1) when that is all the person who raised it knew"})},
        description="the person it is about, where given",
    ),
    "reporter": _nullable(
        _object(
            {
                "name": _nullable(TEXT),
                "contact_by": {"type": "string", "enum": ["email", "phone"]},
                "email": _nullable(TEXT),
                "phone": _nullable(TEXT),
            },
            required=["name", "contact_by"],
            description="Only when they agreed to be contacted, and only the way they chose.",
        )
    ),
    "information_added": {"type": "array", "items": _ref("AddedInformation"), "description": "added later by the person who raised it"},
}

SCHEMAS: dict[str, Any] = {
    "ConcernLink": _object(
        {
            "id": {"type": "integer", "description": "civic's number for the concern"},
            "reference": {"type": "string", "description": "the reference the person who raised it was given, like ABCD-2345"},
            "url": {"type": "string", "format": "uri", "description": "where to fetch the concern through this API"},
        },
        description="Just enough to fetch the concern: what a thin payload carries.",
    ),
    "AddedInformation": _object(
        {
            "added_at": TIME,
            "text": TEXT,
            "from_duplicate": _nullable(
                {"type": "string", "description": "the reference of the duplicate whose reporter added it; null when the concern's own reporter did"}
            ),
        }
    ),
    "DuplicateConcern": _object(
        {"reference": {"type": "string", "description": "the duplicate's own reference, which its reporter quotes"}, **TOLD},
        description="A concern the council merged into this one as a duplicate: another account of the same worry. "
        "It is closed, and anything its reporter adds later comes on this concern, with `from_duplicate` saying whose it is.",
    ),
    "Concern": _object(
        {
            "id": {"type": "integer"},
            "reference": TEXT,
            "url": {"type": "string", "format": "uri"},
            "council": _object({"slug": TEXT, "name": TEXT, "url": {"type": "string", "format": "uri"}}),
            "team": _nullable(_object({"id": {"type": "integer"}, "name": TEXT})),
            "referral": _nullable(
                _object(
                    {
                        "id": {"type": "integer"},
                        "referred_at": TIME,
                        "automatic": {"type": "boolean", "description": "true when the category skips triage"},
                        "status": {"type": "string", "enum": ["sent", *callbacks.STATUSES]},
                    }
                )
            ),
            "status": {"type": "string", "enum": list(STATUS), "description": "the council's own status of the concern"},
            "respond_by": TIME,
            **TOLD,
            "duplicates": {"type": "array", "items": _ref("DuplicateConcern"), "description": "concerns merged into this one, oldest first"},
        },
        description="A concern, minimised to what a team needs to act on it.",
    ),
    "KeyWorker": _object(
        {
            "role": {"type": "string", "maxLength": callbacks.ROLE_LIMIT, "pattern": NO_CONTROL_CHARACTERS, "description": "like Family support worker"},
            "first_name": {"type": "string", "maxLength": callbacks.FIRST_NAME_LIMIT, "pattern": NO_CONTROL_CHARACTERS},
        },
        required=[],
        additionalProperties=False,
    ),
    "StatusUpdate": {
        "description": "What happened to a referral. Allowed moves: sent to received, allocated or closed; received to allocated or closed; allocated to allocated (a new key worker) or closed.",
        "oneOf": [
            _object({"status": {"const": "received"}}, additionalProperties=False),
            _object({"status": {"const": "allocated"}, "key_worker": _ref("KeyWorker")}, required=["status"], additionalProperties=False),
            _object(
                {"status": {"const": "closed"}, "outcome": {"type": "string", "enum": list(callbacks.OUTCOMES), "description": "; ".join(f"{k}: {v}" for k, v in callbacks.OUTCOMES.items())}},
                additionalProperties=False,
            ),
        ],
    },
    "StatusResult": _object({"reference": TEXT, "status": {"type": "string", "enum": list(callbacks.STATUSES)}, "updated_at": TIME}),
    "Whoami": _object(
        {
            "endpoint": _object(
                {
                    "id": {"type": "integer"},
                    "name": TEXT,
                    "status": {"type": "string", "enum": list(API_KEY_WORKS_WHEN), "description": "paused: civic stopped sending after failed deliveries; the key still works"},
                    "event_types": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}},
                    "payload_style": {"type": "string", "enum": ["full", "thin"]},
                }
            ),
            "team": _object({"id": {"type": "integer"}, "name": TEXT}),
            "council": _object({"slug": TEXT, "name": TEXT}),
        }
    ),
    "Error": _object({"error": TEXT}),
    "ValidationErrors": _object({"errors": {"type": "object", "additionalProperties": TEXT}}),
}


def _event(event_type: str, data: dict[str, Any], schema: str, description: str) -> dict[str, Any]:
    return _object(
        {
            "type": {"const": event_type},
            "timestamp": TIME,
            "schema": {"const": schema, "description": "the version of this contract; a breaking change gets a new one"},
            "data": data,
        },
        description=description,
    )


SCHEMAS.update(
    {
        "ConcernReferred": _event(
            "concern.referred",
            {"anyOf": [_ref("Concern"), _ref("ConcernLink")], "description": "the concern (full payloads) or where to fetch it (thin)"},
            payloads.SCHEMA,
            "A concern was referred to your team. Act on it, and post `received` once it is in your system.",
        ),
        "ConcernUpdated": _event(
            "concern.updated",
            {
                "anyOf": [
                    {
                        "allOf": [_ref("ConcernLink")],
                        "type": "object",
                        "properties": {
                            "added_information": _nullable(_ref("AddedInformation")),
                            "duplicate": _nullable(_ref("DuplicateConcern")),
                        },
                        "required": ["id", "reference", "url", "added_information", "duplicate"],
                    },
                    _ref("ConcernLink"),
                ]
            },
            payloads.SCHEMA,
            "More on a concern referred to you: the person who raised it, or the person who raised one of its duplicates, "
            "added information (`added_information`), or the council merged a duplicate into it (`duplicate`).",
        ),
        "ConcernWithdrawn": _event(
            "concern.withdrawn",
            {
                "allOf": [_ref("ConcernLink")],
                "type": "object",
                "properties": {
                    "reason": {"type": "string", "enum": ["closed", "merged"]},
                    "merged_into": _nullable(_ref("ConcernLink")),
                },
                "required": ["id", "reference", "url", "reason", "merged_into"],
            },
            payloads.SCHEMA,
            "The council closed a concern it had referred to you, or merged it into another (follow `merged_into`).",
        ),
        "Ping": _event(
            PING,
            _object({"endpoint": _object({"id": {"type": "integer"}, "name": TEXT}), "message": TEXT}),
            payloads.PING_SCHEMA,
            "A test event an administrator sent. Answer 2xx.",
        ),
    }
)

_ERRORS = {
    "401": {"description": "No API key, or one that is not recognised", "content": {"application/json": {"schema": _ref("Error")}}},
    "403": {"description": "A council officer has not yet confirmed your system, so its key reads and updates no concern", "content": {"application/json": {"schema": _ref("Error")}}},
    "404": {"description": "No such concern has been referred to your team", "content": {"application/json": {"schema": _ref("Error")}}},
}
_REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 20}, "description": "like ABCD-2345"}
_WEBHOOK_HEADERS = [
    {"name": "webhook-id", "in": "header", "required": True, "schema": TEXT, "description": "unique per event and the same on every retry: ignore one you have seen"},
    {"name": "webhook-timestamp", "in": "header", "required": True, "schema": TEXT, "description": "seconds since 1970 (UTC) when this attempt was signed"},
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "schema": TEXT,
        "description": "space-separated `v1,<base64 HMAC-SHA256 of id.timestamp.body>`; two while a secret is being changed",
    },
]


def _webhook(name: str, summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": _WEBHOOK_HEADERS,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(name)}}},
            "responses": {
                "2XX": {"description": "Received. Anything else is retried: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (with jitter)."},
                "410": {"description": "This address no longer takes webhooks: civic pauses the endpoint. Nothing more is sent (deliveries wait) until an administrator switches it on again with a test event that succeeds; its API key keeps working."},
                "429": {"description": "Too many: civic waits at least `Retry-After` before trying again (503 likewise)."},
            },
        }
    }


def document(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "civic: key-worker systems",
            "version": API_VERSION,
            "summary": "Concerns referred to early-help teams, sent as signed webhooks; status updates posted back.",
            "description": (
                "civic sends each event to your endpoint as a Standard Webhooks request (see `webhooks`). "
                "Verify `webhook-signature` with your signing secret, de-duplicate by `webhook-id`, answer 2xx quickly. "
                "Call this API with your endpoint's API key as `Authorization: Bearer civic_kw_...`. "
                "Every call is recorded in the concern's access log."
            ),
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "the API key shown once when the endpoint was set up"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/api/v1/me": {
                "get": {
                    "operationId": "whoami",
                    "summary": "Which endpoint, team and council your key belongs to",
                    "responses": {"200": {"description": "Your endpoint", "content": {"application/json": {"schema": _ref("Whoami")}}}, "401": _ERRORS["401"]},
                }
            },
            "/api/v1/concerns/{reference}": {
                "get": {
                    "operationId": "getConcern",
                    "summary": "A concern referred to your team (what a full payload carries)",
                    "parameters": [_REFERENCE],
                    "responses": {"200": {"description": "The concern", "content": {"application/json": {"schema": _ref("Concern")}}}, **_ERRORS},
                }
            },
            "/api/v1/concerns/{reference}/status": {
                "post": {
                    "operationId": "postStatus",
                    "summary": "Say what happened to a referral: received, allocated, or closed with an outcome",
                    "description": "The person who raised the concern sees only safe wording: received, a key worker allocated, closed. Never the outcome.",
                    "parameters": [_REFERENCE],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("StatusUpdate")}}},
                    "responses": {
                        "200": {"description": "Recorded", "content": {"application/json": {"schema": _ref("StatusResult")}}},
                        **_ERRORS,
                        "409": {"description": "Not a move the referral can make now (the message says why)", "content": {"application/json": {"schema": _ref("Error")}}},
                        "422": {"description": "The body is not a valid status update", "content": {"application/json": {"schema": _ref("ValidationErrors")}}},
                    },
                }
            },
        },
        "webhooks": {
            "concern.referred": _webhook("ConcernReferred", "A concern is referred to your team"),
            "concern.updated": _webhook("ConcernUpdated", "More information on a concern referred to you"),
            "concern.withdrawn": _webhook("ConcernWithdrawn", "The council took back a concern it referred to you"),
            "ping": _webhook("Ping", "A test event"),
        },
    }
