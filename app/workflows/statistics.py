"""质效指标: the case statistics report and the case rows behind each figure (SPEC §6, FAQ 2.4).

A report counts the *cohort* of cases received in the period (收案日期 in
[start, end]) and tells where each of them stood at the period's end:

- 收案数 received: every case of the cohort;
- 在调数 mediating: not concluded by the end (still open, or concluded later);
- 调解成功数 ended / 调解终止数 terminated: concluded by the end with or without agreement;
- 调解成功率: ended ÷ (ended + terminated);
- 平均调解时长: mean days from receipt to conclusion, over concluded cases;
- 逾期数 overdue: still open and past its deadline at min(end, today);
- 司法确认数 / 转立案数: cases whose 司法确认 was confirmed / whose filing reached the intranet.

A case's state is its current one: a case terminated and then continued
(继续调解) is mediating again; a deleted case is gone from every figure.

Who counts what (`Reach`): a court its own cases and those of its
subordinate courts, a ministry account its organisations' cases, an
organisation's account its own cases, the platform everything. A `Reach` is plain data so a background export can
carry it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Iterator, Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Float, String

from .. import clock
from ..enums import ApplicationKind, ApplicationStatus, CaseStatus, CaseType, CertificationStatus
from ..extensions import db
from ..models import (Case, CaseStatDirty, CaseStatMonth, CaseStatRollup, Court, CourtApplication, Mediator, MediatorCourt,
                      Organisation, OrganisationCourt)
from ..security import Scope
from . import DomainError, ValidationFailed
from .ministry import in_region

S = CaseStatus
OPEN = (S.TO_ASSIGN, S.TO_ACCEPT, S.MEDIATING, S.CLOSE_REQUESTED)

#: the longest period one report may span
MAX_PERIOD_DAYS = 3 * 366


# --- who counts what ------------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """The cases a statistics user may count. `None` means no restriction on that axis."""

    court_ids: Optional[tuple[int, ...]] = None
    organisation_ids: Optional[tuple[int, ...]] = None

    def apply(self, stmt, case=Case):
        if self.court_ids is not None:
            stmt = stmt.where(case.court_id.in_(self.court_ids))
        if self.organisation_ids is not None:
            stmt = stmt.where(case.organisation_id.in_(self.organisation_ids))
        return stmt

    def to_json(self) -> dict:
        return {k: list(v) if v is not None else None for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> "Reach":
        return cls(**{k: tuple(v) if v is not None else None for k, v in data.items()})


def court_and_subordinates(court_id: int) -> tuple[int, ...]:
    """The court and every court below it (a high court sees its province): one query per level below
    it, so a basic court — most of them — asks once and gets nothing back."""
    found, level = [court_id], [court_id]
    while level:
        level = [c for c in db.session.scalars(sa.select(Court.id).where(Court.parent_id.in_(level)))
                 if c not in found]
        found.extend(level)
    return tuple(sorted(found))


def reach_for(scope: Scope) -> Optional[Reach]:
    """What `scope` may count, or None when it may count nothing."""
    if scope.is_platform:
        return Reach()
    if scope.court_id is not None:
        return Reach(court_ids=court_and_subordinates(scope.court_id))
    if scope.organisation_id is not None:  # 调解组织端: its own cases
        return Reach(organisation_ids=(scope.organisation_id,))
    if scope.ministry_id is not None:
        orgs = in_region(sa.select(Organisation.id).where(Organisation.ministry_id == scope.ministry_id), scope)
        return Reach(organisation_ids=tuple(db.session.scalars(orgs)))
    return None


# --- what is asked --------------------------------------------------------------

class Dimension:
    MEDIATOR = "mediator"
    ORGANISATION = "organisation"
    COURT = "court"
    CASE_TYPE = "case_type"
    #: the dashboard's bars: the month of 收案日期 ('YYYY-MM'); no report of its own, so not in DIMENSIONS
    MONTH = "month"


DIMENSIONS = {
    Dimension.MEDIATOR: _l("By mediator"),
    Dimension.ORGANISATION: _l("By mediation organisation"),
    Dimension.COURT: _l("By court"),
    Dimension.CASE_TYPE: _l("By case type"),
}

#: what one row of each report is, for titles and sheet names
ROW_NOUNS = {
    Dimension.MEDIATOR: _l("Mediator"),
    Dimension.ORGANISATION: _l("Mediation organisation"),
    Dimension.COURT: _l("Court"),
    Dimension.CASE_TYPE: _l("Case type"),
}

#: the name of the row of cases without a mediator / organisation / court / type
NONE_LABELS = {
    Dimension.MEDIATOR: _l("(no mediator)"),
    Dimension.ORGANISATION: _l("(no organisation)"),
    Dimension.COURT: _l("(no court yet)"),
    Dimension.CASE_TYPE: _l("(none)"),
}

FIGURES = {
    "received": _l("Cases received"),
    "mediating": _l("In mediation"),
    "ended": _l("Ended with agreement"),
    "terminated": _l("Terminated"),
    "success_rate": _l("Success rate"),
    "average_days": _l("Average duration (days)"),
    "confirmed": _l("Judicial confirmations"),
    "filed": _l("Turned into filings"),
    "overdue": _l("Overdue"),
}
#: the figures that are case counts, so a click can list their cases
COUNTED = ("received", "mediating", "ended", "terminated", "confirmed", "filed", "overdue")

NO_KEY = "none"


@dataclass(frozen=True)
class Query:
    """One report request, validated."""

    by: str
    start: dt.date
    end: dt.date
    case_type: Optional[CaseType] = None
    court_id: Optional[int] = None

    @property
    def end_exclusive(self) -> dt.datetime:
        return clock.day_start(self.end + dt.timedelta(days=1))

    @property
    def overdue_on(self) -> dt.date:
        """Overdue means past the deadline on this day: the period's end, or today if earlier."""
        return min(self.end + dt.timedelta(days=1), clock.today())

    def args(self) -> dict:
        """The query as URL arguments (for links and background jobs)."""
        out = {"by": self.by, "start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.case_type:
            out["case_type"] = self.case_type.value
        if self.court_id:
            out["court_id"] = str(self.court_id)
        return out


def default_period(on: Optional[dt.date] = None) -> tuple[dt.date, dt.date]:
    """From 1 January to `on` (default: today in Beijing)."""
    on = on or clock.today()
    return dt.date(on.year, 1, 1), on


def parse_query(args, reach: Reach) -> Query:
    """A `Query` from request arguments; ValidationFailed (Chinese messages) on bad input."""
    errors = []
    by = args.get("by") or Dimension.MEDIATOR
    if by not in DIMENSIONS:
        errors.append(_("Unknown report dimension."))
    default_start, default_end = default_period()
    start = _date(args.get("start"), default_start, errors, _("Start date"))
    end = _date(args.get("end"), default_end, errors, _("End date"))
    if start and end:
        if start > end:
            errors.append(_("The start date must not be after the end date."))
        elif (end - start).days > MAX_PERIOD_DAYS:
            errors.append(_("A report covers at most three years."))
    case_type = None
    if args.get("case_type"):
        try:
            case_type = CaseType(args["case_type"])
        except ValueError:
            errors.append(_("Unknown case type."))
    court_id = None
    if args.get("court_id"):
        try:
            court_id = int(args["court_id"])
        except ValueError:
            court_id = -1
        if reach.court_ids is not None and court_id not in reach.court_ids or court_id < 0:
            errors.append(_("You cannot see that court's figures."))
    if errors:
        raise ValidationFailed(_("The report was not run:"), errors)
    return Query(by=by, start=start, end=end, case_type=case_type, court_id=court_id)


def _date(text, default, errors, label):
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append(_("%(field)s is not a date (YYYY-MM-DD).", field=label))
        return None


# --- the counting -----------------------------------------------------------------

#: Beijing is UTC+8 all year (no summer time since 1991)
BEIJING_OFFSET_DAYS = 8 / 24


class days_between(ColumnElement):
    """Days from a Beijing date (收案日期) to a stored instant (naive UTC, 结案时间), as a float, on SQLite and
    PostgreSQL. The date's day began at 00:00 Beijing, which is 16:00 UTC the day before: hence + 8 h."""

    type = Float()
    inherit_cache = True
    #: without these SQLAlchemy has no cache key for the element, so every statement holding it (each
    #: report and dashboard query) was compiled again on every request
    _traverse_internals = [("later", InternalTraversal.dp_clauseelement),
                           ("earlier", InternalTraversal.dp_clauseelement)]

    def __init__(self, later, earlier):
        self.later = later
        self.earlier = earlier


@compiles(days_between)
def _days_default(element, compiler, **kw):
    return "(julianday(%s) - julianday(%s) + %r)" % (compiler.process(element.later, **kw),
                                                      compiler.process(element.earlier, **kw), BEIJING_OFFSET_DAYS)


@compiles(days_between, "postgresql")
def _days_pg(element, compiler, **kw):
    return "(EXTRACT(EPOCH FROM (%s - CAST(%s AS TIMESTAMP))) / 86400.0 + %r)" % (
        compiler.process(element.later, **kw), compiler.process(element.earlier, **kw), BEIJING_OFFSET_DAYS)


class month_of(ColumnElement):
    """'YYYY-MM' of a date column on SQLite and PostgreSQL; with `hours`, of the instant that many hours
    later (8: the Beijing month of a stored naive-UTC instant, as `closed_month` computes it)."""

    type = String()
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),  # a cache key (see days_between)
                           ("hours", InternalTraversal.dp_plain_obj)]

    def __init__(self, column, hours: int = 0):
        self.column = column
        self.hours = int(hours)


@compiles(month_of)
def _month_sqlite(element, compiler, **kw):
    shift = f", '+{element.hours} hours'" if element.hours else ""
    return "strftime('%%Y-%%m', %s%s)" % (compiler.process(element.column, **kw), shift)


@compiles(month_of, "postgresql")
def _month_pg(element, compiler, **kw):
    shift = f" + interval '{element.hours} hours'" if element.hours else ""
    return "to_char(%s%s, 'YYYY-MM')" % (compiler.process(element.column, **kw), shift)


def beijing_month_of(column) -> month_of:
    """The Beijing month of a stored (naive UTC) instant, in SQL: `closed_month`'s."""
    return month_of(column, hours=8)


def is_open(case=Case):
    """Still open, with the statuses written into the SQL: the partial index `ix_case_open` (open cases
    only, so it does not grow with history) is usable only when the planner can see that the query's
    condition is its own, which a bound parameter hides from a prepared statement's generic plan."""
    return case.status.in_(sa.bindparam("open_statuses", list(OPEN), expanding=True, literal_execute=True,
                                        type_=case.status.type))


def conditions(q: Query, case=Case) -> dict[str, ColumnElement]:
    """The condition each counted figure puts on a case of the cohort."""
    concluded = case.closed_at < q.end_exclusive
    return {
        "received": sa.true(),
        "mediating": sa.or_(case.status.in_(OPEN), case.closed_at >= q.end_exclusive),
        "ended": sa.and_(case.status == S.ENDED, concluded),
        "terminated": sa.and_(case.status == S.TERMINATED, concluded),
        "overdue": sa.and_(case.status.in_(OPEN), case.deadline < q.overdue_on),
    }


def cohort(q: Query, reach: Reach, stmt, case=Case):
    """`stmt` narrowed to the cases received in the period that `reach` may count."""
    stmt = reach.apply(stmt, case).where(case.received_on >= q.start, case.received_on <= q.end)
    if q.case_type is not None:
        stmt = stmt.where(case.case_type == q.case_type)
    if q.court_id is not None:
        stmt = stmt.where(case.court_id == q.court_id)
    return stmt


def group_key(by: str, case=Case):
    if by == Dimension.MONTH:
        return case.month if case in (CaseStatMonth, CaseStatRollup) else month_of(case.received_on)
    return {
        Dimension.MEDIATOR: case.mediator_id,
        Dimension.ORGANISATION: case.organisation_id,
        Dimension.COURT: case.court_id,
        Dimension.CASE_TYPE: case.case_type,
    }[by]


@dataclass
class Row:
    key: object
    name: str
    extra: dict = field(default_factory=dict)
    received: int = 0
    mediating: int = 0
    ended: int = 0
    terminated: int = 0
    overdue: int = 0
    confirmed: int = 0
    filed: int = 0
    total_days: float = 0.0

    @property
    def concluded(self) -> int:
        return self.ended + self.terminated

    @property
    def success_rate(self) -> Optional[float]:
        return self.ended / self.concluded if self.concluded else None

    @property
    def average_days(self) -> Optional[float]:
        return self.total_days / self.concluded if self.concluded else None

    @property
    def link_key(self) -> str:
        if self.key is None:
            return NO_KEY
        return self.key.value if isinstance(self.key, CaseType) else str(self.key)

    def add(self, other: "Row") -> None:
        """Add `other`'s figures (the summary and case-row parts of one group are disjoint). Written out:
        a large court's report adds thousands of rows into its total."""
        self.received += other.received
        self.mediating += other.mediating
        self.ended += other.ended
        self.terminated += other.terminated
        self.overdue += other.overdue
        self.confirmed += other.confirmed
        self.filed += other.filed
        self.total_days += other.total_days


@dataclass
class Report:
    query: Query
    rows: list[Row]
    total: Row
    #: how many rows the whole report has; `rows` holds them all, or only one page (`report_page`)
    count: int = -1
    #: the page `rows` is, when it is one
    paged: Optional[tuple[int, int]] = None

    def __post_init__(self):
        if self.count < 0:
            self.count = len(self.rows)

    def page(self, number: int, size: int) -> list[Row]:
        """One page of the rows, in the report's order (the total stays the whole report's)."""
        if self.paged is not None:
            if self.paged != (number, size):
                raise ValueError("this report holds another page")
            return self.rows
        return self.rows[number * size:(number + 1) * size]


def figures(q: Query, reach: Reach, summary: bool = True, complete: bool = True,
            p: Optional["Plan"] = None) -> dict[object, Row]:
    """Group key → its figures, unnamed; only groups with cases.

    With `summary`, the clean whole months come from the summary tables (app/workflows/stat_summary.py)
    and only the rest from the case rows; without, everything from the case rows (what verifies it).
    Without `complete`, only 收案/在调/成功/终止 and their days (the dashboard's): no 司法确认, 转立案 or
    逾期 query. `p`: the period's plan, when the caller already has it (several groupings of one period)."""
    if p is None:
        p = plan(q.start, q.end, reach, q.case_type) if summary else Plan((), None)
    out: dict[object, Row] = {}
    for where in p.raw_parts(q.start, q.end):
        _add_counted_figures(out, q, reach, where, complete)
    for first, before in p.minus:
        # the summary month holds these days before the period's start: take them away again
        _add_counted_figures(out, replace(q, start=first), reach, Case.received_on < before, complete, sign=-1)
    if p.months:
        (add_rollup_figures if p.rollup else add_summary_figures)(out, q, reach, p, Row, complete)
    return {k: row for k, row in out.items() if row.received}


def report(q: Query, reach: Reach, summary: bool = True) -> Report:
    """The report table: one row per mediator/organisation/court/type, and the total."""
    rows = _name_rows(q, reach, figures(q, reach, summary))
    total = Row(None, _("Total"))
    for row in rows:
        total.add(row)
    return Report(q, rows, total)


def report_page(q: Query, reach: Reach, number: int, size: int) -> Report:
    """The report as the page shows it: the whole total, the count, and only page `number`'s rows named.

    A mediator or organisation report lists the whole certified roster (FAQ 2.4), thousands at a large
    court: the roster is ranked on ids and names alone and only the page's rows get their phone and
    organisation. Page numbers past the end show the last page. Other groupings are short: `report`."""
    if q.by not in (Dimension.MEDIATOR, Dimension.ORGANISATION):
        whole = report(q, reach)
        number = _last_page(number, size, whole.count)
        return Report(q, whole.page(number, size), whole.total, whole.count, (number, size))
    counted = figures(q, reach)
    total = Row(None, _("Total"))
    for row in counted.values():
        total.add(row)
    source = _roster_source(q, reach)
    names = _roster_and_counted(sa.select(source.id, source.name), source.id, source.roster, counted)
    named = {k for k, _name in names}
    names += [(k, "") for k in counted if k is not None and k not in named]  # no longer on file
    order = sorted(names, key=lambda kn: (-(counted[kn[0]].received if kn[0] in counted else 0), kn[1], kn[0]))
    keys = [k for k, _name in order] + ([None] if None in counted else [])
    number = _last_page(number, size, len(keys))
    page_keys = keys[number * size:(number + 1) * size]
    shown = [k for k in page_keys if k is not None]
    extras = {r[0]: r for r in db.session.execute(source.detail.where(source.id.in_(shown)))}
    name_of = dict(order)
    rows = []
    for k in page_keys:
        row = counted.get(k) or Row(k, "")
        if k is None:
            row.name = str(NONE_LABELS[q.by])
        else:
            row.name = name_of[k]
            row.extra = source.extra(extras[k]) if k in extras else {}
        rows.append(row)
    return Report(q, rows, total, len(keys), (number, size))


def _last_page(number: int, size: int, count: int) -> int:
    return min(max(number, 0), max((count + size - 1) // size, 1) - 1)


@dataclass
class _RosterSource:
    id: object
    name: object
    roster: object
    #: the page's rows' other columns (phone, organisation), by id
    detail: object
    extra: object


def _roster_source(q: Query, reach: Reach) -> _RosterSource:
    """The certified roster of a mediator or organisation report, and how its rows are named."""
    if q.by == Dimension.MEDIATOR:
        roster = sa.select(Mediator.id).join(MediatorCourt, MediatorCourt.mediator_id == Mediator.id).where(
            MediatorCourt.status == CertificationStatus.CERTIFIED)
        return _RosterSource(
            Mediator.id, Mediator.name,
            _roster_in_reach(roster, MediatorCourt.court_id, q, reach, Mediator.organisation_id),
            sa.select(Mediator.id, Mediator.phone, Organisation.name).outerjoin(
                Organisation, Organisation.id == Mediator.organisation_id),
            lambda r: {"phone": r[1], "organisation": r[2] or ""})
    roster = sa.select(Organisation.id).join(
        OrganisationCourt, OrganisationCourt.organisation_id == Organisation.id).where(
        OrganisationCourt.status == CertificationStatus.CERTIFIED)
    return _RosterSource(
        Organisation.id, Organisation.name,
        _roster_in_reach(roster, OrganisationCourt.court_id, q, reach, Organisation.id),
        sa.select(Organisation.id, Organisation.contact_phone), lambda r: {"phone": r[1]})


def _add_counted_figures(out: dict, q: Query, reach: Reach, where, complete: bool = True, sign: int = 1) -> None:
    """Add to `out` the figures of the cohort's cases that match `where`, counted from the case rows
    (`sign` -1: take them away, all but 逾期数, which the summary never holds)."""
    key = group_key(q.by)
    cond = conditions(q)
    concluded = sa.or_(cond["ended"], cond["terminated"])
    counted = [sa.func.count()] + [sa.func.sum(sa.case((cond[f], 1), else_=0))
                                   for f in ("mediating", "ended", "terminated", "overdue")]
    days = sa.func.sum(sa.case((concluded, days_between(Case.closed_at, Case.received_on)), else_=0))
    stmt = cohort(q, reach, sa.select(key, *counted, days)).where(where).group_by(key)
    for k, received, mediating, ended, terminated, overdue, total_days in db.session.execute(stmt):
        out.setdefault(k, Row(k, "")).add(Row(
            k, "", received=sign * received, mediating=sign * (mediating or 0), ended=sign * (ended or 0),
            terminated=sign * (terminated or 0), overdue=(overdue or 0) if sign > 0 else 0,
            total_days=sign * float(total_days or 0)))
    if complete:
        for k, confirmed, filed in _after_mediation_counts(q, reach, key, where):
            row = out.setdefault(k, Row(k, ""))
            row.confirmed += sign * confirmed
            row.filed += sign * filed


#: the application outcomes each after-mediation figure counts (SPEC §3.3)
AFTER_MEDIATION = {
    "confirmed": (ApplicationKind.JUDICIAL_CONFIRMATION, (ApplicationStatus.CONFIRMED,)),
    "filed": (ApplicationKind.FILING, (ApplicationStatus.ACCEPTED, ApplicationStatus.FILED)),
}


def _application_cases(figure: str):
    kind, statuses = AFTER_MEDIATION[figure]
    return sa.select(CourtApplication.case_id).where(CourtApplication.kind == kind,
                                                     CourtApplication.status.in_(statuses))


def _after_mediation_counts(q: Query, reach: Reach, key, where=sa.true()) -> Iterator[tuple]:
    """司法确认数 and 转立案数 per group. Driven from the applications (a small table) and
    joined to their cases by primary key, so it never scans the cohort a second time."""
    counted = [sa.func.count(sa.distinct(sa.case(
        (sa.and_(CourtApplication.kind == kind, CourtApplication.status.in_(statuses)), Case.id))))
        for kind, statuses in AFTER_MEDIATION.values()]
    every_status = [s for _kind, statuses in AFTER_MEDIATION.values() for s in statuses]
    stmt = (sa.select(key, *counted).select_from(CourtApplication)
            .join(Case, Case.id == CourtApplication.case_id)
            .where(CourtApplication.status.in_(every_status)))
    return db.session.execute(cohort(q, reach, stmt).where(where).group_by(key))


def _name_rows(q: Query, reach: Reach, figures: dict) -> list[Row]:
    """Name each group; a mediator/organisation report lists the whole roster (FAQ 2.4), idle ones with zeros."""
    if q.by == Dimension.CASE_TYPE:
        for t in CaseType:
            figures.setdefault(t, Row(t, ""))
        rows = [figures[t] for t in CaseType] + ([figures[None]] if None in figures else [])
        for row in rows:
            row.name = row.key.label if row.key is not None else str(NONE_LABELS[q.by])
        return rows
    if q.by in (Dimension.MEDIATOR, Dimension.ORGANISATION):
        source = _roster_source(q, reach)
        for r in _roster_and_counted(source.detail.add_columns(source.name), source.id, source.roster, figures):
            row = figures.setdefault(r[0], Row(r[0], ""))
            row.name, row.extra = r[-1], source.extra(r)
    else:
        courts = sa.select(Court.id, Court.name)
        if reach.court_ids is not None:
            courts = courts.where(Court.id.in_(reach.court_ids))
        if q.court_id is not None:
            courts = courts.where(Court.id == q.court_id)
        if reach.organisation_ids is not None:
            courts = courts.where(Court.id.in_([k for k in figures if k is not None]))
        for c in db.session.execute(courts):
            row = figures.setdefault(c.id, Row(c.id, ""))
            row.name = c.name
    if None in figures:
        figures[None].name = str(NONE_LABELS[q.by])
    return sorted(figures.values(), key=lambda r: (r.key is None, -r.received, r.name, r.key))  # the id: namesakes


def _roster_and_counted(named, id_column, roster, figures: dict) -> list:
    """`named`'s rows for the roster (joined in the database: a large court's thousands of ids never make
    a parameter list) and for the counted groups outside it (a mediator no longer certified), each once."""
    rows = db.session.execute(named.where(id_column.in_(roster.subquery().select()))).all()
    outside = {k for k in figures if k is not None} - {r[0] for r in rows}
    if outside:
        rows += db.session.execute(named.where(id_column.in_(outside))).all()
    return rows


def row_name(by: str, key) -> str:
    """The name of one report row, as the report shows it."""
    if key is None:
        return str(NONE_LABELS[by])
    if by == Dimension.CASE_TYPE:
        return key.label
    model = {Dimension.MEDIATOR: Mediator, Dimension.ORGANISATION: Organisation, Dimension.COURT: Court}[by]
    return db.session.scalar(sa.select(model.name).where(model.id == key)) or str(key)


def _roster_in_reach(roster, court_col, q: Query, reach: Reach, org_col):
    if reach.court_ids is not None:
        roster = roster.where(court_col.in_(reach.court_ids))
    if q.court_id is not None:
        roster = roster.where(court_col == q.court_id)
    if reach.organisation_ids is not None:
        roster = roster.where(org_col.in_(reach.organisation_ids))
    return roster.distinct()


# --- the cases behind a figure ----------------------------------------------------

def parse_key(by: str, text: Optional[str]):
    """The group a detail link points at (`none` for cases without one)."""
    if text in (None, "", NO_KEY):
        return None
    if by == Dimension.CASE_TYPE:
        try:
            return CaseType(text)
        except ValueError:
            raise DomainError(_("Unknown case type.")) from None
    try:
        return int(text)
    except ValueError:
        raise DomainError(_("Unknown report row.")) from None


def detail_filter(q: Query, reach: Reach, figure: str, key, stmt, case=Case, all_rows: bool = False):
    """`stmt` narrowed to the cases behind `figure` of the row `key`, or of the total row
    when `all_rows` (报表明细查询)."""
    if figure not in COUNTED:
        raise DomainError(_("Only case counts have a case list."))
    stmt = cohort(q, reach, stmt, case)
    if not all_rows:
        column = group_key(q.by, case)
        stmt = stmt.where(column.is_(None) if key is None else column == key)
    if figure in AFTER_MEDIATION:
        return stmt.where(case.id.in_(_application_cases(figure)))
    return stmt.where(conditions(q, case)[figure])


# --- the summary (issue 17 item 6; kept by app/workflows/stat_summary.py) -------------------------

CONCLUDED = (S.ENDED, S.TERMINATED)


def month_key(day: dt.date) -> str:
    return day.strftime("%Y-%m")


def month_first(key: str) -> dt.date:
    return dt.date(int(key[:4]), int(key[5:7]), 1)


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def closed_month(closed_at: Optional[dt.datetime]) -> Optional[str]:
    """The Beijing month of a stored (naive UTC) instant."""
    if closed_at is None:
        return None
    return month_key((closed_at + dt.timedelta(hours=8)).date())


def months_between(start: dt.date, end: dt.date) -> list[str]:
    out, cursor = [], dt.date(start.year, start.month, 1)
    while cursor <= end:
        out.append(month_key(cursor))
        cursor = next_month(cursor)
    return out


@dataclass(frozen=True)
class Plan:
    """Which months of a period come from the summary, and what the case rows add or take away.

    `months`: read from case_stat_month, or with `rollup` from case_stat_rollup. `split_month`: the one month
    (the period's last, when it ends before that month's last day) whose conclusions must be read from the
    case rows. `minus`: (month's first day, period's start) of a summary month the period starts within,
    whose days before the start the case rows take away again (rollup plans only)."""

    months: tuple[str, ...]
    split_month: Optional[str]
    rollup: bool = False
    minus: tuple[tuple[dt.date, dt.date], ...] = ()

    @property
    def ranges(self) -> list[tuple[dt.date, dt.date]]:
        """The summary months as runs of [first day, first day after)."""
        out: list[list[dt.date]] = []
        for m in self.months:
            first = month_first(m)
            if out and out[-1][1] == first:
                out[-1][1] = next_month(first)
            else:
                out.append([first, next_month(first)])
        return [(a, b) for a, b in out]

    def in_summary(self, received_on):
        return sa.or_(*[sa.and_(received_on >= a, received_on < b) for a, b in self.ranges])

    def split_cases(self, case=Case):
        """The cases of the summary months that concluded in the split month (read from the case rows)."""
        first = month_first(self.split_month)
        return sa.and_(self.in_summary(case.received_on), case.status.in_(CONCLUDED),
                       case.closed_at >= clock.day_start(first), case.closed_at < clock.day_start(next_month(first)))

    def gaps(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
        """The days of [start, end] outside the summary months, as runs of [first day, first day after)."""
        out: list[list[dt.date]] = []
        for m in months_between(start, end):
            if m in self.months:
                continue
            first = month_first(m)
            a, b = max(start, first), min(end + dt.timedelta(days=1), next_month(first))
            if out and out[-1][1] == a:
                out[-1][1] = b
            else:
                out.append([a, b])
        return [(a, b) for a, b in out]

    def raw_parts(self, start: dt.date, end: dt.date, case=Case) -> list:
        """What a report of [start, end] still counts from the case rows, as disjoint conditions, each an
        index range the planner can seek (a `NOT` over the summary months would make it read every case of
        the period): the received days outside the summary months (the current month, dirty months, partial
        edges), and the summary months' cases that concluded in the split month."""
        if not self.months:
            return [sa.true()]
        parts = []
        gaps = self.gaps(start, end)
        if gaps:
            parts.append(sa.or_(*[sa.and_(case.received_on >= a, case.received_on < b) for a, b in gaps]))
        if self.split_month is not None:
            parts.append(self.split_cases(case))
        return parts


def _clean(months: list[str], reach: Optional[Reach] = None) -> list[str]:
    """`months` less those with a dirty bucket — of the reach's courts when it is a court's (a transition
    in another court leaves this court's month clean)."""
    if not months:
        return []
    stmt = sa.select(CaseStatDirty.month).where(CaseStatDirty.month.in_(months)).distinct()
    if reach is not None and reach.court_ids is not None and reach.organisation_ids is None:
        stmt = stmt.where(CaseStatDirty.court_id.in_(reach.court_ids))
    dirty = set(db.session.scalars(stmt))
    return [m for m in months if m not in dirty]


def plan(start: dt.date, end: dt.date, reach: Optional[Reach] = None,
         case_type: Optional[CaseType] = None) -> Plan:
    """The plan of a report of [start, end]. Given the `reach`, the rollup when it may (rollup_plan: a
    period that ends today or later, or one after all its months' cases); otherwise clean whole months
    from case_stat_month."""
    if reach is not None:
        p = rollup_plan(start, end, reach, case_type)
        if p is not None:
            return p
    whole = _clean([m for m in months_between(start, end)
                    if month_first(m) >= start and next_month(month_first(m)) - dt.timedelta(days=1) <= end], reach)
    last_day = next_month(dt.date(end.year, end.month, 1)) - dt.timedelta(days=1)
    return Plan(tuple(whole), month_key(end) if whole and end != last_day else None)


def rollup_plan(start: dt.date, end: dt.date, reach: Reach, case_type: Optional[CaseType] = None) -> Optional[Plan]:
    """The rollup (case_stat_rollup, one row per month and mediator, organisation, type or court, without
    结案 month) counts every concluded case as concluded, which holds for a period that ends today or later
    — or earlier, when no case of its months was received after the period's end or concluded after its
    last instant: the bucket totals' bounds say so (one read of a row per court and month), else None. The period's last
    month counts whole; its first month, when the period starts within it, whole less the days before the
    start (read from the case rows) when those are fewer than the days in. None too for what the rollup
    does not split by: a case type filter, a reach by organisation (a ministry's)."""
    if case_type is not None or reach.organisation_ids is not None:
        return None
    months, minus = [], []
    for m in months_between(start, end):
        first = month_first(m)
        if start > first:
            if (start - first).days >= (next_month(first) - start).days:
                continue  # fewer days in than before: read the days in from the case rows
            minus.append((first, start))
        months.append(m)
    months = _clean(months, reach)
    minus = [(a, b) for a, b in minus if month_key(a) in months]
    if months:
        t = CaseStatRollup
        received_until, closed_until = db.session.execute(reach.apply(
            sa.select(sa.func.max(t.received_until), sa.func.max(t.closed_until)), t).where(
            t.dim == "court", t.month.in_(months))).one()
        if (received_until is not None and received_until > end
                or closed_until is not None and closed_until >= clock.day_start(end + dt.timedelta(days=1))):
            return None
    return Plan(tuple(months), None, rollup=True, minus=tuple(minus))


#: the rollup rows each grouping reads
ROLLUP_DIM = {Dimension.MONTH: "court", Dimension.COURT: "court", Dimension.MEDIATOR: "mediator",
              Dimension.ORGANISATION: "organisation", Dimension.CASE_TYPE: "case_type"}


def add_rollup_figures(figures: dict, q, reach, p: Plan, row_class, complete: bool = True) -> None:
    """Add to `figures` what the rollup months of plan `p` count for query `q` (every concluded case
    concluded: rollup_plan checked it), one row per group summed by the database."""
    t = CaseStatRollup
    key = group_key(q.by, t)
    stmt = reach.apply(sa.select(key, *[sa.func.sum(getattr(t, f)) for f in (
        "cases", "still_open", "ended", "terminated", "days", "confirmed", "filed")]), t).where(
        t.dim == ROLLUP_DIM[q.by], t.month.in_(p.months))
    if q.court_id is not None:
        stmt = stmt.where(t.court_id == q.court_id)
    _add_grouped(figures, stmt.group_by(key), row_class)
    if complete:
        _add_summary_overdue(figures, q, reach, p, row_class)


def add_summary_figures(figures: dict, q, reach, p: Plan, row_class, complete: bool = True) -> None:
    """Add to `figures` (key → Row) what the summary months of plan `p` count for query `q`, one row per
    group summed by the database (without `complete`, not 逾期数, the one figure read from the case rows)."""
    t = CaseStatMonth
    key = group_key(q.by, t)
    end_month = month_key(q.end)
    concluded = sa.and_(t.status.in_(CONCLUDED), t.closed_month <= end_month)  # no 结案 month: neither
    mediating = sa.or_(t.status.in_(OPEN), sa.and_(t.status.in_(CONCLUDED), t.closed_month > end_month))

    def cases_if(condition):
        return sa.func.sum(sa.case((condition, t.cases), else_=0))

    stmt = reach.apply(sa.select(
        key, sa.func.sum(t.cases), cases_if(mediating), cases_if(sa.and_(concluded, t.status == S.ENDED)),
        cases_if(sa.and_(concluded, t.status == S.TERMINATED)), sa.func.sum(sa.case((concluded, t.days), else_=0.0)),
        sa.func.sum(t.confirmed), sa.func.sum(t.filed)), t).where(t.month.in_(p.months))
    if p.split_month is not None:  # the split month's conclusions are counted from the case rows
        stmt = stmt.where(sa.or_(t.status.not_in(CONCLUDED), t.closed_month.is_(None), t.closed_month != p.split_month))
    if q.case_type is not None:
        stmt = stmt.where(t.case_type == q.case_type)
    if q.court_id is not None:
        stmt = stmt.where(t.court_id == q.court_id)
    _add_grouped(figures, stmt.group_by(key), row_class)
    if complete:
        _add_summary_overdue(figures, q, reach, p, row_class)


def _add_grouped(figures: dict, stmt, row_class) -> None:
    """The rows of a summary `stmt` (key, received, mediating, ended, terminated, days, confirmed, filed)
    into `figures`."""
    for k, cases, mediating, ended, terminated, days, confirmed, filed in db.session.execute(stmt):
        _merge(figures, row_class(k, "", received=int(cases), mediating=int(mediating), ended=int(ended),
                                  terminated=int(terminated), total_days=float(days), confirmed=int(confirmed),
                                  filed=int(filed)))


def _merge(figures: dict, row) -> None:
    """`row` into figures: as the group's row when it has none yet (most: one object per group, not two)."""
    known = figures.get(row.key)
    if known is None:
        figures[row.key] = row
    else:
        known.add(row)


def _add_summary_overdue(figures: dict, q, reach, p: Plan, row_class) -> None:
    """逾期数 of the summary months: open cases only, from the case rows (the partial index ix_case_open)."""
    overdue_key = group_key(q.by)
    overdue = cohort(q, reach, sa.select(overdue_key, sa.func.count())).where(
        p.in_summary(Case.received_on), is_open(), Case.deadline < q.overdue_on).group_by(overdue_key)
    for k, n in db.session.execute(overdue):
        figures.setdefault(k, row_class(k, "")).overdue += int(n)
