"""质效指标: the case statistics report, its detail, exports and the dashboard (SPEC §6, FAQ 2.4; issue 7).

Every figure is checked against a small data set counted by hand, in a
period (first half of 2024) where the demo data has no cases.
"""
from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app import clock, exports
from app.workflows import exports as export_jobs
from app.clock import today
from app.enums import ApplicationKind, ApplicationStatus, CaseStatus, CaseType, ExportStatus
from app.extensions import db
from app.models import AuditLog, Case, Court, CourtApplication, ExportJob
from app.security import Scope
from app.workflows import Conflict, DomainError, NotAllowed
from app.workflows import statistics as stats
from app.workflows.actor import SYSTEM, Actor
from app.workflows.engine import NEW

from app.workflows import case_lifecycle

from .case_factory import court_actor, make_case, mediator_actor, update_case
from .helpers import app_ctx, make_app, text
from .helpers import demo_ids

PERIOD = {"start": "2024-01-01", "end": "2024-06-30"}
D = dt.date


def T(*wall) -> dt.datetime:
    """A Beijing wall-clock time as the database stores it (naive UTC): 00:00 Beijing is 16:00 UTC the day before."""
    return dt.datetime(*wall, tzinfo=clock.BEIJING).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _apply(app, case_id, kind, status):
    """An application in `status`, as app/workflows/after_mediation.py leaves it."""
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        db.session.add(CourtApplication(case_id=case_id, court_id=case.court_id, kind=kind, status=status,
                                        applicant_name="赵一", applied_via="party", applied_at=T(2024, 7, 1)))
        db.session.commit()


@pytest.fixture()
def cohort(app):
    """The hand-counted cases of 朝阳 (and one of 海淀). Comments give each case's expected place."""
    M, E, X = CaseStatus.MEDIATING, CaseStatus.ENDED, CaseStatus.TERMINATED
    ids = {}

    def case(name, status, received, closed=None, phone="13900000001", **kw):
        ids[name] = make_case(app, status=status, mediator_phone=phone, **kw)
        update_case(app, ids[name], received_on=received, closed_at=closed, number=f"（2024）统计测试{name}号",
             deadline=kw.pop("deadline", None) if status is not M else received + dt.timedelta(days=30))

    case("A", E, D(2024, 2, 1), T(2024, 2, 11))            # 陈静: ended, 10 days
    case("B", X, D(2024, 3, 1), T(2024, 3, 21))            # 陈静: terminated, 20 days
    case("C", E, D(2024, 6, 20), T(2024, 7, 5))            # 陈静: ended after the period: mediating at its end
    case("D", X, D(2024, 4, 1), T(2024, 4, 20))            # 陈静: terminated, then continued below: mediating
    case("K", M, D(2024, 4, 10))                           # 陈静: mediating, overdue since 2024-05-10
    case("E", E, D(2024, 5, 1), T(2024, 5, 4), phone="13900000002")       # 刘洋: ended, 3 days, confirmed
    case("F", E, D(2023, 12, 31), T(2024, 1, 5), phone="13900000002")     # received before: not counted
    case("G", X, D(2024, 6, 30), T(2024, 6, 30, 12), phone="13900000002")  # 刘洋: last day, ½ day, filed
    case("H", E, D(2024, 3, 15), T(2024, 3, 20))           # deleted below: not counted
    case("I", X, D(2024, 2, 10), T(2024, 2, 20), organisation="朝阳区商事调解中心")  # no mediator, 10 days
    case("J", E, D(2024, 3, 1), T(2024, 3, 2), court_code="京0108", phone="13900000011")  # 海淀
    _apply(app, ids["E"], ApplicationKind.JUDICIAL_CONFIRMATION, ApplicationStatus.CONFIRMED)
    _apply(app, ids["B"], ApplicationKind.JUDICIAL_CONFIRMATION, ApplicationStatus.REJECTED)  # not counted
    _apply(app, ids["G"], ApplicationKind.FILING, ApplicationStatus.ACCEPTED)
    _apply(app, ids["I"], ApplicationKind.FILING, ApplicationStatus.PENDING)  # not yet sent: not counted
    with app_ctx(app):
        # 继续调解 of D (SPEC §3.1): it mediates again, its closing undone
        case_lifecycle.apply(db.session.get(Case, ids["D"]), "resume", mediator_actor())
        # a deleted case leaves every figure (FAQ 3.3: deletion is irreversible)
        case_lifecycle.apply(db.session.get(Case, ids["H"]), "delete", court_actor(), confirm=True)
        db.session.commit()
        assert db.session.get(Case, ids["D"]).status is CaseStatus.MEDIATING
        assert db.session.get(Case, ids["H"]) is None
    return ids


def _report(app, by, scope, **args):
    with app.test_request_context():
        reach = stats.reach_for(scope)
        q = stats.parse_query({"by": by, **PERIOD, **args}, reach)
        return stats.report(q, reach)


def _court_scope(app, code="京0105"):
    with app_ctx(app):
        court_id = db.session.scalar(sa.select(Court.id).where(Court.code == code))
    return Scope(portal=None, court_id=court_id, is_court_admin=True)


def _row(report, name):
    return next(r for r in report.rows if r.name == name)


def figures(row):
    return {f: getattr(row, f) for f in ("received", "mediating", "ended", "terminated", "overdue", "confirmed",
                                          "filed")}


def test_report_by_mediator_matches_the_hand_count(app, cohort):
    """SPEC §6: received, in mediation, ended, terminated, success rate, average days, 司法确认, 转立案, overdue."""
    report = _report(app, "mediator", _court_scope(app))
    chen = _row(report, "陈静")
    assert figures(chen) == {"received": 5, "mediating": 3, "ended": 1, "terminated": 1, "overdue": 1,
                             "confirmed": 0, "filed": 0}
    assert chen.success_rate == pytest.approx(0.5)
    assert chen.average_days == pytest.approx(15.0)
    assert chen.extra["phone"] == "13900000001" and chen.extra["organisation"] == "朝阳区商事调解中心"
    liu = _row(report, "刘洋")
    assert figures(liu) == {"received": 2, "mediating": 0, "ended": 1, "terminated": 1, "overdue": 0,
                            "confirmed": 1, "filed": 1}
    assert liu.average_days == pytest.approx(1.75)
    nobody = report.rows[-1]
    assert nobody.key is None and figures(nobody)["received"] == 1 and nobody.terminated == 1
    assert figures(report.total) == {"received": 8, "mediating": 3, "ended": 2, "terminated": 3, "overdue": 1,
                                     "confirmed": 1, "filed": 1}
    assert report.total.success_rate == pytest.approx(0.4)
    assert report.total.average_days == pytest.approx((10 + 20 + 3 + 0.5 + 10) / 5)
    # 海淀's mediator and case are not 朝阳's
    assert all(r.name != "杨帆" for r in report.rows)


def test_the_mediator_report_lists_the_whole_roster_with_zeros(app, cohort):
    """FAQ 2.4: the roster is exported from 按调解员查询, idle mediators included."""
    with app_ctx(app):
        report = _report(app, "mediator", _court_scope(app), start="2020-01-01", end="2020-12-31")
    assert {"陈静", "刘洋"} <= {r.name for r in report.rows}
    assert report.total.received == 0 and report.total.success_rate is None and report.total.average_days is None


def test_report_by_organisation_court_and_type(app, cohort):
    by_org = _report(app, "organisation", _court_scope(app))
    assert figures(_row(by_org, "朝阳区商事调解中心"))["received"] == 1
    assert by_org.rows[-1].key is None and by_org.rows[-1].received == 7
    by_type = _report(app, "case_type", _court_scope(app))
    assert [r.received for r in by_type.rows] == [8, 0, 0]
    # a high court counts its subordinate courts: 朝阳 (via 京03) and 海淀 (via 京01)
    high = _report(app, "court", _court_scope(app, "京"))
    assert _row(high, "北京市朝阳区人民法院").received == 8
    assert _row(high, "北京市海淀区人民法院").received == 1
    assert high.total.received == 9
    # filters: one court, one case type
    only_hd = _report(app, "court", _court_scope(app, "京"), court_id=str(demo_ids(app)["haidian"]))
    assert only_hd.total.received == 1
    none_internet = _report(app, "mediator", _court_scope(app), case_type="internet")
    assert none_internet.total.received == 0


def test_bad_queries_are_refused_in_chinese_and_nothing_runs(app, login_as):
    c = login_as("13800000001")
    for bad in ({"start": "2024-13-01"}, {"start": "2024-06-01", "end": "2024-01-01"},
                {"by": "weather"}, {"case_type": "nope"}, {"start": "2020-01-01", "end": "2024-12-31"}):
        resp = c.get("/statistics/report", query_string={**PERIOD, **bad})
        assert resp.status_code == 200
        assert 'id="report"' not in text(resp)
        assert any(word in text(resp) for word in ("日期", "未知", "三年", "不能晚于"))
    hd = demo_ids(app)["haidian"]
    resp = c.get("/statistics/report", query_string={**PERIOD, "court_id": hd})
    assert "无权查看该法院的数据" in text(resp) and 'id="report"' not in text(resp)


def test_the_report_page_links_each_figure_to_its_cases(app, cohort, login_as):
    c = login_as("13800000001")
    page = text(c.get("/statistics/report", query_string={**PERIOD, "by": "mediator"}))
    assert "案件统计报表" in page and "陈静" in page and "调解成功率" in page and "50.0%" in page
    ids = demo_ids(app)
    resp = c.get("/statistics/detail", query_string={**PERIOD, "by": "mediator", "key": ids["cy_invited"],
                                                     "figure": "mediating"})
    body = text(resp)
    assert resp.status_code == 200 and "3 件" in body
    with app_ctx(app):
        numbers = {c_id: db.session.get(Case, c_id).number for c_id in cohort.values() if db.session.get(Case, c_id)}
    assert all(numbers[cohort[n]] in body for n in "CDK") and numbers[cohort["A"]] not in body
    # the total row's figures, and a figure after mediation
    body = text(c.get("/statistics/detail", query_string={**PERIOD, "key": "all", "figure": "overdue"}))
    assert numbers[cohort["K"]] in body and "1 件" in body
    body = text(c.get("/statistics/detail", query_string={**PERIOD, "key": ids["cy_judge_mediator"],
                                                          "figure": "confirmed"}))
    assert numbers[cohort["E"]] in body and numbers[cohort["G"]] not in body
    # a rate is not a list of cases
    resp = c.get("/statistics/detail", query_string={**PERIOD, "key": "all", "figure": "success_rate"})
    assert resp.status_code == 302


def _xlsx(resp):
    assert resp.status_code == 200, text(resp)[:300]
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(resp.data)).active


def test_report_export_reads_back_as_shown(app, cohort, login_as):
    c = login_as("13800000001")
    resp = c.get("/statistics/report/export", query_string={**PERIOD, "by": "mediator"})
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    assert "%E6%A1%88%E4%BB%B6%E7%BB%9F%E8%AE%A1" in resp.headers["Content-Disposition"]  # 案件统计
    ws = _xlsx(resp)
    assert ws["A1"].value == "案件统计报表（按调解员）"
    assert "2024-01-01 至 2024-06-30" in ws["A2"].value and "生成" in ws["A2"].value
    assert ws.freeze_panes == "A4"
    head = [cell.value for cell in ws[3]]
    assert head[:4] == ["调解员", "手机号", "调解组织", "收案数"] and "逾期数" in head
    rows = {r[0].value: r for r in ws.iter_rows(min_row=4)}
    chen = [cell.value for cell in rows["陈静"]]
    assert chen[1] == "13900000001" and chen[3:] == [5, 3, 1, 1, 0.5, 15, 0, 0, 1]
    assert rows["陈静"][7].number_format == "0.0%"
    total = [cell.value for cell in rows["合计"]]
    assert total[3] == 8 and total[9] == 1


def test_detail_export_keeps_formula_looking_names_as_text(app, login_as):
    """Export injection: a party named like a formula is exported as a string."""
    case_id = make_case(app, status=CaseStatus.MEDIATING, parties=[
        ("APPLICANT", "=HYPERLINK(\"http://x\",\"点我\")", "13511110001", "110105198001010013"),
        ("RESPONDENT", "+1-2", "13511110002", "11010519850505002X")])
    update_case(app, case_id, received_on=D(2024, 3, 3), party_names='=HYPERLINK("http://x","点我")、+1-2',
         claim_amount=1234.5)
    c = login_as("13800000001")
    ws = _xlsx(c.get("/statistics/detail/export", query_string={**PERIOD, "key": "all", "figure": "received"}))
    assert ws["A1"].value.startswith("报表明细")
    cells = {cell.value: cell for cell in ws[4]}
    cell = cells['=HYPERLINK("http://x","点我")、+1-2']
    assert cell.data_type == "s"
    assert ws.max_row == 4
    amount = ws.cell(row=4, column=7)
    assert amount.value == 1234.5 and amount.number_format == "#,##0.00"
    assert ws.cell(row=4, column=11).value == dt.datetime(2024, 3, 3)  # a date (收案日期), written as the day itself


def test_an_export_reads_its_rows_in_batches_newest_first_and_misses_none(app, cohort):
    """`CaseRows` fetches by primary key, `size` ids a query (one array parameter on PostgreSQL, an IN
    list on SQLite): together the batches are exactly the rows of `detail_select`, newest first."""
    with app.test_request_context():
        reach = stats.reach_for(_court_scope(app))
        q = stats.parse_query({"by": "mediator", **PERIOD}, reach)
        expected = [r[0] for r in db.session.execute(
            exports.detail_select(q, reach, "received", None, all_rows=True).order_by(None).order_by(Case.id.desc()))]
        batches = [[row[0] for row in batch] for batch in exports.CaseRows(q, reach, "received", None,
                                                                            all_rows=True, size=3)]
    assert len(expected) == 8 and sorted(expected, reverse=True) == expected
    assert [len(b) for b in batches] == [3, 3, 2]
    assert [i for b in batches for i in b] == expected


def test_a_large_export_runs_in_the_background_for_its_owner_only(db_url, tmp_path):
    app = make_app(db_url, EXPORT_SYNC_LIMIT=2, EXPORT_FOLDER=str(tmp_path))
    for day in (1, 2, 3):
        update_case(app, make_case(app, status=CaseStatus.MEDIATING), received_on=D(2024, 1, day))
    from .helpers import login

    owner = app.test_client()
    login(owner, "13800000001")
    resp = owner.get("/statistics/detail/export", query_string={**PERIOD, "key": "all", "figure": "received"})
    assert resp.status_code == 302 and "/statistics/exports/" in resp.headers["Location"]
    job_url = resp.headers["Location"]
    status = owner.get(job_url + "/status").get_json()
    assert status["status"] == "queued" and status["total"] == 3 and status["download"] is None
    assert status["pending"] is True
    assert 'id="job-bar"' in text(owner.get(job_url))
    with app_ctx(app):
        assert export_jobs.run_due_jobs() == 1
    status = owner.get(job_url + "/status").get_json()
    assert status["status"] == "done" and status["done"] == 3 and status["download"]
    assert status["pending"] is False and 'id="job-download" class="btn btn-success"' in text(owner.get(job_url))
    ws = _xlsx(owner.get(status["download"]))
    assert ws.max_row == 3 + 3
    # a colleague of the same court cannot see or fetch it
    colleague = app.test_client()
    login(colleague, "13800000002")
    assert colleague.get(job_url + "/status").status_code == 404
    assert colleague.get(status["download"]).status_code == 404
    assert job_url not in text(colleague.get("/statistics/exports/"))  # (the sidebar says 报表明细查询)
    with app_ctx(app):
        db.session.remove()
        db.engine.dispose()


def test_a_failed_job_says_why_and_the_worker_goes_on(app, tmp_path):
    app.config["EXPORT_FOLDER"] = str(tmp_path)
    with app_ctx(app):
        user_id = db.session.scalar(sa.text("SELECT id FROM ab_user WHERE username='13800000001'"))
        bad = ExportJob(user_id=user_id, kind="case_detail", title="坏", status=ExportStatus.QUEUED,
                        params={"query": {"by": "mediator", "start": "x"}, "reach": {"court_ids": [1],
                                "organisation_ids": None}, "figure": "received", "key": "all"})
        good = ExportJob(user_id=user_id, kind="case_detail", title="好", status=ExportStatus.QUEUED,
                         params={"query": PERIOD | {"by": "mediator"}, "reach": {"court_ids": [1],
                                 "organisation_ids": None}, "figure": "received", "key": "all"})
        db.session.add_all([bad, good])
        db.session.commit()
        assert export_jobs.run_due_jobs() == 2
        db.session.expire_all()
        assert bad.status is ExportStatus.FAILED and bad.error
        assert good.status is ExportStatus.DONE and list(tmp_path.iterdir())


def test_my_exports_names_an_export_s_states_not_an_sms_s(app, login_as):
    """我的导出 says 排队中 / 导出失败: "Queued"/"Failed" were one msgid with the SMS states (待发送/发送失败)."""
    with app_ctx(app):
        user_id = db.session.scalar(sa.text("SELECT id FROM ab_user WHERE username='13800000001'"))
        for title, status in (("排队的导出", ExportStatus.QUEUED), ("失败的导出", ExportStatus.FAILED)):
            db.session.add(ExportJob(user_id=user_id, kind="case_detail", title=title, status=status, params={}))
        db.session.commit()
    page = text(login_as("13800000001").get("/statistics/exports/"))
    assert "排队的导出" in page and "排队中" in page and "导出失败" in page
    assert "待发送" not in page and "发送失败" not in page


# --- the export job machine (SPEC §6 exports; app/workflows/exports.py) ---------------------------

Q, R, DONE, FAILED = ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.DONE, ExportStatus.FAILED
# written by hand: the owner's request queues a new job, which one worker claims and then finishes
# or records why it failed; a running job whose worker's lease ran out is taken over (issue 17 item 3);
# done and failed are final.
JOB_TABLE = {
    "queue": ({NEW}, Q),
    "claim": ({Q}, R),
    "take_over": ({R}, R),
    "finish": ({R}, DONE),
    "fail": ({R}, FAILED),
    "give_up": ({R}, FAILED),
}
JOB_DATA = {"queue": {}, "claim": {}, "take_over": {}, "finish": {"written": 7, "path": "/tmp/x.xlsx"},
            "fail": {"error": "磁盘已满"}, "give_up": {"reason": "导出已中断3次"}}
GOOD_PARAMS = {"query": PERIOD | {"by": "mediator"}, "reach": {"court_ids": [1], "organisation_ids": None},
               "figure": "received", "key": "all"}


def _job(status=Q, title="好", params=GOOD_PARAMS) -> int:
    user_id = db.session.scalar(sa.text("SELECT id FROM ab_user WHERE username='13800000001'"))
    job = ExportJob(user_id=user_id, kind="case_detail", title=title, status=status, params=params)
    db.session.add(job)
    db.session.commit()
    return job.id


def test_the_job_table_has_exactly_the_spec_events():
    assert set(JOB_TABLE) == set(export_jobs.JOBS.transitions)


@pytest.mark.parametrize("event", list(JOB_TABLE))
@pytest.mark.parametrize("status", list(ExportStatus), ids=lambda s: s.name)
def test_every_job_state_and_event(app, status, event):
    """Every stored state × every event (a stored job is never NEW: queueing creates it)."""
    sources, target = JOB_TABLE[event]
    with app_ctx(app):
        job = db.session.get(ExportJob, _job(status))
        if event == "give_up":  # given up only once its attempts are used up (the cap has its own tests)
            job.attempts = 3
            db.session.commit()
        before = (job.status, job.version)
        if status in sources:
            export_jobs.JOBS.apply(job, event, SYSTEM, **JOB_DATA[event])
            db.session.commit()
            assert job.status is target and job.version == before[1] + 1
            if event == "finish":
                assert (job.done, job.total, job.path) == (7, 7, "/tmp/x.xlsx") and job.finished_at
            if event == "fail":
                assert job.error == "磁盘已满" and job.finished_at
            if event == "give_up":
                assert job.error == "导出已中断3次" and job.finished_at and job.claimed_by is None
        else:
            with pytest.raises(DomainError) as refused:
                export_jobs.JOBS.apply(job, event, SYSTEM, **JOB_DATA[event])
            assert "不能" in refused.value.message
            db.session.rollback()
            assert (job.status, job.version) == before


def test_the_owner_queues_a_job_and_nobody_else_does(app):
    with app_ctx(app):
        user_id = db.session.scalar(sa.text("SELECT id FROM ab_user WHERE username='13800000001'"))
        colleague = db.session.scalar(sa.text("SELECT id FROM ab_user WHERE username='13800000002'"))
        scope = Scope(portal=None, court_id=demo_ids(app)["chaoyang"])
        with pytest.raises(NotAllowed):
            export_jobs.JOBS.create(ExportJob(user_id=user_id, kind="case_detail", title="好", params=GOOD_PARAMS),
                                    "queue", Actor(colleague, scope))
        job = export_jobs.JOBS.create(ExportJob(user_id=user_id, kind="case_detail", title="好",
                                                params=GOOD_PARAMS), "queue", Actor(user_id, scope))
        assert job.id is not None and job.status is Q and job.version == 1
        with pytest.raises(DomainError):  # a stored job is not queued again
            export_jobs.JOBS.apply(job, "queue", Actor(user_id, scope))


@pytest.mark.parametrize("event", [e for e in JOB_TABLE if e != "queue"])
def test_only_the_worker_moves_a_job(app, event):
    """Not even the job's owner: a job changes state only in `flask worker`."""
    with app_ctx(app):
        job = db.session.get(ExportJob, _job(next(iter(JOB_TABLE[event][0]))))
        owner = Actor(job.user_id, Scope(portal=None, court_id=demo_ids(app)["chaoyang"], is_court_admin=True))
        with pytest.raises(NotAllowed):
            export_jobs.JOBS.apply(job, event, owner, **JOB_DATA[event])


def test_a_second_claim_of_a_job_read_before_the_first_is_a_conflict(app):
    with app_ctx(app):
        job = db.session.get(ExportJob, _job())
        # another worker claims it between this worker's read and its write
        db.session.execute(sa.update(ExportJob).where(ExportJob.id == job.id)
                           .values(status=R, version=ExportJob.version + 1),
                           execution_options={"synchronize_session": False})
        assert job.status is Q  # what this worker read
        with pytest.raises(Conflict):
            export_jobs.JOBS.apply(job, "claim", SYSTEM)
        db.session.rollback()


def test_two_workers_claiming_one_job_run_it_once(fresh_app, tmp_path, monkeypatch):
    """Two `flask worker`s reach the same queued job at once: exactly one claims and writes it, the other
    answers False (PostgreSQL: FOR UPDATE SKIP LOCKED skips the row being claimed; SQLite's BEGIN IMMEDIATE
    serialises them, so the second finds it taken — issue 17 item 3)."""
    app = fresh_app
    app.config["EXPORT_FOLDER"] = str(tmp_path)
    with app_ctx(app):
        job_id = _job()
    written, results = [], []
    real_write, real_claim = export_jobs.write_cases, export_jobs.claim
    barrier = threading.Barrier(2, timeout=30)

    def write_cases(*args, **kwargs):
        written.append(1)
        return real_write(*args, **kwargs)

    def claim(*args, **kwargs):
        barrier.wait()  # both workers try to claim together
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(export_jobs, "write_cases", write_cases)
    monkeypatch.setattr(export_jobs, "claim", claim)

    def worker():
        with app.app_context():
            try:
                results.append(export_jobs.run_job(job_id))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False, True] and len(written) == 1
    with app_ctx(app):
        job = db.session.get(ExportJob, job_id)
        assert job.status is DONE and len(list(tmp_path.iterdir())) == 1
        claims = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.entity == "export_job", AuditLog.entity_id == job_id, AuditLog.summary == "export_job.claim"))
        assert claims == 1


@pytest.mark.parametrize("user,portal", [("13900000001", "MEDIATOR"), ("13500000001", "PARTY"),
                                         ("13600000001", "GRASSROOTS")])
def test_people_without_statistics_are_refused(login_as, user, portal):
    c = login_as(user, portal)
    for url in ("/statistics/report", "/statistics/detail", "/statistics/report/export", "/statistics/dashboard",
                "/statistics/exports/"):
        resp = c.get(url)
        assert resp.status_code in (302, 403), url
        assert resp.status_code == 403 or "/login" in resp.headers["Location"] or resp.headers["Location"].endswith("/")


def test_each_role_counts_only_its_own(app, cohort, login_as):
    ids = demo_ids(app)
    # 海淀 sees its one case, never 朝阳's, even when it asks for 朝阳's mediator
    hd = login_as("13800000011")
    page = text(hd.get("/statistics/report", query_string={**PERIOD, "by": "court"}))
    assert "北京市海淀区人民法院" in page and "北京市朝阳区人民法院" not in page
    body = text(hd.get("/statistics/detail", query_string={**PERIOD, "key": ids["cy_invited"],
                                                           "figure": "received"}))
    assert "0 件" in body
    # a ministry account counts its organisations' cases: 工商联 has 朝阳区商事调解中心 (case I)
    ministry = login_as("13700000001", "MINISTRY")
    page = text(ministry.get("/statistics/report", query_string={**PERIOD, "by": "organisation"}))
    assert "朝阳区商事调解中心" in page and "北京金融纠纷调解中心" not in page
    with app.test_request_context():
        from app.workflows.ministry import in_region  # noqa: F401 - the reach is region-bound

    # the platform counts everything
    admin = login_as("admin", "PLATFORM")
    page = text(admin.get("/statistics/report", query_string={**PERIOD, "by": "court"}))
    assert "北京市海淀区人民法院" in page and "北京市朝阳区人民法院" in page
    # court users (not admins) have the report but not the dashboard
    judge = login_as("13800000002")
    assert judge.get("/statistics/report").status_code == 200
    assert judge.get("/statistics/dashboard").status_code in (302, 403)


def test_dashboard_draws_its_charts_without_a_cdn(app, cohort, login_as):
    c = login_as("13800000001")
    resp = c.get("/statistics/dashboard")
    body = text(resp)
    assert resp.status_code == 200
    assert body.count("<svg") + body.count("本期间暂无数据") == 5
    assert "google" not in body.lower() and "gstatic" not in body and "cdn" not in body.lower()
    assert "按月收案及结果" in body and "调解成功率趋势" in body and "逾期案件" in body
    # the demo has overdue 朝阳 cases; the figure agrees with the deadline list
    with app_ctx(app):
        overdue = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.court_id == demo_ids(app)["chaoyang"], Case.status.in_(stats.OPEN),
            Case.deadline < today()))  # the one clock the dashboard counts by
    assert f'id="overdue-total">{overdue}<' in body


def test_the_sidebar_offers_statistics_to_court_accounts(login_as):
    page = text(login_as("13800000001").get("/statistics/report"))
    assert "质效指标管理" in page and "案件统计报表查询" in page and "数据看板" in page


# --- the case list at scale (issue 7 item 4) ---------------------------------------

def test_case_list_counts_stop_at_the_cap(app, login_as, monkeypatch):
    """Past the cap the list says "N+" instead of counting a million rows; paging still works."""
    from app.views.cases import PreLitigationCaseView

    with app_ctx(app):
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.court_id == demo_ids(app)["chaoyang"], Case.case_type == CaseType.PRE_LITIGATION))
    assert n > 4
    c = login_as("13800000001")
    assert f"</strong> {n}" in text(c.get("/cases/pre-litigation/list/"))
    view = next(v for v in app.appbuilder.baseviews if isinstance(v, PreLitigationCaseView))
    monkeypatch.setattr(view.datamodel, "count_cap", 3)
    page = text(c.get("/cases/pre-litigation/list/"))
    assert "</strong> 3+" in page
    assert c.get("/cases/pre-litigation/list/?page_PreLitigationCaseView=1&psize_PreLitigationCaseView=2"
                 ).status_code == 200


def test_the_case_list_never_lists_other_courts_mediators(app, login_as):
    """No roster-wide filter select (FAB #796): 海淀's mediator is nowhere on 朝阳's list."""
    page = text(login_as("13800000001").get("/cases/pre-litigation/list/"))
    assert "陈静" in page  # a case's mediator column
    assert "杨帆" not in page


def test_the_case_list_has_no_n_plus_one(app, login_as):
    """A list page costs the same statements for 20 rows as for 50 (relations load once per page)."""
    from sqlalchemy import event

    c = login_as("13800000001")

    def statements(url):
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert c.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return seen

    statements("/cases/pre-litigation/list/")  # the process's permission cache is filled on a first page
    small = statements("/cases/pre-litigation/list/?psize_PreLitigationCaseView=20")
    large = statements("/cases/pre-litigation/list/?psize_PreLitigationCaseView=50")
    assert len(small) == len(large)
    page = next(s for s in large if "LIMIT" in s and "mediation_case.number" in s)
    # the one JOIN is the page's own ids (CappedSQLAInterface.apply_all); no relation is joined
    assert page.count("JOIN") == 1 and "JOIN (SELECT mediation_case.id" in page, page
    for table in ("mediator", "organisation", "court", "grassroots_unit"):
        assert f"JOIN {table} " not in page and f"JOIN {table}\n" not in page, f"{table}: each loads once for the page"


def test_report_workbooks_print_landscape_on_a4_one_page_wide_with_every_header_readable(app, cohort, login_as):
    """Issue 15 item 20: each column at least as wide as its header (a Chinese character is two
    digits wide), landscape A4, the title and header repeated on every page, one page wide."""
    c = login_as("13800000001")
    for url, extra in (("/statistics/report/export", {"by": "organisation"}),
                       ("/statistics/detail/export", {"key": "all", "figure": "received"})):
        ws = _xlsx(c.get(url, query_string={**PERIOD, **extra}))
        for cell in ws[3]:
            need = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(cell.value))
            assert ws.column_dimensions[cell.column_letter].width >= need, (url, cell.value)
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.print_title_rows == "$1:$3"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # OOXML leaves out fitToWidth when it is its default, 1; fitToHeight 0 = as many pages as needed
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)


@pytest.fixture()
def long_roster(app, cohort):
    """朝阳 with sixty more certified organisations, all idle: a roster longer than a report page."""
    from app.enums import CertificationStatus, OrganisationType
    from app.models import Organisation, OrganisationCourt

    with app_ctx(app):
        court = db.session.scalar(sa.select(Court).where(Court.code == "京0105"))
        for i in range(60):
            org = Organisation(name=f"分页测试调解室{i:02d}", credit_code=f"9111000060{i:08d}",
                               org_type=OrganisationType.PEOPLES, province="北京市", city="北京市",
                               contact_name="郑主任", contact_phone=f"1393300{i:04d}")
            db.session.add(OrganisationCourt(organisation=org, court=court, status=CertificationStatus.CERTIFIED))
        db.session.commit()


def _report_page(c, **args):
    resp = c.get("/statistics/report", query_string={**PERIOD, "by": "organisation", **args})
    assert resp.status_code == 200
    return resp


def _body_rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [tr.split("<td>", 1)[1].split("</td>", 1)[0] for tr in body.split("<tr")[1:]]


def test_the_report_pages_its_roster_and_keeps_the_order_total_and_export_whole(app, long_roster, login_as):
    from app.views.statistics import REPORT_PAGE_SIZE

    assert 20 <= REPORT_PAGE_SIZE <= 50
    whole = _report(app, "organisation", _court_scope(app))
    assert len(whole.rows) > REPORT_PAGE_SIZE
    c = login_as("13800000001")
    first = _report_page(c)
    html = text(first)
    names = _body_rows(html)
    assert len(names) == REPORT_PAGE_SIZE + 1 and names[-1] == "合计"  # one page and the whole report's total
    assert f"共 {len(whole.rows)} 行" in html and 'class="pagination' in html and "page_report=1" in html
    pages = (len(whole.rows) + REPORT_PAGE_SIZE - 1) // REPORT_PAGE_SIZE
    shown = []
    for page in range(pages):
        rows = _body_rows(text(_report_page(c, page_report=page)))
        assert rows[-1] == "合计"
        shown += rows[:-1]
    assert shown == [r.name for r in whole.rows]  # the report's order across pages, every row once
    # the total row is the whole report's on every page
    last = text(_report_page(c, page_report=pages - 1))
    total_cells = last.split('<tr class="court-total">', 1)[1].split("</tr>", 1)[0]
    assert f">{whole.total.received}<" in total_cells and whole.total.received > 0
    assert _body_rows(text(_report_page(c, page_report=999)))[:-1] == shown[(pages - 1) * REPORT_PAGE_SIZE:]
    # the export is the whole report, whatever page was shown
    ws = _xlsx(c.get("/statistics/report/export", query_string={**PERIOD, "by": "organisation"}))
    exported = [r[0].value for r in ws.iter_rows(min_row=4)]
    assert exported == [r.name for r in whole.rows] + ["合计"]


def test_the_default_report_page_stays_small_with_a_long_roster(app, long_roster, login_as, monkeypatch):
    """The page sends one page of rows (issue 17: the default report page was 689 KB): its size does not
    grow with the roster."""
    c = login_as("13800000001")
    size = len(_report_page(c).data)
    with app_ctx(app):
        from app.enums import CertificationStatus, OrganisationType
        from app.models import Organisation, OrganisationCourt

        court = db.session.scalar(sa.select(Court).where(Court.code == "京0105"))
        for i in range(200):
            org = Organisation(name=f"更多调解室{i:03d}", credit_code=f"9111000070{i:08d}",
                               org_type=OrganisationType.PEOPLES, province="北京市", city="北京市",
                               contact_name="郑主任", contact_phone=f"1393400{i:04d}")
            db.session.add(OrganisationCourt(organisation=org, court=court, status=CertificationStatus.CERTIFIED))
        db.session.commit()
    bigger = _report_page(c)
    assert len(_body_rows(text(bigger))) <= 51
    assert abs(len(bigger.data) - size) < 2_000  # the names on the page, the row count and the pager's links
    assert len(bigger.data) < 60_000


@pytest.mark.parametrize("by", ["mediator", "organisation", "court", "case_type"])
def test_a_report_page_is_exactly_that_page_of_the_whole_report(app, long_roster, by):
    """Issue 17 item 6: the page ranks a roster on ids and names and looks up phones and organisations
    for its own rows only; what it shows is the whole report's page — order, names, phones, figures —
    with the whole report's total and row count, and a page past either end shows the nearest one."""
    def shape(row):
        return (row.key, row.name, row.extra, *figures(row).values(), round(row.total_days, 6))

    if by == "mediator":  # 刘洋 no longer certified at 朝阳: the cases counted still name a row
        from app.enums import CertificationStatus
        from app.models import Mediator, MediatorCourt

        with app_ctx(app):
            liu = db.session.scalar(sa.select(Mediator.id).where(Mediator.name == "刘洋"))
            db.session.execute(sa.update(MediatorCourt).where(MediatorCourt.mediator_id == liu)
                               .values(status=CertificationStatus.REJECTED))
            db.session.commit()
    with app.test_request_context():
        reach = stats.reach_for(_court_scope(app))
        q = stats.parse_query({"by": by, **PERIOD}, reach)
        whole = stats.report(q, reach)
        if by == "mediator":
            assert _row(whole, "刘洋").received == 2
        size = 2
        pages = (len(whole.rows) + size - 1) // size
        assert pages >= 2 or by == "court"
        for number in range(-1, pages + 1):
            page = stats.report_page(q, reach, number, size)
            shown = min(max(number, 0), pages - 1)
            assert page.paged == (shown, size) and page.count == len(whole.rows)
            assert [shape(r) for r in page.rows] == [shape(r) for r in whole.rows[shown * size:(shown + 1) * size]]
            assert shape(page.total) == shape(whole.total)
        if by == "mediator":  # the unassigned row closes the last page; a mediator shows phone and organisation
            assert stats.report_page(q, reach, pages - 1, size).rows[-1].key is None
            assert any(r.extra.get("organisation") == "朝阳区商事调解中心"
                       for n in range(pages) for r in stats.report_page(q, reach, n, size).rows)
