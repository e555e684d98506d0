"""Export jobs: the case rows behind a figure, written in the background [SPEC §6, FAQ 2.4].

报表明细查询 exports the case rows behind a figure; more than
`EXPORT_SYNC_LIMIT` rows are too many for one request, so the request queues an
`ExportJob` and `flask worker` writes it (the workbook itself is a document
function, app/exports.py `write_cases`). The page shows the job's progress and,
when done, a download link for its owner only.

    (new) ──queue (报表明细 › 导出 by its owner, more than EXPORT_SYNC_LIMIT rows)──▶ 排队中 queued
    排队中 ──claim (a worker takes it, with a lease)──▶ 进行中 running ──finish (the file written)──▶ 已完成 done
                                          │  ▲              (only its owner downloads it)
                                          │  └─take_over (its worker's lease ran out: it died)
                                          ├──fail (the error kept)──▶ 失败 failed
                                          └──give_up (its lease ran out after WORKER_MAX_ATTEMPTS claims:
                                                      its worker dies every time)──▶ 失败 failed

The owner's request creates the job (the engine's `Machine.create`); from then
on only the worker (the platform itself, `SYSTEM`) moves it. The claim is an
engine transition on the job's version column: two workers that read the same
queued job both try `UPDATE … WHERE version = :seen`; one wins, the other gets
`Conflict` and goes on with the next job — one export never runs twice. On
PostgreSQL the claim reads the job `FOR UPDATE SKIP LOCKED`, so a worker
skips a job another is claiming instead of waiting for it (app/claims.py).
The claim is a lease, renewed with every batch's progress: a worker that
died leaves a running job whose lease runs out, and the next worker takes it
over (`take_over`) and writes it from the start; should the first one still
be alive, its next progress or finish meets the moved-on version and it
abandons its file — the job finishes once. Each claim counts an attempt;
a job whose worker died `WORKER_MAX_ATTEMPTS` times is failed (`give_up`)
with a reason its owner reads under 我的导出, not taken over forever
(app/claims.py). The worker is its own request
edge: it commits the claim, the progress between batches and the outcome.
"""
from __future__ import annotations

import os
import uuid
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import claims
from ..clock import utcnow
from ..enums import ExportStatus as J
from ..exports import CaseRows, period_text, write_cases
from ..extensions import db
from ..models import ExportJob
from . import Conflict, DomainError
from . import statistics as stats
from .actor import SYSTEM, Actor
from .engine import NEW, Action, Machine, Transition, flush_or_conflict

OWNER = "owner"  # who asked for the export: the only one who downloads it
WORKER = "worker"


def _claim(job: ExportJob, actor, data: dict) -> None:
    job.claimed_by = data.get("token")
    job.lease_until = claims.lease_until(data.get("now") or utcnow())
    job.attempts = (job.attempts or 0) + 1


def _attempts_left(job: ExportJob, actor, data: dict):
    """Claimed WORKER_MAX_ATTEMPTS times already: its worker died each time, so it is given up."""
    if (job.attempts or 0) >= claims.max_attempts():
        return _l("This export was tried %(n)d times; it is given up.", n=claims.max_attempts())
    return None


def _attempts_used_up(job: ExportJob, actor, data: dict):
    if (job.attempts or 0) < claims.max_attempts():
        return _l("This export has attempts left.")
    return None


def _give_up(job: ExportJob, actor, data: dict) -> None:
    job.error = (data.get("reason") or "")[:500]
    job.finished_at = utcnow()
    job.lease_until = None
    job.claimed_by = None


def _lease_ran_out(job: ExportJob, actor, data: dict):
    """Another worker's lease still runs: it is writing this export."""
    if job.lease_until is not None and job.lease_until > (data.get("now") or utcnow()):
        return _l("Another worker is writing this export.")
    return None


def _holds_claim(job: ExportJob, actor, data: dict):
    """Only the claim that wrote the file records the outcome."""
    if job.claimed_by != data.get("token"):
        return _l("Another worker took this export over.")
    return None


def _finish(job: ExportJob, actor, data: dict) -> None:
    job.done = job.total = data["written"]
    job.path = data["path"]
    job.finished_at = utcnow()
    job.lease_until = None


def _fail(job: ExportJob, actor, data: dict) -> None:
    job.error = (data.get("error") or "")[:500]
    job.finished_at = utcnow()
    job.lease_until = None


JOB_TRANSITIONS = [
    Transition(event="queue", label=_l("Export in the background"), sources=frozenset({NEW}), target=J.QUEUED,
               who=frozenset({OWNER})),
    Transition(event="claim", label=_l("Start the export"), sources=frozenset({J.QUEUED}), target=J.RUNNING,
               who=frozenset({WORKER}), effect=_claim),
    Transition(event="take_over", label=_l("Take over the export"), sources=frozenset({J.RUNNING}),
               target=J.RUNNING, who=frozenset({WORKER}), guards=(_lease_ran_out, _attempts_left), effect=_claim),
    Transition(event="give_up", label=_l("Export given up"), sources=frozenset({J.RUNNING}), target=J.FAILED,
               who=frozenset({WORKER}), guards=(_lease_ran_out, _attempts_used_up), effect=_give_up),
    Transition(event="finish", label=_l("Export finished"), sources=frozenset({J.RUNNING}), target=J.DONE,
               who=frozenset({WORKER}), guards=(_holds_claim,), effect=_finish),
    Transition(event="fail", label=_l("Export failed"), sources=frozenset({J.RUNNING}), target=J.FAILED,
               who=frozenset({WORKER}), guards=(_holds_claim,), effect=_fail),
]

JOBS = Machine(
    name="export_job", transitions=JOB_TRANSITIONS,
    roles={OWNER: lambda job, actor: actor.user_id is not None and job.user_id == actor.user_id,
           WORKER: lambda job, actor: actor.system},
    noun=_l("export job"), conflict_message=_l("Another worker took this export first."),
)


def available_events(job: ExportJob, actor: Actor) -> list[Action]:
    """What `actor` may do to the job now: once queued only the worker moves it, so nothing for a person."""
    return JOBS.available(job, actor)


def job_pending(job: ExportJob) -> bool:
    """Still to come: the page keeps polling."""
    return job.status in (J.QUEUED, J.RUNNING)


def job_ready(job: ExportJob) -> bool:
    """Written: its owner may download it."""
    return job.status is J.DONE


def start_detail_job(actor: Actor, title: str, q: stats.Query, reach: stats.Reach, figure: str, key_text: str,
                     total: int) -> ExportJob:
    """Queue a detail export for `actor`; the request edge commits it (it exists only if the request succeeded)."""
    job = ExportJob(user_id=actor.user_id, kind="case_detail", title=title, total=total,
                    params={"query": q.args(), "reach": reach.to_json(), "figure": figure, "key": key_text})
    return JOBS.create(job, "queue", actor)


def _claimable(now):
    return sa.or_(ExportJob.status == J.QUEUED,
                  sa.and_(ExportJob.status == J.RUNNING,
                          sa.or_(ExportJob.lease_until.is_(None), ExportJob.lease_until <= now)))


def run_due_jobs(limit: int = 3, worker: str | None = None) -> int:
    """Run queued exports (and running ones whose worker's lease ran out), oldest first (called by
    `flask worker`); returns how many this worker ran."""
    ids = db.session.scalars(sa.select(ExportJob.id).where(_claimable(utcnow()))
                             .order_by(ExportJob.id).limit(limit)).all()
    db.session.rollback()
    return sum(run_job(job_id, worker) for job_id in ids)


def claim(job_id: int, token: str) -> Optional[ExportJob]:
    """Take job `job_id` for claim `token` (排队中 → 进行中, or a dead worker's 进行中 taken over) and
    commit; None when it is not there to take."""
    now = utcnow()
    job = db.session.scalar(sa.select(ExportJob).where(ExportJob.id == job_id, _claimable(now))
                            .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if job is None:  # gone, done, someone's lease still running, or (PostgreSQL) being claimed right now
        db.session.rollback()
        return None
    if job.status is J.RUNNING and job.attempts >= claims.max_attempts():
        return _give_up_on(job, now)
    try:
        JOBS.apply(job, "claim" if job.status is J.QUEUED else "take_over", SYSTEM, token=token, now=now)
    except DomainError:
        # (Conflict) another worker claimed it between our read and our write
        db.session.rollback()
        return None
    db.session.commit()
    return job


def _give_up_on(job: ExportJob, now) -> None:
    """Its worker died on each of its attempts: fail it with the reason its owner reads, and claim nothing."""
    attempts = job.attempts
    try:
        JOBS.apply(job, "give_up", SYSTEM, now=now, reason=_(
            "The export stopped %(n)d times before it was written, so it is no longer retried. Export the "
            "rows again; if it stops again, tell the platform's administrator.", n=attempts))
    except DomainError:  # (Conflict) another worker gave it up or took it first
        db.session.rollback()
        return None
    db.session.commit()
    current_app.logger.error("export job %s given up after %s attempts", job.id, attempts)
    return None


def _mine(job_id: int) -> ExportJob:
    return db.session.scalar(sa.select(ExportJob).where(ExportJob.id == job_id)
                             .execution_options(populate_existing=True))


def run_job(job_id: int, worker: str | None = None) -> bool:
    """Claim job `job_id` and write its workbook; False when another worker has it (or had it)."""
    token = claims.new_token(worker)
    job = claim(job_id, token)
    if job is None:
        return False
    claims.crash_point("export.claimed")
    folder = current_app.config["EXPORT_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{job.id}-{uuid.uuid4().hex}.xlsx")
    params, title = job.params, job.title
    try:
        reach = stats.Reach.from_json(params["reach"])
        q = stats.parse_query(params["query"], reach)
        all_rows = params["key"] == "all"
        key = None if all_rows else stats.parse_key(q.by, params["key"])

        def progress(done: int) -> None:
            mine = _mine(job_id)
            if mine.claimed_by != token:
                raise _TakenOver()
            mine.done = done
            mine.lease_until = claims.lease_until(utcnow())  # still alive: keep the lease
            try:
                flush_or_conflict(JOBS.conflict_message)
            except Conflict:
                raise _TakenOver() from None
            db.session.commit()

        written = write_cases(path, title, [period_text(q)], CaseRows(q, reach, params["figure"], key, all_rows),
                              progress)
    except _TakenOver:
        return _abandon(job_id, path)
    except Exception as exc:  # the job records why; the worker goes on with the next
        db.session.rollback()
        _remove(path)
        try:
            JOBS.apply(_mine(job_id), "fail", SYSTEM, error=str(exc), token=token)
        except DomainError:
            return _abandon(job_id, path)
        db.session.commit()
        current_app.logger.exception("export job %s failed", job_id)
        return True
    claims.crash_point("export.written")
    try:
        JOBS.apply(_mine(job_id), "finish", SYSTEM, written=written, path=path, token=token)
    except DomainError:
        return _abandon(job_id, path)
    db.session.commit()
    return True


class _TakenOver(Exception):
    """Our lease ran out and another worker has the job now."""


def _abandon(job_id: int, path: str) -> bool:
    """Taken over: the worker that has the job now writes and finishes it; our file goes."""
    db.session.rollback()
    _remove(path)
    current_app.logger.warning("export job %s was taken over by another worker", job_id)
    return False


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.remove(path)
