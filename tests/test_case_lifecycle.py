"""The case state machine (SPEC §3.1, §8): every (state, transition) pair, guards, locks, conflicts."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.storage import put_bytes
from app.enums import CaseStatus, SignerRole, TerminationReason
from app.extensions import db
from app.models import AuditLog, Case, CaseParty, Court, Mediator, Ministry, Organisation, Signature
from app.security import Scope
from app.workflows import Conflict, DomainError, NotAllowed, agreements
from app.workflows.actor import SYSTEM, Actor
from app.workflows.case_lifecycle import MACHINE, apply, available_events

from .case_factory import court_actor, get_case, make_case, mediator_actor
from .helpers import app_ctx, make_app

MINISTRY_ORG = "朝阳区商事调解中心"  # bound to 中华全国工商联, certified by 朝阳

S = CaseStatus
ANY = frozenset(S)
# SPEC §3.1 (and §8 for 退回, 更换调解员, 延长; §4 for the 总对总 outcome), written out
# by hand: event → (the states it leaves, the state it reaches, who takes it).
# None as the target: the case is gone. A wrong source or target in
# case_lifecycle.TRANSITIONS fails the matrix below.
SPEC_TABLE = {
    "assign": ({S.TO_ASSIGN}, S.MEDIATING, "court"),
    "assign_ministry": ({S.TO_ASSIGN}, S.MEDIATING, "court"),
    "accept": ({S.TO_ACCEPT}, S.MEDIATING, "mediator"),
    "decline": ({S.MEDIATING}, S.TO_ASSIGN, "mediator"),
    "change_mediator": ({S.MEDIATING}, S.MEDIATING, "court"),
    "extend": ({S.MEDIATING}, S.MEDIATING, "mediator"),
    "apply_close": ({S.MEDIATING}, S.CLOSE_REQUESTED, "mediator"),
    "cancel_close": ({S.CLOSE_REQUESTED}, S.MEDIATING, "mediator"),
    "all_signed": ({S.CLOSE_REQUESTED}, S.ENDED, "system"),
    "close": ({S.CLOSE_REQUESTED}, S.ENDED, "mediator"),
    "terminate": ({S.MEDIATING}, S.TERMINATED, "mediator"),
    "resume": ({S.CLOSE_REQUESTED, S.ENDED, S.TERMINATED}, S.MEDIATING, "mediator"),
    "ministry_success": ({S.MEDIATING}, S.ENDED, "ministry"),
    "ministry_failure": ({S.MEDIATING}, S.TERMINATED, "ministry"),
    # 调解组织端 分派: the organisation hands its case to one of its mediators; it stays the organisation's
    "dispatch": ({S.MEDIATING}, S.MEDIATING, "organisation"),
    "delete": (ANY - {S.TO_ACCEPT}, None, "court_admin"),  # an internet application has no court yet
    # 互联网调解 (FAQ 5.1(3); Rules arts 12, 14, 25): app/workflows/internet.py and mediator_change.py
    # decide who may act and run these as the system
    "internet_choose": ({S.TO_ACCEPT}, S.TO_ACCEPT, "system"),
    "internet_return": ({S.TO_ACCEPT}, S.TO_ACCEPT, "system"),
    "internet_accept": ({S.TO_ACCEPT}, S.MEDIATING, "system"),
    "replace_mediator": ({S.MEDIATING}, S.MEDIATING, "system"),
    "party_refuses": ({S.MEDIATING}, S.TERMINATED, "system"),
}


def test_the_table_has_exactly_the_spec_events():
    assert set(SPEC_TABLE) == set(MACHINE.transitions)


def valid_data(event):
    liu = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000002"))
    ministry_org = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == MINISTRY_ORG))
    chaoyang = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
    chen = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000001"))  # of MINISTRY_ORG
    return {
        "assign": {"mediator_id": liu},
        "accept": {"court_id": chaoyang},
        "decline": {"reason": "与当事人存在利害关系"},
        "change_mediator": {"mediator_id": liu, "reason": "当事人申请更换"},
        "extend": {"days": 10, "reason": "双方同意延长"},
        "apply_close": {},
        "cancel_close": {},
        "close": {},
        "terminate": {"termination_reason": TerminationReason.TOO_FAR_APART},
        "resume": {},
        "all_signed": {},
        "assign_ministry": {"organisation_id": ministry_org},
        "ministry_success": {},
        "ministry_failure": {"termination_reason": TerminationReason.REFUSES_MEDIATION},
        "delete": {"confirm": True},
        "dispatch": {"mediator_id": chen},
        "internet_choose": {"mediator_id": liu},
        "internet_return": {"reason": "不予受理"},
        "internet_accept": {"court_id": chaoyang},
        "replace_mediator": {"mediator_id": liu, "reason": "当事人申请更换"},
        "party_refuses": {"reason": "不同意调解"},
    }[event]


def actor_of(who):
    if who == "system":
        return SYSTEM
    if who == "organisation":
        org = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == MINISTRY_ORG))
        return Actor(None, Scope(portal=None, organisation_id=org))
    if who == "ministry":
        acfic = db.session.scalar(sa.select(Ministry.id).where(Ministry.code == "acfic"))
        return Actor(None, Scope(portal=None, ministry_id=acfic, province="北京市", city="北京市"))
    return mediator_actor() if who == "mediator" else court_actor()


def mediator_signed_agreement(case):
    """What 申请结案 needs besides complete data: an agreement its mediator signed [FAQ 3.9]."""
    agreement = agreements.generate(case, mediator_actor(), {"terms": "一、双方和解。"})
    db.session.add(Signature(agreement=agreement, role=SignerRole.MEDIATOR, mediator_id=case.mediator_id,
                             signer_name="陈静", image_key=put_bytes(db.session, b"png", prefix="signatures").key, document_sha256=agreement.sha256))
    db.session.flush()


def audit_count(case_id):
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(AuditLog.case_id == case_id))


@pytest.mark.parametrize("event", list(SPEC_TABLE))
@pytest.mark.parametrize("status", list(CaseStatus), ids=lambda s: s.name)
def test_every_state_and_transition(app, status, event):
    sources, target, who = SPEC_TABLE[event]
    # a 总对总 outcome is only for a case that a ministry organisation has
    organisation = (MINISTRY_ORG if (event.startswith("ministry_") or event == "dispatch")
                    and status is not S.TO_ASSIGN else None)
    case_id = make_case(app, status=status, organisation=organisation)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        if event in ("apply_close", "close") and status in sources:
            # the agreement is made while mediating; 结案 finds it signed by the mediator
            case.status = S.MEDIATING
            mediator_signed_agreement(case)
            case.status = status
            db.session.flush()
        before = (case.status, case.version, audit_count(case_id))
        if status in sources:
            apply(case, event, actor_of(who), **valid_data(event))
            db.session.commit()
            after = db.session.get(Case, case_id)
            if target is None:
                assert after is None
            else:
                assert after.status is target
            row = db.session.scalar(sa.select(AuditLog).where(
                AuditLog.case_id == case_id, AuditLog.action == "TRANSITION").order_by(AuditLog.id.desc()))
            assert row.after["event"] == event and row.before["status"] == status.name
            assert row.summary == f"case.{event}"
        else:
            with pytest.raises(DomainError) as refused:
                apply(case, event, actor_of(who), **valid_data(event))
            assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message), refused.value.message
            db.session.rollback()
            case = db.session.get(Case, case_id)
            assert (case.status, case.version, audit_count(case_id)) == before


def test_assign_refuses_a_party_without_phone_and_names_them(app):
    case_id = make_case(app, parties=[("APPLICANT", "赵一", "13511110001", None), ("RESPONDENT", "钱二", None, None)])
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(DomainError, match="被申请人钱二") as exc:
            apply(case, "assign", court_actor(), **valid_data("assign"))
        assert "手机号" in exc.value.message


def test_assign_needs_a_mediator_certified_by_this_court(app):
    case_id = make_case(app)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        yang = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000011"))  # 海淀's
        with pytest.raises(DomainError, match="未经本院认证|不是本院"):
            apply(case, "assign", court_actor(), mediator_id=yang)
        with pytest.raises(DomainError, match="调解员或调解组织"):
            apply(case, "assign", court_actor())


def test_assign_needs_an_applicant_and_a_respondent(app):
    case_id = make_case(app, parties=[("APPLICANT", "赵一", "13511110001", None)])
    with app_ctx(app):
        with pytest.raises(DomainError, match="被申请人"):
            apply(db.session.get(Case, case_id), "assign", court_actor(), **valid_data("assign"))


def test_other_courts_staff_cannot_act(app):
    case_id = make_case(app)
    with app_ctx(app):
        with pytest.raises(NotAllowed):
            apply(db.session.get(Case, case_id), "assign", court_actor("13800000011"), **valid_data("assign"))


def test_only_a_court_admin_deletes(app):
    case_id = make_case(app)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(NotAllowed):
            apply(case, "delete", court_actor("13800000002"), confirm=True)  # a court user
        with pytest.raises(DomainError, match="确认"):
            apply(case, "delete", court_actor(), confirm=False)
        assert "delete" not in [t.event for t in available_events(case, court_actor("13800000002"))]
        apply(case, "delete", court_actor(), confirm=True)
        db.session.commit()
        assert db.session.get(Case, case_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseParty)
                                 .where(CaseParty.case_id == case_id)) == 0
        actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.case_id == case_id)).all()
        assert "TRANSITION" in [a.name for a in actions] and "DELETE" in [a.name for a in actions]


def test_terminate_needs_a_reason_and_other_needs_text(app):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(DomainError, match="终止"):
            apply(case, "terminate", mediator_actor())
        with pytest.raises(DomainError, match="其他"):
            apply(case, "terminate", mediator_actor(), termination_reason=TerminationReason.OTHER, reason=" ")
        apply(case, "terminate", mediator_actor(), termination_reason=TerminationReason.OTHER, reason="当事人出国")
        db.session.commit()
        assert case.termination_note == "当事人出国" and case.deadline is None


def test_apply_close_lists_every_missing_item(app):
    case_id = make_case(app, status=CaseStatus.MEDIATING, summary=None,
                        parties=[("APPLICANT", "赵一", "13511110001", None), ("RESPONDENT", "钱二", "13511110002",
                                                                           "11010519850505002X")])
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        case.summary = None
        with pytest.raises(DomainError) as exc:
            apply(case, "apply_close", mediator_actor())
        message = exc.value.message
        assert "纠纷概况" in message and "申请人赵一" in message and "身份证号" in message
        assert "调解协议" in message


def test_close_needs_the_mediators_signature_on_the_agreement_like_apply_close(app):
    """Issue 15 item 11: a case in 申请结案 whose agreement is gone or unsigned is not closed [FAQ 3.9]."""
    case_id = make_case(app, status=CaseStatus.CLOSE_REQUESTED)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(DomainError) as exc:
            apply(case, "close", mediator_actor())
        assert "调解协议" in exc.value.message
        db.session.rollback()
        assert db.session.get(Case, case_id).status is CaseStatus.CLOSE_REQUESTED


def test_decline_returns_the_case_for_reassignment(app):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(DomainError, match="理由"):
            apply(case, "decline", mediator_actor(), reason="")
        apply(case, "decline", mediator_actor(), reason="利害关系回避")
        db.session.commit()
        assert case.status is CaseStatus.TO_ASSIGN and case.mediator_id is None


def test_accept_lets_the_mediator_pick_only_a_certifying_court_and_numbers_the_case(app):
    case_id = make_case(app, status=CaseStatus.TO_ACCEPT)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        haidian = db.session.scalar(sa.select(Court.id).where(Court.code == "京0108"))
        with pytest.raises(DomainError, match="认证"):
            apply(case, "accept", mediator_actor(), court_id=haidian)
        apply(case, "accept", mediator_actor(), **valid_data("accept"))
        db.session.commit()
        assert case.court.code == "京0105" and case.number.startswith("（")
        assert case.status is CaseStatus.MEDIATING


def test_extend_moves_the_deadline_and_records_the_reason(app):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        old = case.deadline
        with pytest.raises(DomainError):
            apply(case, "extend", mediator_actor(), days=45, reason="x")
        apply(case, "extend", mediator_actor(), days=10, reason="双方同意延长")
        db.session.commit()
        assert (case.deadline - old).days == 10
        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.case_id == case_id,
                                                          AuditLog.action == "TRANSITION"))
        assert row.after["reason"] == "双方同意延长" and row.after["extended_days"] == 10


def test_change_mediator_needs_a_different_one(app):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(DomainError, match="不同|其他"):
            apply(case, "change_mediator", court_actor(), mediator_id=case.mediator_id, reason="x")


def test_mediators_of_the_assigned_organisation_act_on_it(app):
    case_id = make_case(app, status=CaseStatus.MEDIATING, organisation="朝阳区商事调解中心")
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        assert "terminate" in [t.event for t in available_events(case, mediator_actor("13900000001"))]
        assert available_events(case, mediator_actor("13900000002")) == []  # not of that organisation


def test_stale_version_is_a_conflict(app):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        case = db.session.get(Case, case_id)
        with pytest.raises(Conflict, match="他人修改"):
            apply(case, "terminate", mediator_actor(), expected_version=case.version + 1,
                  termination_reason=TerminationReason.WITHDRAWN)


def test_two_simultaneous_transitions_one_wins(db_url, fresh_app):
    """Two clerks act on the same case at once: exactly one transition happens."""
    app = fresh_app
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    barrier = threading.Barrier(2, timeout=60)
    results = []
    apps = iter([make_app(db_url), make_app(db_url)])  # built here; only the transactions race

    def worker(event, data, actor_fn, worker_app):
        with worker_app.app_context():
            case = db.session.get(Case, case_id)
            version = case.version
            actor = actor_fn()
            db.session.rollback()  # release the read; the race is between the writes
            barrier.wait()
            try:
                case = db.session.get(Case, case_id)
                apply(case, event, actor, expected_version=version, **data)
                db.session.commit()
                results.append("ok")
            except (DomainError, sa.orm.exc.StaleDataError) as exc:
                db.session.rollback()
                results.append(type(exc).__name__)
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [
        threading.Thread(target=worker, daemon=True, args=(
            "terminate", {"termination_reason": TerminationReason.WITHDRAWN}, mediator_actor, next(apps))),
        threading.Thread(target=worker, daemon=True, args=("decline", {"reason": "回避"}, mediator_actor,
                                                           next(apps))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results)[0] != "ok" or results.count("ok") == 1, results
    assert results.count("ok") == 1, results
    case = get_case(app, case_id)
    assert case.status in (CaseStatus.TERMINATED, CaseStatus.TO_ASSIGN)
    with app_ctx(app):
        transitions = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.case_id == case_id, AuditLog.action == "TRANSITION"))
        assert transitions == 1
