"""Issue 14's walk-through in one go, at 375 px in chromium, as a new user of the demo would do it:
a new phone registers by SMS code on 当事人, applies for 互联网调解 and gets three recommendations
(朝阳's demo roster: 孙悦, 陈静, 刘洋), chooses 孙悦; verifies its identity by 人工审核, which
13300000001 approves; 孙悦 accepts on her phone and picks 朝阳 — the case gets its number then
[FAQ 3.13, 5.1(3); Rules arts 4, 5, 8, 12, 13, 17]."""
from __future__ import annotations

import sqlalchemy as sa

from app.enums import CaseStatus, IdentityStatus, InternetStatus
from app.extensions import db
from app.models import InternetApplication
from app.workflows import identity, sms_codes
from app.workflows.accounts import find_user

from .test_identity import picture
from .test_internet import fill_application
from .test_self_service import CODE, ENGLISH, IPHONE

PHONE = "13587650001"


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 380, page.url


def test_register_apply_verify_and_the_demo_mediator_accepts_at_375_px(live, browser, login, monkeypatch):
    monkeypatch.setattr(sms_codes.secrets, "randbelow", lambda n: int(CODE))
    context = browser.new_context(viewport={"width": 375, "height": 740}, user_agent=IPHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()

    # 验证码登录 on 当事人 registers the new phone
    page.goto(f"{live.url}/login/")
    page.click("#code-login-link")
    page.fill("#phone", PHONE)
    page.click("#send-code")
    page.wait_for_selector(f"text=验证码已发送至{PHONE}")
    page.fill("#code", CODE)
    page.click("#code-login")
    page.wait_for_selector("text=已注册并以【当事人】身份登录")

    # 申请互联网调解: three recommendations, each with its reasons
    page.goto(f"{live.url}/internet/apply")
    fits(page)
    page.select_option("#cause", "买卖合同纠纷")
    page.fill("#summary", "购买的家具质量不合格，卖方拒绝退货。")
    fill_application(page, "8600", "退还货款8600元。", ("周八", "110105199001010010"),
                     ("吴九", "11010519850505002X", "13587650002"))
    page.check("#consent")
    page.click("#submit")
    page.wait_for_selector(".recommendation")
    cards = page.locator(".recommendation")
    assert cards.count() == 3
    names = " ".join(cards.all_inner_texts())
    for name in ("孙悦", "陈静", "刘洋"):
        assert name in names
    assert "擅长领域与案由相符：买卖合同纠纷" in cards.first.inner_text()
    fits(page)
    page.locator(".recommendation", has_text="孙悦").locator("button[data-choose]").click()
    page.wait_for_selector("#app-status")
    assert "待调解员受理" in page.inner_text("#app-status")
    assert not ENGLISH.search(page.inner_text("body"))

    # 实名认证 by 人工审核: the ID card's two sides and a photo holding it
    page.goto(f"{live.url}/portal/identity/")
    page.wait_for_selector("#identity-form")
    fits(page)
    page.fill("#name", "周八")
    page.fill("#id_number", "110105199001010010")
    for side in identity.SIDES:
        page.set_input_files(f"#{side}", files=[{"name": f"{side}.png", "mimeType": "image/png",
                                                 "buffer": picture()}])
    page.click("#identity-form button[type=submit]")
    page.wait_for_selector("#identity-status[data-status=pending]")

    staff = login("13300000001", "PLATFORM").new_page()
    staff.goto(f"{live.url}/identity-review/")
    staff.click("#identity-queue tr:has-text('周八') a")
    staff.wait_for_selector("#identity-id-number")
    staff.click("button[data-event=approve]")
    staff.wait_for_selector("text=通过成功。")
    page.goto(f"{live.url}/portal/identity/")
    page.wait_for_selector("#identity-status[data-status=verified]")

    # the demo mediator 孙悦 accepts on her phone, declares no conflict and picks 朝阳
    sun = login("13900000003", "MEDIATOR", width=375, height=740).new_page()
    sun.goto(f"{live.url}/internet-inbox/")
    sun.click("#inbox a:has-text('买卖合同纠纷')")
    sun.wait_for_selector("#form-accept")
    fits(sun)
    sun.select_option("#court_id", label="北京市朝阳区人民法院")
    sun.check("#form-accept input[name=conflict][value=none]")
    sun.click("#form-accept button[data-event=accept]")
    sun.wait_for_selector(".alert-success")
    assert not ENGLISH.search(sun.inner_text("body"))

    with live.ctx():
        user = find_user(PHONE)
        assert identity.status_of(user.id) is IdentityStatus.VERIFIED
        app = db.session.scalar(sa.select(InternetApplication).where(InternetApplication.applicant_user_id == user.id))
        assert app.status is InternetStatus.ACCEPTED
        assert app.case.status is CaseStatus.MEDIATING and app.case.mediator.name == "孙悦"
        assert app.case.court.name == "北京市朝阳区人民法院" and app.case.number
        db.session.remove()
    context.close()
