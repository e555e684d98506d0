"""总对总: assignment to ministry organisations, the outbox worker, outcome sync, the inbound API,
organisation passwords [FAQ 6.2–6.7; SPEC §4, §7]."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.enums import CaseStatus, OutboxStatus
from app.extensions import db
from app.models import InboundMessage, MinistryApiKey, Ministry, Organisation, OutboxMessage
from app.outbox import MAX_ATTEMPTS, DeliveryError, deliver_due
from app.workflows import ministry
from app.api_keys import hash_key

from .case_factory import get_case, make_case
from .helpers import app_ctx, login, text

ORG = "朝阳区商事调解中心"  # bound to 中华全国工商联, certified by 朝阳


def org_id(app, name=ORG):
    with app_ctx(app):
        return db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name))


def outbox(app, case_id) -> list[OutboxMessage]:
    with app_ctx(app):
        rows = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
        db.session.expunge_all()
        return rows


def assign(app, login_as, case_id, organisation):
    return login_as("13800000001").post(f"/case/{case_id}/do/assign_ministry", data={
        "organisation_id": organisation, "version": get_case(app, case_id).version})


@pytest.fixture()
def assigned(app, login_as):
    case_id = make_case(app, number="（2026）京0105民诉前调900号")
    assert assign(app, login_as, case_id, org_id(app)).status_code == 302
    return case_id


def test_assignment_to_a_ministry_organisation_writes_exactly_one_outbox_message(app, login_as, assigned):
    case = get_case(app, assigned)
    assert case.status is CaseStatus.MEDIATING and case.organisation_id == org_id(app) and case.mediator_id is None
    messages = outbox(app, assigned)
    assert len(messages) == 1 and messages[0].status is OutboxStatus.PENDING
    assert messages[0].payload["case_number"] == case.number and messages[0].payload["organisation"] == ORG
    page = text(login_as("13800000001").get(f"/case/{make_case(app)}/do/assign_ministry"))
    assert ORG in page and "中华全国工商联" in page and "北京金融纠纷调解中心" not in page  # not certified here


def test_organisations_without_ministry_or_certification_are_refused(app, login_as):
    login_as("13800000001").post("/organisations/add", data={
        "name": "朝阳区劳动争议调解中心", "credit_code": "91110000600037341L", "org_type": "PEOPLES",
        "province": "北京市", "city": "北京市", "contact_name": "郑主任", "contact_phone": "13933335555"})
    case_id = make_case(app)
    resp = assign(app, login_as, case_id, org_id(app, "朝阳区劳动争议调解中心"))
    assert "未绑定部委" in text(resp)
    resp = assign(app, login_as, case_id, org_id(app, "北京金融纠纷调解中心"))
    assert "该调解组织未经本院认证。" in text(resp)  # the refusal itself, not the sidebar's 本院
    assert get_case(app, case_id).status is CaseStatus.TO_ASSIGN and outbox(app, case_id) == []


class FailingPlatform:
    def deliver(self, message):
        raise DeliveryError("connection refused by ministry platform")


def test_a_failing_platform_is_retried_then_shown_as_failed_then_resent(app, login_as, assigned):
    app.config["MINISTRY_PLATFORM"] = FailingPlatform()
    now = dt.datetime(2030, 1, 1)
    with app.app_context():
        assert deliver_due(now)["retry"] == 1
        assert deliver_due(now)["retry"] == 0  # not due yet: back-off
        for i in range(1, MAX_ATTEMPTS):
            deliver_due(now + dt.timedelta(hours=i))
        db.session.remove()
    message = outbox(app, assigned)[0]
    assert message.status is OutboxStatus.FAILED and message.attempts == MAX_ATTEMPTS
    assert "connection refused" in message.last_error

    staff = login_as("13300000001", "PLATFORM")
    listing = text(staff.get("/pushes/list/"))
    assert "推送失败" in listing and "connection refused" in listing
    assert "重新推送" in text(staff.get(f"/pushes/show/{message.id}"))
    assert login_as("13800000001").get("/pushes/list/").status_code == 403
    staff.post(f"/pushes/resend/{message.id}")
    app.config["MINISTRY_PLATFORM"] = "local"
    with app.app_context():
        assert deliver_due()["sent"] == 1
        db.session.remove()
    message = outbox(app, assigned)[0]
    assert message.status is OutboxStatus.SENT and message.acknowledged_at is not None
    assert len(outbox(app, assigned)) == 1  # resending never duplicates the message


def test_ministry_staff_see_the_case_and_record_the_outcome_which_the_court_sees(app, login_as, assigned):
    acfic = login_as("13700000001", "MINISTRY")
    number = get_case(app, assigned).number
    assert number in text(acfic.get("/ministry/cases/list/"))
    assert number not in text(login_as("13700000002", "MINISTRY").get("/ministry/cases/list/"))
    assert login_as("13700000002", "MINISTRY").get(f"/case/{assigned}").status_code == 404
    page = text(acfic.get(f"/case/{assigned}"))
    assert 'data-event="ministry_success"' in page and 'data-event="terminate"' not in page
    acfic.post(f"/case/{assigned}/do/ministry_failure", data={
        "termination_reason": "REFUSES_MEDIATION", "reason": "被申请人拒绝调解",
        "version": get_case(app, assigned).version})
    case = get_case(app, assigned)
    assert case.status is CaseStatus.TERMINATED and case.termination_note == "被申请人拒绝调解"
    assert outbox(app, assigned)[0].outcome_at is not None
    assert "调解终止" in text(login_as("13800000001").get(f"/case/{assigned}"))


def test_historical_cases_with_ministry_info_count_for_the_ministry(app, login_as):
    html = text(login_as("13700000001", "MINISTRY").get("/ministry/cases/list/"))
    assert "股权转让纠纷" in html  # demo backfill with 部委信息 = 中华全国工商联


@pytest.fixture()
def api_key(app):
    with app_ctx(app):
        acfic = db.session.scalar(sa.select(Ministry.id).where(Ministry.code == "acfic"))
        cbirc = db.session.scalar(sa.select(Ministry.id).where(Ministry.code == "cbirc"))
        db.session.add_all([MinistryApiKey(ministry_id=acfic, key_hash=hash_key("mk_acfic")),
                            MinistryApiKey(ministry_id=cbirc, key_hash=hash_key("mk_cbirc"))])
        db.session.commit()
    return "mk_acfic"


def post(client, key, **body):
    return client.post("/api/v1/ministry/messages", json=body, headers={"X-Api-Key": key} if key else {})


def test_inbound_api_rejects_bad_keys_payloads_cases_and_ministries(app, client, assigned, api_key):
    number = get_case(app, assigned).number
    good = {"message_id": "m-1", "case_number": number, "type": "receipt"}
    assert post(client, None, **good).status_code == 401
    assert post(client, "mk_wrong", **good).status_code == 401
    assert post(client, api_key, message_id="m-1", type="receipt").status_code == 400
    assert post(client, api_key, **{**good, "type": "outcome", "outcome": "maybe"}).status_code == 400
    assert post(client, api_key, **{**good, "case_number": "（2026）京0105民诉前调99999号"}).status_code == 404
    resp = post(client, "mk_cbirc", **good)
    assert resp.status_code == 403 and resp.json == {"status": "error", "reason": "该案件未指派给本部委的调解组织。"}
    assert client.get("/api/v1/ministry/openapi.json").json["paths"]


def test_inbound_api_receipt_and_outcome_are_idempotent(app, client, assigned, api_key):
    with app.app_context():
        deliver_due()
        db.session.remove()
    number = get_case(app, assigned).number
    assert post(client, api_key, message_id="r-1", case_number=number, type="receipt").json["status"] == "ok"
    outcome = {"message_id": "o-1", "case_number": number, "type": "outcome", "outcome": "success"}
    assert post(client, api_key, **outcome).json["status"] == "ok"
    assert get_case(app, assigned).status is CaseStatus.ENDED
    version = get_case(app, assigned).version
    replay = post(client, api_key, **outcome)
    assert replay.status_code == 200 and replay.json["status"] == "duplicate"
    assert get_case(app, assigned).version == version
    illegal = post(client, api_key, **{**outcome, "message_id": "o-2", "outcome": "failure",
                                       "termination_reason": "OTHER", "reason": "x"})
    assert illegal.status_code == 409
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 2
        from app.models import AuditLog

        row = db.session.scalar(sa.select(AuditLog).where(AuditLog.case_id == assigned,
                                                          AuditLog.action == "TRANSITION")
                                .order_by(AuditLog.id.desc()))
        assert row.after["event"] == "ministry_success" and row.actor_name.startswith("ministry-api")


def test_a_copy_arriving_while_the_first_is_applied_answers_duplicate_and_changes_nothing(
        app, client, assigned, api_key, monkeypatch):
    """Two copies at once: the second's look-up misses the first (not yet committed), its claim meets
    the unique key of inbound_message inside a savepoint, and it answers the first's result."""
    number = get_case(app, assigned).number
    outcome = {"message_id": "o-1", "case_number": number, "type": "outcome", "outcome": "success"}
    assert post(client, api_key, **outcome).json == {"status": "ok", "result": "case is now ENDED"}
    version = get_case(app, assigned).version
    real, calls = ministry._seen, []

    def seen_too_late(ministry_id, message_id):
        calls.append(message_id)
        return None if len(calls) == 1 else real(ministry_id, message_id)

    monkeypatch.setattr(ministry, "_seen", seen_too_late)
    copy = post(client, api_key, **outcome)
    assert copy.status_code == 200 and copy.json == {"status": "duplicate", "result": "case is now ENDED"}
    assert len(calls) == 2  # the claim, not the first look-up, caught it
    assert get_case(app, assigned).version == version
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundMessage)) == 1


def test_inbound_api_reports_every_problem_of_a_bad_message(client, api_key):
    resp = post(client, api_key, message_id="x" * 65, type="outcome", outcome="failure")
    assert resp.status_code == 400 and resp.json["status"] == "error"
    # Chinese names with the JSON field the ministry's developers look for (issue 15 item 4)
    assert resp.json["errors"] == ["缺少案号（case_number）。", "消息编号（message_id）最多 64 个字符。",
                                   "调解不成功时须提供终止原因（termination_reason）。"]


def test_platform_staff_reset_acfic_organisation_passwords_with_a_work_id(app, login_as):
    staff = login_as("13300000001", "PLATFORM")
    pk = org_id(app)
    resp = staff.post(f"/org-passwords/{pk}", data={"password": "OrgPass2026", "work_id": ""})
    assert "工作证件" in text(resp)
    staff.post(f"/org-passwords/{pk}", data={"password": "OrgPass2026", "work_id": "京工商联-0042"})
    with app_ctx(app):
        credit = db.session.get(Organisation, pk).credit_code
    client = app.test_client()
    assert login(client, credit, "ORGANISATION", "OrgPass2026").status_code == 302
    resp = staff.post(f"/org-passwords/{org_id(app, '北京金融纠纷调解中心')}",
                      data={"password": "OrgPass2026", "work_id": "x"})
    assert "省级部委" in text(resp)
    resp = login_as("13700000001", "MINISTRY").post(f"/ministry/organisations/password/{pk}",
                                                    data={"password": "OrgPass2026"})
    assert "平台客服" in text(resp)


def test_only_a_pre_litigation_case_offers_ministry_mediation_and_the_message_says_what_happened(app, login_as):
    """[FAQ 6.7] 总对总调解 is for 诉前委派调解 cases: a 立案调解 case has no button (rather than one that
    always refuses), a crafted post is still refused; the success message names the organisation and says
    the case went to the ministry's platform, not that the mediation succeeded."""
    from app.enums import CaseType

    c = login_as("13800000001")
    litigation = make_case(app, case_type=CaseType.IN_LITIGATION)
    assert "/do/assign_ministry" not in text(c.get(f"/case/{litigation}"))
    resp = assign(app, login_as, litigation, org_id(app))
    assert get_case(app, litigation).status is CaseStatus.TO_ASSIGN and outbox(app, litigation) == []
    pre = make_case(app)
    assert "/do/assign_ministry" in text(c.get(f"/case/{pre}"))
    resp = c.post(f"/case/{pre}/do/assign_ministry", data={"organisation_id": org_id(app),
                                                           "version": get_case(app, pre).version},
                  follow_redirects=True)
    page = text(resp)
    assert f"已指派{ORG}进行总对总调解" in page and "总对总调解成功" not in page
