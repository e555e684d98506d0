"""三进: 纠纷化解 by liaisons and the handoff to online mediation [FAQ 7.4; SPEC §5]."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.enums import AuditAction, CaseSource, CaseStatus, DisputeStatus, DisputeType, PartyRole
from app.extensions import db
from app.models import AuditLog, Case, Court, Dispute, DisputeParty, GrassrootsUnit, Tribunal
from app.roles import Portal
from app.security import Scope
from app.workflows import Conflict, DomainError, NotAllowed, grassroots
from app.workflows.actor import Actor

from .helpers import app_ctx, flashes, logged_in, login, make_app, text

P, RESOLVED, UNRESOLVED, HANDED_OFF = (DisputeStatus.PROCESSING, DisputeStatus.RESOLVED, DisputeStatus.UNRESOLVED,
                                       DisputeStatus.HANDED_OFF)
# SPEC §5 / FAQ 7.4, written by hand: event → (the states it leaves, the state it reaches).
# The liaison closes a dispute directly as resolved or not, or hands it to online mediation;
# every closed dispute is final. A wrong row in grassroots.TRANSITIONS fails the matrix.
SPEC_TABLE = {
    "resolve": ({P}, RESOLVED),
    "fail": ({P}, UNRESOLVED),
    "hand_off": ({P}, HANDED_OFF),
}

QUICK = {"dispute_type": "NEIGHBOUR", "place": "团结湖北里3号楼", "description": "楼上漏水，双方对维修费用有争议",
         "action_taken": "现场查看并电话沟通", "role_0": "APPLICANT", "name_0": "周大", "phone_0": "13577770001",
         "role_1": "RESPONDENT", "name_1": "吴二", "phone_1": "13577770002", "id_number_1": "11010519850505002X"}


def liaison_of(unit: GrassrootsUnit) -> Actor:
    return Actor(unit.liaison_user_id, Scope(portal=Portal.GRASSROOTS))


def demo_unit() -> GrassrootsUnit:
    return db.session.scalar(sa.select(GrassrootsUnit).where(GrassrootsUnit.liaison_phone == "13600000001"))


def make_dispute(app, status=P) -> int:
    """A dispute of 朝阳区团结湖街道 in `status`, with two parties."""
    with app_ctx(app):
        unit = demo_unit()
        d = Dispute(unit=unit, court_id=unit.court_id, tribunal_id=unit.tribunal_id,
                    dispute_type=DisputeType.NEIGHBOUR, description="矩阵测试纠纷", status=status)
        d.parties = [DisputeParty(role=PartyRole.APPLICANT, name="甲方", phone="13577779991"),
                     DisputeParty(role=PartyRole.RESPONDENT, name="乙方", phone="13577779992")]
        db.session.add(d)
        db.session.commit()
        return d.id


def record(client, **overrides):
    return client.post("/grassroots/new", data={**QUICK, **overrides})


def dispute_id(resp) -> int:
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def dispute(app, pk) -> Dispute:
    with app_ctx(app):
        d = db.session.get(Dispute, pk)
        db.session.expunge(d)
        return d


@pytest.fixture()
def second_unit(app, login_as):
    """A second unit (B) of 朝阳 with liaison 13600000002."""
    with app_ctx(app):
        court = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
    resp = login_as("13800000001").post("/grassroots-units/add", data={
        "court": court, "name": "朝阳区麦子店街道", "liaison_name": "孙联络", "liaison_phone": "13600000002",
        "liaison_password": "Liaison2026"})
    assert resp.status_code == 302
    c = app.test_client()
    assert login(c, "13600000002", "GRASSROOTS", "Liaison2026").status_code == 302
    return c


def test_liaison_records_a_dispute_with_parties(app, login_as):
    liaison = login_as("13600000001", "GRASSROOTS")
    assert liaison.get("/", follow_redirects=True).status_code == 200
    resp = record(liaison)
    assert resp.status_code == 302
    d = dispute(app, dispute_id(resp))
    assert d.status is DisputeStatus.PROCESSING and d.tribunal_id is not None
    page = text(liaison.get(f"/grassroots/{d.id}"))
    assert "周大" in page and "吴二" in page and "处理中" in page


def test_bad_input_is_listed_and_nothing_saved(app, login_as):
    liaison = login_as("13600000001", "GRASSROOTS")
    resp = record(liaison, dispute_type="", description=" ", phone_0="12345", id_number_1="110105198505050021")
    html = text(resp)
    assert resp.status_code == 200
    for word in ("纠纷类型", "纠纷情况", "当事人1", "手机号", "当事人2", "身份证"):
        assert word in html, word
    assert 'value="周大"' in html  # the form keeps the input
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispute)
                                 .where(Dispute.description == " ")) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispute)
                                 .where(Dispute.place == QUICK["place"])) == 0


def test_quick_close_success_and_failure(app, login_as):
    liaison = login_as("13600000001", "GRASSROOTS")
    ok = dispute_id(record(liaison))
    liaison.post(f"/grassroots/{ok}/resolve", data={"version": dispute(app, ok).version, "note": "已调解，维修费平摊"})
    assert dispute(app, ok).status is DisputeStatus.RESOLVED and dispute(app, ok).result_note == "已调解，维修费平摊"
    bad = dispute_id(record(liaison))
    liaison.post(f"/grassroots/{bad}/fail", data={"version": dispute(app, bad).version})
    assert dispute(app, bad).status is DisputeStatus.UNRESOLVED


def test_closed_disputes_refuse_every_further_step(app, login_as):
    liaison = login_as("13600000001", "GRASSROOTS")
    pk = dispute_id(record(liaison))
    liaison.post(f"/grassroots/{pk}/resolve", data={"version": dispute(app, pk).version})
    page = text(liaison.get(f"/grassroots/{pk}"))
    assert 'id="resolve"' not in page and 'id="fail"' not in page and 'id="hand-off"' not in page
    for event in ("fail", "hand_off", "resolve"):
        resp = liaison.post(f"/grassroots/{pk}/{event}", data={"version": dispute(app, pk).version})
        assert resp.headers["Location"].endswith(f"/grassroots/{pk}")
        said = " ".join(flashes(liaison))
        assert "化解成功" in said and "不能" in said, said
    assert dispute(app, pk).status is DisputeStatus.RESOLVED and dispute(app, pk).case_id is None
    with app_ctx(app):
        with pytest.raises(DomainError, match="未知"):
            grassroots.apply(db.session.get(Dispute, pk), "unknown", liaison_of(demo_unit()))


def test_hand_off_creates_one_case_at_the_units_court_even_on_double_submit(app, login_as):
    liaison = login_as("13600000001", "GRASSROOTS")
    pk = dispute_id(record(liaison))
    version = dispute(app, pk).version
    liaison.post(f"/grassroots/{pk}/hand_off", data={"version": version})
    liaison.post(f"/grassroots/{pk}/hand_off", data={"version": version})  # the second click
    assert "已被更新" in " ".join(flashes(liaison))  # the stale form is a conflict, not a second case
    with app_ctx(app):
        cases = db.session.scalars(sa.select(Case).where(Case.source == CaseSource.GRASSROOTS,
                                                          Case.summary == QUICK["description"])).all()
        assert len(cases) == 1
        case = cases[0]
        unit = db.session.scalar(sa.select(GrassrootsUnit).where(GrassrootsUnit.liaison_phone == "13600000001"))
        assert case.court_id == unit.court_id and case.tribunal_id == unit.tribunal_id
        assert case.status is CaseStatus.TO_ASSIGN and case.grassroots_unit_id == unit.id
        assert [(p.role.name, p.name, p.phone) for p in case.parties] == [
            ("APPLICANT", "周大", "13577770001"), ("RESPONDENT", "吴二", "13577770002")]
        assert case.summary == QUICK["description"] and case.number.startswith("（")
        assert db.session.get(Dispute, pk).case_id == case.id
        case_id = case.id
    # the court admin finds it in 待指派, marked with the unit, and assigns it
    admin = login_as("13800000001")
    html = text(admin.get("/cases/pre-litigation/list/"))
    assert "朝阳区团结湖街道" in html
    with app_ctx(app):
        from app.models import Mediator

        chen = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000001"))
    with app_ctx(app):
        version = db.session.get(Case, case_id).version
    assert admin.post(f"/case/{case_id}/do/assign", data={"mediator_id": chen, "version": version}).status_code == 302


def test_concurrent_hand_offs_create_exactly_one_case(fresh_app, db_url):
    app = fresh_app
    liaison = logged_in(app, "13600000001", "GRASSROOTS")
    pk = dispute_id(record(liaison))
    with app_ctx(app):
        liaison_actor = liaison_of(demo_unit())
    apps = [make_app(db_url), make_app(db_url)]
    barrier = threading.Barrier(2, timeout=60)
    results = []

    def worker(worker_app):
        with worker_app.app_context():
            try:
                barrier.wait()
                grassroots.apply(db.session.get(Dispute, pk), "hand_off", liaison_actor)
                db.session.commit()
                results.append("ok")
            except (DomainError, sa.exc.OperationalError) as exc:
                db.session.rollback()
                results.append(type(exc).__name__)
            finally:
                db.session.remove()
                db.engine.dispose()

    threads = [threading.Thread(target=worker, args=(a,), daemon=True) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count("ok") == 1, results
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.source == CaseSource.GRASSROOTS, Case.summary == QUICK["description"])) == 1


def test_a_liaison_never_sees_another_units_disputes(app, login_as, second_unit):
    a = login_as("13600000001", "GRASSROOTS")
    pk = dispute_id(record(a))
    b = second_unit
    assert "周大" not in text(b.get("/grassroots/"))
    assert b.get(f"/grassroots/{pk}").status_code == 404
    b.post(f"/grassroots/{pk}/resolve", data={"version": dispute(app, pk).version})
    b.post(f"/grassroots/{pk}/hand_off", data={"version": dispute(app, pk).version})
    assert dispute(app, pk).status is DisputeStatus.PROCESSING
    with app_ctx(app):
        unit_b = db.session.scalar(sa.select(GrassrootsUnit).where(GrassrootsUnit.liaison_phone == "13600000002"))
        for event in SPEC_TABLE:
            with pytest.raises(NotAllowed):
                grassroots.apply(db.session.get(Dispute, pk), event, liaison_of(unit_b))
        with pytest.raises(NotAllowed, match="联络员"):
            grassroots.record(demo_unit(), liaison_of(unit_b), "NEIGHBOUR", "", "别家的纠纷", "",
                              [grassroots.PartyInput("APPLICANT", "某甲")])


def test_court_side_sees_its_units_and_the_tribunal_admin_sees_the_tribunals(app, login_as):
    with app_ctx(app):
        before = grassroots.figures(sa.select(Dispute))
    liaison = login_as("13600000001", "GRASSROOTS")
    pk = dispute_id(record(liaison))
    liaison.post(f"/grassroots/{pk}/hand_off", data={"version": dispute(app, pk).version})
    record(liaison, name_0="郑三")
    admin_html = text(login_as("13800000001").get("/disputes/list/"))
    assert "朝阳区团结湖街道" in admin_html and "邻里纠纷" in admin_html and "纠纷纠纷" not in admin_html
    judge = login_as("13800000002")  # admin of 团结湖人民法庭, to which the unit belongs
    assert "朝阳区团结湖街道" in text(judge.get("/disputes/list/"))
    assert "朝阳区团结湖街道" not in text(login_as("13800000011").get("/disputes/list/"))
    assert login_as("13800000011").get(f"/disputes/show/{pk}").status_code == 404
    figures = text(login_as("13800000001").get("/grassroots-figures/"))
    assert "朝阳区团结湖街道" in figures
    with app_ctx(app):
        stats = grassroots.figures(sa.select(Dispute))
    assert stats["received"] - before["received"] == 2
    assert stats["handed_off"] - before["handed_off"] == 1
    assert stats["processing"] - before["processing"] == 1
    assert stats["cases"][CaseStatus.TO_ASSIGN] - before["cases"][CaseStatus.TO_ASSIGN] == 1


def test_a_tribunal_less_court_user_sees_no_disputes(app, login_as):
    with app_ctx(app):
        db.session.execute(sa.update(Tribunal).values(admin_id=None))
        db.session.commit()
    liaison = login_as("13600000001", "GRASSROOTS")
    record(liaison)
    assert "朝阳区团结湖街道" not in text(login_as("13800000002").get("/disputes/list/"))


def test_only_liaisons_use_the_grassroots_portal(login_as):
    assert login_as("13800000001").get("/grassroots/").status_code == 403
    assert login_as("13900000001", "MEDIATOR").get("/grassroots/new").status_code == 403


# --- the dispute machine, state × event (SPEC §5, FAQ 7.4) ----------------------------

def test_the_table_has_exactly_the_spec_events():
    assert set(SPEC_TABLE) == set(grassroots.MACHINE.transitions)


def _transition_rows(dispute_id):
    return db.session.scalars(sa.select(AuditLog).where(
        AuditLog.entity == "dispute", AuditLog.entity_id == dispute_id,
        AuditLog.action == AuditAction.TRANSITION)).all()


@pytest.mark.parametrize("event", list(SPEC_TABLE))
@pytest.mark.parametrize("status", list(DisputeStatus), ids=lambda s: s.name)
def test_every_dispute_state_and_event(app, status, event):
    sources, target = SPEC_TABLE[event]
    pk = make_dispute(app, status)
    with app_ctx(app):
        d = db.session.get(Dispute, pk)
        liaison = liaison_of(d.unit)
        before = (d.status, d.version, len(_transition_rows(pk)))
        if status in sources:
            grassroots.apply(d, event, liaison, note="双方和解")
            db.session.commit()
            d = db.session.get(Dispute, pk)
            assert d.status is target and d.closed_at is not None
            row = _transition_rows(pk)[-1]
            assert row.summary == f"dispute.{event}" and row.before["status"] == status.name
            assert row.after["status"] == target.name
            if event == "hand_off":
                case = d.case
                assert case.source is CaseSource.GRASSROOTS and case.status is CaseStatus.TO_ASSIGN
                assert case.court_id == d.court_id and case.summary == "矩阵测试纠纷"
                assert [p.name for p in case.parties] == ["甲方", "乙方"]
                assert row.after["case_id"] == case.id
            else:
                assert d.case_id is None and d.result_note == "双方和解"
        else:
            with pytest.raises(DomainError) as refused:
                grassroots.apply(d, event, liaison)
            assert status.label in refused.value.message and "不能" in refused.value.message
            db.session.rollback()
            d = db.session.get(Dispute, pk)
            assert (d.status, d.version, len(_transition_rows(pk))) == before
            assert d.case_id is None


@pytest.mark.parametrize("event", list(SPEC_TABLE))
def test_only_the_units_liaison_takes_a_dispute_event(app, event):
    """Who (FAQ 7.4): the unit's liaison; not the court's staff, not the platform, not the system."""
    pk = make_dispute(app)
    with app_ctx(app):
        d = db.session.get(Dispute, pk)
        others = [Actor(None, Scope(portal=None), system=True),
                  Actor(None, Scope(portal=Portal.PLATFORM, is_platform=True)),
                  Actor(d.unit.liaison_user_id + 10_000, Scope(portal=Portal.GRASSROOTS)),
                  Actor(1, Scope(portal=Portal.COURT, court_id=d.court_id, is_court_admin=True))]
        for actor in others:
            assert grassroots.available_events(d, actor) == []
            with pytest.raises(NotAllowed):
                grassroots.apply(d, event, actor)
        assert [a.event for a in grassroots.available_events(d, liaison_of(d.unit))] == list(SPEC_TABLE)
        assert db.session.get(Dispute, pk).status is P


def test_a_stale_version_is_a_conflict_and_changes_nothing(app):
    pk = make_dispute(app)
    with app_ctx(app):
        d = db.session.get(Dispute, pk)
        with pytest.raises(Conflict):
            grassroots.apply(d, "resolve", liaison_of(d.unit), expected_version=d.version - 1)
        db.session.rollback()
        assert db.session.get(Dispute, pk).status is P
