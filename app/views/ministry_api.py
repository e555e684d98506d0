"""Inbound API for outside ministry platforms (总对总) [FAQ 6.3, 6.5; SPEC §7].

    POST /api/v1/ministry/messages       X-Api-Key: <the ministry platform's key>
    {"message_id": "...", "case_number": "（2026）京0105民诉前调1号",
     "type": "receipt" | "outcome", "outcome": "success" | "failure",
     "termination_reason": "TOO_FAR_APART", "reason": "..."}

Idempotent: a message id already seen from that ministry changes nothing and
answers 200 with "duplicate". Bad key 401; bad payload 400; unknown case 404;
a case not assigned to that ministry 403; an illegal transition 409 — each
with a reason. Every accepted message is kept (inbound_message) and every
status change goes through the case state machine, so it is audited.
The OpenAPI description is at /api/v1/ministry/openapi.json.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request

from ..api_keys import key_from_header
from ..enums import TerminationReason
from ..extensions import csrf, db
from ..models import Case, InboundMessage, MinistryApiKey, OutboxMessage, utcnow
from ..security import Scope
from ..workflows import DomainError, case_lifecycle

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


def _error(status: int, reason: str):
    return jsonify(status="error", reason=reason), status


def _validate(body) -> str | None:
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for field in ("message_id", "case_number", "type"):
        if not isinstance(body.get(field), str) or not body[field].strip():
            return f"{field} is required"
    if len(body["message_id"]) > 64:
        return "message_id is too long"
    if body["type"] not in ("receipt", "outcome"):
        return "type must be receipt or outcome"
    if body["type"] == "outcome":
        if body.get("outcome") not in ("success", "failure"):
            return "outcome must be success or failure"
        if body["outcome"] == "failure" and body.get("termination_reason") not in TerminationReason.__members__:
            return "termination_reason is required for a failure"
    return None


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.post("/messages")
def messages():
    api_key = key_from_header(MinistryApiKey)
    if api_key is None:
        return _error(401, "missing or unknown API key")
    g.audit_actor_name = f"ministry-api:{api_key.ministry_id}"
    body = request.get_json(silent=True)
    problem = _validate(body)
    if problem:
        return _error(400, problem)
    seen = db.session.scalar(sa.select(InboundMessage).where(
        InboundMessage.ministry_id == api_key.ministry_id, InboundMessage.message_id == body["message_id"]))
    if seen is not None:
        return jsonify(status="duplicate", result=seen.result)
    case = db.session.scalar(sa.select(Case).where(Case.number == body["case_number"]))
    if case is None:
        return _error(404, "unknown case")
    actor = case_lifecycle.Actor(None, Scope(portal=None, ministry_id=api_key.ministry_id))
    if not actor.is_ministry_of(case):
        return _error(403, "the case is not assigned to this ministry")
    if body["type"] == "receipt":
        db.session.execute(sa.update(OutboxMessage).where(
            OutboxMessage.case_id == case.id, OutboxMessage.topic == "ministry.assign",
            OutboxMessage.acknowledged_at.is_(None)).values(acknowledged_at=utcnow()))
        result = "receipt recorded"
    else:
        event = "ministry_success" if body["outcome"] == "success" else "ministry_failure"
        data = {"reason": body.get("reason") or ""}
        if event == "ministry_failure":
            data["termination_reason"] = TerminationReason[body["termination_reason"]]
        try:
            case_lifecycle.apply(case, event, actor, **data)
        except DomainError as exc:
            db.session.rollback()
            return _error(409, exc.message)
        result = f"case is now {case.status.name}"
    db.session.add(InboundMessage(ministry_id=api_key.ministry_id, message_id=body["message_id"], payload=body,
                                  result=result))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # the same message arrived twice at once: the other request applied it
        db.session.rollback()
        return jsonify(status="duplicate", result="")
    return jsonify(status="ok", result=result)
