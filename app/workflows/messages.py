"""留言 on a case: the parties, their agents and the mediator write to each other [issue 14 item 6;
SPEC §3.4].

Who: the case's mediator (or a mediator of the organisation it went to), a party and an agent of
the case write and read; the case's court reads (read-only); nobody else sees a message — not
another court, not a party of another case, not the platform's ministries. Every message is an
SMS to the other people of the case (the text says who wrote, never what: a message may be
private), and an audit row (the generic create row of `CaseMessage`).

A message has no lifecycle — written once, never edited or withdrawn — so this is no `Machine`:
`post` checks who, checks the text, adds the row and flushes; it never commits.
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from ..enums import MessageAuthor, SmsKind
from ..extensions import db
from ..models import Case, CaseMessage, Mediator
from ..sms import send_sms
from . import DomainError, NotAllowed
from .actor import Actor
from .agreements import identities_of

MAX_LENGTH = 1000


def author_of(case: Case, actor: Actor) -> Optional[tuple[MessageAuthor, str]]:
    """(role, name) of `actor` writing on `case`: its mediator, a party, or an agent; None otherwise."""
    if actor.is_mediator_of(case):
        mediator = db.session.get(Mediator, actor.scope.mediator_id)
        return MessageAuthor.MEDIATOR, mediator.name if mediator is not None else ""
    identities = identities_of(case, actor)
    if not identities:
        return None
    party, agent = identities[0]
    if agent is not None:
        return MessageAuthor.AGENT, agent.name
    return MessageAuthor.PARTY, party.name


def may_write(case: Case, actor: Actor) -> bool:
    return author_of(case, actor) is not None


def may_read(case: Case, actor: Actor) -> bool:
    """The case's people, and its court read-only."""
    return may_write(case, actor) or actor.is_court_staff_of(case)


def messages_of(case: Case, actor: Actor) -> list[CaseMessage]:
    """The case's messages, oldest first; NotAllowed for anyone but the case's people and court."""
    if not may_read(case, actor):
        raise NotAllowed(_("Only the case's mediator, parties and agents, and its court, see its messages."))
    return list(db.session.scalars(sa.select(CaseMessage).where(CaseMessage.case_id == case.id)
                                   .order_by(CaseMessage.id)))


def _recipients(case: Case, actor: Actor) -> list[str]:
    """Everyone of the case but the author: the mediator, the parties, the agents (by phone)."""
    phones = set()
    if case.mediator is not None and case.mediator.phone:
        phones.add(case.mediator.phone)
    for party in case.parties:
        if party.phone:
            phones.add(party.phone)
        phones.update(agent.phone for agent in party.agents if agent.phone)
    author_phones = {p.phone for p, a in identities_of(case, actor) if a is None}
    author_phones |= {a.phone for _p, a in identities_of(case, actor) if a is not None}
    if actor.is_mediator_of(case):
        mediator = db.session.get(Mediator, actor.scope.mediator_id)
        author_phones.add(mediator.phone if mediator is not None else None)
    return sorted(phones - author_phones)


def post(case: Case, actor: Actor, body: str) -> CaseMessage:
    """Leave a message on `case`; the other people of the case are told by SMS."""
    author = author_of(case, actor)
    if author is None:
        raise NotAllowed(_("Only the case's mediator, parties and agents leave messages on it."))
    text = (body or "").strip()
    if not text:
        raise DomainError(_("Write the message first."))
    if len(text) > MAX_LENGTH:
        raise DomainError(_("A message is at most %(n)d characters.", n=MAX_LENGTH))
    role, name = author
    message = CaseMessage(case_id=case.id, author_id=actor.user_id, author_role=role, author_name=name,
                          body=text)
    db.session.add(message)
    for phone in _recipients(case, actor):
        send_sms(phone, SmsKind.NOTICE, _("%(role)s %(name)s left a message on case "
                                          "%(number)s; read it on the platform.", role=role.label, name=name,
                                          number=str(case)))
    db.session.flush()
    return message
