"""批量导入 court users from the Excel template the page offers [FAQ 2.1].

All or nothing: every row is checked first and every problem is reported with
its row number; only a clean file creates users, in one transaction.

Off the request (issue 17 item 4): up to 2,000 rows, each a new account with a
hashed password, are more than a request should carry. The upload is read and
checked in the request — a refused file lists its rows and saves nothing — and
a clean one becomes an `ImportJob` that `flask worker` runs:

    (new) ──queue (the court's administrator uploads a clean file)──▶ 排队中 queued
    排队中 ──claim (a worker takes it, with a lease)──▶ 进行中 running ──finish (every user created)──▶ 已完成 done
                                                     │  ▲
                                                     │  └─take_over (its worker's lease ran out: it died)
                                                     ├──fail (a row no longer fits: nothing created)──▶ 失败 failed
                                                     └──give_up (its lease ran out after WORKER_MAX_ATTEMPTS
                                                                 claims: its worker dies every time)──▶ 失败 failed

The worker first generates and hashes every initial password with no
transaction open, committing its progress (rows done / total, the page's bar)
and renewing its lease every `PROGRESS_EVERY` rows; then one transaction
checks the rows again (a phone may have been added since the upload) and
creates every user and SMS, or none. A worker that dies anywhere leaves
nothing half-imported; the job is taken over once its lease runs out and run
again from the start — up to `WORKER_MAX_ATTEMPTS` claims, after which it
is failed (`give_up`, app/claims.py) with a reason the page shows, nothing
imported. The plain initial passwords live only in that worker's
memory and in the SMS.

Reading and checking the file, two steps so that the heavy one holds no lock (issue 16 item 3):
- `read_rows(data)` reads the file and needs no database. It is bounded
  before openpyxl sees the file (app/uploads.py): the upload's size, the
  zip's entries and unpacked size, XML without a DTD, and the rows counted —
  empty rows and the highest row number included — against
  `BULK_IMPORT_MAX_ROWS`. The view runs it outside the write transaction.
- `queue_import(rows, actor)` checks the rows against the database and
  queues them; the worker creates the users (`run_import`). A phone that already belongs to another court is
  reported without naming that court (finding L5: an import must not tell one
  court who works at another).
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from .. import audit, claims, uploads, validation, xlsx
from ..clock import utcnow
from ..enums import ImportStatus as J
from ..extensions import db
from ..models import CourtStaff, ImportJob
from ..security import Scope
from . import DomainError, NotAllowed, ValidationFailed
from .accounts import initial_password
from .actor import SYSTEM, Actor
from .engine import NEW, Action, Machine, Transition, flush_or_conflict
from .rosters import add_court_staff, already_a_user

COLUMNS = [_l("Name"), _l("Mobile number"), _l("Position"), _l("Administrator (yes/no)")]
YES = {"是", "yes", "y", "1", "true"}
NO = {"否", "no", "n", "0", "false", ""}
#: the template's example row: shows how to fill the sheet, never imported (issue 15 item 13)
EXAMPLE = ["张三", "13800000000", "书记员", "否"]


@dataclass
class Row:
    number: int
    name: str
    phone: str
    position: str | None
    is_admin: bool
    #: what is wrong with the row by itself (the database checks come later)
    problems: list[str] = field(default_factory=list)
    #: a valid phone seen for the first time in the file: `check_rows` asks the database about it
    look_up: bool = False


def template_bytes() -> bytes:
    """The template: a header row and one example row (skipped on import), the phone column as text."""
    return xlsx.table(_("Court users"), [str(title) for title in COLUMNS], [EXAMPLE],
                      widths=[14, 16, 18, 18], text_columns=[1])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _refuse_format():
    raise DomainError(_("Upload the Excel file (.xlsx) made from the template.")) from None


def read_rows(data: bytes) -> list[Row]:
    """The file's rows with the problems each has by itself; no database (see the module docstring)."""
    config = current_app.config
    max_rows = config.get("BULK_IMPORT_MAX_ROWS", 2000)
    if len(data or b"") > config.get("BULK_IMPORT_MAX_BYTES", 5 * 1024 * 1024):
        raise DomainError(_("The file is larger than %(mb)d MB.",
                            mb=config.get("BULK_IMPORT_MAX_BYTES", 5 * 1024 * 1024) // (1024 * 1024)))
    if not data or not zipfile.is_zipfile(io.BytesIO(data)):
        _refuse_format()
    try:
        seen_rows = uploads.inspect_zip(data, max_rows=max_rows + 1,
                                        max_bytes=config.get("BULK_IMPORT_MAX_UNCOMPRESSED_BYTES",
                                                             20 * 1024 * 1024))
    except uploads.TooManyRows:
        raise DomainError(_("At most %(n)d rows per file.", n=max_rows)) from None
    except uploads.Refused as exc:
        raise DomainError(str(exc)) from None
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        _refuse_format()
    rows, seen = [], {}
    try:
        if not wb.worksheets:
            _refuse_format()
        ws = wb.worksheets[0]
        # Never past the rows counted above, whatever the sheet's <dimension> claims.
        last = min(max(seen_rows.max_row, seen_rows.rows), max_rows + 1)
        for number, values in enumerate(ws.iter_rows(min_row=2, max_row=max(last, 2), max_col=len(COLUMNS),
                                                     values_only=True), start=2):
            cells = [_cell(v) for v in (list(values) + [None] * 4)[:4]]
            if not any(cells) or cells == EXAMPLE:
                continue  # an empty row, or the template's example left in place
            rows.append(_row(number, cells, seen))
    finally:
        wb.close()
    if not rows:
        raise DomainError(_("The file has no user rows."))
    return rows


def _row(number: int, cells: list[str], seen: dict[str, int]) -> Row:
    name, raw_phone, position, admin_flag = cells
    problems, look_up = [], False
    if not name:
        problems.append(_("name is missing"))
    phone = validation.normalize_phone(raw_phone)
    if not validation.is_mobile(phone):
        problems.append(_("mobile number must be 11 digits starting with 1"))
    elif phone in seen:
        problems.append(_("mobile number repeats row %(row)d", row=seen[phone]))
    else:
        seen[phone], look_up = number, True
    flag = admin_flag.lower()
    if flag not in YES | NO:
        problems.append(_("administrator must be 是 or 否"))
    return Row(number, name[:64], phone, position[:64] or None, flag in YES, problems, look_up)


def check_rows(rows: list[Row], court_id: int) -> None:
    """Every row's problems, the database's included; `ValidationFailed` lists them all."""
    phones = [r.phone for r in rows if r.look_up]
    existing = {s.phone: s for s in db.session.scalars(sa.select(CourtStaff).where(CourtStaff.phone.in_(phones)))}
    errors = []
    for row in rows:
        problems = list(row.problems)
        staff = existing.get(row.phone) if row.look_up else None
        if staff is not None:
            problems.append(already_a_user(row.phone, staff, court_id))
        if problems:
            errors.append(_("Row %(row)d: %(problems)s", row=row.number, problems="；".join(problems)))
    if errors:
        raise ValidationFailed(_("Nothing was imported. Correct these rows and upload again."), errors)


# --- the job (issue 17 item 4) ------------------------------------------------------------------------

OWNER = "owner"  # the administrator of the job's court
WORKER = "worker"
#: rows hashed between two progress commits (each renews the lease)
PROGRESS_EVERY = 100


def _claim(job: ImportJob, actor, data: dict) -> None:
    job.claimed_by = data.get("token")
    job.lease_until = claims.lease_until(data.get("now") or utcnow())
    job.started_at = data.get("now") or utcnow()
    job.done = 0
    job.attempts = (job.attempts or 0) + 1


def _attempts_left(job: ImportJob, actor, data: dict):
    """Claimed WORKER_MAX_ATTEMPTS times already: its worker died each time, so it is given up."""
    if (job.attempts or 0) >= claims.max_attempts():
        return _l("This import was tried %(n)d times; it is given up.", n=claims.max_attempts())
    return None


def _attempts_used_up(job: ImportJob, actor, data: dict):
    if (job.attempts or 0) < claims.max_attempts():
        return _l("This import has attempts left.")
    return None


def _give_up(job: ImportJob, actor, data: dict) -> None:
    job.errors = [data.get("reason") or ""]
    job.finished_at = utcnow()
    job.lease_until = None
    job.claimed_by = None


def _lease_ran_out(job: ImportJob, actor, data: dict):
    """Another worker's lease still runs: it is importing this file."""
    if job.lease_until is not None and job.lease_until > (data.get("now") or utcnow()):
        return _l("Another worker is importing this file.")
    return None


def _holds_claim(job: ImportJob, actor, data: dict):
    """Only the claim that did the work records the outcome."""
    if job.claimed_by != data.get("token"):
        return _l("Another worker took this import over.")
    return None


def _finish(job: ImportJob, actor, data: dict) -> None:
    job.created = job.done = data.get("created", job.total)
    job.finished_at = utcnow()
    job.lease_until = None
    job.rows = []  # the users exist now; the job keeps no second copy of their names and phones


def _fail(job: ImportJob, actor, data: dict) -> None:
    job.errors = list(data.get("errors") or [])[:200]
    job.finished_at = utcnow()
    job.lease_until = None


IMPORT_TRANSITIONS = [
    Transition(event="queue", label=_l("Import in the background"), sources=frozenset({NEW}), target=J.QUEUED,
               who=frozenset({OWNER})),
    Transition(event="claim", label=_l("Start the import"), sources=frozenset({J.QUEUED}), target=J.RUNNING,
               who=frozenset({WORKER}), effect=_claim),
    Transition(event="take_over", label=_l("Take over the import"), sources=frozenset({J.RUNNING}),
               target=J.RUNNING, who=frozenset({WORKER}), guards=(_lease_ran_out, _attempts_left), effect=_claim),
    Transition(event="give_up", label=_l("Import given up"), sources=frozenset({J.RUNNING}), target=J.FAILED,
               who=frozenset({WORKER}), guards=(_lease_ran_out, _attempts_used_up), effect=_give_up),
    Transition(event="finish", label=_l("Import finished"), sources=frozenset({J.RUNNING}), target=J.DONE,
               who=frozenset({WORKER}), guards=(_holds_claim,), effect=_finish),
    Transition(event="fail", label=_l("Import failed"), sources=frozenset({J.RUNNING}), target=J.FAILED,
               who=frozenset({WORKER}), guards=(_holds_claim,), effect=_fail),
]

IMPORTS = Machine(
    name="import_job", transitions=IMPORT_TRANSITIONS,
    roles={OWNER: lambda job, actor: actor.is_court_admin_of(job),
           WORKER: lambda job, actor: actor.system},
    unaudited=frozenset({"rows"}),
    noun=_l("import"), conflict_message=_l("Another worker took this import first."),
)


def available_events(job: ImportJob, actor: Actor) -> list[Action]:
    """What `actor` may do to the job now: once queued only the worker moves it, so nothing for a person."""
    return IMPORTS.available(job, actor)


def job_pending(job: ImportJob) -> bool:
    """Still to come: the page keeps polling."""
    return job.status in (J.QUEUED, J.RUNNING)


def job_done(job: ImportJob) -> bool:
    return job.status is J.DONE


def job_failed(job: ImportJob) -> bool:
    return job.status is J.FAILED


def _plain(row: Row) -> dict:
    return {"number": row.number, "name": row.name, "phone": row.phone, "position": row.position,
            "is_admin": row.is_admin}


def _rows(job: ImportJob) -> list[Row]:
    return [Row(r["number"], r["name"], r["phone"], r["position"], r["is_admin"], [], True) for r in job.rows]


def queue_import(rows: list[Row], actor: Actor, filename: str = "") -> ImportJob:
    """Check `rows` (from `read_rows`) against the database and queue them for the worker; the request
    edge commits the job. A row with a problem refuses the file: `ValidationFailed`, nothing saved."""
    scope = actor.scope
    if scope.court_id is None or not scope.is_court_admin:
        raise NotAllowed(_("Import users as the administrator of a court."))
    check_rows(rows, scope.court_id)
    job = ImportJob(court_id=scope.court_id, user_id=actor.user_id, filename=(filename or "")[:200],
                    rows=[_plain(r) for r in rows], total=len(rows))
    return IMPORTS.create(job, "queue", actor)


def _claimable(now):
    return sa.or_(ImportJob.status == J.QUEUED,
                  sa.and_(ImportJob.status == J.RUNNING,
                          sa.or_(ImportJob.lease_until.is_(None), ImportJob.lease_until <= now)))


def _load(job_id: int, *where, lock: bool = False) -> ImportJob | None:
    query = sa.select(ImportJob).where(ImportJob.id == job_id, *where)
    if lock:
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query.execution_options(populate_existing=True))


def run_due_imports(limit: int = 1, worker: str | None = None) -> int:
    """Run queued imports (and running ones whose worker's lease ran out), oldest first (called by
    `flask worker`); returns how many this worker ran."""
    ids = db.session.scalars(sa.select(ImportJob.id).where(_claimable(utcnow()))
                             .order_by(ImportJob.id).limit(limit)).all()
    db.session.rollback()
    return sum(run_import(job_id, worker) for job_id in ids)


def claim_import(job_id: int, token: str) -> ImportJob | None:
    """Take job `job_id` for claim `token` and commit; None when it is not there to take (app/claims.py)."""
    now = utcnow()
    job = _load(job_id, _claimable(now), lock=True)
    if job is None:
        db.session.rollback()
        return None
    if job.status is J.RUNNING and job.attempts >= claims.max_attempts():
        return _give_up_on(job, now)
    try:
        IMPORTS.apply(job, "claim" if job.status is J.QUEUED else "take_over", SYSTEM, token=token, now=now)
    except DomainError:  # (Conflict) another worker claimed it between our read and our write
        db.session.rollback()
        return None
    db.session.commit()
    return job


def _give_up_on(job: ImportJob, now) -> None:
    """Its worker died on each of its attempts: fail it with the reason the page shows, and claim nothing."""
    attempts = job.attempts
    try:
        IMPORTS.apply(job, "give_up", SYSTEM, now=now, reason=_(
            "The import stopped %(n)d times before it finished, so it is no longer retried; no user was "
            "imported. Upload the file again; if it stops again, tell the platform's administrator.", n=attempts))
    except DomainError:  # (Conflict) another worker gave it up or took it first
        db.session.rollback()
        return None
    db.session.commit()
    current_app.logger.error("import job %s given up after %s attempts", job.id, attempts)
    return None


class _TakenOver(Exception):
    """Our lease ran out and another worker has the job now."""


def _checkpoint(job_id: int, token: str, done: int) -> None:
    """Progress: rows done, and the lease renewed; a job taken over meanwhile stops this worker."""
    job = _load(job_id)
    if job is None or job.claimed_by != token:
        raise _TakenOver()
    job.done = done
    job.lease_until = claims.lease_until(utcnow())
    try:
        flush_or_conflict(IMPORTS.conflict_message)
    except DomainError:
        raise _TakenOver() from None
    db.session.commit()


def run_import(job_id: int, worker: str | None = None) -> bool:
    """Claim job `job_id` and import its rows, all or nothing; False when another worker has it (or had it)."""
    token = claims.new_token(worker)
    job = claim_import(job_id, token)
    if job is None:
        return False
    rows, court_id, total, owner_id = _rows(job), job.court_id, job.total, job.user_id
    db.session.rollback()
    claims.crash_point("import.claimed")
    try:
        passwords = []
        for i, _row_ in enumerate(rows, start=1):  # the slow part, with no transaction open
            passwords.append(initial_password())
            if i % PROGRESS_EVERY == 0 and i < total:
                _checkpoint(job_id, token, i)
        _checkpoint(job_id, token, total)
        claims.crash_point("import.hashed")
        job = _load(job_id)
        if job is None or job.claimed_by != token:
            raise _TakenOver()
        try:
            # the users, their accounts and SMS are the administrator's doing, carried out by the worker
            with audit.acting_for_job(owner_id, audit.IMPORT_JOB, job_id):
                created = _create_users(rows, passwords, court_id)
                db.session.flush()  # the CREATE rows of the last batch, while the administrator is named
        except DomainError as refused:  # a row no longer fits (a phone added since the upload): none created
            db.session.rollback()
            IMPORTS.apply(_load(job_id), "fail", SYSTEM, token=token,
                          errors=[str(refused.message)] + list(getattr(refused, "errors", [])))
            db.session.commit()
            return True
        claims.crash_point("import.created")
        IMPORTS.apply(_load(job_id), "finish", SYSTEM, token=token, created=created)
        db.session.commit()
    except (_TakenOver, DomainError):  # our lease ran out: the worker that has the job runs it
        db.session.rollback()
        current_app.logger.warning("import job %s was taken over by another worker", job_id)
        return False
    return True


def _create_users(rows: list[Row], passwords, court_id: int) -> int:
    """Every row's user in the current transaction (the caller commits), or `ValidationFailed`."""
    check_rows(rows, court_id)
    scope = Scope(portal=None, court_id=court_id, is_court_admin=True)
    # The rows' phones are distinct and checked just now, so the look-ups inside `add_court_staff` need
    # not see the rows added before them: no autoflush per look-up, one flush per batch (half the time).
    with db.session.no_autoflush:
        for i, (row, password) in enumerate(zip(rows, passwords), start=1):
            staff = CourtStaff(court_id=court_id, name=row.name, phone=row.phone, position=row.position,
                               is_admin=row.is_admin)
            add_court_staff(staff, scope, initial=password)
            db.session.add(staff)
            if i % PROGRESS_EVERY == 0:
                db.session.flush()
    db.session.flush()
    return len(rows)
