"""Court certification of mediators and organisations: 我的设置 › 认证法院 › 申请认证, the court's
approve/reject, and the machine's state × event matrix [FAQ 3.2, 6.7; SPEC §2, §4]."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.enums import CertificationStatus, OrganisationType
from app.extensions import db
from app.models import AuditLog, Court, Mediator, MediatorCourt, Ministry, MinistryAccount, Organisation, OrganisationCourt
from app.security import Scope
from app.workflows import Conflict, DomainError, NotAllowed, certification
from app.workflows.actor import Actor

from .case_factory import court_actor
from .helpers import app_ctx, flashes, text
from .helpers import audit_rows, demo_ids, last_sms


def link_of(app, phone, court_id):
    with app_ctx(app):
        link = db.session.scalar(
            sa.select(MediatorCourt).join(Mediator)
            .where(Mediator.phone == phone, MediatorCourt.court_id == court_id))
        if link is not None:
            db.session.expunge(link)
        return link


def test_mediator_applies_and_the_court_approves(app, login_as):
    ids = demo_ids(app)
    mediator = login_as("13900000001", "MEDIATOR")
    assert "北京市朝阳区人民法院" in text(mediator.get("/my/certifications/"))
    resp = mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"], "note": "住海淀，申请加入"})
    assert resp.status_code == 302
    link = link_of(app, "13900000001", ids["haidian"])
    assert link.status is CertificationStatus.PENDING and link.note == "住海淀，申请加入"

    # 海淀 sees it; 朝阳 does not.
    assert "陈静" in text(login_as("13800000011").get("/mediator-certifications/list/"))
    assert login_as("13800000001").get(f"/mediator-certifications/show/{link.id}").status_code == 404

    haidian = login_as("13800000011")
    page = text(haidian.get(f"/mediator-certifications/show/{link.id}"))
    assert f"/mediator-certifications/approve/{link.id}?version={link.version}" in page
    assert f"/mediator-certifications/reject/{link.id}?version={link.version}" in page
    assert haidian.post(f"/mediator-certifications/approve/{link.id}?version={link.version}").status_code == 302
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.CERTIFIED
    page = text(haidian.get(f"/mediator-certifications/show/{link.id}"))
    assert "/approve/" not in page and "/reject/" not in page  # decided: no buttons
    # the same button clicked again on the page shown before: a conflict, nothing changes
    haidian.post(f"/mediator-certifications/approve/{link.id}?version={link.version}")
    assert "他人修改" in flashes(haidian)[-1]
    assert "陈静" in text(haidian.get("/mediators/invited/list/"))
    assert "北京市海淀区人民法院" in last_sms(app, "13900000001")
    rows = audit_rows(app, "mediator_court", entity_id=link.id)
    assert [r.action.name for r in rows] == ["CREATE", "TRANSITION", "TRANSITION"]
    assert [(r.summary, r.before.get("status"), r.after.get("status")) for r in rows[1:]] == [
        ("certification.apply", None, "PENDING"), ("certification.approve", "PENDING", "CERTIFIED")]


def test_court_rejects_with_a_reason_and_the_mediator_can_apply_again(app, login_as):
    ids = demo_ids(app)
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    link = link_of(app, "13900000001", ids["haidian"])
    haidian = login_as("13800000011")
    resp = haidian.post(f"/mediator-certifications/reject/{link.id}", data={"reason": "  "})
    assert resp.status_code == 200 and "驳回理由" in text(resp)
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.PENDING

    haidian.post(f"/mediator-certifications/reject/{link.id}", data={"reason": "材料不全"})
    link = link_of(app, "13900000001", ids["haidian"])
    assert link.status is CertificationStatus.REJECTED and link.reject_reason == "材料不全"
    assert "材料不全" in text(mediator.get("/my/certifications/"))

    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"], "note": "已补充"})
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.PENDING


def test_applying_twice_or_when_certified_is_refused(app, login_as):
    ids = demo_ids(app)
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post("/my/certifications/apply", data={"court_id": ids["chaoyang"]})
    assert flashes(mediator) == ["当前认证申请状态为“已认证”，不能申请认证。"]
    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    version = link_of(app, "13900000001", ids["haidian"]).version
    mediator.get("/")  # drain the success flash
    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    assert flashes(mediator)[-1] == "当前认证申请状态为“待认证”，不能申请认证。"
    assert link_of(app, "13900000001", ids["haidian"]).version == version
    mediator.post("/my/certifications/apply", data={"court_id": ""})
    assert flashes(mediator)[-1] == "请选择要申请认证的法院。"


def test_the_apply_form_offers_only_courts_open_to_an_application(app, login_as):
    ids = demo_ids(app)
    mediator = login_as("13900000001", "MEDIATOR")
    options = lambda: re.findall(r'<option value="(\d+)"', text(mediator.get("/my/certifications/")))  # noqa: E731
    assert str(ids["chaoyang"]) not in options() and str(ids["haidian"]) in options()  # certified by 朝阳
    mediator.post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    assert str(ids["haidian"]) not in options()  # waiting for 海淀
    link = link_of(app, "13900000001", ids["haidian"])
    login_as("13800000011").post(f"/mediator-certifications/reject/{link.id}", data={"reason": "材料不全"})
    assert str(ids["haidian"]) in options()  # rejected: may apply again


def test_deciding_twice_is_refused(app, login_as):
    ids = demo_ids(app)
    login_as("13900000001", "MEDIATOR").post("/my/certifications/apply", data={"court_id": ids["haidian"]})
    link = link_of(app, "13900000001", ids["haidian"])
    haidian = login_as("13800000011")
    haidian.post(f"/mediator-certifications/approve/{link.id}")
    haidian.get("/")  # drain the success flash
    haidian.post(f"/mediator-certifications/reject/{link.id}", data={"reason": "x"})
    assert link_of(app, "13900000001", ids["haidian"]).status is CertificationStatus.CERTIFIED


def test_only_mediators_reach_my_certifications(login_as):
    assert login_as("13800000001").get("/my/certifications/").status_code == 403
    assert login_as("13800000001").post("/my/certifications/apply", data={"court_id": "1"}).status_code == 403


# --- the machine, state × event ---------------------------------------------------------
#
# SPEC §2, §4 and FAQ 3.2, 6.7, written out by hand: event → (the states it leaves, the
# state it reaches, who takes it). None is "no application to that court yet". A wrong
# source, target or actor in certification.TRANSITIONS fails the matrix below.
#   申请认证: the mediator for itself [FAQ 3.2]; the ministry account an organisation is
#   bound to, for ministries whose side applies (工商联) [FAQ 6.7(1)]; again after 驳回.
#   通过 / 驳回 (with a reason): the court admin of the court applied to [FAQ 3.2, 6.7(2)].
#   新增调解员 / 新增调解组织: the court admin adds a new entry to the own roster, certified at once
#   [FAQ 2.2, 6.7(3)]; an entry already linked to the court is not added again.
SPEC_TABLE = {
    "apply": ({None, CertificationStatus.REJECTED}, CertificationStatus.PENDING, "applicant"),
    "enrol": ({None}, CertificationStatus.CERTIFIED, "court_admin"),
    "approve": ({CertificationStatus.PENDING}, CertificationStatus.CERTIFIED, "court_admin"),
    "reject": ({CertificationStatus.PENDING}, CertificationStatus.REJECTED, "court_admin"),
}
DATA = {"apply": {"note": "申请加入"}, "enrol": {}, "approve": {}, "reject": {"reason": "材料不全"}}
KINDS = ("mediator", "organisation")
# a decision needs an application: (no link) × 通过 / 驳回 has no subject to act on
CELLS = [(kind, state, event) for kind in KINDS for state in [None, *CertificationStatus] for event in SPEC_TABLE
         if state is not None or event in ("apply", "enrol")]


def test_the_machine_has_exactly_the_spec_events():
    assert set(SPEC_TABLE) == set(certification.MACHINE.transitions)


def _haidian():
    return db.session.scalar(sa.select(Court).where(Court.code == "京0108"))


def _subject(kind):
    """陈静 (certified by 朝阳 only), or a new organisation bound to 工商联 in 北京市."""
    if kind == "mediator":
        return db.session.scalar(sa.select(Mediator).where(Mediator.phone == "13900000001"))
    acfic = db.session.scalar(sa.select(Ministry).where(Ministry.code == "acfic"))
    org = Organisation(name="朝阳区工商联调解室", credit_code="91110000600037341L", org_type=OrganisationType.COMMERCIAL,
                       province="北京市", city="北京市", contact_name="郑主任", contact_phone="13933335555",
                       ministry=acfic)
    db.session.add(org)
    db.session.flush()
    return org


def _link(subject, court, status):
    fields = dict(court=court, status=status, reject_reason="旧理由" if status is CertificationStatus.REJECTED else None)
    link = (MediatorCourt(mediator=subject, **fields) if isinstance(subject, Mediator)
            else OrganisationCourt(organisation=subject, **fields))
    db.session.add(link)
    db.session.flush()
    return link


def _actor(who, subject):
    if who == "court_admin":
        return court_actor("13800000011")  # 海淀's admin
    if isinstance(subject, Mediator):
        return Actor(subject.user_id, Scope(portal=None, mediator_id=subject.id))
    account = db.session.scalar(sa.select(MinistryAccount).where(MinistryAccount.phone == "13700000001"))
    return Actor(account.user_id, Scope(portal=None, ministry_id=account.ministry_id, province=account.province,
                                        city=account.city))


def _run(event, subject, court, link, actor):
    if event == "apply":
        return certification.apply_for(subject, court, actor, **DATA[event])
    if event == "enrol":  # to the acting admin's own court
        return certification.enrol(subject, actor)
    return certification.apply(link, event, actor, **DATA[event])


def _transitions(link_id, entity):
    return db.session.scalars(sa.select(AuditLog).where(
        AuditLog.entity == entity, AuditLog.entity_id == link_id, AuditLog.action == "TRANSITION")
        .order_by(AuditLog.id)).all()


@pytest.mark.parametrize("kind,state,event", CELLS, ids=lambda v: getattr(v, "name", str(v)))
def test_every_state_and_event(app, kind, state, event):
    sources, target, who = SPEC_TABLE[event]
    with app_ctx(app):
        subject, court = _subject(kind), _haidian()
        link = _link(subject, court, state) if state is not None else None
        entity = "mediator_court" if kind == "mediator" else "organisation_court"
        before = (link.status, link.version, len(_transitions(link.id, entity))) if link else None
        actor = _actor(who, subject)
        if state in sources:
            done = _run(event, subject, court, link, actor)
            db.session.flush()
            assert done.status is target
            if link is None:  # the row comes into being in its first state
                link = certification.link_of(subject, court)
                assert link.status is target
            row = _transitions(link.id, entity)[-1]
            assert row.summary == f"certification.{event}"
            assert (row.before["status"], row.after["status"]) == (state.name if state else None, target.name)
        else:
            with pytest.raises(DomainError) as refused:
                _run(event, subject, court, link, actor)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message), refused.value.message
            db.session.expire_all()
            assert (link.status, link.version, len(_transitions(link.id, entity))) == before


# who may not: anyone but the applicant applies, anyone but the admin of the court applied to decides
NOT_WHO = {
    "apply": ["court_admin", "other_mediator", "other_ministry", "ministry_elsewhere"],
    "enrol": ["court_user", "applicant", "other_ministry"],
    "approve": ["other_court_admin", "court_user", "applicant"],
    "reject": ["other_court_admin", "court_user", "applicant"],
}


def _other(who, subject):
    haidian = _haidian()
    if who == "court_admin":
        return court_actor("13800000011")
    if who == "other_court_admin":
        return court_actor("13800000001")  # 朝阳's admin
    if who == "court_user":
        return Actor(None, Scope(portal=None, court_id=haidian.id, is_court_admin=False))
    if who == "applicant":
        return _actor("applicant", subject)
    if who == "other_mediator":
        yang = db.session.scalar(sa.select(Mediator).where(Mediator.phone == "13900000011"))
        return Actor(yang.user_id, Scope(portal=None, mediator_id=yang.id))
    cbirc = db.session.scalar(sa.select(Ministry.id).where(Ministry.code == "cbirc"))
    acfic = db.session.scalar(sa.select(Ministry.id).where(Ministry.code == "acfic"))
    if who == "other_ministry":
        return Actor(None, Scope(portal=None, ministry_id=cbirc, province="北京市", city="北京市"))
    return Actor(None, Scope(portal=None, ministry_id=acfic, province="上海市", city="上海市"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("event,who", [(e, w) for e, ws in NOT_WHO.items() for w in ws])
def test_only_the_actor_the_faq_names_takes_each_step(app, kind, event, who):
    sources, target, _who = SPEC_TABLE[event]
    state = CertificationStatus.REJECTED if event == "apply" else CertificationStatus.PENDING
    with app_ctx(app):
        subject, court = _subject(kind), _haidian()
        link = _link(subject, court, state)
        version = link.version
        with pytest.raises(NotAllowed):
            _run(event, subject, court, link, _other(who, subject))
        db.session.expire_all()
        assert (link.status, link.version) == (state, version)


def test_a_first_application_by_someone_else_is_refused_and_creates_nothing(app):
    with app_ctx(app):
        subject, court = _subject("mediator"), _haidian()
        with pytest.raises(NotAllowed):
            certification.apply_for(subject, court, _other("other_mediator", subject))
        assert certification.link_of(subject, court) is None


def test_a_decision_on_a_stale_page_is_a_conflict(app):
    with app_ctx(app):
        link = _link(_subject("mediator"), _haidian(), CertificationStatus.PENDING)
        with pytest.raises(Conflict):
            certification.apply(link, "approve", court_actor("13800000011"), expected_version=link.version + 1)
        assert link.status is CertificationStatus.PENDING


def test_a_court_adds_ministry_organisation_is_not_applied_for_by_its_ministry(app):
    """[FAQ 6.7(3)]: for 银保监会 the court adds the organisation; the ministry side never applies."""
    with app_ctx(app):
        org = _subject("organisation")
        cbirc = db.session.scalar(sa.select(Ministry).where(Ministry.code == "cbirc"))
        org.ministry = cbirc
        db.session.flush()
        actor = Actor(None, Scope(portal=None, ministry_id=cbirc.id, province="北京市", city="北京市"))
        assert not certification.may_apply(org, actor) and certification.courts_open_to(org, actor) == []
        with pytest.raises(DomainError, match="银保监会"):
            certification.apply_for(org, _haidian(), actor)
