"""批量导入 as a background job (issue 17 item 4, [FAQ 2.1]): the request checks and queues, the worker
imports all or nothing, the page shows rows done / total and the outcome, only to the court's admins."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from app.enums import ImportStatus
from app.extensions import db
from app.models import CourtStaff, ImportJob
from app.security import Scope
from app.workflows import bulk_import
from app.workflows.actor import SYSTEM

from .helpers import app_ctx, count, demo_ids, last_sms, login, text, xlsx


def _upload(client, rows):
    return client.post("/court-users/import", data={"file": (io.BytesIO(xlsx(rows)), "users.xlsx")},
                       content_type="multipart/form-data")


def _job_id(resp) -> int:
    assert resp.status_code == 302, text(resp)[:500]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_upload_queues_a_job_the_page_shows_progress_then_the_result(app, login_as):
    """[FAQ 2.1]: queued with 0 / 2; after the worker 已完成 2 / 2 and the users can log in."""
    client = login_as("13800000001")
    job_id = _job_id(_upload(client, [["甲", "13811110001", "书记员", "否"], ["乙", "13811110002", None, "是"]]))
    page = text(client.get(f"/court-users/import/{job_id}"))
    assert "排队中" in page and "0 / 2" in page and 'data-pending="1"' in page
    status = client.get(f"/court-users/import/{job_id}/status").get_json()
    assert status == {"status": "queued", "label": "排队中", "done": 0, "total": 2, "created": 0, "error": "",
                      "pending": True}
    assert count(app, CourtStaff, CourtStaff.phone == "13811110001") == 0  # nothing before the worker
    with app_ctx(app):
        assert bulk_import.run_due_imports() == 1
    status = client.get(f"/court-users/import/{job_id}/status").get_json()
    assert status["status"] == "done" and status["done"] == status["total"] == status["created"] == 2
    assert status["pending"] is False
    page = text(client.get(f"/court-users/import/{job_id}"))
    assert "已完成" in page and "2 / 2" in page and 'data-pending' not in page
    sms = last_sms(app, "13811110001")
    assert "初始密码" in sms
    with app_ctx(app):
        user = app.appbuilder.sm.find_user(username="13811110001")
        assert user.password.startswith("scrypt:4096:8:1$")  # a generated initial password's cost
        yi = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13811110002"))
        assert yi.is_admin and yi.court.code == "京0105"


def test_progress_is_committed_every_batch_of_rows(app, monkeypatch):
    """Issue 17 item 4: rows done / total moves while the worker hashes (checkpoints commit it)."""
    monkeypatch.setattr(bulk_import, "PROGRESS_EVERY", 2)
    seen = []
    real = bulk_import._checkpoint
    monkeypatch.setattr(bulk_import, "_checkpoint", lambda job_id, token, done: (seen.append(done),
                                                                                 real(job_id, token, done)))
    with app_ctx(app):
        admin = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13800000001"))
        from app.workflows.actor import Actor
        actor = Actor(admin.user_id, Scope(portal=None, court_id=admin.court_id, is_court_admin=True,
                                           staff_id=admin.id))
        rows = [bulk_import.Row(i + 2, f"用户{i}", f"1381112000{i}", None, False, [], True) for i in range(5)]
        job = bulk_import.queue_import(rows, actor)
        db.session.commit()
        assert bulk_import.run_import(job.id) is True
        assert seen == [2, 4, 5]
        assert db.session.get(ImportJob, job.id).status is ImportStatus.DONE


def test_a_row_that_no_longer_fits_at_run_time_fails_the_job_and_imports_nothing(app, login_as):
    """[FAQ 2.1] all or nothing: a phone added between upload and run refuses the whole job, the row named."""
    ids = demo_ids(app)
    client = login_as("13800000001")
    job_id = _job_id(_upload(client, [["甲", "13811110001", "书记员", "否"], ["乙", "13811110002", None, "否"]]))
    with app_ctx(app):
        from app.workflows.rosters import add_court_staff
        other = CourtStaff(court_id=ids["haidian"], name="别人", phone="13811110002", is_admin=False)
        add_court_staff(other, Scope(portal=None, court_id=ids["haidian"], is_court_admin=True))
        db.session.add(other)
        db.session.commit()
        assert bulk_import.run_due_imports() == 1
    status = client.get(f"/court-users/import/{job_id}/status").get_json()
    assert status["status"] == "failed" and status["created"] == 0
    page = text(client.get(f"/court-users/import/{job_id}"))
    assert "失败" in page and "第3行" in page and "已是其他法院的用户" in page
    assert "北京市海淀区人民法院" not in page  # L5
    assert count(app, CourtStaff, CourtStaff.phone == "13811110001") == 0
    assert last_sms(app, "13811110001") is None


def test_a_refused_file_queues_no_job(app, login_as):
    """[FAQ 2.1]: row problems are listed in the request and nothing is saved, not even a job."""
    before = count(app, ImportJob)
    resp = _upload(login_as("13800000001"), [["甲", "1381111", None, "否"]])
    assert resp.status_code == 200 and "第2行" in text(resp)
    assert count(app, ImportJob) == before


def test_only_the_worker_moves_an_import_job(app):
    """The engine's `who`: a person (even the court's admin) never claims, finishes or fails a job."""
    ids = demo_ids(app)
    with app_ctx(app):
        admin = db.session.get(CourtStaff, ids["cy_admin"])
        from app.workflows import NotAllowed
        from app.workflows.actor import Actor
        actor = Actor(admin.user_id, Scope(portal=None, court_id=admin.court_id, is_court_admin=True,
                                           staff_id=admin.id))
        job = bulk_import.queue_import([bulk_import.Row(2, "甲", "13811110001", None, False, [], True)], actor)
        assert bulk_import.available_events(job, actor) == []
        for event in ("claim", "take_over", "finish", "fail"):
            with pytest.raises(Exception) as refused:
                bulk_import.IMPORTS.apply(job, event, actor)
            assert isinstance(refused.value, NotAllowed) or "不能" in str(refused.value)
        assert [a.event for a in bulk_import.available_events(job, SYSTEM)] == ["claim"]
        db.session.rollback()


@pytest.mark.parametrize("who, portal, expected", [
    ("13800000001", "COURT", 200),      # 朝阳 admin: the job's court
    ("13800000011", "COURT", 404),      # 海淀 admin: another court's job is not found
    ("13800000002", "COURT", 403),      # 朝阳 judge: not an administrator
    ("13900000001", "MEDIATOR", 403),   # a mediator
    ("admin", "PLATFORM", 404),         # the platform: no court, so no court's job
    (None, None, 302),                  # anonymous: to the login
])
@pytest.mark.parametrize("suffix", ["", "/status"])
def test_who_sees_an_import_job(app, login_as, who, portal, expected, suffix):
    """Role × endpoint: only the administrators of the job's court see it [FAQ 2.1]."""
    job_id = _job_id(_upload(login_as("13800000001"), [["甲", "13811110001", "书记员", "否"]]))
    client = app.test_client()
    if who:
        assert login(client, who, portal).status_code == 302
    resp = client.get(f"/court-users/import/{job_id}{suffix}")
    if expected == 403:
        assert resp.status_code in (302, 403) and "13811110001" not in text(resp)
        if resp.status_code == 302:
            assert "/import/" not in resp.headers["Location"]
    else:
        assert resp.status_code == expected
    if expected != 200:
        assert "甲" not in text(resp) and "users.xlsx" not in text(resp)


def test_a_generated_initial_password_still_logs_in(app, login_as):
    """The cheaper hash of a generated password is a werkzeug method: the login checks it as any other."""
    with app_ctx(app):
        from app.workflows.accounts import initial_password
        made = initial_password()
        assert made.hashed.startswith("scrypt:4096:8:1$") and check_password_hash(made.hashed, made.plain)


def test_the_rows_the_worker_writes_name_the_administrator_who_queued_the_import(app, login_as):
    """The worker carries out the administrator's import: the trail names them (「…（批量导入）」), not 系统;
    the worker's own steps (claim, finish) stay the system's."""
    from app.models import AuditLog
    from app.views import records

    client = login_as("13800000001")
    job_id = _job_id(_upload(client, [["甲", "13811110001", "书记员", "否"]]))
    with app_ctx(app):
        assert bulk_import.run_due_imports() == 1
        admin = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13800000001"))
        staff = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == "13811110001"))
        [created] = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.entity == "court_staff", AuditLog.entity_id == staff.id, AuditLog.action == "CREATE")).all()
        assert created.actor_id == admin.user_id and created.actor_name == f"import-job:{job_id}"
        user = app.appbuilder.sm.get_user_by_id(admin.user_id)
        person = " ".join(p for p in (user.first_name, user.last_name) if p and p.strip())
        with app.test_request_context():
            assert records.actor_label(created) == f"{person}（批量导入）"
        worker_rows = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.entity == "import_job", AuditLog.entity_id == job_id, AuditLog.action == "TRANSITION",
            AuditLog.after["event"].as_string().in_(["claim", "finish"]))).all()
        assert len(worker_rows) == 2 and all(r.actor_id is None and r.actor_name == "system" for r in worker_rows)
