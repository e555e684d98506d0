"""The mediator's case page in chromium, CSRF on (issue 15 items 12 and 14):
删除代理人 asks first and removes the agent [FAQ 3.8]; 退回/拒绝受理 lands on 我的案件 with its success
message, not a 404 (Rules art 12); the demo's 待受理 internet application is declined from its case
page [FAQ 5.1(3)]."""
from __future__ import annotations

import sqlalchemy as sa

from app.enums import CaseStatus
from app.extensions import db
from app.models import Case, CaseAgent, CaseParty, InternetApplication, Mediator

CHEN = "13900000001"


def _ids(live):
    with live.ctx():
        chen = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == CHEN))
        mediating = db.session.scalar(sa.select(Case.id).where(
            Case.cause == "物业服务合同纠纷", Case.mediator_id == chen, Case.status == CaseStatus.MEDIATING))
        pending = db.session.scalar(sa.select(Case.id).join(InternetApplication, InternetApplication.case_id == Case.id)
                                    .where(Case.status == CaseStatus.TO_ACCEPT, Case.mediator_id == chen))
        agent = db.session.scalar(sa.select(CaseAgent.id).join(CaseParty).where(
            CaseParty.case_id == mediating, CaseAgent.name == "刘代理"))
        db.session.remove()
    return mediating, pending, agent


def test_the_mediator_removes_an_agent_then_declines_and_lands_on_the_case_list(live, login):
    mediating, pending, agent = _ids(live)
    assert mediating and pending and agent
    page = login(CHEN, "MEDIATOR").new_page()
    questions = []
    page.on("dialog", lambda d: (questions.append(d.message), d.accept()))

    page.goto(f"{live.url}/case/{mediating}?tab=parties")
    page.click(f'[data-remove-agent="{agent}"]')
    page.wait_for_load_state()
    assert questions and "删除该代理人" in questions[0]
    assert "刘代理" not in page.inner_text("#tab-parties")
    with live.ctx():
        assert db.session.get(CaseAgent, agent) is None
        db.session.remove()

    page.goto(f"{live.url}/case/{mediating}")
    page.click('[data-event="decline"]')
    page.fill("#reason", "与一方当事人相识，申请回避")
    page.click('button[type="submit"].btn')
    page.wait_for_load_state()
    assert page.url.endswith("/my/cases/list/")
    assert "退回/拒绝受理成功" in page.inner_text("body")

    page.goto(f"{live.url}/case/{pending}")
    page.click("#decide-application")
    page.fill("#form-decline #reason", "与本人专业不符")
    page.click('#form-decline [data-event="decline"]')
    page.wait_for_load_state()
    assert "已不予受理" in page.inner_text("body")
    with live.ctx():
        assert db.session.get(Case, pending).mediator_id is None
        db.session.remove()
