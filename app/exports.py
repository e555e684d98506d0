"""Excel documents of the statistics: the report as shown, and the case rows behind a figure (SPEC §6).

Pure functions over queries and plain values; the workbook itself is opened
and styled by app/xlsx.py, so every string stays text (export injection).
Case rows are read in batches of `BATCH` primary keys (never OFFSET) and
written with xlsxwriter's constant-memory mode, so memory stays flat however
many rows. More than `EXPORT_SYNC_LIMIT` rows are written by an export job in
`flask worker` (app/workflows/exports.py: its machine, the claim and the run;
notes/performance.md §2: 100k rows take ~10 s, past the limit of a request).
"""
from __future__ import annotations

import array
import datetime as dt
import io
from typing import Callable, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .clock import local_naive, now
from .enums import CaseStatus, CaseType
from .extensions import db
from .models import Case, Court, Mediator, Organisation
from .workflows import statistics as stats
from .xlsx import formats, open_workbook, sheet_name, write_heading

BATCH = 5000

DETAIL_COLUMNS = [
    # (label, width, kind): kind picks the cell writer
    (_l("Pre-litigation mediation number"), 26, "text"),
    (_l("Case number (intranet)"), 22, "text"),
    (_l("Case type"), 16, "label"),
    (_l("Court"), 20, "text"),
    (_l("Cause of action"), 16, "text"),
    (_l("Parties"), 28, "text"),
    (_l("Claim amount (yuan)"), 14, "money"),
    (_l("Mediator"), 12, "text"),
    (_l("Mediation organisation"), 22, "text"),
    (_l("Status"), 12, "label"),
    (_l("Received on"), 12, "date"),
    (_l("Closed at (Beijing time)"), 19, "datetime"),
    (_l("Deadline"), 12, "date"),
]


def detail_select(q: stats.Query, reach: stats.Reach, figure: str, key, all_rows: bool = False):
    """The case rows behind `figure` of row `key` (or of the total when `all_rows`)."""
    stmt = (sa.select(Case.id, Case.number, Case.intranet_number, Case.case_type, Court.name, Case.cause,
                      Case.party_names, Case.claim_amount, Mediator.name, Organisation.name, Case.status,
                      Case.received_on, Case.closed_at, Case.deadline)
            .select_from(Case)
            .outerjoin(Court, Court.id == Case.court_id)
            .outerjoin(Mediator, Mediator.id == Case.mediator_id)
            .outerjoin(Organisation, Organisation.id == Case.organisation_id))
    return stats.detail_filter(q, reach, figure, None if all_rows else key, stmt, all_rows=all_rows)


def detail_count(q, reach, figure, key, all_rows=False) -> int:
    inner = stats.detail_filter(q, reach, figure, None if all_rows else key, sa.select(Case.id),
                                all_rows=all_rows)
    return db.session.scalar(sa.select(sa.func.count()).select_from(inner.subquery()))


class CaseRows:
    """The rows of `detail_select`, newest first, in batches of `size`, for writing.

    The ids come first, in one pass over the covering index (8 bytes each:
    8 MB for a million rows); then each batch is `size` primary-key look-ups in
    a short query of its own (the worker commits progress between batches).
    Cells come back as the database stores them (enum names, ISO dates on
    SQLite, ids for court, mediator and organisation, whose names are in
    `names`): `write_cases` converts only what it writes, which is what keeps
    the export near xlsxwriter's own speed."""

    def __init__(self, q: stats.Query, reach: stats.Reach, figure: str, key, all_rows: bool = False,
                 size: int = BATCH):
        self.ids_stmt = stats.detail_filter(q, reach, figure, None if all_rows else key, sa.select(Case.id),
                                            all_rows=all_rows).order_by(Case.id.desc())
        self.size = size
        self.names = _Names()

    def __iter__(self) -> Iterator[list]:
        ids = array.array("q", db.session.scalars(self.ids_stmt))
        db.session.rollback()
        t = Case.__table__
        # Core, not the ORM session: rows come back as tuples without per-row entity work;
        # one expanding parameter instead of 5,000 bound literals per batch.
        raw = (sa.select(t.c.id, t.c.number, t.c.intranet_number, sa.type_coerce(t.c.case_type, sa.String),
                         t.c.court_id, t.c.cause, t.c.party_names, sa.type_coerce(t.c.claim_amount, sa.Float),
                         t.c.mediator_id, t.c.organisation_id, sa.type_coerce(t.c.status, sa.String),
                         sa.type_coerce(t.c.received_on, sa.String), sa.type_coerce(t.c.closed_at, sa.String),
                         sa.type_coerce(t.c.deadline, sa.String))
               .where(_id_in(t.c.id, db.session.get_bind().dialect.name)).order_by(t.c.id.desc()))
        for i in range(0, len(ids), self.size):
            conn = db.session.connection()
            rows = conn.execute(raw, {"ids": ids[i:i + self.size].tolist()}).all()
            self.names.resolve(conn, rows)
            db.session.rollback()
            yield rows


def _id_in(col, dialect: str):
    """`col IN :ids`, for a list of ids bound as `ids`. On PostgreSQL one array parameter
    (`= ANY(:ids)`): an expanding IN of 5,000 ids is 5,000 placeholders that SQLAlchemy renders and
    psycopg parses again for every batch (a third of the export's time beyond xlsxwriter,
    benchmarks/README.md)."""
    if dialect == "postgresql":
        return col == sa.func.any(sa.bindparam("ids", type_=ARRAY(sa.Integer)))
    return col.in_(sa.bindparam("ids", expanding=True))


class _Names:
    """Court, mediator and organisation names by id, fetched once each as batches need them
    (a join per row costs more than a look-up in a dict of the few hundred a court has)."""

    def __init__(self):
        self.court: dict = {}
        self.mediator: dict = {}
        self.organisation: dict = {}

    def resolve(self, conn, rows):
        for cache, model, col in ((self.court, Court, 4), (self.mediator, Mediator, 8),
                                  (self.organisation, Organisation, 9)):
            missing = {r[col] for r in rows if r[col] is not None} - cache.keys()
            if missing:
                table = model.__table__
                cache.update(conn.execute(sa.select(table.c.id, table.c.name)
                                          .where(_id_in(table.c.id, conn.dialect.name)),
                                          {"ids": list(missing)}).all())


def _as_date(value) -> dt.datetime:
    """A stored date or datetime (ISO text on SQLite, an object on PostgreSQL) as a datetime."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day)


def write_cases(target, title: str, meta: list[str], source: CaseRows,
                progress: Optional[Callable[[int], None]] = None) -> int:
    """Write the cases of `source` to `target` (a path or a BytesIO)."""
    wb = open_workbook(target, constant_memory=True)
    ws = wb.add_worksheet(sheet_name(title))
    fmt = formats(wb)
    header_row = write_heading(ws, fmt, title, meta, [str(c[0]) for c in DETAIL_COLUMNS],
                               [c[1] for c in DETAIL_COLUMNS])
    labels = {**{t.name: str(t.label) for t in CaseType}, **{s.name: str(s.label) for s in CaseStatus}}
    write_string, write_number, write_datetime = ws.write_string, ws.write_number, ws.write_datetime
    date_fmt, dt_fmt, money_fmt = fmt["date"], fmt["datetime"], fmt["money"]
    courts, mediators, organisations = source.names.court, source.names.mediator, source.names.organisation
    r = header_row
    for batch in source:
        for row in batch:
            r += 1
            (_id, number, intranet, case_type, court_id, cause, parties, amount, mediator_id, org_id, status,
             received, closed, deadline) = row
            if number:
                write_string(r, 0, number)
            if intranet:
                write_string(r, 1, intranet)
            write_string(r, 2, labels[case_type])
            if court_id is not None:
                write_string(r, 3, courts[court_id])
            write_string(r, 4, cause)
            write_string(r, 5, parties)
            if amount is not None:
                write_number(r, 6, float(amount), money_fmt)
            if mediator_id is not None:
                write_string(r, 7, mediators[mediator_id])
            if org_id is not None:
                write_string(r, 8, organisations[org_id])
            write_string(r, 9, labels[status])
            write_datetime(r, 10, _as_date(received), date_fmt)
            if closed:
                write_datetime(r, 11, local_naive(_as_date(closed)), dt_fmt)
            if deadline:
                write_datetime(r, 12, _as_date(deadline), date_fmt)
        if progress:
            progress(r - header_row)
    wb.close()
    return r - header_row


def report_workbook(report: stats.Report, generated_by: str) -> bytes:
    """The report as shown: title, period, who and when, header frozen, numbers as numbers."""
    q = report.query
    buf = io.BytesIO()
    wb = open_workbook(buf)
    title = report_title(q)
    ws = wb.add_worksheet(sheet_name(str(stats.ROW_NOUNS[q.by])))
    fmt = formats(wb)
    first = report_first_columns(q.by)
    heads = [str(label) for label, _w, _key in first] + [str(stats.FIGURES[f]) for f in stats.FIGURES]
    widths = [w for _l, w, _k in first] + [12] * len(stats.FIGURES)
    r = write_heading(ws, fmt, title, report_meta(q, generated_by), heads, widths)
    for row in report.rows + [report.total]:
        r += 1
        bold = row is report.total
        cells = [row.name] + [row.extra.get(k, "") for _l, _w, k in first[1:]]
        for c, value in enumerate(cells):
            ws.write_string(r, c, str(value), fmt["bold"] if bold else None)
        c = len(cells)
        for name in stats.FIGURES:
            value = getattr(row, name)
            if value is None:
                ws.write_string(r, c, "—", fmt["bold"] if bold else None)
            else:
                kind = "rate" if name == "success_rate" else "days" if name == "average_days" else "count"
                if kind == "days":  # as the screen shows it (one decimal), not the float's last digits
                    value = round(value, 1)
                ws.write_number(r, c, value, fmt[kind + ("_bold" if bold else "")])
            c += 1
    wb.close()
    return buf.getvalue()


def report_first_columns(by: str):
    """The columns naming a report row; a mediator/organisation report doubles as the roster [FAQ 2.4]."""
    if by == stats.Dimension.MEDIATOR:
        return [(_l("Mediator"), 14, "name"), (_l("Mobile"), 14, "phone"),
                (_l("Mediation organisation"), 24, "organisation")]
    if by == stats.Dimension.ORGANISATION:
        return [(_l("Mediation organisation"), 28, "name"), (_l("Contact phone"), 14, "phone")]
    if by == stats.Dimension.COURT:
        return [(_l("Court"), 24, "name")]
    return [(_l("Case type"), 20, "name")]


def report_title(q: stats.Query) -> str:
    return _("Case statistics report by %(by)s", by=str(stats.ROW_NOUNS[q.by]))


def period_text(q: stats.Query) -> str:
    return _("Period: %(start)s to %(end)s", start=q.start.isoformat(), end=q.end.isoformat())


def report_meta(q: stats.Query, generated_by: str) -> list[str]:
    meta = [period_text(q)]
    if q.case_type:
        meta.append(_("Case type: %(type)s", type=q.case_type.label))
    meta.append(_("Generated at %(when)s (Beijing time) by %(who)s", when=now().strftime("%Y-%m-%d %H:%M"),
                  who=generated_by))
    return meta


def report_filename(q: stats.Query) -> str:
    return f"{report_title(q)}_{q.start.isoformat()}_{q.end.isoformat()}.xlsx"
