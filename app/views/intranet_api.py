"""Result-sync API for the court intranet (内网办案系统) [FAQ 3.4–3.6; SPEC §7].

    POST /api/v1/intranet/results        X-Api-Key: <the intranet's key>
    {"message_id": "<the hand-over's message id>",
     "result": "received" | "confirmed" | "rejected" | "issued" | "filed",
     "number": "（2026）京0105民初123号",   # filed: required (民初); confirmed: the 调确 ruling number
     "reason": "..."}                       # rejected: required

Idempotent: one receipt and one result per hand-over; a replay answers 200
with "duplicate" and the first result, and changes nothing. Bad or missing
key 401; malformed body 400; unknown message id (or another court's, for a
court key) 404; a result the application cannot take now 409 — each with a
Chinese reason, answered by the request edge (`@edge(api=True)`). The
replay guard, including two copies arriving at once, lives in
`after_mediation.receive_result`; the simulated intranet page goes through it
too, so both paths are audited alike.
The OpenAPI description is at /api/v1/intranet/openapi.json.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

from ..extensions import csrf
from ..models import IntranetApiKey
from ..workflows import after_mediation
from .edge import edge
from ..api_keys import key_from_header

bp = Blueprint("intranet_api", __name__, url_prefix="/api/v1/intranet")
csrf.exempt(bp)

_REASON = {"type": "object", "properties": {"status": {"type": "string"}, "reason": {"type": "string"}}}
OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "人民法院调解平台 — 内网办案系统 result API", "version": "1.0",
             "description": "The intranet acknowledges a hand-over and returns its result: 司法确认 "
                            "confirmed/rejected (ruling number 调确), 调解书 issued, 在线立案 filed (民初 number)."},
    "paths": {"/api/v1/intranet/results": {"post": {
        "summary": "Acknowledge a hand-over or return its result",
        "security": [{"ApiKey": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["message_id", "result"],
            "properties": {
                "message_id": {"type": "string", "maxLength": 36,
                               "description": "message_id of the hand-over the intranet received"},
                "result": {"type": "string", "enum": ["received", "confirmed", "rejected", "issued", "filed"]},
                "number": {"type": "string", "maxLength": 64,
                           "description": "filed: the 民初 case number (required); confirmed: the 调确 number"},
                "reason": {"type": "string", "maxLength": 500, "description": "rejected: required"},
            }}}}},
        "responses": {
            "200": {"description": "applied (status ok), or a replay that changed nothing (status duplicate)",
                    "content": {"application/json": {"schema": {"type": "object", "properties": {
                        "status": {"type": "string", "enum": ["ok", "duplicate"]},
                        "result": {"type": "string"}, "application_status": {"type": "string"},
                        "number": {"type": "string"}, "result_number": {"type": "string"}}}}}},
            "400": {"description": "invalid body", "content": {"application/json": {"schema": _REASON}}},
            "401": {"description": "missing or unknown API key"},
            "404": {"description": "unknown message id"},
            "409": {"description": "the application cannot take this result now"},
        }}}},
    "components": {"securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
}


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.post("/results")
@edge(api=True)
def results():
    api_key = key_from_header(IntranetApiKey)
    if api_key is None:
        return jsonify(status="error", reason=_("Missing or unknown API key.")), 401
    g.audit_actor_name = f"intranet-api:{api_key.court_id or 'all'}"
    return jsonify(after_mediation.receive_result(request.get_json(silent=True), "api", api_key.court_id))
