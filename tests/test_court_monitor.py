"""Issue 15 items 7, 8, 16, 17: the clerk's to-do counts, the courts' push monitor [FAQ 3.4, 3.6, 6.3, 6.5],
one JSON error shape for every API, 调解资源 by region and ministry, 化解统计 by period, whole-number ticks."""
from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_access_token

from app.charts import _axis, _nice_max, stacked_bars, Series
from app.clock import today, utcnow
from app.enums import CaseStatus, CaseType, OutboxStatus
from app.extensions import db
from app.models import AuditLog, Case, Court, Ministry, OutboxMessage
from app.operations import beat
from app.outbox import DeliveryError, deliver_due, enqueue
from app.workflows import court_todo, pushes

from .case_factory import make_case
from .helpers import PASSWORD, app_ctx, flashes, login, text
from .test_after_mediation import accepted_confirmation, ended  # noqa: F401 - fixtures

CY_ADMIN, CY_JUDGE, HD_ADMIN = "13800000001", "13800000002", "13800000011"
MEDIATOR, PARTY, MINISTRY = "13900000001", "13500000001", "13700000001"


class Failing:
    def __init__(self, text="HTTP 503"):
        self.text = text

    def deliver(self, envelope):
        raise DeliveryError(self.text)


class Unacknowledging:
    def deliver(self, envelope):
        return False  # delivered; the receiver acknowledges later through its API


def court_id(app, code):
    with app_ctx(app):
        return db.session.scalar(sa.select(Court.id).where(Court.code == code))


def push(app, case_id, topic="ministry.assign", court_code=None) -> int:
    """A push of the case, written as the workflows write it (app/outbox.py enqueue)."""
    with app_ctx(app):
        ministry = db.session.scalar(sa.select(Ministry).where(Ministry.code == "acfic"))
        message = enqueue(topic, ministry.id if topic.startswith("ministry") else None, case_id, {"case": case_id},
                          court_id=court_id(app, court_code) if court_code else None)
        db.session.commit()
        return message.id


_ROUNDS = itertools.count(1)


def deliver(app, adapter=None, ministry=True):
    """One worker round, a day after the last one (every back-off has passed)."""
    if adapter is not None:
        app.config["MINISTRY_PLATFORM" if ministry else "COURT_INTRANET"] = adapter
    with app.app_context():
        counts = deliver_due(utcnow() + dt.timedelta(days=next(_ROUNDS)))
        db.session.remove()
    return counts


def message(app, pk) -> OutboxMessage:
    with app_ctx(app):
        row = db.session.get(OutboxMessage, pk)
        db.session.expunge(row)
        return row


def row_of(html, pk) -> str:
    match = re.search(rf'<tr data-push="{pk}" data-state="(\w+)">(.*?)</tr>', html, re.S)
    assert match, f"push {pk} not on the page"
    return match.group(1) + " " + match.group(2)


# --- item 8: the push monitor ------------------------------------------------------------------

def test_the_court_sees_each_push_of_its_case_from_waiting_to_result_FAQ_3_4_6_3(app, login_as):
    """[FAQ 3.4, 3.6, 6.3, 6.5] 待推送 → 推送失败 after the first failed attempt (attempts, the error in
    Chinese) → 已送达 → 已回执 → 结果已返回, on the case page."""
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    pk = push(app, case_id)
    court = login_as(CY_ADMIN)
    page = lambda: row_of(text(court.get(f"/case/{case_id}")), pk)  # noqa: E731
    assert page().startswith("waiting") and "待推送" in page()
    deliver(app, Failing("HTTP 503"))
    shown = page()
    assert shown.startswith("failing") and "推送失败" in shown and "<td>1</td>" in shown
    assert "接收系统返回错误（HTTP 503）" in shown and "重新推送" in shown
    assert message(app, pk).status is OutboxStatus.PENDING  # still retried by the worker
    deliver(app, Unacknowledging())
    assert page().startswith("delivered") and "已送达" in page()
    with app_ctx(app):
        db.session.get(OutboxMessage, pk).acknowledged_at = utcnow()
        db.session.commit()
    assert page().startswith("acknowledged") and "已回执" in page()
    with app_ctx(app):
        db.session.get(OutboxMessage, pk).outcome_at = utcnow()
        db.session.commit()
    assert page().startswith("answered") and "结果已返回" in page() and "重新推送" not in page()


@pytest.mark.parametrize("raw, chinese", [
    ("HTTP 500", "接收系统返回错误（HTTP 500）"),
    ("timed out", "接收系统响应超时"),
    ("<urlopen error [Errno 111] Connection refused>", "无法连接接收系统"),
    ("no intranet URL configured (COURT_INTRANET_URL)", "未配置接收系统的地址"),
    ("something odd", "接收系统未接收该推送"),
])
def test_the_last_error_reads_in_chinese_with_the_technical_text_kept(app, raw, chinese):
    with app.test_request_context():
        label = pushes.error_label(raw)
    assert label.startswith(chinese) and raw in label


def test_the_application_page_shows_its_hand_over_and_offers_resend(app, login_as, accepted_confirmation):
    """[FAQ 3.6] 'shows transferred but the intranet never got it': the court sees it and pushes again."""
    deliver(app, Failing("intranet gateway timeout"), ministry=False)
    page = text(login_as(CY_ADMIN).get(f"/application/{accepted_confirmation.id}"))
    shown = row_of(page, accepted_confirmation.outbox_message_id)
    assert "推送失败" in shown and "接收系统响应超时" in shown and "重新推送" in shown
    mediator_page = login_as(MEDIATOR, "MEDIATOR").get(f"/application/{accepted_confirmation.id}")
    assert mediator_page.status_code == 200 and "重新推送" not in text(mediator_page)


def test_the_list_holds_the_courts_failed_or_unacknowledged_pushes_only(app, login_as):
    cy_failing = push(app, make_case(app, status=CaseStatus.MEDIATING))
    cy_unacked = push(app, make_case(app, status=CaseStatus.MEDIATING), "intranet.filing", "京0105")
    hd_case = make_case(app, status=CaseStatus.MEDIATING, court_code="京0108", mediator_phone="13900000011")
    hd_failing = push(app, hd_case)
    app.config["COURT_INTRANET"] = Unacknowledging()
    deliver(app, Failing("HTTP 502"))
    cy_done = push(app, make_case(app, status=CaseStatus.MEDIATING), "intranet.filing", "京0105")
    app.config["COURT_INTRANET"] = "local"
    deliver(app)  # local intranet: delivered is acknowledged
    assert pushes.PushState.ACKNOWLEDGED is _state(app, cy_done)

    chaoyang = text(login_as(CY_ADMIN).get("/court-pushes/"))
    assert f'data-push="{cy_failing}"' in chaoyang and f'data-push="{cy_unacked}"' in chaoyang
    assert f'data-push="{cy_done}"' not in chaoyang and f'data-push="{hd_failing}"' not in chaoyang
    failing_only = text(login_as(CY_JUDGE).get("/court-pushes/?show=failing"))
    assert f'data-push="{cy_failing}"' in failing_only and f'data-push="{cy_unacked}"' not in failing_only
    haidian = text(login_as(HD_ADMIN).get("/court-pushes/"))
    assert f'data-push="{hd_failing}"' in haidian and f'data-push="{cy_failing}"' not in haidian


def _state(app, pk):
    with app_ctx(app):
        return pushes.state_of(db.session.get(OutboxMessage, pk))


def test_resend_queues_the_courts_own_push_again_and_is_audited(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    pk = push(app, case_id)
    for _ in range(5):
        deliver(app, Failing("HTTP 503"))
    assert message(app, pk).status is OutboxStatus.FAILED
    court = login_as(CY_JUDGE)
    resp = court.post(f"/court-pushes/resend/{pk}?next=/case/{case_id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/case/{case_id}")
    again = message(app, pk)
    assert again.status is OutboxStatus.PENDING and again.attempts == 0
    [row] = [r for r in _audit(app) if r.entity_id == pk]
    assert row.summary == pushes.PUSH_RESENT and row.case_id == case_id and row.after["before"]["status"] == "failed"
    assert "法院重新推送" in text(court.get(f"/case/{case_id}?tab=log"))
    app.config["MINISTRY_PLATFORM"] = "local"
    deliver(app)
    assert _state(app, pk) is pushes.PushState.ACKNOWLEDGED


def _audit(app):
    with app_ctx(app):
        rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.entity == "outbox_message")).all()
        db.session.expunge_all()
        return rows


def test_resend_refuses_a_waiting_push_an_answered_one_and_another_courts(app, login_as):
    waiting = push(app, make_case(app, status=CaseStatus.MEDIATING))
    court = login_as(CY_ADMIN)
    court.post(f"/court-pushes/resend/{waiting}")
    assert any("已在等待发送" in f for f in flashes(court))
    answered = push(app, make_case(app, status=CaseStatus.MEDIATING))
    with app_ctx(app):
        row = db.session.get(OutboxMessage, answered)
        row.status, row.attempts, row.sent_at, row.outcome_at = OutboxStatus.SENT, 1, utcnow(), utcnow()
        db.session.commit()
    court.post(f"/court-pushes/resend/{answered}")
    assert any("已返回结果" in f for f in flashes(court))
    assert message(app, answered).status is OutboxStatus.SENT
    hd_push = push(app, make_case(app, status=CaseStatus.MEDIATING, court_code="京0108",
                                  mediator_phone="13900000011"))
    deliver(app, Failing())
    before = message(app, hd_push)
    assert court.post(f"/court-pushes/resend/{hd_push}").status_code == 404
    assert court.post("/court-pushes/resend/999999").status_code == 404
    after = message(app, hd_push)
    assert (after.attempts, after.next_attempt_at) == (before.attempts, before.next_attempt_at)
    assert _audit(app) == []


@pytest.mark.parametrize("who, portal, list_status, resend_status", [
    (CY_ADMIN, "COURT", 200, 302),
    (CY_JUDGE, "COURT", 200, 302),
    (HD_ADMIN, "COURT", 200, 404),
    (MEDIATOR, "MEDIATOR", 403, 403),
    (PARTY, "PARTY", 403, 403),
    (MINISTRY, "MINISTRY", 403, 403),
    ("13600000001", "GRASSROOTS", 403, 403),
    ("13300000001", "PLATFORM", 403, 403),
])
def test_push_monitor_role_by_endpoint(app, login_as, who, portal, list_status, resend_status):
    pk = push(app, make_case(app, status=CaseStatus.MEDIATING))
    deliver(app, Failing())
    client = login_as(who, portal)
    listing = client.get("/court-pushes/")
    assert listing.status_code in ((list_status,) if list_status == 200 else (403, 302))
    if list_status == 200 and who == HD_ADMIN:
        assert f'data-push="{pk}"' not in text(listing)
    resp = client.post(f"/court-pushes/resend/{pk}")
    assert resp.status_code in ((resend_status,) if resend_status != 403 else (403, 302))
    if resend_status != 302:
        assert message(app, pk).attempts == 1


def test_anonymous_gets_the_login_page_and_other_courts_case_page_shows_no_pushes(app, client, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    push(app, case_id)
    resp = client.get("/court-pushes/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert 'id="case-pushes"' in text(login_as(CY_ADMIN).get(f"/case/{case_id}"))
    assert 'id="case-pushes"' not in text(login_as(MEDIATOR, "MEDIATOR").get(f"/case/{case_id}"))


def test_health_reports_the_worker_and_the_oldest_undelivered_push_without_case_data(app, client):
    """/health: 503 while the worker is gone; counts and ages only (it is unauthenticated)."""
    case_id = make_case(app, status=CaseStatus.MEDIATING, number="（2026）京0105民诉前调777号")
    push(app, case_id)
    gone = client.get("/health")
    assert gone.status_code == 503 and gone.json["worker"]["last_heartbeat"] is None
    with app_ctx(app):
        beat("worker", utcnow(), 1, 0)
    ok = client.get("/health")
    assert ok.status_code == 200 and ok.json["outbox"]["pending"] >= 1 and "failed" in ok.json["outbox"]
    assert ok.json["outbox"]["oldest_undelivered_age_seconds"] >= 0
    assert "京0105" not in ok.get_data(as_text=True) and "赵一" not in ok.get_data(as_text=True)


# --- item 7: the clerk's to-do counts ----------------------------------------------------------

def _tile(html, key) -> int:
    match = re.search(rf'id="todo-{key}" data-count="(\d+)"', html)
    assert match, f"no tile {key}"
    return int(match.group(1))


def test_home_page_counts_the_courts_to_do_and_links_to_the_lists(app, login_as):
    """临期 and 超期 are separate counts, each linking to its own list (SPEC §8)."""
    court = login_as(CY_ADMIN)
    before = text(court.get("/"))
    counts = {k: _tile(before, k) for k in ("to-assign", "due-soon", "overdue", "to-accept", "to-file",
                                            "push-failed")}
    make_case(app, number="（2026）京0105民诉前调801号")
    soon = make_case(app, status=CaseStatus.MEDIATING, number="（2026）京0105民诉前调802号")
    late = make_case(app, status=CaseStatus.MEDIATING, number="（2026）京0105民诉前调803号")
    with app_ctx(app):
        db.session.get(Case, soon).deadline = today() + dt.timedelta(days=1)
        db.session.get(Case, late).deadline = today() - dt.timedelta(days=3)
        db.session.commit()
    push(app, late)
    deliver(app, Failing())
    make_case(app, court_code="京0108", number="（2026）京0108民诉前调804号")  # another court's: not counted
    after = text(court.get("/"))
    assert _tile(after, "to-assign") == counts["to-assign"] + 1
    assert _tile(after, "due-soon") == counts["due-soon"] + 1
    assert _tile(after, "overdue") == counts["overdue"] + 1
    assert _tile(after, "push-failed") == counts["push-failed"] + 1
    assert "待指派" in after and "临期" in after and "超期" in after and "待受理申请" in after
    assert "待立案" in after and "推送失败" in after
    soon_list = text(court.get("/cases/deadlines/list/?due=soon"))
    late_list = text(court.get("/cases/deadlines/list/?due=overdue"))
    assert "民诉前调802号" in soon_list and "民诉前调803号" not in soon_list
    assert "民诉前调803号" in late_list and "民诉前调802号" not in late_list
    assert 'href="/cases/deadlines/list/?due=soon"' in after and 'href="/court-pushes/?show=failing"' in after
    assert "民诉前调801号" in text(court.get("/cases/pre-litigation/list/?_flt_0_status=TO_ASSIGN"))
    tile = after[after.index('id="todo-to-assign"'):after.index('id="todo-due-soon"')]
    parts = [int(n) for n in re.findall(r'<a href="[^"]+" data-count="(\d+)"', tile)]
    assert len(parts) == 3 and sum(parts) == _tile(after, "to-assign")  # 诉前, 立案, 互联网: the total adds up


def test_home_counts_are_the_users_court_only_and_cheap(app, login_as):
    hd = text(login_as(HD_ADMIN).get("/"))
    hd_before = _tile(hd, "to-assign")
    make_case(app, number="（2026）京0105民诉前调811号")
    assert _tile(text(login_as(HD_ADMIN).get("/")), "to-assign") == hd_before
    statements, cy = [], court_id(app, "京0105")
    with app.app_context():
        listen = lambda *a, **k: statements.append(a[2]) if a[2].startswith("SELECT") else None  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            todo = court_todo.court_todo(cy)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)
        db.session.remove()
    assert len(statements) <= 4 and todo.to_assign.get(CaseType.PRE_LITIGATION, 0) >= 1
    assert 'id="todo"' not in text(login_as(MEDIATOR, "MEDIATOR").get("/"))


def test_a_judge_without_a_list_gets_no_tile_for_it(app, login_as):
    html = text(login_as(CY_JUDGE).get("/"))
    assert 'id="todo-overdue"' in html and 'id="todo-push-failed"' in html


# --- item 16: the API ----------------------------------------------------------------------------

def _token(client, username, portal):
    return client.post("/api/v1/security/login", json={"username": username, "password": PASSWORD,
                                                       "portal": portal}).get_json()["access_token"]


def _shape(resp, status):
    body = resp.get_json()
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert body["status"] == "error" and re.search(r"[\u4e00-\u9fff]", body["reason"]), body
    assert set(body) <= {"status", "reason", "request_id", "errors"}
    return body["reason"]


def test_the_jwt_case_api_returns_the_callers_cases(app, client):
    with app_ctx(app):
        cy = db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.court_id == sa.select(Court.id).where(Court.code == "京0105").scalar_subquery()))
    bearer = {"Authorization": f"Bearer {_token(client, CY_ADMIN, 'COURT')}"}
    body = app.test_client().get("/api/v1/case/?q=(page_size:100)", headers=bearer).get_json()
    assert body["count"] == cy > 0 and {r["court"]["name"] for r in body["result"]} == {"北京市朝阳区人民法院"}
    mine = app.test_client().get("/api/v1/case/", headers={
        "Authorization": f"Bearer {_token(client, MEDIATOR, 'MEDIATOR')}"}).get_json()
    assert mine["count"] > 0
    for phone, portal in ((PARTY, "PARTY"), ("13500000003", "AGENT"), (MINISTRY, "MINISTRY"),
                          ("52110105MJ0000018A", "ORGANISATION")):
        body = app.test_client().get("/api/v1/case/?q=(page_size:100)", headers={
            "Authorization": f"Bearer {_token(client, phone, portal)}"}).get_json()
        assert body["count"] > 0, (phone, body)
    zhang = app.test_client().get("/api/v1/case/?q=(page_size:100)", headers={
        "Authorization": f"Bearer {_token(client, PARTY, 'PARTY')}"}).get_json()["result"]
    assert all("张三" in row["party_names"] for row in zhang)
    hd_case = make_case(app, court_code="京0108")
    for phone, portal in ((PARTY, "PARTY"), (MINISTRY, "MINISTRY")):
        resp = app.test_client().get(f"/api/v1/case/{hd_case}", headers={
            "Authorization": f"Bearer {_token(client, phone, portal)}"})
        assert resp.status_code == 404  # not the caller's case


def test_every_api_refusal_has_the_one_json_shape(app, client):
    _shape(app.test_client().get("/api/v1/case/"), 401)
    _shape(app.test_client().get("/api/v1/case/", headers={"Authorization": "Bearer garbage"}), 422)
    _shape(app.test_client().post("/api/v1/security/refresh"), 401)
    _shape(app.test_client().get("/api/v1/no-such-thing"), 404)
    _shape(app.test_client().get("/api/nothing/here"), 404)
    _shape(app.test_client().post("/api/v1/security/login", data="x"), 400)
    hd_case = make_case(app, court_code="京0108")
    cy = {"Authorization": f"Bearer {_token(client, CY_ADMIN, 'COURT')}"}
    _shape(app.test_client().get(f"/api/v1/case/{hd_case}", headers=cy), 404)
    _shape(app.test_client().delete(f"/api/v1/case/{hd_case}", headers=cy), 403)  # the API is read-only
    liaison = {"Authorization": f"Bearer {_token(client, '13600000001', 'GRASSROOTS')}"}
    _shape(app.test_client().get("/api/v1/case/", headers=liaison), 403)
    assert app.test_client().get("/api/v1/intranet/openapi.json").status_code == 200


def test_an_expired_or_logged_out_token_says_so_in_chinese(app, client):
    with app_ctx(app):
        user_model = app.appbuilder.sm.user_model
        uid = db.session.scalar(sa.select(user_model.id).where(user_model.username == CY_ADMIN))
        expired = create_access_token(identity=str(uid), expires_delta=dt.timedelta(seconds=-5),
                                      additional_claims={"portal": "COURT", "gen": 0})
    assert "过期" in _shape(app.test_client().get("/api/v1/case/", headers={"Authorization": f"Bearer {expired}"}),
                          401)
    token = _token(client, CY_ADMIN, "COURT")
    browser = app.test_client()
    login(browser, CY_ADMIN)
    browser.get("/logout/")
    assert "重新登录" in _shape(app.test_client().get("/api/v1/case/", headers={"Authorization": f"Bearer {token}"}),
                              401)


# --- item 17: 调解资源, 化解统计, the dashboard ----------------------------------------------------------

def _region_ministries(html) -> list[str]:
    return re.findall(r'class="text-muted small region-ministries">[^<]*</span>', html)


def test_resources_show_every_ministry_of_the_region_whatever_the_search_FAQ_6_4(client):
    """[FAQ 6.4] 已开通部委 is the region's, not the search result's."""
    [heading] = _region_ministries(text(client.get("/resources/?q=金融")))
    assert "中华全国工商联" in heading and "中国人民银行" in heading
    html = text(client.get("/resources/?ministry=pbc"))
    assert "北京金融纠纷调解中心" in html and "朝阳区商事调解中心" not in html
    [heading] = _region_ministries(html)
    assert "中华全国工商联" in heading
    html = text(client.get("/resources/?q=工商联"))
    assert "朝阳区商事调解中心" in html and "北京金融纠纷调解中心" not in html


def test_resources_refuse_an_unknown_ministry_in_chinese(client):
    html = text(client.get("/resources/?ministry=nosuch"))
    assert "未知的部委" in html and "朝阳区商事调解中心" not in html


def _total_received(html) -> int:
    match = re.search(r'<tr style="font-weight:bold"><td>[^<]+</td><td>(\d+)</td>', html)
    assert match, "no total row"
    return int(match.group(1))


def test_grassroots_figures_count_a_period(app, login_as):
    court = login_as(CY_ADMIN)
    default = text(court.get("/grassroots-figures/"))
    assert _total_received(default) >= 3 and f'value="{today().isoformat()}"' in default
    assert _total_received(text(court.get("/grassroots-figures/?start=2020-01-01&end=2020-12-31"))) == 0
    on_today = f"/grassroots-figures/?start={today().isoformat()}&end={today().isoformat()}"
    assert _total_received(text(court.get(on_today))) >= 1


@pytest.mark.parametrize("query, problem", [
    ("start=2026-13-01", "开始日期"),
    ("start=2026-05-01&end=2026-04-01", "开始日期不能晚于结束日期"),
    ("start=2020-01-01&end=2026-01-01", "三年"),
])
def test_grassroots_figures_refuse_a_bad_period_in_chinese(app, login_as, query, problem):
    court = login_as(CY_ADMIN)
    resp = court.get(f"/grassroots-figures/?{query}")
    assert resp.status_code == 200 and 'id="figures"' not in text(resp)
    assert any(problem in f for f in flashes(court)) or problem in text(resp)


@pytest.mark.parametrize("largest", [0, 1, 2, 3, 5, 7, 9, 13, 48, 101, 2500])
def test_value_axis_ticks_are_whole_numbers_above_the_largest_value(app, largest):
    top = _nice_max(largest)
    ticks = [int(t) for t in re.findall(r">(\d+)</text>", "".join(_axis(top)))]
    assert top >= largest and len(ticks) == 5 and len(set(ticks)) == 5 and ticks[-1] == top


def test_the_dashboard_axis_prints_no_repeated_or_fractional_tick(app, login_as):
    with app.test_request_context():
        svg = str(stacked_bars(["1月", "2月"], [Series("x", [1, 2], "#000")], "t"))
    ticks = re.findall(r'fill="#777">([^<]+)</text>', svg)
    assert ticks == ["0", "1", "2", "3", "4"]
    page = text(login_as(CY_ADMIN).get("/statistics/dashboard"))
    for tick in re.findall(r'fill="#777">([^<%]+)</text>', page):
        assert tick.isdigit(), tick


def test_the_deadline_lists_pager_keeps_the_due_filter(app, login_as):
    """临期/超期 over more than one page: page 2 of 超期 is still 超期 (the pager keeps `?due=`)."""
    late = [make_case(app, status=CaseStatus.MEDIATING, number=f"（2026）京0105民诉前调9{n:02d}号")
            for n in range(25)]
    soon = make_case(app, status=CaseStatus.MEDIATING, number="（2026）京0105民诉前调999号")
    with app_ctx(app):
        for n, case_id in enumerate(late):
            db.session.get(Case, case_id).deadline = today() - dt.timedelta(days=30 - n)
        db.session.get(Case, soon).deadline = today() + dt.timedelta(days=1)
        db.session.commit()
    court = login_as(CY_ADMIN)
    first = court.get("/cases/deadlines/list/?due=overdue").get_data(as_text=True)
    pages = re.findall(r'<a href="([^"]*page_[^"]*)">2</a>', first)
    assert pages, "no link to page 2"
    href = pages[0].replace("&amp;", "&")
    assert "due=overdue" in href
    # the column sort and page size links are built the same way: they keep it too
    others = re.findall(r'href="([^"]*(?:_oc_|psize_)[^"]*)"', first)
    assert others and all("due=overdue" in h for h in others)
    second = text(court.get(href))
    shown = set(re.findall(r"民诉前调9\d\d号", first)) | set(re.findall(r"民诉前调9\d\d号", second))
    assert shown == {f"民诉前调9{n:02d}号" for n in range(25)}
    assert "民诉前调999号" not in second
