"""Audit rows read back as Chinese sentences (STYLE §6: store codes, translate on display).

A transition row stores `<machine>.<event>` and the states' codes; the machine
registry (app/workflows/engine.py) gives the event's label and the states'
enum gives their labels, so the 操作记录 reads the same whichever language the
row was written in.
"""
from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit, clock, enums
from ..extensions import db
from ..models import AuditLog, Ministry
from ..workflows.accounts import ADMIN_CREATED, PASSWORD_CHANGED, PASSWORD_RESET
from ..workflows.engine import MACHINES
from ..workflows.identity import IMAGES_PURGED
from ..workflows.pushes import PUSH_RESENT
from ..workflows.ministry import ORGANISATION_PASSWORD_RESET
from ..workflows.rosters import LIAISON_PASSWORD_SET
from ..workflows.self_service import CODE_LOGIN, SELF_REGISTERED

#: what an explicit audit row (`audit.record`, not a transition) stores in `summary`, in Chinese
SUMMARY_CODES = {
    CODE_LOGIN: _l("Logged in with an SMS code"),
    SELF_REGISTERED: _l("Registered by SMS code"),
    PASSWORD_RESET: _l("Password reset by SMS code"),
    PASSWORD_CHANGED: _l("Password changed"),
    ADMIN_CREATED: _l("Platform administrator created"),
    LIAISON_PASSWORD_SET: _l("Liaison password set by the court"),
    ORGANISATION_PASSWORD_RESET: _l("Organisation password reset"),
    IMAGES_PURGED: _l("ID images deleted after the retention period"),
    PUSH_RESENT: _l("Push sent again by the court"),
    # the names these rows had before the codes above were shared with their writers
    "liaison.password_set": _l("Liaison password set by the court"),
    "organisation.password_reset": _l("Organisation password reset"),
}


#: `{EnumClass.NAME}`, an enum value a generic row's summary stores (app/model_support.py `coded`)
_CODED = re.compile(r"\{([A-Za-z]+)\.([A-Z0-9_]+)\}")


def _enum_label(match: re.Match) -> str:
    enum_class = getattr(enums, match.group(1), None)
    member = getattr(enum_class, "__members__", {}).get(match.group(2))
    return str(member.label) if member is not None else match.group(0)


#: what `str(obj)` of a model without a name stored before audit rows fell back to the object's kind
_DEFAULT_REPR = re.compile(r"^<[\w.]+ object at 0x[0-9a-f]+>$")


def summary_label(summary: str | None) -> str:
    """An audit row's stored summary as the screen shows it.

    A code of `SUMMARY_CODES`, or a transition's `<machine>.<event>`, reads in
    the current language, and so does an enum token inside a row's name
    (`{CaseType.INTERNET}#12`); anything else (a row's name, rows written
    before codes were stored) is shown as stored.
    """
    if not summary or _DEFAULT_REPR.match(summary):
        return ""
    if summary in SUMMARY_CODES:
        return str(SUMMARY_CODES[summary])
    machine_name, _dot, event = summary.partition(".")
    machine = MACHINES.get(machine_name)
    if machine is not None and event in machine.transitions:
        return str(machine[event].label)
    return _CODED.sub(_enum_label, summary)


def summary_text(row: AuditLog) -> str:
    """`summary_label` of a row (for templates that loop over rows)."""
    return summary_label(row.summary)


def _state_label(machine, code) -> str:
    if code is None:
        return "—"
    try:
        return machine.states[code].label
    except KeyError:
        return str(code)


def transition_event(row: AuditLog) -> str:
    """The transition's name (指派, 受理, …) of a TRANSITION row."""
    after = row.after or {}
    machine = MACHINES.get(after.get("machine"))
    if machine is not None and after.get("event") in machine.transitions:
        return str(machine[after["event"]].label)
    return (row.summary or "").split(":", 1)[0]


def transition_text(row: AuditLog) -> str:
    """`待指派 → 调解中；理由：…` of a TRANSITION row."""
    after, before = row.after or {}, row.before or {}
    machine = MACHINES.get(after.get("machine"))
    if machine is None:
        text = (row.summary or "").split(": ", 1)[-1]
    elif before.get("status") == after.get("status"):
        text = ""  # an event that keeps the state (生成调解协议 while 调解中): its name says it all
    else:
        text = f"{_state_label(machine, before.get('status'))} → {_state_label(machine, after.get('status'))}"
    if after.get("reason"):
        text += ("；" if text else "") + _("Reason") + "：" + after["reason"]
    return text


def details_text(row: AuditLog) -> str:
    """The 详情 column of the 操作记录: the transition, or the row's name and the fields it changed."""
    if row.action.name == "TRANSITION":
        return transition_text(row)
    text = summary_label(row.summary)
    if row.action.name == "UPDATE":
        fields = "、".join(dict.fromkeys(f for f, _a, _b in changes(row)))
        if fields:
            text = f"{text}：{fields}" if text else fields
    return text


# --- who, what object, which fields: the 操作记录 in names (issue 15 item 3) -----------------------

#: what each audited table is called on screen
ENTITY_LABELS = {
    "court": _l("Court"),
    "tribunal": _l("People's court (tribunal)"),
    "grassroots_unit": _l("Grassroots unit"),
    "ministry": _l("Ministry"),
    "organisation": _l("Mediation organisation"),
    "court_staff": _l("Court user"),
    "ministry_account": _l("Ministry account"),
    "account_session": _l("Login session"),
    "identity_verification": _l("Real-name verification"),
    "mediator": _l("Mediator"),
    "mediator_court": _l("Mediator certification"),
    "organisation_court": _l("Organisation certification"),
    "case_sequence": _l("Case number sequence"),
    "mediation_case": _l("Case"),
    "case_party": _l("Party"),
    "case_agent": _l("Agent"),
    "case_message": _l("Message"),
    "internet_application": _l("Internet mediation application"),
    "evidence": _l("Evidence"),
    "conflict_declaration": _l("Conflict of interest declaration"),
    "mediator_change": _l("Change of mediator"),
    "agreement": _l("Mediation agreement"),
    "transcript": _l("Mediation transcript"),
    "signature": _l("Signature"),
    "court_application": _l("Application to the court"),
    "application_consent": _l("Consent to an application"),
    "simulated_intranet_inbox": _l("Simulated intranet message"),
    "dispute": _l("Grassroots dispute"),
    "dispute_party": _l("Dispute party"),
    "sms_outbox": _l("SMS"),
    "holiday": _l("Calendar day"),
    "ab_user": _l("Account"),
}

#: columns a transition row stores that no view labels
_EXTRA_FIELDS = {
    "status": _l("Status"),
    "deadline": _l("Mediation deadline"),
    "assigned_at": _l("Assigned at"),
    "closed_at": _l("Closed at"),
    "clock_started_on": _l("Mediation period starts on"),
    "for_signature_at": _l("Sent for signature at"),
    "termination_reason": _l("Termination reason"),
    "termination_note": _l("Termination note"),
    "reviewed_by_id": _l("Reviewed by"),
    "reviewed_at": _l("Reviewed at"),
    "decided_by_id": _l("Decided by"),
    "decided_at": _l("Decided at"),
    "result_note": _l("Result note"),
    "ministry_id": _l("Ministry"),
    "user_id": _l("Account"),
    "case_id": _l("Case"),
    "version": _l("Version"),
}
#: bookkeeping columns, never worth a line
_HIDDEN_FIELDS = {"machine", "event", "reason", "updated_at", "version", "row_version"}


def entity_label(code: str | None) -> str:
    return str(ENTITY_LABELS.get(code or "", _("Other record")))


def _view_labels() -> dict:
    """label_columns of every registered view, by (table, column) and by column alone (the names the
    screens already use; a table's own views first, since `number` is 诉前调解号 on a case and 案号 elsewhere)."""
    labels = current_app.extensions.get("court_field_labels")
    if labels is None:
        labels = {}
        for view in current_app.appbuilder.baseviews:
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            table = getattr(model, "__tablename__", None)
            for key, label in (getattr(view, "label_columns", None) or {}).items():
                if "." not in key and any(ord(ch) > 127 for ch in str(label)):
                    labels.setdefault((table, key), label)
                    labels.setdefault((None, key), label)
        current_app.extensions["court_field_labels"] = labels
    return labels


def field_label(key: str, entity: str | None = None) -> str:
    if key in _EXTRA_FIELDS:
        return str(_EXTRA_FIELDS[key])
    labels = _view_labels()
    label = labels.get((entity, key)) or labels.get((None, key))
    return str(label) if label is not None else _("Other field")


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _enum_of(entity: str | None, key: str):
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == entity:
            column = mapper.columns.get(key)
            return getattr(getattr(column, "type", None), "enum_class", None) if column is not None else None
    return None


def value_label(entity: str | None, key: str, value) -> str:
    """A stored before/after value as the screen shows it: labels for codes, Beijing time, 是/否, —."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str):
        enum_class = _enum_of(entity, key)
        if enum_class is not None and value in enum_class.__members__:
            member = enum_class[value]
            return str(getattr(member, "label", member.name))
        if _ISO_DATETIME.match(value):
            try:
                return clock.shown(dt.datetime.fromisoformat(value), seconds=False)
            except (TypeError, ValueError):
                return value
        if value.startswith("<") and value.endswith(" bytes>"):
            return _("(file contents)")
    if isinstance(value, (dict, list)):
        return _("(structured data)")
    return str(value)


def changes(row: AuditLog) -> list[tuple[str, str, str]]:
    """(field, before, after) of a row, in labels: what changed, nothing else."""
    before, after = row.before or {}, row.after or {}
    keys = [k for k in list(before) + [k for k in after if k not in before] if k not in _HIDDEN_FIELDS]
    out = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if row.action.name in ("UPDATE", "TRANSITION") and old == new:
            continue
        out.append((field_label(key, row.entity), value_label(row.entity, key, old),
                    value_label(row.entity, key, new)))
    return out


def changes_text(row: AuditLog) -> str:
    """`调解期限：2026-12-07 → 2027-01-01；…` of a row (— for no value)."""
    return "；".join(f"{f}：{a} → {b}" if row.action.name != "CREATE" else f"{f}：{b}"
                    for f, a, b in changes(row))


def is_noop(row: AuditLog) -> bool:
    """An UPDATE row whose changes are all bookkeeping (`待受理 → 待受理` says nothing)."""
    return row.action.name == "UPDATE" and not changes(row)


def actor_label(row: AuditLog) -> str:
    """Who acted, by name: an account's name, 系统, an interface, never a phone or a code."""
    name = row.actor_name or ""
    user = None
    if row.actor_id is not None:
        user = db.session.get(_user_model(), row.actor_id)
    elif name and name not in ("system", "anonymous") and ":" not in name:
        user = db.session.scalar(sa.select(_user_model()).where(_user_model().username == name))
    if user is not None:
        person = " ".join(p for p in (user.first_name, user.last_name) if p and p.strip()) or _("Account holder")
        if name.startswith(f"{audit.IMPORT_JOB}:"):
            return _("%(name)s (bulk import)", name=person)  # written by the worker for who queued it
        return person
    if name == "system" or not name:
        return _("System")
    if name.startswith("ministry-api:"):
        ministry = db.session.get(Ministry, int(name.split(":", 1)[1])) if name.split(":", 1)[1].isdigit() else None
        return _("Ministry interface") + (f"（{ministry.name}）" if ministry is not None else "")
    if name.startswith("intranet-api:"):
        return _("Court intranet interface")
    return _("Visitor")


def _user_model():
    return current_app.appbuilder.sm.user_model


def topic_label(topic: str) -> str:
    """An outbox message's topic (`intranet.confirmation`) as the push records and the intranet show it."""
    labels = {
        "ministry.assign": _("Ministry assignment"),
        "intranet.confirmation": _("To the intranet: judicial confirmation"),
        "intranet.mediation_document": _("To the intranet: mediation document"),
        "intranet.filing": _("To the intranet: online filing"),
    }
    return labels.get(topic, _("Other message"))


#: the fields of a push's content (app/workflows/after_mediation.py `hand_over`, case_lifecycle's ministry push)
PAYLOAD_FIELDS = {
    "application_id": _l("Application ID"),
    "kind": _l("Application type"),
    "number": _l("Application number"),
    "case_number": _l("Case number"),
    "intranet_number": _l("Intranet case number"),
    "court": _l("Court"),
    "court_code": _l("Court code"),
    "cause": _l("Cause of action"),
    "applicant": _l("Applicant"),
    "parties": _l("Parties"),
    "summary": _l("Dispute summary"),
    "claims": _l("Claims"),
    "facts": _l("Facts and reasons"),
    "handling_platform": _l("Handling platform"),
    "agreement_sha256": _l("Agreement fingerprint (SHA-256)"),
    "organisation": _l("Mediation organisation"),
    "organisation_credit_code": _l("Unified social credit code"),
}


def _payload_value(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if key == "kind":
        kind = next((k for k in enums.ApplicationKind if k.code == value), None)
        return kind.label if kind is not None else str(value)
    if key == "handling_platform":
        member = enums.HandlingPlatform.__members__.get(value)
        return member.label if member is not None else str(value)
    if key == "parties" and isinstance(value, list):
        people = []
        for p in value:
            role = enums.PartyRole.__members__.get(p.get("role", "")) if isinstance(p, dict) else None
            name = p.get("name", "") if isinstance(p, dict) else str(p)
            people.append(f"{role.label}：{name}" if role is not None else name)
        return "、".join(people)
    if isinstance(value, (dict, list)):
        return _("(structured data)")
    return str(value)


def payload_text(payload) -> str:
    """A push's content as labelled lines (the intranet and the ministries get the JSON itself)."""
    if not isinstance(payload, dict):
        return ""
    return "\n".join(f"{PAYLOAD_FIELDS.get(k, _('Other field'))}：{_payload_value(k, v)}"
                     for k, v in payload.items())
