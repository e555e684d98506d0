"""The one engine every process runs on (STYLE §3–§6).

A process is a `Machine`: a table of `Transition` rows, a map from the names
used in `who` to predicates `(subject, actor) -> bool`, and the UI hints of
its events kept beside the table (`Hint`: form fields, button style,
confirmation), never inside a domain row.

`Machine.apply(subject, event, actor, **data)` checks, in this order:
the event exists; the version the form was rendered with (when it sent one);
the state; who may act; every guard — each returns `None` or a translated
reason, and all reasons are reported together. Only then does it run the
effect, set the target state, let the machine recompute what follows from the
new state (`after`), write one audit row (machine, event, from → to, reason,
the changed columns, as codes: the screen translates them) and flush. It never
commits: the request edge does (app/views/edge.py).

One concurrency mechanism: every subject has a `version` column mapped as
SQLAlchemy's `version_id_col`, so the flush is `UPDATE … WHERE id = :id AND
version = :seen`. A second writer that read the same row matches nothing and
gets `Conflict` instead of a second transition — a double click, two clerks,
or two workers claiming one export job.

A subject a transition brings into being (an application, a certification
link) has no state before: its rows name `NEW` among their sources and
`Machine.create(subject, event, actor, **data)` runs them on a row not yet
stored — the same checks, then the effect, the first state, the insert (in a
SAVEPOINT: the same thing created twice at once meets its unique key and is a
`Conflict`) and the audit row. A *derived* state (`Machine(derive=...)`) is
computed from the subject's columns instead of stored — an organisation is
bound iff it has a ministry; the effect establishes it, and the engine checks
afterwards that the derived state is the row's target.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from ..audit import plain, record_transition, skip_generic_audit
from ..extensions import db
from . import Conflict, DomainError, NotAllowed

Guard = Callable[[Any, Any, dict], Optional[str]]
#: every machine by name, so a stored audit row (`case.assign`) can be read back in Chinese
MACHINES: dict[str, "Machine"] = {}
Effect = Callable[[Any, Any, dict], None]


class _New:
    """The state of a subject that does not exist yet: the source of the rows that create it."""

    name = "NEW"
    label = "—"

    def __repr__(self) -> str:
        return "NEW"


NEW = _New()


@dataclass(frozen=True, kw_only=True)
class Transition:
    """One row of a process table: `event` takes a subject from `sources` to `target`.

    `target=None` deletes the subject (the audit row keeps that it happened).
    `who` names the roles of the machine that may take it.
    `offered_when` are guards on the subject alone (never the form's data): checked like `guards`, and
    also where the buttons are chosen, so a step that could never pass is not offered (a 立案调解 case
    has no 总对总调解 button rather than a button that always refuses).
    """

    event: str
    label: Any
    sources: frozenset
    target: Any
    who: frozenset
    guards: tuple = ()
    effect: Optional[Effect] = None
    offered_when: tuple = ()


@dataclass(frozen=True, kw_only=True)
class Hint:
    """How an event looks on a page: the fields its form asks for, the button, the confirmation."""

    fields: tuple = ()
    #: the fields of `fields` the form marks as required (a red star)
    required: tuple = ()
    css: str = "btn-default"
    confirm: Any = None
    #: the success message, `done(subject)`, where "<event>成功" would say more than happened
    done: Optional[Callable[[Any], str]] = None


@dataclass(frozen=True)
class Action:
    """A transition offered to an actor now, with its hint: what a template loops over."""

    transition: Transition
    hint: Hint

    @property
    def event(self) -> str:
        return self.transition.event

    @property
    def label(self) -> str:
        return str(self.transition.label)

    @property
    def fields(self) -> tuple:
        return self.hint.fields

    @property
    def required(self) -> tuple:
        return self.hint.required

    @property
    def css(self) -> str:
        return self.hint.css

    @property
    def confirm(self) -> Optional[str]:
        return str(self.hint.confirm) if self.hint.confirm else None


@dataclass
class Machine:
    """A process: its table, its roles, its hints, and how a change is recorded."""

    name: str
    transitions: Iterable[Transition]
    roles: dict[str, Callable[[Any, Any], bool]]
    hints: dict[str, Hint] = field(default_factory=dict)
    #: the subject's state attribute
    state: str = "status"
    #: a state computed from the subject's columns instead of stored (`state` is then unused)
    derive: Optional[Callable[[Any], Any]] = None
    #: recompute what follows from the new state (a deadline, a clock); runs after the target is set
    after: Optional[Callable[[Any], None]] = None
    #: the columns left out of the audit row's before/after (besides the version)
    unaudited: frozenset = frozenset()
    #: what the subject is called in a refusal ("the case is 调解中 and cannot …")
    noun: Any = ""
    conflict_message: Any = None

    def __post_init__(self):
        self.transitions = {t.event: t for t in self.transitions}
        unknown = {w for t in self.transitions.values() for w in t.who} - set(self.roles)
        if unknown:
            raise ValueError(f"{self.name}: roles {sorted(unknown)} have no predicate")
        for event, hint in self.hints.items():
            if not set(hint.required) <= set(hint.fields):
                raise ValueError(f"{self.name}.{event}: a required field that is not asked for")
        MACHINES[self.name] = self

    def __getitem__(self, event: str) -> Transition:
        return self.transitions[event]

    def __iter__(self):
        return iter(self.transitions.values())

    @property
    def states(self) -> type:
        """The enum of the subject's states (read from the targets: a source may be `NEW`)."""
        return type(next(t.target for t in self.transitions.values() if t.target is not None))

    def state_of(self, subject):
        """The subject's state: derived, stored, or `NEW` for a row that has none yet."""
        if self.derive is not None:
            return self.derive(subject)
        state = getattr(subject, self.state)
        return NEW if state is None else state

    def hint(self, event: str) -> Hint:
        return self.hints.get(event, Hint())

    def may(self, transition: Transition, subject, actor) -> bool:
        """Whether `actor` holds one of the roles the transition names."""
        return any(self.roles[role](subject, actor) for role in transition.who)

    def available(self, subject, actor) -> list[Action]:
        """What `actor` may do to `subject` now: the buttons of its page."""
        state = self.state_of(subject)
        return [Action(t, self.hint(t.event)) for t in self.transitions.values()
                if state in t.sources and self.may(t, subject, actor)
                and not any(guard(subject, actor, {}) for guard in t.offered_when)]

    def refusals(self, subject, event: str, actor, **data) -> list[str]:
        """Every reason `event` would be refused now (state, who, guards); empty: it would run."""
        try:
            self._check(subject, event, actor, None, data)
        except DomainError as exc:
            return [exc.message]
        return []

    def apply(self, subject, event: str, actor, expected_version: Optional[int] = None, **data):
        """Run `event` on `subject` for `actor`; raise a DomainError, nothing changed, when refused.

        Returns the subject, or None when the transition deleted it.
        """
        if self.state_of(subject) is NEW:
            raise ValueError(f"{self.name}: a subject with no state yet is created (Machine.create)")
        transition = self._check(subject, event, actor, expected_version, data)
        from_state = self.state_of(subject)
        reason = data.get("reason")
        if transition.target is None:
            if transition.effect:
                with db.session.no_autoflush:
                    transition.effect(subject, actor, data)
            record_transition(subject, self.name, event, from_state, None, reason)
            db.session.delete(subject)
            self._flush()
            return None
        before = self._columns(subject)
        # The effect and `after` may query; an autoflush in between would write the
        # half-changed subject on its own (a generic audit row, a raw stale-data error).
        # The one flush below is the transition's write.
        with db.session.no_autoflush:
            self._enter(subject, transition, actor, data)
        after = self._columns(subject)
        changed = {k: v for k, v in after.items() if before.get(k) != v and k != self.state}
        record_transition(subject, self.name, event, from_state, transition.target, reason,
                          {k: before.get(k) for k in changed}, changed)
        skip_generic_audit(subject)
        self._flush()
        return subject

    def create(self, subject, event: str, actor, duplicate: Any = None, **data):
        """Run `event`, a row with `NEW` among its sources, on `subject`: a row not stored yet.

        The same checks as `apply`; then the effect, the first state, the insert and
        one audit row (besides the audit hook's create row). `duplicate` is the
        refusal when the row meets a unique key, i.e. the same thing was created
        at the same time by someone else (default: the machine's conflict message).
        """
        transition = self._check(subject, event, actor, None, data)
        if NEW not in transition.sources:
            raise ValueError(f"{self.name}.{event} does not create its subject")
        with db.session.no_autoflush:
            self._enter(subject, transition, actor, data)
        insert_or_conflict(subject, duplicate or self._conflict())
        record_transition(subject, self.name, event, None, transition.target, data.get("reason"))
        self._flush()
        return subject

    # --- inside -------------------------------------------------------------------

    def _enter(self, subject, transition: Transition, actor, data: dict) -> None:
        """The effect, then the target: stored, or (derived) checked to be what the effect made."""
        if transition.effect:
            transition.effect(subject, actor, data)
        if self.derive is not None:
            reached = self.derive(subject)
            if reached != transition.target:
                raise RuntimeError(f"{self.name}.{transition.event} left its subject {reached!r}, "
                                   f"not {transition.target!r}")
        else:
            setattr(subject, self.state, transition.target)
        if self.after:
            self.after(subject)

    def _check(self, subject, event, actor, expected_version, data) -> Transition:
        transition = self.transitions.get(event)
        if transition is None:
            raise DomainError(_("Unknown operation."))
        if expected_version is not None and expected_version != getattr(subject, "version", None):
            raise Conflict(self._conflict())
        state = self.state_of(subject)
        if state not in transition.sources:
            raise DomainError(_("The %(subject)s is %(status)s and cannot be %(event)s.",
                                subject=str(self.noun), status=state.label, event=str(transition.label)))
        if not self.may(transition, subject, actor):
            raise NotAllowed(_("You may not %(event)s this %(subject)s.", event=str(transition.label),
                               subject=str(self.noun)))
        problems = [p for p in (guard(subject, actor, data)
                                for guard in (*transition.offered_when, *transition.guards)) if p]
        if problems:
            raise DomainError(" ".join(str(p) for p in problems))
        return transition

    def _flush(self) -> None:
        flush_or_conflict(self._conflict())

    def _conflict(self) -> str:
        return str(self.conflict_message or _("Someone else changed this in the meantime. Reload the page "
                                                "and try again."))

    def _columns(self, subject) -> dict:
        skip = {"version"} | set(self.unaudited)
        return {c.key: plain(getattr(subject, c.key)) for c in type(subject).__table__.columns
                if c.key not in skip}


def flush_or_conflict(message: Any = None) -> None:
    """Flush; a row someone else changed since it was read (its version moved on) is a `Conflict`."""
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise Conflict(str(message or _("Someone else changed this in the meantime. Reload the page and "
                                         "try again."))) from exc


def insert_or_conflict(row, message: Any = None) -> None:
    """Insert `row` in a SAVEPOINT; a unique key it meets (the same row created at the same
    time by someone else) is a `Conflict`, and the rest of the transaction is untouched."""
    db.session.flush()  # what is pending already is not this row's to answer for
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except sa.exc.IntegrityError as exc:
        raise Conflict(str(message or _("Someone else changed this in the meantime. Reload the page and "
                                         "try again."))) from exc
