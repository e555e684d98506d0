"""留言 on a case [issue 14 item 6]: the parties, agents and the mediator write, each side is told
by SMS, the court reads; nobody else sees them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.enums import CaseStatus, MessageAuthor
from app.extensions import db
from app.models import Case, CaseMessage, CaseParty, SmsOutbox
from app.workflows import DomainError, NotAllowed, messages

from .case_factory import add_agent, court_actor, make_case, mediator_actor
from .helpers import app_ctx, count, last_sms, text
from .test_agreements import portal_actor

ZHANG, LI, WANG = "13500000001", "13500000002", "13500000003"
MEDIATOR, OTHER_MEDIATOR = "13900000001", "13900000011"
JUDGE, OTHER_COURT = "13800000002", "13800000011"


@pytest.fixture()
def case_id(app):
    cid = make_case(app, status=CaseStatus.MEDIATING, parties=[("APPLICANT", "张三", ZHANG, "110105198001010016"),
                                                               ("RESPONDENT", "李四", LI, "11010519850505002X")])
    with app_ctx(app):
        applicant = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == cid,
                                                                    CaseParty.phone == ZHANG))
    add_agent(app, applicant, phone=WANG, name="王律师")
    return cid


def sms_count(app, phone) -> int:
    return count(app, SmsOutbox, SmsOutbox.phone == phone)


def stored(app, case_id) -> list[tuple[str, str, str]]:
    with app_ctx(app):
        return [(m.author_role.name, m.author_name, m.body) for m in db.session.scalars(
            sa.select(CaseMessage).where(CaseMessage.case_id == case_id).order_by(CaseMessage.id))]


def test_the_mediator_writes_on_the_case_page_and_the_parties_are_told(app, login_as, case_id):
    mediator = login_as(MEDIATOR, "MEDIATOR")
    page = text(mediator.get(f"/case/{case_id}"))
    assert "留言" in page and 'id="message-form"' in page and "暂无留言" in page
    before = sms_count(app, MEDIATOR)
    resp = mediator.post(f"/messages/case/{case_id}", data={"body": "请于周五前补交租赁合同原件。"})
    assert resp.status_code == 302
    assert stored(app, case_id) == [("MEDIATOR", "陈静", "请于周五前补交租赁合同原件。")]
    for phone in (ZHANG, LI, WANG):
        assert "调解员陈静在案件" in last_sms(app, phone) and "留言" in last_sms(app, phone)
        assert "租赁合同" not in last_sms(app, phone)  # the SMS says who, never what
    assert sms_count(app, MEDIATOR) == before
    assert "请于周五前补交租赁合同原件。" in text(mediator.get(f"/case/{case_id}"))


def test_a_party_writes_in_the_portal_and_the_mediator_and_the_other_side_are_told(app, login_as, case_id):
    zhang = login_as(ZHANG, "PARTY")
    assert f"/messages/portal/{case_id}" in text(zhang.get("/portal/"))
    assert 'id="message-form"' in text(zhang.get(f"/messages/portal/{case_id}"))
    before = sms_count(app, ZHANG)
    resp = zhang.post(f"/messages/portal/{case_id}", data={"body": "合同原件已寄出。"})
    assert resp.status_code == 302
    assert stored(app, case_id) == [("PARTY", "张三", "合同原件已寄出。")]
    assert "当事人张三在案件" in last_sms(app, MEDIATOR) and "当事人张三在案件" in last_sms(app, LI)
    assert sms_count(app, ZHANG) == before
    # the agent writes as the agent; every side reads the whole thread
    login_as(WANG, "AGENT").post(f"/messages/portal/{case_id}", data={"body": "代理人补充说明。"})
    assert stored(app, case_id)[-1] == ("AGENT", "王律师", "代理人补充说明。")
    li_page = text(login_as(LI, "PARTY").get(f"/messages/portal/{case_id}"))
    assert "合同原件已寄出。" in li_page and "代理人补充说明。" in li_page
    assert "合同原件已寄出。" in text(login_as(MEDIATOR, "MEDIATOR").get(f"/case/{case_id}"))


def test_the_court_reads_but_does_not_write(app, login_as, case_id):
    login_as(ZHANG, "PARTY").post(f"/messages/portal/{case_id}", data={"body": "法院可见的留言"})
    judge = login_as(JUDGE, "COURT")
    page = text(judge.get(f"/case/{case_id}"))
    assert "法院可见的留言" in page and 'id="message-form"' not in page
    assert judge.post(f"/messages/case/{case_id}", data={"body": "法院留言"}).status_code in (302, 403)
    assert [m[2] for m in stored(app, case_id)] == ["法院可见的留言"]
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(NotAllowed):
            messages.post(case, court_actor(JUDGE), "法院留言")


@pytest.mark.parametrize("who, portal, url", [
    (OTHER_COURT, "COURT", "/case/{cid}"),  # another court: the case page is 404
    (OTHER_MEDIATOR, "MEDIATOR", "/case/{cid}"),
    ("13500000004", "AGENT", "/messages/portal/{cid}"),  # an agent of other cases
    (JUDGE, "COURT", "/messages/portal/{cid}"),  # not a party
])
def test_nobody_else_sees_or_writes_messages(app, login_as, case_id, who, portal, url):
    login_as(ZHANG, "PARTY").post(f"/messages/portal/{case_id}", data={"body": "只有本案的人可见"})
    client = login_as(who, portal)
    resp = client.get(url.format(cid=case_id))
    assert resp.status_code in (302, 403, 404)
    assert "只有本案的人可见" not in text(resp)
    for post_url in (f"/messages/case/{case_id}", f"/messages/portal/{case_id}"):
        assert client.post(post_url, data={"body": "外人留言"}).status_code in (302, 403, 404)
    assert [m[2] for m in stored(app, case_id)] == ["只有本案的人可见"]


def test_outsiders_are_refused_by_the_workflow_itself(app, case_id):
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        for outsider in (mediator_actor(OTHER_MEDIATOR), court_actor(OTHER_COURT), portal_actor("13500000004")):
            with pytest.raises(NotAllowed):
                messages.post(case, outsider, "x")
            with pytest.raises(NotAllowed):
                messages.messages_of(case, outsider)
        assert messages.messages_of(case, court_actor(JUDGE)) == []


@pytest.mark.parametrize("body, message", [("   ", "请先填写留言内容"), ("字" * 1001, "留言最多 1000 个字")])
def test_an_empty_or_too_long_message_is_refused_and_the_text_kept(app, login_as, case_id, body, message):
    zhang = login_as(ZHANG, "PARTY")
    resp = zhang.post(f"/messages/portal/{case_id}", data={"body": body})
    assert resp.status_code == 200 and message in text(resp)
    assert stored(app, case_id) == []
    with app_ctx(app):
        with pytest.raises(DomainError, match=message):
            messages.post(db.session.get(Case, case_id), mediator_actor(), body)


def test_the_author_is_named_by_role(app, case_id):
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        assert messages.author_of(case, mediator_actor()) == (MessageAuthor.MEDIATOR, "陈静")
        assert messages.author_of(case, portal_actor(LI)) == (MessageAuthor.PARTY, "李四")
        assert messages.author_of(case, court_actor(JUDGE)) is None
