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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from ..audit import plain, record_transition, skip_generic_audit
from ..extensions import db
from . import Conflict, DomainError, NotAllowed

Guard = Callable[[Any, Any, dict], Optional[str]]
#: every machine by name, so a stored audit row (`case.assign`) can be read back in Chinese
MACHINES: dict[str, "Machine"] = {}
Effect = Callable[[Any, Any, dict], None]


@dataclass(frozen=True, kw_only=True)
class Transition:
    """One row of a process table: `event` takes a subject from `sources` to `target`.

    `target=None` deletes the subject (the audit row keeps that it happened).
    `who` names the roles of the machine that may take it.
    """

    event: str
    label: Any
    sources: frozenset
    target: Any
    who: frozenset
    guards: tuple = ()
    effect: Optional[Effect] = None


@dataclass(frozen=True, kw_only=True)
class Hint:
    """How an event looks on a page: the fields its form asks for, the button, the confirmation."""

    fields: tuple = ()
    css: str = "btn-default"
    confirm: Any = None


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
        MACHINES[self.name] = self

    def __getitem__(self, event: str) -> Transition:
        return self.transitions[event]

    def __iter__(self):
        return iter(self.transitions.values())

    @property
    def states(self) -> type:
        """The enum of the subject's states."""
        return type(next(iter(next(iter(self.transitions.values())).sources)))

    def hint(self, event: str) -> Hint:
        return self.hints.get(event, Hint())

    def may(self, transition: Transition, subject, actor) -> bool:
        """Whether `actor` holds one of the roles the transition names."""
        return any(self.roles[role](subject, actor) for role in transition.who)

    def available(self, subject, actor) -> list[Action]:
        """What `actor` may do to `subject` now: the buttons of its page."""
        state = getattr(subject, self.state)
        return [Action(t, self.hint(t.event)) for t in self.transitions.values()
                if state in t.sources and self.may(t, subject, actor)]

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
        transition = self._check(subject, event, actor, expected_version, data)
        from_state = getattr(subject, self.state)
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
            if transition.effect:
                transition.effect(subject, actor, data)
            setattr(subject, self.state, transition.target)
            if self.after:
                self.after(subject)
        after = self._columns(subject)
        changed = {k: v for k, v in after.items() if before.get(k) != v and k != self.state}
        record_transition(subject, self.name, event, from_state, transition.target, reason,
                       {k: before.get(k) for k in changed}, changed)
        skip_generic_audit(subject)
        self._flush()
        return subject

    # --- inside -------------------------------------------------------------------

    def _check(self, subject, event, actor, expected_version, data) -> Transition:
        transition = self.transitions.get(event)
        if transition is None:
            raise DomainError(_("Unknown operation."))
        if expected_version is not None and expected_version != getattr(subject, "version", None):
            raise Conflict(self._conflict())
        state = getattr(subject, self.state)
        if state not in transition.sources:
            raise DomainError(_("The %(subject)s is %(status)s and cannot be %(event)s.",
                                subject=str(self.noun), status=state.label if state is not None else "—",
                                event=str(transition.label)))
        if not self.may(transition, subject, actor):
            raise NotAllowed(_("You may not %(event)s this %(subject)s.", event=str(transition.label),
                               subject=str(self.noun)))
        problems = [p for p in (guard(subject, actor, data) for guard in transition.guards) if p]
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
