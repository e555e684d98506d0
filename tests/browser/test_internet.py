"""互联网调解 in a phone-sized chromium (375 px): a party applies with evidence, sees three recommended
mediators with their reasons, opens a profile and chooses one [FAQ 5.1(3); Rules arts 4, 5, 8]."""
from __future__ import annotations

import sqlalchemy as sa

from app.enums import InternetStatus
from app.extensions import db
from app.models import InternetApplication
from app.roles import PARTY
from app.workflows.accounts import ensure_account

from ..helpers import PASSWORD

APPLICANT = "13512349001"
PDF = b"%PDF-1.4\n" + b"0" * 500


def fill_application(page, amount, claims, applicant, respondent, region="北京市/朝阳区"):
    """The amount, claims, region and both sides of 申请互联网调解: (name, ID number[, phone]) each."""
    page.fill("#claim_amount", amount)
    page.fill("#claims", claims)
    page.select_option("#region", region)
    for side, (name, number, *phone) in (("applicant", applicant), ("respondent", respondent)):
        page.fill(f"#{side}_name", name)
        page.fill(f"#{side}_id_number", number)
        if phone:
            page.fill(f"#{side}_phone", phone[0])


def test_a_party_applies_and_chooses_a_mediator_on_a_phone(live, login, tmp_path):
    with live.ctx():
        ensure_account(APPLICANT, "赵一", [PARTY], password=PASSWORD)
        db.session.commit()
        db.session.remove()
    evidence = tmp_path / "借条.pdf"
    evidence.write_bytes(PDF)
    context = login(APPLICANT, "PARTY", width=375, height=740)
    page = context.new_page()
    page.goto(f"{live.url}/internet/apply")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling

    # first without consent: every problem listed, what was typed kept
    page.select_option("#cause", "民间借贷纠纷")
    page.fill("#summary", "借款到期未还。")
    page.click("#submit")
    page.wait_for_selector(".alert-danger")
    alerts = page.inner_text("body")
    assert "请求事项" in alerts and "在线调解" in alerts and "被申请人" in alerts
    assert page.input_value("#summary") == "借款到期未还。"

    fill_application(page, "5000", "归还借款5000元。", ("赵一", "110105198001010016"),
                     ("钱二", "11010519850505002X", "13512349002"))
    page.set_input_files("#evidence", str(evidence))
    page.check("#consent")
    page.click("#submit")
    page.wait_for_selector(".recommendation")
    cards = page.locator(".recommendation")
    assert cards.count() >= 2  # 朝阳's demo roster: 陈静 and 刘洋
    first = cards.first.inner_text()
    assert "在办案件" in first and ("擅长领域" in first or "受北京市朝阳区人民法院特邀" in first)
    assert "借条.pdf" in page.inner_text("#evidence")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # the profile, then back and choose the first recommendation
    cards.first.locator("a").click()
    page.wait_for_selector("#profile")
    assert "是否收费" in page.inner_text("#profile") and "特邀法院" in page.inner_text("#profile")
    page.go_back()
    page.wait_for_selector(".recommendation")
    page.locator(".recommendation button[data-choose]").first.click()
    page.wait_for_selector("#app-status")
    assert "待调解员受理" in page.inner_text("#app-status")
    with live.ctx():
        app = db.session.scalar(sa.select(InternetApplication).order_by(InternetApplication.id.desc()))
        assert app.status is InternetStatus.WAITING and app.case.mediator_id is not None
        db.session.remove()
