"""Evidence on a case (uploaded by parties, 已核验 by the mediator, read only by the case's people),
conflicts of interest (Rules art 13) and changing the mediator (Rules art 14)."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from app.enums import CaseStatus, EvidenceStatus, MediatorChangeStatus, TerminationReason
from app.extensions import db
from app.models import Case, ConflictDeclaration, Evidence, Mediator, MediatorChange
from app.roles import AGENT, PARTY
from app.workflows import evidence, mediator_change
from app.workflows.accounts import ensure_account
from app.workflows.engine import NEW

from .case_factory import add_agent, make_case
from .helpers import PASSWORD, app_ctx, flashes, logged_in, text

PDF = b"%PDF-1.4\n" + b"1" * 300
JPG = b"\xff\xd8\xff\xe0" + b"2" * 300

# the real platform's 核验比对: a party uploads, the case's mediator verifies
EVIDENCE_SPEC = {
    "upload": ({NEW}, EvidenceStatus.SUBMITTED, {"party"}),
    "verify": ({EvidenceStatus.SUBMITTED}, EvidenceStatus.VERIFIED, {"mediator"}),
}
# Rules art 14: a party asks with its reason; the court (internet case: the applicant's choice) decides;
# asking again after a change counts as refusing mediation
CHANGE_SPEC = {
    "ask": ({NEW}, MediatorChangeStatus.PENDING, {"party"}),
    "ask_again": ({NEW}, MediatorChangeStatus.REFUSAL, {"party"}),
    "approve": ({MediatorChangeStatus.PENDING}, MediatorChangeStatus.APPROVED, {"court", "internet_applicant"}),
    "reject": ({MediatorChangeStatus.PENDING}, MediatorChangeStatus.REJECTED, {"court", "internet_applicant"}),
}


@pytest.mark.parametrize("machine,spec", [(evidence.MACHINE, EVIDENCE_SPEC),
                                          (mediator_change.MACHINE, CHANGE_SPEC)], ids=["evidence", "change"])
def test_the_tables_are_the_rules_tables(machine, spec):
    assert {e: (set(t.sources), t.target, set(t.who)) for e, t in machine.transitions.items()} == spec


@pytest.fixture()
def case_id(app):
    cid = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        for phone, name in (("13511110001", "赵一"), ("13511110002", "钱二")):
            ensure_account(phone, name, [PARTY], password=PASSWORD)
        ensure_account("13511110009", "孙律师", [AGENT], password=PASSWORD)
        db.session.commit()
    with app_ctx(app):
        party_id = db.session.get(Case, cid).parties[0].id
    add_agent(app, party_id, phone="13511110009", name="孙律师")
    return cid


def upload(client, cid, name="合同.pdf", body=PDF):
    return client.post(f"/evidence/case/{cid}/upload", data={"evidence": [(io.BytesIO(body), name)]},
                       content_type="multipart/form-data")


def evidence_of(app, cid):
    with app_ctx(app):
        rows = db.session.scalars(sa.select(Evidence).where(Evidence.case_id == cid)).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_a_party_uploads_evidence_the_mediator_verifies_it(app, case_id):
    zhao = logged_in(app, "13511110001", "PARTY")
    page = text(zhao.get(f"/portal/after/case/{case_id}"))
    assert "上传证据" in page and "暂无证据" in page
    assert upload(zhao, case_id).status_code == 302
    [ev] = evidence_of(app, case_id)
    assert ev.status is EvidenceStatus.SUBMITTED and ev.uploaded_by_name == "赵一" and ev.content_type == "application/pdf"

    refused = upload(zhao, case_id, "病毒.pdf", b"MZ\x90\x00")
    assert refused.status_code == 302 and any("PDF" in f for f in flashes(zhao))
    assert len(evidence_of(app, case_id)) == 1

    chen = logged_in(app, "13900000001", "MEDIATOR")
    page = text(chen.get(f"/case/{case_id}"))
    assert "合同.pdf" in page and "待核验" in page and f'data-verify="{ev.id}"' in page
    chen.post(f"/evidence/{ev.id}/verify", data={"version": ev.version})
    [ev] = evidence_of(app, case_id)
    assert ev.status is EvidenceStatus.VERIFIED and ev.verified_at is not None
    assert "已核验" in text(zhao.get(f"/portal/after/case/{case_id}"))


def test_evidence_is_read_by_the_cases_parties_agents_mediator_and_court_only(app, case_id):
    zhao = logged_in(app, "13511110001", "PARTY")
    upload(zhao, case_id, "照片.jpg", JPG)
    [ev] = evidence_of(app, case_id)
    readers = [zhao, logged_in(app, "13511110002", "PARTY"), logged_in(app, "13511110009", "AGENT"),
               logged_in(app, "13900000001", "MEDIATOR"), logged_in(app, "13800000002", "COURT")]
    for c in readers:
        resp = c.get(f"/evidence/{ev.id}")
        assert resp.status_code == 200 and resp.data == JPG and resp.headers["X-Content-Type-Options"] == "nosniff"
    others = [logged_in(app, "13500000001", "PARTY"), logged_in(app, "13900000002", "MEDIATOR"),
              logged_in(app, "13800000011", "COURT"), logged_in(app, "13700000001", "MINISTRY"),
              logged_in(app, "13600000001", "GRASSROOTS")]
    for c in others:
        assert c.get(f"/evidence/{ev.id}").status_code in (403, 404)
        assert c.post(f"/evidence/{ev.id}/verify").status_code in (302, 403, 404)
        assert upload(c, case_id).status_code in (302, 403, 404)
    assert [e.status for e in evidence_of(app, case_id)] == [EvidenceStatus.SUBMITTED]
    # the other party may read but not verify
    qian = readers[1]
    qian.post(f"/evidence/{ev.id}/verify")
    assert evidence_of(app, case_id)[0].status is EvidenceStatus.SUBMITTED


def test_a_mediator_declares_no_conflict_on_a_court_assigned_case(app, case_id):
    chen = logged_in(app, "13900000001", "MEDIATOR")
    page = text(chen.get(f"/case/{case_id}"))
    assert 'id="declare"' in page
    chen.post(f"/conflict/case/{case_id}", data={})
    assert any("利益冲突" in f for f in flashes(chen))
    chen.post(f"/conflict/case/{case_id}", data={"conflict": "none"})
    with app_ctx(app):
        d = db.session.scalar(sa.select(ConflictDeclaration).where(ConflictDeclaration.case_id == case_id))
        assert d.has_conflict is False
    assert 'id="declare"' not in text(chen.get(f"/case/{case_id}"))
    judge = logged_in(app, "13800000002", "COURT")
    assert "无利益冲突" in text(judge.get(f"/case/{case_id}"))
    assert judge.post(f"/conflict/case/{case_id}", data={"conflict": "none"}).status_code in (403, 302)


def _mediator_id(phone):
    return db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == phone))


def test_a_party_asks_the_court_changes_and_a_second_request_ends_the_case(app, case_id):
    zhao = logged_in(app, "13511110001", "PARTY")
    page = text(zhao.get(f"/portal/after/case/{case_id}"))
    assert "申请更换调解员" in page
    zhao.post(f"/mediator-change/case/{case_id}/ask", data={"reason": ""})
    assert any("理由" in f for f in flashes(zhao))
    zhao.post(f"/mediator-change/case/{case_id}/ask", data={"reason": "调解员与对方相识"})
    with app_ctx(app):
        change = db.session.scalar(sa.select(MediatorChange).where(MediatorChange.case_id == case_id))
        assert change.status is MediatorChangeStatus.PENDING and change.reason == "调解员与对方相识"
        liu = _mediator_id("13900000002")
        change_id = change.id

    judge = logged_in(app, "13800000002", "COURT")
    page = text(judge.get(f"/case/{case_id}"))
    assert "调解员与对方相识" in page and "更换调解员" in page and "不予更换" in page
    # the party cannot decide its own request
    zhao.post(f"/mediator-change/{change_id}/approve", data={"mediator_id": liu})
    judge.post(f"/mediator-change/{change_id}/approve", data={"mediator_id": liu})
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        assert case.mediator_id == liu and case.status is CaseStatus.MEDIATING
        assert db.session.get(MediatorChange, change_id).status is MediatorChangeStatus.APPROVED

    # 申请人 asks again: counts as refusing mediation (Rules art 14) and ends the case (art 25)
    page = text(zhao.get(f"/portal/after/case/{case_id}"))
    assert "再次申请更换视为拒绝调解" in page or "视为拒绝调解" in page
    zhao.post(f"/mediator-change/case/{case_id}/ask", data={"reason": "仍不信任"})
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count(MediatorChange.id)).where(
            MediatorChange.case_id == case_id)) == 1  # `ask` is refused: the second one is `ask_again`
    zhao.post(f"/mediator-change/case/{case_id}/ask", data={"reason": "仍不信任", "event": "ask_again"})
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        assert case.status is CaseStatus.TERMINATED
        assert case.termination_reason is TerminationReason.REFUSES_MEDIATION and "仍不信任" in case.termination_note


def test_the_court_may_refuse_a_change_with_its_reason(app, case_id):
    qian = logged_in(app, "13511110002", "PARTY")
    qian.post(f"/mediator-change/case/{case_id}/ask", data={"reason": "不满意"})
    with app_ctx(app):
        change_id = db.session.scalar(sa.select(MediatorChange.id).where(MediatorChange.case_id == case_id))
    judge = logged_in(app, "13800000002", "COURT")
    judge.post(f"/mediator-change/{change_id}/reject", data={"reason": ""})
    other_court = logged_in(app, "13800000011", "COURT")
    assert other_court.post(f"/mediator-change/{change_id}/reject", data={"reason": "x"}).status_code == 404
    with app_ctx(app):
        assert db.session.get(MediatorChange, change_id).status is MediatorChangeStatus.PENDING
    judge.post(f"/mediator-change/{change_id}/reject", data={"reason": "理由不充分"})
    with app_ctx(app):
        change = db.session.get(MediatorChange, change_id)
        assert change.status is MediatorChangeStatus.REJECTED and change.decision_reason == "理由不充分"
        assert db.session.get(Case, case_id).mediator_id == _mediator_id("13900000001")
