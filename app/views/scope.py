"""Which cases the acting identity sees, shared by every view of case data (STYLE §7).

- Court users see their court's cases; a mediator the cases assigned to them
  or to their organisation; an organisation's account the cases assigned to it; a ministry account its organisations' cases of
  its region and the historical cases entered with its 部委信息 [FAQ 6.6];
  platform staff everything. Lists, the case page, parties, agents,
  agreements, after-mediation screens and the API all filter with
  `visible_cases`, so a URL naming another court's case answers 404.
- Parties and agents see the cases they are party to or act in
  (`portal_cases`, `load_portal_case`), found by the login's phone [FAQ 3.14].

`current_actor()` is the request's `Actor` for the workflows, which check
permission again themselves: hiding a row here is not the protection.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g

from ..extensions import db
from ..enums import InternetStatus, PartyRole
from ..models import Case, CaseAgent, CaseParty, InternetApplication, Mediator, Organisation, case_shallow
from ..roles import Portal
from ..security import Scope, active_portal, current_scope
from ..workflows.actor import Actor, actor_for
from ..workflows.ministry import in_region


def visible_cases(query, scope: Scope, case=Case):
    """Cases of the acting court, or assigned to the acting mediator (or their organisation)."""
    if scope.court_id is not None:
        return query.filter(case.court_id == scope.court_id)
    if scope.mediator_id is not None:
        org_id = sa.select(Mediator.organisation_id).where(Mediator.id == scope.mediator_id).scalar_subquery()
        return query.filter(sa.or_(
            case.mediator_id == scope.mediator_id,
            sa.and_(case.mediator_id.is_(None), case.organisation_id.is_not(None), case.organisation_id == org_id),
        ))
    if scope.organisation_id is not None:
        # 调解组织端: the cases assigned to the organisation
        return query.filter(case.organisation_id == scope.organisation_id)
    if scope.ministry_id is not None:
        # 总对总: cases with the ministry's organisations of the account's region, and
        # historical cases entered with this ministry's 部委信息 [FAQ 6.6]
        orgs = in_region(sa.select(Organisation.id).where(Organisation.ministry_id == scope.ministry_id), scope)
        return query.filter(sa.or_(case.organisation_id.in_(orgs),
                                   sa.and_(case.has_ministry.is_(True), case.ministry_id == scope.ministry_id)))
    return query.filter(sa.false())


def case_scoped(fn):
    """Like `base.scoped`, but mediators and ministries pass too (their cases, not a court's)."""

    def apply(query):
        scope = current_scope()
        if scope.is_platform:
            return query
        if (scope.court_id is None and scope.mediator_id is None and scope.ministry_id is None
                and scope.organisation_id is None):
            return query.filter(sa.false())
        return fn(query, scope)

    return apply


def _visible_case(pk: int) -> Case | None:
    scope = current_scope()
    query = sa.select(Case).where(Case.id == pk).options(*case_shallow())
    if not scope.is_platform:
        query = visible_cases(query, scope)
    return db.session.scalar(query)


def load_visible_case(pk: int) -> Case:
    """The case `pk` if the acting identity may see it, else 404."""
    case = _visible_case(pk)
    if case is None:
        abort(404)
    return case


def still_visible(pk: int) -> bool:
    """Whether the acting identity still sees case `pk` after what it just did (a mediator who
    declined or was replaced does not: their next page is their case list, not a 404)."""
    return _visible_case(pk) is not None


def party_scope(query, scope: Scope):
    """The parties of the visible cases."""
    return query.filter(CaseParty.case_id.in_(visible_cases(sa.select(Case.id), scope)))


def agent_scope(query, scope: Scope):
    """The agents of the parties of the visible cases."""
    return query.filter(CaseAgent.party_id.in_(
        sa.select(CaseParty.id).where(CaseParty.case_id.in_(visible_cases(sa.select(Case.id), scope)))))


def portal_cases(phone: str, as_agent: bool) -> list[Case]:
    """The cases a party (or, `as_agent`, an agent) with this login phone is in, newest first.

    The ids first, then their rows: with the case's eager joins around the id subquery, PostgreSQL
    planned the joins over every case before filtering (1.2 s at 1 M cases, benchmarks/load.py); a
    list of a few ids is read by primary key."""
    ids = portal_case_id_list(phone, as_agent)
    if not ids:
        return []
    return db.session.scalars(sa.select(Case).where(Case.id.in_(ids)).options(*case_shallow())
                              .order_by(Case.id.desc())).all()


def portal_case_id_list(phone: str, as_agent: bool) -> list[int]:
    """The ids of `portal_cases` themselves: a party has a few, and filtering by the list lets
    PostgreSQL read the cases by primary key (see `portal_cases`)."""
    return db.session.scalars(portal_case_ids(phone, as_agent)).all()


def portal_case_ids(phone: str, as_agent: bool) -> sa.Select:
    """The ids of `portal_cases`, as a subquery (the API filters with it)."""
    if as_agent:
        party_ids = sa.select(CaseAgent.party_id).where(CaseAgent.phone == phone)
        case_ids = sa.select(CaseParty.case_id).where(CaseParty.id.in_(party_ids))
    else:
        case_ids = sa.select(CaseParty.case_id).where(CaseParty.phone == phone)
    # an internet application reaches the other side only once a mediator accepted it
    unaccepted = sa.select(InternetApplication.case_id).where(
        InternetApplication.status.in_((InternetStatus.CHOOSING, InternetStatus.WAITING)),
        InternetApplication.case_id.not_in(sa.select(CaseParty.case_id).where(
            CaseParty.phone == phone, CaseParty.role == PartyRole.APPLICANT)))
    return sa.select(Case.id).where(Case.id.in_(case_ids), Case.id.not_in(unaccepted))


def portal_identity() -> tuple[str, bool]:
    """(phone, as_agent) of the logged-in party or agent; 403 for any other portal."""
    portal = active_portal()
    if portal not in (Portal.PARTY, Portal.AGENT):
        abort(403)
    return g.user.username, portal is Portal.AGENT


def load_portal_case(pk: int) -> Case:
    """The case `pk` if the logged-in party or agent is in it, else 404."""
    phone, as_agent = portal_identity()
    case = next((c for c in portal_cases(phone, as_agent) if c.id == pk), None)
    if case is None:
        abort(404)
    return case


def current_actor() -> Actor:
    """Who acts in this request, for the workflows: resolved once per request (a FAB
    `pre_add` then reads it without a query flushing the half-built row)."""
    if "actor" not in g:
        g.actor = actor_for(g.user.id if g.user else None, current_scope())
    return g.actor
