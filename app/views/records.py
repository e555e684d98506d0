"""Audit rows read back as Chinese sentences (STYLE §6: store codes, translate on display).

A transition row stores `<machine>.<event>` and the states' codes; the machine
registry (app/workflows/engine.py) gives the event's label and the states'
enum gives their labels, so the 操作记录 reads the same whichever language the
row was written in.
"""
from __future__ import annotations

from flask_babel import gettext as _

from ..models import AuditLog
from ..workflows.engine import MACHINES


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
