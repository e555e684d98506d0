"""Case screens: who sees which case, the walkthrough of issue 3, locks and conflicts on the pages."""
from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from app.enums import CaseStatus
from app.extensions import db
from app.models import Case, CaseAgent, CaseParty, Court, Mediator

from .case_factory import get_case, make_case, update_case
from .helpers import app_ctx, counted_commits, flashes, text


def case_id_by_cause(app, cause, court_code="京0105"):
    with app_ctx(app):
        return db.session.scalar(sa.select(Case.id).join(Court).where(Case.cause == cause, Court.code == court_code))


def test_walkthrough_create_refuse_fill_assign_terminate_and_read_the_record(app, login_as):
    admin = login_as("13800000001")
    with app_ctx(app):
        chaoyang = db.session.scalar(sa.select(Court.id).where(Court.code == "京0105"))
        chen = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000001"))
    resp = admin.post("/cases/pre-litigation/add", data={"court": chaoyang, "cause": "房屋买卖合同纠纷",
                                                         "claim_amount": "120000"})
    assert resp.status_code == 302
    case_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert get_case(app, case_id).number.startswith("（20") and "京0105民诉前调" in get_case(app, case_id).number

    for role, name, phone in [("APPLICANT", "孙甲", "13522220001"), ("RESPONDENT", "周乙", "")]:
        resp = admin.post(f"/case-parties/add?_flt_0_case={case_id}",
                          data={"role": role, "kind": "PERSON", "name": name, "phone": phone})
        assert resp.status_code == 302
    assert get_case(app, case_id).party_names == "孙甲、周乙"
    page = text(admin.get(f"/case/{case_id}"))
    assert 'data-event="assign"' in page and 'data-event="terminate"' not in page

    resp = admin.post(f"/case/{case_id}/do/assign", data={"mediator_id": chen, "version": get_case(app, case_id).version})
    assert resp.status_code == 200
    assert "被申请人周乙的手机号为空" in text(resp)
    assert get_case(app, case_id).status is CaseStatus.TO_ASSIGN

    with app_ctx(app):
        party_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.name == "周乙"))
    resp = admin.post(f"/case-parties/edit/{party_id}", data={"role": "RESPONDENT", "kind": "PERSON",
                                                              "name": "周乙", "phone": "10000000000"})
    assert resp.status_code == 302
    resp = admin.post(f"/case/{case_id}/do/assign", data={"mediator_id": chen, "version": get_case(app, case_id).version})
    assert resp.status_code == 302 and get_case(app, case_id).status is CaseStatus.MEDIATING

    mediator = login_as("13900000001", "MEDIATOR")
    assert "房屋买卖合同纠纷" in text(mediator.get("/my/cases/list/"))
    resp = mediator.post(f"/case/{case_id}/do/terminate",
                         data={"termination_reason": "TOO_FAR_APART", "reason": "差距过大",
                               "version": get_case(app, case_id).version})
    assert resp.status_code == 302
    assert get_case(app, case_id).status is CaseStatus.TERMINATED

    record = text(admin.get(f"/case/{case_id}?tab=log"))
    # the operators by name, not by phone (issue 15 item 3)
    for word in ("指派", "终止调解", "陈静", "王立新", "差距过大", "调解中", "调解终止"):
        assert word in record, word


def test_mediator_sees_only_own_and_organisation_cases(app, login_as):
    html = text(login_as("13900000001", "MEDIATOR").get("/my/cases/list/"))
    assert "物业服务合同纠纷" in html  # assigned to 陈静
    assert "服务合同纠纷" in html  # assigned to 陈静's organisation
    assert "离婚后财产纠纷" not in html  # 刘洋's
    assert "金融借款合同纠纷" not in html  # 海淀, not assigned
    other = case_id_by_cause(app, "离婚后财产纠纷")
    mediator = login_as("13900000001", "MEDIATOR")
    assert mediator.get(f"/case/{other}").status_code == 404
    assert mediator.post(f"/case/{other}/do/terminate", data={"termination_reason": "WITHDRAWN"}).status_code == 404


def test_haidian_never_sees_chaoyang_cases(app, login_as):
    cy_case = case_id_by_cause(app, "物业服务合同纠纷")
    with app_ctx(app):
        party_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == cy_case))
        agent_id = db.session.scalar(sa.select(CaseAgent.id).where(CaseAgent.party_id == party_id))
    haidian = login_as("13800000011")
    assert "物业服务合同纠纷" not in text(haidian.get("/cases/pre-litigation/list/"))
    for method, url, data in [
        ("GET", f"/case/{cy_case}", None),
        ("GET", f"/cases/pre-litigation/show/{cy_case}", None),
        ("GET", f"/cases/pre-litigation/edit/{cy_case}", None),
        ("POST", f"/case/{cy_case}/do/delete", {"confirm": "y"}),
        ("POST", f"/case/{cy_case}/do/extend", {"days": "5", "reason": "x"}),
        ("POST", f"/case/{cy_case}/mediation-info", {"summary": "x"}),
        ("GET", f"/case-parties/edit/{party_id}", None),
        ("POST", f"/case-parties/delete/{party_id}", {}),
        ("GET", f"/case-parties/add?_flt_0_case={cy_case}", None),
        ("GET", f"/case-agents/edit/{agent_id}", None),
        ("GET", f"/case-agents/add?_flt_0_party={party_id}", None),
        ("POST", "/cases/pre-litigation/action_post", {"action": "export_excel", "rowid": [str(cy_case)]}),
        ("GET", f"/api/v1/case/{cy_case}", None),
    ]:
        assert haidian.open(url, method=method, data=data).status_code in (403, 404), url
    api = haidian.get("/api/v1/case/?q=(page_size:100)").json
    assert api["count"] == 2 and all("京0108" in (r["number"] or "") for r in api["result"])
    assert get_case(app, cy_case) is not None


def test_export_is_scoped_excel(app, login_as):
    cy_case = case_id_by_cause(app, "物业服务合同纠纷")
    resp = login_as("13800000001").post("/cases/pre-litigation/action_post",
                                        data={"action": "export_excel", "rowid": [str(cy_case)]})
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws["D2"].value == "物业服务合同纠纷" and ws["F2"].value == "调解中"


def test_court_user_has_no_delete_button_and_admin_deletes_with_confirmation(app, login_as):
    case_id = case_id_by_cause(app, "买卖合同纠纷")
    judge = login_as("13800000002")
    assert 'data-event="delete"' not in text(judge.get(f"/case/{case_id}"))
    judge.post(f"/case/{case_id}/do/delete", data={"confirm": "y"})
    assert get_case(app, case_id) is not None
    admin = login_as("13800000001")
    assert 'data-event="delete"' in text(admin.get(f"/case/{case_id}"))
    resp = admin.post(f"/case/{case_id}/do/delete", data={})
    assert resp.status_code == 200 and get_case(app, case_id) is not None
    resp = admin.post(f"/case/{case_id}/do/delete", data={"confirm": "y"})
    assert resp.status_code == 302 and get_case(app, case_id) is None


def test_locked_case_refuses_every_edit_path(app, login_as):
    case_id = make_case(app, status=CaseStatus.CLOSE_REQUESTED)
    with app_ctx(app):
        party_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == case_id))
    admin = login_as("13800000001")
    page = text(admin.get(f"/case/{case_id}"))
    assert "/case-parties/edit/" not in page
    assert admin.get(f"/cases/pre-litigation/edit/{case_id}").status_code == 302
    admin.post(f"/case-parties/edit/{party_id}", data={"role": "APPLICANT", "kind": "PERSON", "name": "改名",
                                                       "phone": "13511110001"})
    admin.get(f"/case-parties/add?_flt_0_case={case_id}")
    admin.post(f"/case/{case_id}/mediation-info", data={"summary": "改", "plan": "改",
                                                         "version": get_case(app, case_id).version})
    assert "不能修改" in " ".join(flashes(admin))
    with app_ctx(app):
        assert db.session.get(CaseParty, party_id).name == "赵一"
        assert db.session.get(Case, case_id).summary == "纠纷概况"


def test_a_stale_form_gets_the_conflict_message(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    mediator = login_as("13900000001", "MEDIATOR")
    stale = get_case(app, case_id).version
    mediator.post(f"/case/{case_id}/do/extend", data={"days": "3", "reason": "同意", "version": stale})
    mediator.post(f"/case/{case_id}/do/decline", data={"reason": "回避", "version": stale})
    assert "他人修改" in " ".join(flashes(mediator))
    assert get_case(app, case_id).status is CaseStatus.MEDIATING


def test_at_most_two_agents_per_party(app, login_as):
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        party_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == case_id))
    mediator = login_as("13900000001", "MEDIATOR")
    for i in range(3):
        resp = mediator.post(f"/case-agents/add?_flt_0_party={party_id}",
                             data={"agent_type": "SPECIAL", "name": f"律师{i}", "phone": f"1350000010{i}"})
    assert "最多" in " ".join(flashes(mediator)) or "最多" in text(resp)
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseAgent)
                                 .where(CaseAgent.party_id == party_id)) == 2


def test_party_form_validates_phone_and_id(app, login_as):
    case_id = make_case(app)
    admin = login_as("13800000001")
    resp = admin.post(f"/case-parties/add?_flt_0_case={case_id}",
                      data={"role": "APPLICANT", "kind": "PERSON", "name": "吴丙", "phone": "123",
                            "id_number": "110105198001010014"})
    html = text(resp)
    assert resp.status_code == 200 and "11位手机号" in html and "身份证" in html
    with app_ctx(app):
        assert db.session.scalar(sa.select(CaseParty.id).where(CaseParty.name == "吴丙")) is None


def test_case_lists_filter_and_label_in_chinese(login_as):
    html = text(login_as("13800000001").get("/cases/pre-litigation/list/"))
    for word in ("诉前委派调解", "诉前调解案号", "案由", "当事人", "调解中", "待指派", "调解案件管理"):
        assert word in html, word


def _historical_form(app, **overrides):
    from app.models import Ministry

    with app_ctx(app):
        acfic = db.session.scalar(sa.select(Ministry.id).where(Ministry.code == "acfic"))
        chen = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000001"))
    form = {"cause": "历史纠纷", "received_on": "2025-03-01", "closed_on": "2025-03-20", "outcome": "ENDED",
            "mediator": chen, "has_ministry": "y", "ministry": acfic}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def case_count(app):
    with app_ctx(app):
        return db.session.scalar(sa.select(sa.func.count()).select_from(Case))


def test_historical_case_backfills_a_concluded_case_without_a_clock(app, login_as):
    """[FAQ 3.7, 6.6] 新增历史案件, issue 15 item 9: outcome, mediator, dates and 部委信息; the case is
    调解结束 from the start, has no deadline, is in no 临期/超期 list and pushes nothing to 总对总."""
    from app.models import OutboxMessage

    admin = login_as("13800000001")
    form = text(admin.get("/cases/historical/add"))
    for label in ("部委信息", "调解结果", "结案日期", "终止原因", "调解员"):
        assert label in form, label
    pushes = None
    with app_ctx(app):
        pushes = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    resp = admin.post("/cases/historical/add", data=_historical_form(app))
    assert resp.status_code == 302, text(resp)[:2000]
    case = get_case(app, int(resp.headers["Location"].rstrip("/").split("/")[-1]))
    assert case.source.name == "HISTORICAL" and case.status is CaseStatus.ENDED
    assert case.number.startswith("（2025）") and case.has_ministry and case.mediator_id is not None
    assert case.deadline is None and case.clock_started_on is None
    assert case.received_on.isoformat() == "2025-03-01"
    assert case.closed_at.date().isoformat() == "2025-03-20"
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == pushes
    assert case.number not in text(admin.get("/cases/deadlines/list/"))
    page = text(admin.get(f"/case/{case.id}"))
    assert "调解结束" in page and "总对总调解" not in page


def test_a_historical_case_cannot_be_mediated_again(app, login_as):
    """[FAQ 3.7] a backfilled case concluded elsewhere: 继续调解 is refused with the reason, nothing changes."""
    from app.workflows import DomainError, case_lifecycle

    from .case_factory import mediator_actor

    resp = login_as("13800000001").post("/cases/historical/add", data=_historical_form(app))
    cid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    chen = login_as("13900000001", "MEDIATOR")
    resp = chen.post(f"/case/{cid}/do/resume", data={"version": get_case(app, cid).version},
                     follow_redirects=True)
    assert "历史案件是补录的已结束调解" in text(resp), text(resp)[-3000:]
    assert get_case(app, cid).status is CaseStatus.ENDED
    with app_ctx(app):
        case = db.session.get(Case, cid)
        try:
            case_lifecycle.apply(case, "resume", mediator_actor("13900000001"))
        except DomainError as exc:
            assert "历史案件" in str(exc)
        else:
            raise AssertionError("resume was allowed")
        assert case.status is CaseStatus.ENDED


def test_historical_case_terminated_needs_its_reason(app, login_as):
    """Issue 15 item 9: 调解终止 with the reason (Rules art 25); without it nothing is saved, input kept."""
    admin = login_as("13800000001")
    before = case_count(app)
    resp = admin.post("/cases/historical/add", data=_historical_form(app, outcome="TERMINATED", cause="相邻纠纷甲"))
    assert resp.status_code == 200 and "终止原因" in text(resp) and "调解终止须" in text(resp)
    assert "相邻纠纷甲" in text(resp) and "2025-03-20" in text(resp)
    assert case_count(app) == before
    resp = admin.post("/cases/historical/add", data=_historical_form(
        app, outcome="TERMINATED", termination_reason="TOO_FAR_APART"))
    case = get_case(app, int(resp.headers["Location"].rstrip("/").split("/")[-1]))
    assert case.status is CaseStatus.TERMINATED and case.termination_reason.name == "TOO_FAR_APART"
    assert case.deadline is None


def test_historical_case_refusals_keep_the_input_and_save_nothing(app, login_as):
    """Issue 15 item 9: each bad input is named in Chinese beside its field; what was typed stays."""
    admin = login_as("13800000001")
    with app_ctx(app):
        haidian_mediator = db.session.scalar(sa.select(Mediator.id).where(Mediator.phone == "13900000011"))
    before = case_count(app)
    cases = [
        ({"ministry": None}, "部委"),
        ({"closed_on": "2025-02-01"}, "结案日期不能早于收案日期"),
        ({"closed_on": "2099-01-01"}, "不能晚于今天"),
        ({"closed_on": None}, "请填写调解结束的日期"),
        ({"outcome": None}, "请选择调解结果"),
        ({"mediator": None}, "请选择调解员或调解组织"),
        ({"mediator": haidian_mediator}, "help-block"),  # not even a choice: 海淀's mediator is not offered
    ]
    for overrides, message in cases:
        resp = admin.post("/cases/historical/add", data=_historical_form(app, cause="输入保留纠纷", **overrides))
        html = text(resp)
        assert resp.status_code == 200 and message in html, (overrides, message)
        assert "输入保留纠纷" in html and "2025-03-01" in html
    assert case_count(app) == before


def test_in_litigation_case_needs_its_intranet_number(app, login_as):
    admin = login_as("13800000001")
    resp = admin.post("/cases/in-litigation/add", data={"cause": "借款纠纷"})
    assert resp.status_code == 200 and "必填" in text(resp)
    resp = admin.post("/cases/in-litigation/add", data={"cause": "借款纠纷", "intranet_number": "（2026）京0105民初9号"})
    assert resp.status_code == 302


def test_pre_litigation_case_has_its_case_number_on_add_edit_and_list(app, login_as):
    """[FAQ 5.2(2)] 诉前委派调解: 案号 (the intranet's 诉前调 number) on add and edit, shown in the list."""
    admin = login_as("13800000001")
    assert "案号" in text(admin.get("/cases/pre-litigation/add"))
    resp = admin.post("/cases/pre-litigation/add", data={"cause": "合同纠纷", "intranet_number": " （2026）京0105民诉前调88号 "})
    assert resp.status_code == 302
    cid = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert get_case(app, cid).intranet_number == "（2026）京0105民诉前调88号"
    listing = text(admin.get("/cases/pre-litigation/list/"))
    assert "<th" in listing and "案号" in listing and "（2026）京0105民诉前调88号" in listing
    assert "案号" in text(admin.get(f"/cases/pre-litigation/edit/{cid}"))
    resp = admin.post(f"/cases/pre-litigation/edit/{cid}", data={"cause": "合同纠纷", "intranet_number": "（2026）京0105民诉前调89号"})
    assert resp.status_code == 302 and get_case(app, cid).intranet_number == "（2026）京0105民诉前调89号"


def test_a_case_number_already_used_in_the_court_is_refused(app, login_as):
    """[FAQ 5.2(2)] one 案号 names one case of a court: add and edit refuse it, naming the other case,
    keeping the input; another court may use the same text."""
    admin = login_as("13800000001")
    first = admin.post("/cases/pre-litigation/add", data={"cause": "合同纠纷", "intranet_number": "（2026）京0105民诉前调90号"})
    other = get_case(app, int(first.headers["Location"].rstrip("/").split("/")[-1]))
    before = case_count(app)
    resp = admin.post("/cases/pre-litigation/add", data={"cause": "第二个纠纷", "intranet_number": "（2026）京0105民诉前调90号"})
    assert resp.status_code == 200 and "已被本院案件" in text(resp) and other.number in text(resp)
    assert "第二个纠纷" in text(resp) and case_count(app) == before
    second = admin.post("/cases/pre-litigation/add", data={"cause": "合同纠纷", "intranet_number": "（2026）京0105民诉前调91号"})
    sid = int(second.headers["Location"].rstrip("/").split("/")[-1])
    resp = admin.post(f"/cases/pre-litigation/edit/{sid}", data={"cause": "合同纠纷", "intranet_number": "（2026）京0105民诉前调90号"})
    assert resp.status_code == 200 and "已被本院案件" in text(resp)
    assert get_case(app, sid).intranet_number == "（2026）京0105民诉前调91号"
    # the in-litigation form and the other court
    resp = admin.post("/cases/in-litigation/add", data={"cause": "借款纠纷", "intranet_number": "（2026）京0105民诉前调90号"})
    assert resp.status_code == 200 and "已被本院案件" in text(resp)
    resp = login_as("13800000011").post("/cases/pre-litigation/add", data={"cause": "合同纠纷", "intranet_number": "（2026）京0105民诉前调90号"})
    assert resp.status_code == 302


def test_in_litigation_party_forms_say_plaintiff_and_defendant(app, login_as):
    """Issue 15 item 10: 立案调解 says 原告/被告 (on its party forms as on its case page); 诉前 says 申请人/被申请人."""
    from app.enums import CaseType

    admin = login_as("13800000001")
    filed = make_case(app, case_type=CaseType.IN_LITIGATION, intranet_number="（2026）京0105民初77号")
    form = text(admin.get(f"/case-parties/add?_flt_0_case={filed}"))
    assert ">原告<" in form and ">被告<" in form and ">申请人<" not in form
    with app_ctx(app):
        party_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == filed).limit(1))
    form = text(admin.get(f"/case-parties/edit/{party_id}"))
    assert ">原告<" in form and ">申请人<" not in form
    assert "原告" in text(admin.get(f"/case/{filed}?tab=parties"))
    pre = make_case(app)
    form = text(admin.get(f"/case-parties/add?_flt_0_case={pre}"))
    assert ">申请人<" in form and ">原告<" not in form


def test_party_screens_commit_once_with_the_case_party_names(app, login_as):
    """FAB's own commit is the only one: the 当事人 column is set before it (pre_add/pre_update/pre_delete)."""
    case_id = make_case(app)
    admin = login_as("13800000001")
    with counted_commits() as commits:
        resp = admin.post(f"/case-parties/add?_flt_0_case={case_id}",
                          data={"role": "RESPONDENT", "kind": "PERSON", "name": "孙丙", "phone": "13522220003"})
    assert resp.status_code == 302 and len(commits) == 1
    assert get_case(app, case_id).party_names == "赵一、钱二、孙丙"
    with app_ctx(app):
        party_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == case_id,
                                                                   CaseParty.name == "孙丙"))
    with counted_commits() as commits:
        admin.post(f"/case-parties/edit/{party_id}", data={"role": "RESPONDENT", "kind": "PERSON", "name": "孙丁",
                                                           "phone": "13522220003"})
    assert len(commits) == 1 and get_case(app, case_id).party_names == "赵一、钱二、孙丁"
    with counted_commits() as commits:
        admin.post(f"/case-parties/delete/{party_id}")
    assert len(commits) == 1 and get_case(app, case_id).party_names == "赵一、钱二"


def test_only_the_cases_court_or_mediator_edits_its_parties(app, login_as):
    """The workflow checks who edits, not only the list filter: the platform sees the case but may not."""
    case_id = make_case(app, status=CaseStatus.MEDIATING)
    with app_ctx(app):
        party_id = db.session.scalar(sa.select(CaseParty.id).where(CaseParty.case_id == case_id))
    platform = login_as("admin", "PLATFORM")
    platform.post(f"/case-parties/edit/{party_id}", data={"role": "APPLICANT", "kind": "PERSON", "name": "改名",
                                                          "phone": "13511110001"})
    assert "只有本案的法院或调解员可以编辑当事人" in " ".join(flashes(platform))
    with app_ctx(app):
        assert db.session.get(CaseParty, party_id).name == "赵一"
    mediator = login_as("13900000001", "MEDIATOR")
    mediator.post(f"/case-parties/edit/{party_id}", data={"role": "APPLICANT", "kind": "PERSON", "name": "赵壹",
                                                          "phone": "13511110001"})
    assert get_case(app, case_id).party_names == "赵壹、钱二"


def test_the_historical_forms_concluded_on_uses_the_chinese_date_picker(login_as):
    """结案日期 is picked like 收案日期 (FAB's date picker, in Chinese), not the browser's own mm/dd/yyyy box."""
    import re

    form = text(login_as("13800000001").get("/cases/historical/add"))
    for name in ("received_on", "closed_on"):
        field = re.search(rf'<div class="input-group date appbuilder_date"[^>]*>\s*<span[^>]*>.*?</span>\s*<input[^>]*name="{name}"', form, re.S)
        assert field, name


def test_a_sorted_filtered_page_shows_the_right_cases_in_order_chosen_on_ids_first(app, login_as):
    """A list page picks its 20 (here 2) ids with the filter, the order and the offset, then loads
    those rows (CappedSQLAInterface.apply_all): the page is the same as sorting and paging the rows."""
    import datetime as dt

    days = [dt.date(2024, 5, d) for d in (9, 3, 7, 1, 5)]
    made = {}
    for i, day in enumerate(days):
        made[day] = make_case(app, parties=[("APPLICANT", f"排序{i}号", f"1351111{i:04d}", None)])
        update_case(app, made[day], received_on=day, cause=f"排序测试{day.day}")
    other = make_case(app, court_code="京0108", parties=[("APPLICANT", "排序9号", "13511119999", None)])
    update_case(app, other, cause="排序测试海淀")
    admin = login_as("13800000001")
    base = "/cases/pre-litigation/list/?_flt_2_party_names=排序&psize_PreLitigationCaseView=2"

    def causes(query):
        page = text(admin.get(base + query))
        return [c for c in (f"排序测试{d}" for d in range(1, 10)) if c in page], page

    asc = "&_oc_PreLitigationCaseView=received_on&_od_PreLitigationCaseView=asc"
    assert causes(asc + "&page_PreLitigationCaseView=0")[0] == ["排序测试1", "排序测试3"]
    second, page = causes(asc + "&page_PreLitigationCaseView=1")
    assert second == ["排序测试5", "排序测试7"] and "排序测试海淀" not in page
    assert page.index("排序测试5") < page.index("排序测试7")
    desc = "&_oc_PreLitigationCaseView=received_on&_od_PreLitigationCaseView=desc&page_PreLitigationCaseView=0"
    first, page = causes(desc)
    assert first == ["排序测试7", "排序测试9"] and page.index("排序测试9") < page.index("排序测试7")
    newest = causes("&page_PreLitigationCaseView=2")[0]  # by id, newest first: the first case made is last
    assert newest == ["排序测试9"]
