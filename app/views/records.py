"""Audit rows read back as Chinese sentences (STYLE §6: store codes, translate on display).

A transition row stores `<machine>.<event>` and the states' codes; the machine
registry (app/workflows/engine.py) gives the event's label and the states'
enum gives their labels, so the 操作记录 reads the same whichever language the
row was written in.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import enums
from ..models import AuditLog
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


def summary_label(summary: str | None) -> str:
    """An audit row's stored summary as the screen shows it.

    A code of `SUMMARY_CODES`, or a transition's `<machine>.<event>`, reads in
    the current language, and so does an enum token inside a row's name
    (`{CaseType.INTERNET}#12`); anything else (a row's name, rows written
    before codes were stored) is shown as stored.
    """
    if not summary:
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
    else:
        text = f"{_state_label(machine, before.get('status'))} → {_state_label(machine, after.get('status'))}"
    if after.get("reason"):
        text += "；" + _("Reason") + "：" + after["reason"]
    return text
