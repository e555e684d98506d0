"""Inbound API for outside ministry platforms (总对总) [FAQ 6.3, 6.5; SPEC §7].

    POST /api/v1/ministry/messages       X-Api-Key: <the ministry platform's key>
    {"message_id": "...", "case_number": "（2026）京0105民诉前调1号",
     "type": "receipt" | "outcome", "outcome": "success" | "failure",
     "termination_reason": "TOO_FAR_APART", "reason": "..."}

Idempotent: a message id already seen from that ministry changes nothing and
answers 200 with "duplicate". Bad key 401; bad payload 400; unknown case 404;
a case not assigned to that ministry 403; an illegal transition 409 — each
as {"status": "error", "reason": "<Chinese reason>"}. The view parses, hands
the message to `ministry.receive_message` (validation, the replay guard, the
receipt or the case transition, the kept message) and answers; the request
edge commits once. The OpenAPI description is at /api/v1/ministry/openapi.json.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from ..api_keys import require_key
from ..enums import TerminationReason
from ..extensions import csrf
from ..models import MinistryApiKey
from ..workflows import ministry
from .edge import edge

bp = Blueprint("ministry_api", __name__, url_prefix="/api/v1/ministry")
csrf.exempt(bp)

OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "人民法院调解平台 — 总对总 inbound API", "version": "1.0"},
    "paths": {"/api/v1/ministry/messages": {"post": {
        "summary": "Report assignment receipt or case outcome",
        "security": [{"ApiKey": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["message_id", "case_number", "type"],
            "properties": {
                "message_id": {"type": "string", "maxLength": 64},
                "case_number": {"type": "string"},
                "type": {"type": "string", "enum": ["receipt", "outcome"]},
                "outcome": {"type": "string", "enum": ["success", "failure"]},
                "termination_reason": {"type": "string", "enum": [r.name for r in TerminationReason]},
                "reason": {"type": "string", "maxLength": 500},
            }}}}},
        "responses": {
            "200": {"description": "accepted, or a duplicate that changed nothing"},
            "400": {"description": "invalid payload"}, "401": {"description": "missing or unknown API key"},
            "403": {"description": "the case is not assigned to this ministry"},
            "404": {"description": "unknown case"}, "409": {"description": "the case cannot take this outcome now"},
        }}}},
    "components": {"securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
}


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.post("/messages")
@edge(api=True)
def messages():
    api_key = require_key(MinistryApiKey)
    g.audit_actor_name = f"ministry-api:{api_key.ministry_id}"
    return jsonify(ministry.receive_message(request.get_json(silent=True), api_key.ministry_id))
