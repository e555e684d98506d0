"""Export jobs: the case rows behind a figure, written in the background [SPEC §6, FAQ 2.4].

报表明细查询 exports the case rows behind a figure; more than
`EXPORT_SYNC_LIMIT` rows are too many for one request, so the request queues an
`ExportJob` and `flask worker` writes it (the workbook itself is a document
function, app/exports.py `write_cases`). The page shows the job's progress and,
when done, a download link for its owner only.

    (new) ──queue (报表明细 › 导出 by its owner, more than EXPORT_SYNC_LIMIT rows)──▶ 排队中 queued
    排队中 ──claim (a worker takes it)──▶ 进行中 running ──finish (the file written)──▶ 已完成 done
                                          │                 (only its owner downloads it)
                                          └──fail (the error kept)──▶ 失败 failed

The owner's request creates the job (the engine's `Machine.create`); from then
on only the worker (the platform itself, `SYSTEM`) moves it. The claim is an
engine transition on the job's version column: two workers that read the same
queued job both try `UPDATE … WHERE version = :seen`; one wins, the other gets
`Conflict` and goes on with the next job — one export never runs twice. The
worker is its own request edge: it commits the claim, the progress between
batches and the outcome.
"""
from __future__ import annotations

import os
import uuid
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..clock import utcnow
from ..enums import ExportStatus as J
from ..exports import CaseRows, period_text, write_cases
from ..extensions import db
from ..models import ExportJob
from . import DomainError
from . import statistics as stats
from .actor import SYSTEM, Actor
from .engine import NEW, Action, Machine, Transition, flush_or_conflict

OWNER = "owner"  # who asked for the export: the only one who downloads it
WORKER = "worker"


def _finish(job: ExportJob, actor, data: dict) -> None:
    job.done = job.total = data["written"]
    job.path = data["path"]
    job.finished_at = utcnow()


def _fail(job: ExportJob, actor, data: dict) -> None:
    job.error = (data.get("error") or "")[:500]
    job.finished_at = utcnow()


JOB_TRANSITIONS = [
    Transition(event="queue", label=_l("Export in the background"), sources=frozenset({NEW}), target=J.QUEUED,
               who=frozenset({OWNER})),
    Transition(event="claim", label=_l("Start the export"), sources=frozenset({J.QUEUED}), target=J.RUNNING,
               who=frozenset({WORKER})),
    Transition(event="finish", label=_l("Export finished"), sources=frozenset({J.RUNNING}), target=J.DONE,
               who=frozenset({WORKER}), effect=_finish),
    Transition(event="fail", label=_l("Export failed"), sources=frozenset({J.RUNNING}), target=J.FAILED,
               who=frozenset({WORKER}), effect=_fail),
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


def run_due_jobs(limit: int = 3) -> int:
    """Run queued exports, oldest first (called by `flask worker`); returns how many this worker ran."""
    ids = db.session.scalars(sa.select(ExportJob.id).where(ExportJob.status == J.QUEUED)
                             .order_by(ExportJob.id).limit(limit)).all()
    db.session.rollback()
    return sum(run_job(job_id) for job_id in ids)


def claim(job_id: int) -> Optional[ExportJob]:
    """Take job `job_id` for this worker (排队中 → 进行中) and commit; None when it is not there to take."""
    job = db.session.get(ExportJob, job_id)
    if job is None:
        db.session.rollback()
        return None
    try:
        JOBS.apply(job, "claim", SYSTEM)
    except DomainError:
        # no longer queued, or (Conflict) another worker claimed it between our read and our write
        db.session.rollback()
        return None
    db.session.commit()
    return job


def run_job(job_id: int) -> bool:
    """Claim job `job_id` and write its workbook; False when another worker has it (or had it)."""
    job = claim(job_id)
    if job is None:
        return False
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
            db.session.get(ExportJob, job_id).done = done
            flush_or_conflict()
            db.session.commit()

        written = write_cases(path, title, [period_text(q)], CaseRows(q, reach, params["figure"], key, all_rows),
                              progress)
    except Exception as exc:  # the job records why; the worker goes on with the next
        db.session.rollback()
        if os.path.exists(path):
            os.remove(path)
        JOBS.apply(db.session.get(ExportJob, job_id), "fail", SYSTEM, error=str(exc))
        db.session.commit()
        current_app.logger.exception("export job %s failed", job_id)
        return True
    JOBS.apply(db.session.get(ExportJob, job_id), "finish", SYSTEM, written=written, path=path)
    db.session.commit()
    return True
